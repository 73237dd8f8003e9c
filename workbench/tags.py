"""Keyword tags from a film's description, derived at default-data build time.

Facts alone (title, genres, people) miss plot-level requests ("space opera with
jedi", "a thief who steals secrets from dreams"). :class:`KeywordTagger` turns a
description into at most :data:`MAX_TAGS` short keyphrases, TF-IDF style:

1. candidates are runs of words between stopwords, punctuation and numbers, cut
   into 1-3 word phrases (never sentences: :data:`MAX_TAG_WORDS` words at most);
2. words that name the film's own title, its people, or film-making boilerplate
   ("directed", "produced", "American", "film") are dropped, as are lone
   past-tense/adverb words ("released", "critically");
3. a phrase scores the mean IDF of its words over all descriptions (rare words
   carry the plot) times a small bonus per extra word; the best phrases are kept,
   skipping any whose words are already covered by a better one.

Only the tags reach the catalogue; the description prose never does. This module
knows text; it does not know items, embeddings or gradio.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.text import SEARCH_STOPWORDS as STOPWORDS
from workbench.text import fold

MAX_TAGS = 12
MAX_TAG_WORDS = 3
#: Words too generic to tag a film with (film-making boilerplate of Wikipedia leads).
BOILERPLATE = frozenset(
    """american british canadian australian french german film films movie directed director written
    writer produced producer production productions starring stars star starred released release
    releases screenplay co-written co-directed co-produced distributed distribution studio studios
    picture pictures inc company entertainment year years sequel installment instalment part first
    second third fourth fifth based also well known feature features featuring version story stories
    cast role roles original independent executive co-starring edited written budget box office
    grossed worldwide critics critical acclaim received reviews premiered festival theatrically
    theatrical u.s united states follows follow following titled title eponymous same name
    character characters adaptation adapted mr mrs motion idea overall plays played titular series
    book debut directorial co-direction primarily covering chronological half two-part
    eighth sixth seventh ninth tenth eleventh twelfth entry entries chapter whose tells heads learns
    meet meets portrays portray later published short includes including supporting attempt centers
    begins began made make makes named titled introducing wrote co-wrote
    """.split()
)
_SPLIT = re.compile(r"[^\w'-]+|_")


def _words(text: str) -> list[str | None]:
    """Lowercased words; ``None`` marks a phrase boundary (punctuation, stopword, number)."""
    out: list[str | None] = []
    for chunk in re.split(r"([.,;:!?()\[\]\"/])", fold(text)):
        if not chunk or re.fullmatch(r"[.,;:!?()\[\]\"/]", chunk):
            out.append(None)
            continue
        for w in _SPLIT.split(chunk):
            w = w.strip("'-")
            if not w:
                continue
            if w in STOPWORDS or w in BOILERPLATE or any(c.isdigit() for c in w) or len(w) < 3:
                out.append(None)
            else:
                out.append(w)
    return out


def _runs(words: list[str | None]) -> list[list[str]]:
    runs, cur = [], []
    for w in words:
        if w is None:
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append(w)
    if cur:
        runs.append(cur)
    return runs


_CAPS = re.compile(r"\b[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*)*")


def _person_words(text: str, people_words: set[str], first_names: set[str]) -> set[str]:
    """Words of capitalised runs that look like people (writers, producers): made only of
    known name words, or two or more words starting with a known first name."""
    out: set[str] = set()
    for m in _CAPS.finditer(text):
        words = [w.strip(".'-") for w in fold(m.group(0)).split()]
        if words and (all(w in people_words for w in words)
                      or (len(words) >= 2 and words[0] in first_names)):
            out.update(words)
    return out


def _own_words(row: Mapping[str, Any]) -> set[str]:
    """Words naming the film itself or its people: already facts, not tags."""
    names = [str(row.get("title") or "")]
    for key in ("directors", "cast"):
        names.extend(str(x) for x in (row.get(key) or []))
    own: set[str] = set()
    for name in names:
        own.update(w for w in re.findall(r"[\w'-]+", fold(name)) if w not in STOPWORDS)
    return own


class KeywordTagger:
    """TF-IDF keyphrases (1-3 words) from descriptions; fit on the whole corpus first."""

    def __init__(self, max_tags: int = MAX_TAGS, field: str = "description"):
        self.max_tags = max_tags
        self.field = field
        self._idf: dict[str, float] = {}
        self._default_idf = 1.0
        self._people_words: set[str] = set()
        self._first_names: set[str] = set()

    def fit(self, descriptions: Iterable[str]) -> KeywordTagger:
        df: Counter[str] = Counter()
        n = 0
        for text in descriptions:
            if not text:
                continue
            n += 1
            df.update({w for w in _words(text) if w})
        self._idf = {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items()}
        self._default_idf = math.log(n + 1) + 1.0
        return self

    @classmethod
    def fit_rows(cls, rows: Iterable[Mapping[str, Any]], **kwargs: Any) -> KeywordTagger:
        """Fit IDF on the rows' descriptions and learn people's name words from their credits."""
        rows = list(rows)
        tagger = cls(**kwargs)
        for r in rows:
            for key in ("directors", "cast"):
                for name in r.get(key) or []:
                    words = [w.strip(".'-") for w in fold(str(name)).split()]
                    tagger._people_words.update(words)
                    if len(words) >= 2:
                        tagger._first_names.add(words[0])
        return tagger.fit(str(r.get(tagger.field) or "") for r in rows)

    @classmethod
    def fit_jsonl(cls, path: str | os.PathLike[str], **kwargs: Any) -> KeywordTagger:
        """Fit on a JSONL metadata file (one object per line with ``description``)."""
        with open(path, encoding="utf-8") as f:
            return cls.fit_rows((json.loads(line) for line in f if line.strip()), **kwargs)

    def tags(self, text: str, exclude_words: Iterable[str] = ()) -> list[str]:
        """Up to ``max_tags`` keyphrases of ``text``, best first."""
        if not text:
            return []
        drop = set(exclude_words)
        words = [None if (w is not None and w in drop) else w for w in _words(text)]
        tf = Counter(w for w in words if w)
        scored: dict[str, float] = {}
        for run in _runs(words):
            for size in range(1, MAX_TAG_WORDS + 1):
                for start in range(len(run) - size + 1):
                    gram = run[start : start + size]
                    if size == 1 and re.search(r"(ed|ly)$", gram[0]):
                        continue  # lone verbs/adverbs ("released", "critically") are not topics
                    if len(set(gram)) < size:
                        continue
                    idf = sum(self._idf.get(w, self._default_idf) for w in gram) / size
                    boost = 1.0 + 0.25 * (size - 1) + 0.1 * (sum(tf[w] for w in gram) / size - 1)
                    phrase = " ".join(gram)
                    scored[phrase] = max(scored.get(phrase, 0.0), idf * boost)
        chosen: list[str] = []
        covered: set[str] = set()
        for phrase, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0])):
            ws = set(phrase.split())
            if ws <= covered:
                continue
            chosen.append(phrase)
            covered |= ws
            if len(chosen) >= self.max_tags:
                break
        return chosen

    def __call__(self, row: Mapping[str, Any]) -> list[str]:
        """Tags for a raw metadata row (``default_data.build_catalog``'s tagger hook)."""
        text = str(row.get(self.field) or "")
        return self.tags(text, exclude_words=_own_words(row) | _person_words(
            text, self._people_words, self._first_names))
