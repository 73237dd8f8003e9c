"""People in a reply: every person a sentence names must belong to the conversation.

:mod:`workbench.dialogue.facts` judges credits in the forms it reads ("directed by X", "starring
X") and only for names in the catalogue. Small models also invent people and credit them in
other forms: "X's action thriller about ...", "a comedy by <a name in no catalogue>", "from
director X". :class:`PersonChecker` finds the people a sentence names, in any of these forms,
and allows only

* the directors and cast of the slate films and of the films the user talked about
  (``allowed``), by full name or by surname ("Mann's heist epic"),
* names the user wrote in the conversation ("I like Rachel McAdams").

A span is a person when it is a catalogue person (``TitleIndex.people``), when it is two or
three capitalised words starting with a first name the catalogue knows ("Jake Thornton"), or
when a credit cue introduces it: a possessive before a film word ("Kowalski's action thriller"),
"by X" after a film word, "director X", "directed by X", "starring X". Spans of catalogue titles
("Harry Potter" of a Harry Potter film), genres ("Film Noir") and words that are no one's name
(services, holidays) are not people.

A possessive before a title ("Chris Columbus's La La Land") is a credit of that film: the name
must be in its credits, even when it is a person of another slate film. A name that is not
allowed is corrected when the sentence credits it as the director of one film with one director
(the right director replaces it, possessive kept); otherwise the sentence is dropped.

Known limits: a character's name written like a person's ("Jack and Rose") is judged as a
person when its first word is a catalogue first name; a single unknown surname with no cue
("Kowalski is great") is not read.

It knows names, items and text; it does not know generators, the engine or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workbench.catalog import Item
from workbench.dialogue.titles import TitleIndex
from workbench.text import COMMON_WORDS, CONNECTORS, REPLY_COMMON_WORDS, word_spans

#: Longest run of capitalised words read as one name.
MAX_NAME_WORDS = 4
_PARTICLES = frozenset("de van von da di del der la le du dos bin st".split())
_FILM_NOUN = (r"(?:\w+[\s-]+){0,3}?(?:film|movie|flick|classic|picture|masterpiece|thriller|comedy|drama|horror"
              r"|western|epic|adventure|romance|musical|documentary|feature|story|tale|sci-fi|satire|debut"
              r"|work|films|movies|animation|cartoon|series|trilogy|franchise|saga|remake|sequel)\b")
_POSSESSIVE_AFTER_RE = re.compile(rf"\s+{_FILM_NOUN}", re.IGNORECASE)
_CUE_BEFORE_RE = re.compile(
    r"(?:\b(?:directed|helmed|written|produced|made)\s+by|\bdirector,?|\bfilmmaker|\bstarring|\bco-starring"
    r"|\bfeaturing|\bactor|\bactress|\bcomedian|\bstar|\bfrom\s+director)\s+$"
    rf"|\b{_FILM_NOUN}\s+(?:by|from)\s+$",
    re.IGNORECASE,
)
_DIRECTOR_CUE_RE = re.compile(r"(?:\b(?:directed|helmed|made)\s+by|\bdirector,?|\bfilmmaker|\bfrom\s+director)\s+$"
                              rf"|\b{_FILM_NOUN}\s+(?:by|from)\s+$", re.IGNORECASE)
# capitalised words that are no one's name even in a name-like run (services, days, places, studios)
_NOT_NAMES = frozenset(
    """
    netflix hulu amazon prime hbo youtube disney pixar marvel dc warner universal paramount dreamworks
    ghibli lucasfilm miramax a24 oscar oscars academy award awards golden globe emmy christmas halloween
    thanksgiving easter new york los angeles london paris hollywood america american british english hong kong
    french german italian japanese korean chinese indian spanish monday tuesday wednesday thursday
    friday saturday sunday god jesus lord star wars trek mr mrs ms dr sir lady king queen prince princess
    captain
    """.split()
)


@dataclass(frozen=True)
class PersonFix:
    """A person a sentence named that the conversation does not support."""

    span: str
    replacement: str = ""  # the film's director when the credit could be corrected
    reason: str = ""


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def _key(name: str) -> tuple[str, ...]:
    return tuple(t[0] for t in word_spans(name))


class PersonChecker:
    """Finds and judges the people a sentence names. Build once per :class:`TitleIndex`.

    Args:
        index: the catalogue's titles and people (``people``, ``first_names``, ``name_keys``,
            ``entries``).
    """

    def __init__(self, index: TitleIndex):
        self._index = index
        # one-word "people" of the catalogue's cast lists that are everyday words ("And", "Common") are not read
        self._people = {k: v for k, v in index.people.items()
                        if len(k) > 1 or (len(k) == 1 and k[0].isalpha() and k[0] not in REPLY_COMMON_WORDS
                                          and k[0] not in COMMON_WORDS and k[0] not in CONNECTORS)}
        self._first = {k[0] for k in index.people if len(k) >= 2} - REPLY_COMMON_WORDS
        self._genre_keys = {k for k in index.name_keys if k not in index.people}
        # every run of 1-3 words inside a catalogue title: "Harry Potter" of the Harry Potter films
        parts: set[tuple[str, ...]] = set()
        for key in index.entries:
            for n in (2, 3):
                parts.update(key[i : i + n] for i in range(len(key) - n + 1))
        self._title_parts = frozenset(parts)
        # first words of titles ("ocean's" of "Ocean's Eleven"): "the Ocean's series" names no one
        self._title_heads = frozenset(key[0] for key in index.entries if len(key) > 1)

    def people_of(self, items: Iterable[Item]) -> set[tuple[str, ...]]:
        """Folded names of the directors and cast of ``items``."""
        return {k for item in items for p in (*item.directors, *item.cast) if (k := _key(p))}

    def _runs(self, masked: str) -> list[tuple[int, int, list[tuple[str, str, int, int]]]]:
        """Runs of capitalised words (with particles and initials) in the masked sentence."""
        toks = word_spans(masked)
        runs: list[tuple[int, int, list[tuple[str, str, int, int]]]] = []
        i = 0
        while i < len(toks):
            if not _is_cap(toks[i][1]) or "_" in toks[i][1]:
                i += 1
                continue
            j = i + 1
            while j < len(toks) and j - i < MAX_NAME_WORDS and re.fullmatch(r"\s*|\.\s*", masked[toks[j - 1][3]:toks[j][2]]) \
                    and (_is_cap(toks[j][1]) or (toks[j][0] in _PARTICLES and j + 1 < len(toks)
                                                  and _is_cap(toks[j + 1][1]))):
                j += 1
            run = toks[i:j]
            while len(run) > 1 and _key(" ".join(t[1] for t in run)) not in self._people and run[0][0].split("'")[0] in REPLY_COMMON_WORDS:  # "Try", "Both", "If" open a sentence
                run = run[1:]
            while run and run[-1][0] in _PARTICLES:
                run = run[:-1]
            if run:
                runs.append((run[0][2], run[-1][3], run))
            i = j
        return runs

    def check(self, sentence: str, masked: str, *, allowed: set[tuple[str, ...]], user_words: str,
              films: Sequence[Item] = ()) -> tuple[str | None, list[PersonFix]]:
        """Judge the people ``sentence`` names.

        Args:
            sentence: the sentence as it would be shown.
            masked: the same sentence with slate and allowed titles blanked.
            allowed: folded names of the people the conversation supports (:meth:`people_of`).
            user_words: the user's messages, folded words joined by single spaces, with spaces
                around (" i like rachel mcadams ").
            films: the films the sentence names (a wrong director credit of one of them is corrected).

        Returns:
            The sentence (corrected, or ``None`` when dropped) and one :class:`PersonFix` per
            person it named without support.
        """
        surnames = {k[-1] for k in allowed} | {k[0] for k in allowed if len(k) >= 2}
        fixes: list[PersonFix] = []
        edits: list[tuple[int, int, str]] = []
        for start, end, run in self._runs(masked):
            possessive = run[-1][0].endswith(("'s", "'"))
            key = tuple(w.removesuffix("'s").rstrip("'") for w, *_ in (t for t in run))
            if not key or any(w in _NOT_NAMES for w in key):
                continue
            before, after = masked[:start], masked[end:]
            cued = bool(_CUE_BEFORE_RE.search(before[-60:])) or (possessive and bool(_POSSESSIVE_AFTER_RE.match(after)))
            known = key in self._people
            if not known:
                if key in self._genre_keys or key in self._index.entries or key in self._title_parts \
                        or (len(run) == 1 and run[0][0] in self._title_heads):
                    continue
                name_like = 2 <= len(key) <= 3 and key[0] in self._first and all(w.isalpha() for w in key)
                if not (name_like or (cued and all(w.replace("'", "").isalpha() for w in key))):
                    continue
                if len(key) == 1 and (key[0] in self._index.fact_words or key[0] in REPLY_COMMON_WORDS):
                    continue  # a genre or tag word after a cue ("a comedy by Disney" is filtered above)
            # "Chris Columbus's La La Land": a credit of the film whose (masked) title follows
            rest = sentence[end:].lstrip(" \t*\"'“").lower()
            titled = [f for f in films if rest.startswith(f.title.lower())] if possessive else []
            credit_of_title = bool(titled)
            if credit_of_title:
                films = titled
                credited = self.people_of(titled)
                if key in credited or (len(key) == 1 and key[0] in {w for k in credited for w in (k[0], k[-1])}):
                    continue
            elif key in allowed or (len(key) == 1 and key[0] in surnames) or f" {' '.join(key)} " in user_words:
                continue
            written = sentence[start:end]
            if possessive:
                written = re.sub(r"['’]s?$", "", written)
            director = (possessive and (cued or bool(credit_of_title))) or bool(_DIRECTOR_CUE_RE.search(before[-60:]))
            if director and len(films) == 1 and len(films[0].directors) == 1:
                right = films[0].directors[0]
                fixes.append(PersonFix(written, right, "not the film's director"))
                edits.append((start, start + len(written), right))
                continue
            fixes.append(PersonFix(written, "", "not in the film's credits" if credit_of_title
                                   else "named by neither the slate films nor the user"))
            return None, fixes
        out = sentence
        for s, e, text in sorted(edits, reverse=True):
            out = out[:s] + text + out[e:]
        return out, fixes
