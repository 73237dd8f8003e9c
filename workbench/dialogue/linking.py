"""Linking a message's words to catalogue items and people.

:class:`MentionLinker` finds the titles a user's message names: ``@id`` markers, exact
normalised titles (subtitles, series names and known aliases included), then typo-repaired
and fuzzy windows, with case and cue rules for titles that are also everyday words ("I loved
heat" links, "the heat was awful" does not). It also finds people ("Tom Hanks", "a Nolan
film"). It reads the catalogue's :class:`~workbench.dialogue.titles.TitleIndex` and orders
same-named items by its own popularity (which of two "Heat"s a user means).

It knows items, names and words; it does not know stance, constraints, intent, scores or gradio.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from workbench.catalog import Catalog
from workbench.dialogue.titles import TitleIndex
from workbench.text import (
    ARTICLES,
    COMMON_WORDS,
    GENRE_WORDS,
    MESSAGE_TOKEN_RE,
    STOPWORDS,
    fold,
    norm_token,
)

Stance = Literal["liked", "disliked", "seen", "not_seen", "neutral"]

#: Fuzzy title matches must reach this rapidfuzz ratio (0-100).
FUZZY_TITLE_CUTOFF = 88
#: A misspelt word is repaired to a title word only above this ratio.
TYPO_CUTOFF = 80

_YEAR_AFTER_RE = re.compile(r"^\s*(?:\(\s*|,\s*|from\s+|in\s+)?((?:19|20)\d\d)\s*\)?")

_FAN_BEFORE_RE = re.compile(r"\b(?:love|loves|loved|like|likes|liked|adore|adores|enjoy|enjoys|enjoyed|fan of|into|"
                            r"hate|hates|can'?t stand|dislike|dislikes)\s*$", re.IGNORECASE)
_FAN_AFTER_RE = re.compile(r"^['’]?s?\s*(?:fan|fans|stuff|work)\b", re.IGNORECASE)
_PERSON_CUE_RE = re.compile(
    r"(?:\bwith|\bstarring|\bfeaturing|\bby|\bdirected by|\bfrom director|\bdirector|\bactor|\bactress|"
    r"\bstars?|\bhave|\bhas|\bhad)\s*$",
    re.IGNORECASE,
)
#: Name particles that belong to a surname: "de niro", "van damme", "di caprio" link without a first name
_PARTICLES = frozenset({"de", "di", "da", "del", "della", "van", "von", "der", "den", "le", "la", "du", "mc", "mac", "o"})
_LINK_CUE_RE = re.compile(
    r"(?:\bseen|\bsaw|\bwatched|\bwatch|\bwatching|\blove|\bloved|\blike|\bliked|\benjoyed|\bhated|"
    r"\bhate|\bdisliked|\bmovie|\bfilm|\bthe film|\bthe movie"
    # a question about one film: "who's the director of alien?", "who directed jaws", "when was heat made"
    r"|\b(?:director|directors|cast|stars?|plot|year|ending)\s+of|\bwho\s+(?:directed|made|stars\s+in|is\s+in|'s\s+in)"
    r"|\bwhen\s+(?:was|did|is)|\bwhat\s+year\s+(?:was|did|is))\s*$",
    re.IGNORECASE,
)


#: A capitalised name right after a watching or liking verb: a film the user means, linked or not
_UNLINKED_TITLE_RE = re.compile(
    r"\b(?:watched|saw|seen|loved|liked|enjoyed|adored|love|like|adore|enjoy|(?:fan|favou?rite)\s+(?:of|is|was))\s+"
    r"(?:the\s+(?:movie|film)\s+)?(?P<title>[A-Z0-9][\w'’:&!.-]*(?:\s+(?:(?:of|the|a|an|and|in|on|to|for)\s+)?"
    r"[A-Z0-9][\w'’:&!.-]*){0,5})")
#: Capitalised words that are no film a user names after "I loved" ("I loved It" aside, which links)
_NOT_TITLES = frozenset("""i it that this them those these him her he she they you we netflix hulu amazon prime
    disney hbo youtube tv movies films everything everyone all both""".split())


#: "is Parasite in your list?", "do you have Parasite?": a film asked about by name
_ASKED_TITLE_RE = re.compile(
    r"\b(?:is|do\s+you\s+(?:have|know))\s+(?P<title>[A-Z0-9][\w'’:&!.-]*(?:\s+(?:(?:of|the|a|an|and|in|on|to|for)\s+)?"
    r"[A-Z0-9][\w'’:&!.-]*){0,5})(?=\s+in\s+(?:your|the)\s+(?:list|catalog(?:ue)?|database|collection)|\s*\?)")


def unlinked_title(masked: str) -> str | None:
    """A capitalised name the user says they watched or liked that no title linked ("I just watched
    Parasite and loved it", with no Parasite in the catalogue): what the reply should say it does not
    know. ``masked`` has the linked titles and people blanked."""
    for m in (*_UNLINKED_TITLE_RE.finditer(masked), *_ASKED_TITLE_RE.finditer(masked)):
        title = m.group("title").rstrip(".!:")
        if title.split()[0].lower() not in _NOT_TITLES and not title.isdigit():
            return title
    return None


@dataclass(frozen=True)
class Mention:
    """A catalogue item the user named.

    ``span`` is the character range in the message, ``surface`` the text there, ``stance`` how the
    user feels about it, ``how`` how it was linked ("id", "exact", "typo", "fuzzy", "gold").
    """

    item_id: str
    span: tuple[int, int]
    surface: str
    stance: Stance = "neutral"
    how: str = "exact"
    note: str = ""
    #: other films the surface could mean, by popularity, each with a year of its own (so
    #: "Title (Year)" names it unambiguously): the one-click corrections of ``note``
    alternatives: tuple[str, ...] = ()
    #: named as a yardstick ("something like Heat", "similar to Alien and Seven"), which says what the
    #: user wants, not that they like the film: the recommender still reads ``stance`` (a seed), while
    #: :attr:`Understanding.liked` lists only the films the user says they like
    compared: bool = False


@dataclass(frozen=True)
class PersonMention:
    """A person the user named (a director or cast member of the catalogue)."""

    name: str  # the catalogue's spelling
    span: tuple[int, int]
    role: str  # "director", "cast" or "any"


@dataclass(frozen=True)
class Token:
    """One token of a message: its normalised form, where it is, and how it was written."""

    norm: str
    start: int
    end: int
    raw: str


#: A time word after "last" / "next" / "this" ("last night", "next week"): the pair is a time, not a title.
_TIME_WORDS = frozenset("""night nite week weekend year month time summer winter spring fall autumn christmas
    monday tuesday wednesday thursday friday saturday sunday evening morning""".split())
_TIME_AFTER_RE = re.compile(r"\s*(?:" + "|".join(sorted(_TIME_WORDS)) + r")\b", re.I)


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``: words normalised by :func:`~workbench.text.norm_token`; ``@id`` kept."""
    out = []
    for m in MESSAGE_TOKEN_RE.finditer(text):
        norm = norm_token(m.group()) if not m.group().startswith("@") else m.group()
        if norm:
            out.append(Token(norm, m.start(), m.end(), m.group()))
    return out


def _title_case_ok(text: str, toks: Sequence[Token]) -> bool:
    """Every significant word is capitalised (allowing small words in lower case)."""
    sig = [t for t in toks if t.norm not in {"of", "the", "a", "an", "and", "in", "on", "to", "for", "at"}]
    if not sig:
        sig = list(toks)
    return all(t.raw[:1].isupper() or t.raw[:1].isdigit() for t in sig)


def _inflection_of(word: str, stem: str) -> bool:
    """Whether ``word`` is ``stem`` with an English ending ("released" of "release"): a real word, no typo."""
    if not word.startswith(stem[: max(3, len(stem) - 1)]):
        return False
    rest = word[len(stem):] if word.startswith(stem) else word[len(stem) - 1:]
    return rest in {"s", "es", "d", "ed", "ing", "er", "ers", "ly", "y", "n", "ion", "ions"}


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?\n:" or before.endswith(("\"", "'")) and len(before) < 2


class MentionLinker:
    """Finds catalogue titles and people in a message. Built once; read-only afterwards.

    Args:
        catalog: the items that can be linked.
        titles: the catalogue's title index.
        popularity: item id -> weight; orders items that share a name, best first.
    """

    def __init__(self, catalog: Catalog, titles: TitleIndex, popularity: Mapping[str, float]):
        self.catalog = catalog
        self._pop = dict(popularity)
        self._index = {key: tuple(self._by_pop(ids)) for key, ids in titles.message_keys.items()}
        self._max_tokens = titles.max_tokens
        self._by_first = titles.by_first
        self._vocab = titles.vocab
        self._vocab_list = titles.vocab_list
        self._is_common = titles.is_common
        # people
        counts: dict[str, float] = defaultdict(float)
        for item in catalog:
            for name in item.directors:
                counts[name] += 2.0 + self._pop.get(item.item_id, 0.0) ** 0.5
            for pos, name in enumerate(item.cast):
                counts[name] += (1.0 if pos < 4 else 0.3) + (self._pop.get(item.item_id, 0.0) ** 0.5) * 0.5
        self._person_full: dict[str, str] = {}
        self._person_last: dict[str, str] = {}
        self._person_particled: dict[str, str] = {}  # "de niro" -> Robert De Niro
        for name, _ in sorted(counts.items(), key=lambda kv: -kv[1]):
            key = titles.person_keys[name]
            parts = key.split()
            if len(parts) >= 3 and parts[-2] in _PARTICLES and len(parts[-1]) >= 3:
                self._person_particled.setdefault(" ".join(parts[-2:]), name)
            if len(parts) >= 2:
                self._person_full.setdefault(key, name)
                last = parts[-1]
                if len(last) >= 4 and last not in COMMON_WORDS and last not in STOPWORDS:
                    self._person_last.setdefault(last, name)
            elif len(parts) == 1 and len(key) >= 3 and key not in COMMON_WORDS and key not in STOPWORDS:
                # one-word names ("Madonna", "Eminem"): linked like a surname, only after a person cue
                self._person_last.setdefault(key, name)
        self._person_words = frozenset(w for key in self._person_full for w in key.split() if len(w) >= 4)
        by_first: dict[str, list[str]] = defaultdict(list)
        for key in self._person_full:
            by_first[key.split(" ", 1)[0]].append(key)
        self._person_by_first = dict(by_first)

    def _by_pop(self, ids: Iterable[str]) -> list[str]:
        uniq = list(dict.fromkeys(ids))
        return sorted(uniq, key=lambda i: (-self._pop.get(i, 0.0), i))

    # -- titles ---------------------------------------------------------
    def link_exact(self, text: str, toks: list[Token],
                   shown: Collection[str] = ()) -> tuple[list[Mention], set[int]]:
        """Exact titles. A title of a film on ``shown`` (the slate on screen) links however it is
        typed ("fight club is great" after a slate holding Fight Club): the user is reading it."""
        found: list[tuple[int, int, str, str]] = []  # (start token, n tokens, key, how)
        norms = [t.norm for t in toks]
        n = len(toks)
        for i, t in enumerate(toks):
            if t.norm.startswith("@"):
                found.append((i, 1, t.norm, "id"))
        for i in range(n):
            if norms[i].startswith("@"):
                continue
            for length in range(min(self._max_tokens, n - i), 0, -1):
                key = " ".join(norms[i : i + length])
                if key in self._index:
                    found.append((i, length, self._popular_neighbour(key), "exact"))
                    break
        return self._select(text, toks, found, shown=frozenset(shown))

    def _popular_neighbour(self, key: str) -> str:
        """A rare exact title one letter away from a famous one ("dark night") means the famous one."""
        if len(key) < 8:
            return key
        mine = max((self._pop.get(i, 0.0) for i in self._index[key]), default=0.0)
        from rapidfuzz import fuzz, process

        best = key
        best_pop = mine
        for cand, _score, _ in process.extract(key, self._by_first.get(key.split(" ", 1)[0], []),
                                              scorer=fuzz.ratio, score_cutoff=90, limit=5):
            pop = max((self._pop.get(i, 0.0) for i in self._index[cand]), default=0.0)
            if cand != key and pop > 20 * max(best_pop, 1.0):
                best, best_pop = cand, pop
        return best

    def link_fuzzy(self, text: str, toks: list[Token], used: set[int]) -> tuple[list[Mention], set[int]]:
        """Typo repair (word by word against title words), then fuzzy windows of 2+ words."""
        if not self._vocab_list:
            return [], set()
        from rapidfuzz import fuzz, process

        norms = [t.norm for t in toks]
        n = len(toks)
        repaired = list(norms)
        changed = set()
        for i, w in enumerate(norms):
            if i in used or len(w) < 4 or w in self._vocab or w in STOPWORDS or self._is_common(w):
                continue  # an everyday word ("lighter") is never repaired into a title ("fighter")
            if w.startswith("@") or w.isdigit() or w in self._person_words:
                continue
            hit = process.extractOne(w, self._vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            if hit is not None and not _inflection_of(w, hit[0]):
                repaired[i] = hit[0]
                changed.add(i)
        extra: list[tuple[int, int, str, str]] = []
        for i in range(n):
            if i in used:
                continue
            for length in range(min(self._max_tokens, n - i), 0, -1):
                span = range(i, i + length)
                if any(j in used for j in span):
                    continue
                key = " ".join(repaired[i : i + length])
                if key in self._index and any(j in changed for j in span):
                    extra.append((i, length, key, "typo"))
                    break
        for i in range(n):
            if i in used or repaired[i] in STOPWORDS:
                continue
            keys = self._by_first.get(repaired[i])
            if not keys:
                continue
            best: tuple[float, int, str] | None = None
            for length in range(2, min(self._max_tokens, n - i) + 1):
                if any(j in used for j in range(i, i + length)):
                    break
                window = " ".join(repaired[i : i + length])
                if len(window) < 8:
                    continue
                hit = process.extractOne(window, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_TITLE_CUTOFF)
                if hit is not None and (best is None or hit[1] > best[0]):
                    best = (hit[1], length, hit[0])
            if best is not None and " ".join(repaired[i : i + best[1]]) != best[2]:
                extra.append((i, best[1], best[2], "fuzzy"))
        if not extra:
            return [], set()
        return self._select(text, toks, extra, used)

    def _select(
        self,
        text: str,
        toks: list[Token],
        found: list[tuple[int, int, str, str]],
        used: set[int] | None = None,
        shown: frozenset[str] = frozenset(),
    ) -> tuple[list[Mention], set[int]]:
        used = set() if used is None else set(used)
        newly: set[int] = set()
        out: list[Mention] = []
        for i, length, key, how in sorted(found, key=lambda f: (f[3] != "id", -f[1], f[0])):
            span = set(range(i, i + length))
            if span & used:
                continue
            start, end = toks[i].start, toks[i + length - 1].end
            # include a leading article typed by the user in the surface
            if i > 0 and toks[i - 1].norm in ARTICLES and (i - 1) not in used:
                start = toks[i - 1].start
            if how == "id":
                item = self.catalog.get(key[1:])
                if item is None:
                    continue
                out.append(Mention(item.item_id, (toks[i].start, toks[i].end), toks[i].raw, how="id"))
                used |= span
                newly |= span
                continue
            year_m = _YEAR_AFTER_RE.match(text[end:])
            year = int(year_m.group(1)) if year_m else None
            if how == "exact" and self._position_phrase(text, toks[i : i + length], key):
                continue  # "the last one", "the first one": a slate position, not a title
            # ... but never a pronoun or a small word ("it", "up", "her" on the slate)
            on_screen = [iid for iid in self._index[key] if iid in shown] if how == "exact" and len(key) >= 4 \
                and not all(w in STOPWORDS for w in key.split()) else []
            if not on_screen and not self._acceptable(text, toks[i : i + length], key, how, year, start):
                continue
            ids = on_screen or self._index[key]
            typed_article = start != toks[i].start
            item_id, note, others = self._resolve(ids, year, text[start:end], typed_article)
            if year_m is not None and year is not None and self.catalog[item_id].year in (year, year - 1, year + 1):
                end = end + year_m.end()
            out.append(Mention(item_id, (start, end), text[start:end], how=how, note=note, alternatives=others))
            used |= span
            newly |= span
        return out, newly

    def _position_phrase(self, text: str, toks: Sequence[Token], key: str) -> bool:
        """Whether the words are everyday words followed by "one(s)": "the last one", "the other ones"."""
        words = key.split()
        if _title_case_ok(text, toks) and not _sentence_initial(text, toks[0].start):
            return False  # "I loved The Last One"
        return all(w in STOPWORDS or self._is_common(w) or w in ("one", "ones") for w in words) and (
            words[-1] in ("one", "ones") or bool(re.match(r"\s*ones?\b", text[toks[-1].end:], re.IGNORECASE)))

    def _acceptable(self, text: str, toks: Sequence[Token], key: str, how: str, year: int | None,
                    start: int) -> bool:
        words = key.split()
        quoted = start > 0 and text[start - 1] in "\"“'*" and toks[-1].end < len(text) and \
            text[toks[-1].end] in "\"”'*"
        all_stop = all(w in STOPWORDS for w in words)
        if year is not None and all_stop and not _title_case_ok(text, toks):
            return False  # "films from 1995 to 2005": a word like "to" before a year is no title "To (2005)"
        if quoted or year is not None:
            return True
        # "heist", "lighter": the catalogue's everyday vocabulary, so "heist movies" is no title
        all_common = all(w in STOPWORDS or self._is_common(w) or w.isdigit() for w in words)
        if all(w.isdigit() for w in words):
            # "2012", "300": only as a clear reference, never a year in passing
            return bool(re.search(r"(?:\bseen|\bsaw|\bwatched|\bloved|\bliked|\bhated|\bmovie|\bfilm)\s*$",
                                  text[:start], re.IGNORECASE))
        before = text[:start]
        cue = bool(_LINK_CUE_RE.search(before))
        capitalised = _title_case_ok(text, toks)
        typed = [t.norm for t in toks]
        time_phrase = any(a in ("last", "next", "this") and b in _TIME_WORDS for a, b in zip(typed, typed[1:], strict=False))
        if all_common and toks[-1].norm in ("last", "next", "this") and _TIME_AFTER_RE.match(text[toks[-1].end:]) \
                and not (capitalised and not _sentence_initial(text, start)):
            return False  # "a great movie last night": a time, not The Last
        if how != "exact":
            # repaired or fuzzy: only for distinctive titles of some length, and never from a time phrase
            # ("last night" is no typo of The Last Knight; "the dark night" still is one of The Dark Knight)
            return not all_common and not time_phrase and len(key) >= 6
        if not all_common:
            if len(words) == 1 and len(key) <= 3:
                return capitalised or cue
            return True
        if all_stop:
            # "It", "Up", "Her": capitalised in the middle of a sentence
            return capitalised and not _sentence_initial(text, start) and not text[start:].isupper()
        if len(words) >= 3:
            return capitalised or cue
        if capitalised and not _sentence_initial(text, start):
            return True
        if cue and not any(w in GENRE_WORDS for w in words):
            return True
        return capitalised and len(words) >= 2

    def _resolve(self, ids: Sequence[str], year: int | None, surface: str,
                 typed_article: bool = False) -> tuple[str, str, tuple[str, ...]]:
        """The film ``surface`` names, the "I took X as Y" note when it was a guess, and the other readings."""
        if len(ids) == 1:
            return ids[0], "", ()
        if year is not None:
            for delta in (0, 1, -1):
                for iid in ids:
                    if self.catalog[iid].year == year + delta:
                        return iid, "", ()
        # "Heat" means a film called "Heat" before "The Heat"; ids are already by popularity
        def article_match(iid: str) -> bool:
            first = fold(self.catalog[iid].title).split(" ", 1)[0]
            return (first in ARTICLES) == typed_article

        ids = sorted(ids, key=lambda iid: not article_match(iid))
        chosen = self.catalog[ids[0]]
        others = len(ids) - 1
        years = Counter(self.catalog[iid].year for iid in ids)
        # a correction re-reads "Title (Year)": only a film whose year no namesake shares can be offered
        readings = tuple(iid for iid in ids[1:] if self.catalog[iid].year is not None
                         and years[self.catalog[iid].year] == 1)
        return chosen.item_id, (
            f"I took \"{surface.strip()}\" as {chosen.display_title} "
            f"({others} other film{'s' if others > 1 else ''} share{'' if others > 1 else 's'} the name)."
        ), readings

    # -- people ---------------------------------------------------------
    def link_people(self, text: str, toks: list[Token], used: set[int]) -> tuple[list[PersonMention], set[int]]:
        out: list[PersonMention] = []
        taken = set(used)
        n = len(toks)
        for i in range(n):
            if i in taken:
                continue
            for length in (4, 3, 2):  # "Jean-Claude Van Damme" is four tokens
                if i + length > n or any(j in taken for j in range(i, i + length)):
                    continue
                key = " ".join(t.norm for t in toks[i : i + length])
                name = self._person_full.get(key) or (self._person_particled.get(key) if length == 2 else None)
                if name is None and len(key) >= 9:
                    cands = self._person_by_first.get(toks[i].norm)
                    if cands:
                        from rapidfuzz import fuzz, process

                        hit = process.extractOne(key, cands, scorer=fuzz.ratio, score_cutoff=90)
                        if hit is not None:
                            name = self._person_full[hit[0]]
                if name is not None and all(w in STOPWORDS or w in COMMON_WORDS for w in key.split()) \
                        and not all(t.raw[:1].isupper() for t in toks[i : i + length]):
                    name = None  # "who won the game last night?": everyday words name The Game only written so
                if name is not None:
                    out.append(PersonMention(name, (toks[i].start, toks[i + length - 1].end),
                                             self._role(text, toks[i].start)))
                    taken |= set(range(i, i + length))
                    break
        for i in range(n):
            if i in taken:
                continue
            t = toks[i]
            name = self._person_last.get(t.norm)
            if name is None:
                continue
            before = text[: t.start]
            after = text[t.end : t.end + 12].lower()
            cue = bool(_PERSON_CUE_RE.search(before)) or bool(re.match(r"^['’]?s?\s*(movies?|films?)\b", after))
            # "I love Tarantino", "a huge Spielberg fan": a capitalised surname after a liking verb or before "fan"
            fan = t.raw[:1].isupper() and (bool(_FAN_BEFORE_RE.search(before)) or bool(_FAN_AFTER_RE.match(after)))
            if (cue or fan) and (t.raw[:1].isupper() or t.norm not in self._vocab):
                out.append(PersonMention(name, (t.start, t.end), self._role(text, t.start)))
                taken.add(i)
        return out, taken - set(used)

    @staticmethod
    def _role(text: str, start: int) -> str:
        before = text[max(0, start - 25) : start].lower()
        if re.search(r"directed by|director|\bby\s*$", before):
            return "director"
        if re.search(r"starring|with|actor|actress|stars?\s*$", before):
            return "cast"
        return "any"
