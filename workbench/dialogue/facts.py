"""Fact checking: a sentence's claims about the films it names, checked against the catalogue.

Title grounding makes sure a reply names only slate films; this module checks what a sentence
*says* about them. :func:`check_facts` reads three kinds of claim in one sentence about the
films it names (or, for a sentence that opens with "It"/"This one"/"The film", the films the
previous sentence named):

* **person**: "directed by X", "the director, X", "director X", "starring X", "stars X",
  "featuring X", "with X", "cast including X, Y and Z", "X stars", "X directed it". Only names
  in the catalogue's people vocabulary (some film's director or cast, ``TitleIndex.people``) are
  judged, so an ordinary name or a character is never touched. A director claim is true when
  the name is one of the film's directors; a cast claim when it is in the cast or among the
  directors. A film with no directors (or no cast) listed is not judged for that role.
* **year**: "released in 1997", "came out in 1997", "a 1997 film", "a film from 1997", and
  decades: "a 90s classic", "from the 1980s", "released in the late '70s".
* **genre**: "<title> is a ... comedy", "<title>, a ... horror film", "<title> as a great comedy",
  "<title> if you're into horror movies", "<title> if you liked action movies", "It's a western": the
  genre words are mapped onto canonical genres (:func:`workbench.filters.genre_keys`) and the
  claim is false only when none of them, nor a close neighbour (:data:`_NEAR_GENRES`: a crime
  film may be called a thriller), is among the film's genres. "drama" is never judged (the
  catalogue uses it too loosely).

A false claim is corrected when the right value is unambiguous (a film with exactly one
director named as the only director; a wrong year or decade of the one film named), a wrong
name is cut from a list that also holds right ones, and otherwise the sentence is dropped.
With several films named, a claim is false only when it fits none of them, and is then
dropped (which film it meant is unknown).

Known limits: plot, setting and character claims ("set in a futuristic city") are not checked,
since the catalogue holds no plot; a possessive credit ("Michael Mann's Heat") is not read here
(:mod:`workbench.dialogue.people` reads it);
cast lists hold the first 8 billed actors, so a true claim about a minor role is taken as false;
a claim about a film the sentence does not name (nor a pronoun right after it) is not checked.

It knows items, names and text; it does not know generators, the engine or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from workbench.catalog import Item
from workbench.filters import genre_keys, item_genre_keys
from workbench.text import word_spans

FactKind = Literal["person", "genre", "year"]


@dataclass(frozen=True)
class FactFix:
    """One false claim: what was written, what replaced it ("" when cut or dropped), and why."""

    kind: FactKind
    span: str
    replacement: str = ""
    reason: str = ""


# A person's name as a reply writes it: capitalised words, with particles and initials.
# ("André the Giant": a lower-case "the" between capitalised words belongs to the name)
_NAME = (r"(?:[A-Z][\w'’.-]*)(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|da|di|del|der|la|le|du|dos|bin|the(?=\s+[A-Z])))*"
         r"(?<![.,])")
_NAME_LIST = rf"{_NAME}(?:\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*){_NAME})*"
_DIRECTOR_CUE = r"(?i:directed\s+by|(?:the|its|a)\s+director,?|director|helmed\s+by|from\s+director)"
_CAST_CUE = (r"(?i:starring|co-starring|stars|featuring|with|(?:a\s+|the\s+|great\s+|an\s+)*(?:cast|ensemble)"
             r"\s+(?:including|includes|that\s+includes|of|with|like)|performances?\s+(?:by|from))")
_PERSON_CUE_RE = re.compile(
    rf"\b(?:(?P<dir>{_DIRECTOR_CUE})|(?P<cast>{_CAST_CUE}))\s+(?P<names>{_NAME_LIST})"
)
_PERSON_AFTER_RE = re.compile(
    rf"(?P<names>{_NAME_LIST})\s+(?:(?P<cast>stars|co-stars|plays|starred)|(?P<dir>directed|directs))\b(?!\s+by)"
)

_YEAR = r"(?P<year>(?:19|20)\d\d)\b(?!s)"
_DECADE = r"(?:(?:early|mid|late)[-\s]+)?(?P<decade>(?:19|20)\d0s|['’]?\d0s)\b"
_FILM_NOUN = r"(?:film|movie|flick|classic|picture|release|hit|thriller|comedy|drama|horror|western)"
_YEAR_RES = (
    re.compile(rf"\b(?:released|came\s+out|premiered|debuted|made|hit\s+theaters)\s+(?:back\s+)?in\s+{_YEAR}",
               re.IGNORECASE),
    re.compile(rf"\b(?:a|an|the)\s+{_YEAR}\s+{_FILM_NOUN}", re.IGNORECASE),
    re.compile(rf"\b{_FILM_NOUN}\s+from\s+{_YEAR}", re.IGNORECASE),
    re.compile(rf"\b(?:released|came\s+out|made|premiered)\s+in\s+the\s+{_DECADE}", re.IGNORECASE),
    re.compile(rf"\b(?:a|an|the)\s+{_DECADE}\s+{_FILM_NOUN}", re.IGNORECASE),
    re.compile(rf"\b{_FILM_NOUN}\s+from\s+the\s+{_DECADE}", re.IGNORECASE),
)

_GENRE_WORD = (r"(?:comedy|comedies|horror|thriller|western|musical|documentary|romance|romantic|sci[\s-]fi"
               r"|science[\s-]fiction|animated|animation|war|crime|fantasy|superhero|mystery|action"
               r"|adventure|family|biopic|sports?|spy|noir|zombie|slasher|rom-com)")
_GENRE_AFTER_TITLE_RE = re.compile(
    rf"\s*(?:\(\d{{4}}\))?\s*(?:,\s*(?:a|an)|\s+(?:is|was)\s+(?:a|an|another)|\s+as\s+(?:a|an))\s+"
    rf"(?P<np>(?:[\w'-]+\s+){{0,3}}?{_GENRE_WORD}(?:[\s-]+{_GENRE_WORD})*)\b",
    re.IGNORECASE,
)
# "Adrift (2009) if you liked action movies", "Basic Instinct (1992) if you're into the genre of horror movies":
# a film offered to fans of a genre is said to be of it
_GENRE_IF_YOU_RE = re.compile(
    rf"\s*(?:\(\d{{4}}\))?\s*,?\s+(?:if|since|as|because)\s+you(?:['’]re|\s+are)?\s+(?:really\s+|also\s+)?"
    rf"(?:into|like|liked|love|loved|enjoy|enjoyed|prefer|want)\s+(?:the\s+genre\s+of\s+|(?:a|an|the)\s+)?"
    rf"(?P<np>(?:good\s+|great\s+|old\s+)?{_GENRE_WORD}(?:[\s/-]+(?:or\s+|and\s+)?{_GENRE_WORD})*)\b",
    re.IGNORECASE,
)
_GENRE_PRONOUN_RE = re.compile(
    rf"^\W*(?:it|this\s+one|this|the\s+film|the\s+movie)\s*(?:'s|’s|\s+is|\s+was)\s+(?:a|an)\s+"
    rf"(?P<np>(?:[\w'-]+\s+){{0,3}}?{_GENRE_WORD}(?:[\s-]+{_GENRE_WORD})*)\b",
    re.IGNORECASE,
)
#: Sentences opening with these refer to the films the previous sentence named.
PRONOUN_START_RE = re.compile(r"^\W*(?:it|its|it's|it’s|this\s+one|this\s+film|the\s+film|the\s+movie)\b",
                              re.IGNORECASE)

# Genres a reply may fairly use for a film the catalogue files under a neighbour.
_NEAR_GENRES: Mapping[str, frozenset[str]] = {
    "thriller": frozenset({"crime", "mystery", "horror", "action", "spy", "psychological", "noir",
                           "supernatural", "science fiction", "war", "drama"}),
    "action": frozenset({"adventure", "thriller", "superhero", "war", "martial arts", "spy", "western",
                         "crime", "science fiction", "disaster"}),
    "adventure": frozenset({"action", "fantasy", "family", "animation", "science fiction", "superhero",
                            "western", "war"}),
    "comedy": frozenset({"satire", "mockumentary", "family", "animation", "romance", "musical", "teen"}),
    "horror": frozenset({"supernatural", "slasher", "zombie", "thriller", "psychological", "mystery"}),
    "science fiction": frozenset({"superhero", "fantasy", "adventure", "action", "animation"}),
    "fantasy": frozenset({"science fiction", "animation", "family", "adventure", "superhero", "musical"}),
    "family": frozenset({"animation", "comedy", "adventure", "fantasy", "musical"}),
    "animation": frozenset({"family", "anime"}),
    "romance": frozenset({"comedy", "drama", "musical"}),
    "crime": frozenset({"thriller", "mystery", "noir", "drama", "action"}),
    "mystery": frozenset({"thriller", "crime", "horror", "noir", "supernatural"}),
}
_UNJUDGED_GENRES = frozenset({"drama", "indie", "teen", "history", "biography"})


def _folded(name: str) -> tuple[str, ...]:
    return tuple(t[0] for t in word_spans(name))


def _names_in(text: str, offset: int) -> list[tuple[int, int, str]]:
    """(start, end, name) for each name of a name list starting at ``offset`` of the sentence."""
    out = []
    for m in re.finditer(_NAME, text):
        out.append((offset + m.start(), offset + m.end(), m.group()))
    return out


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass
class _Edit:
    start: int
    end: int
    text: str


def _check_people(sentence: str, films: Sequence[Item], people: Mapping[tuple[str, ...], str],
                  fixes: list[FactFix], edits: list[_Edit]) -> bool:
    """Judge person claims; append fixes/edits. False when the sentence must be dropped."""
    for rx in (_PERSON_CUE_RE, _PERSON_AFTER_RE):
        for m in rx.finditer(sentence):
            role = "director" if m.group("dir") else "cast"
            truth: set[tuple[str, ...]] = set()
            listed = False
            for film in films:
                if role == "director":
                    listed |= bool(film.directors)
                    truth |= {_folded(p) for p in film.directors}
                else:
                    listed |= bool(film.cast)
                    truth |= {_folded(p) for p in (*film.cast, *film.directors)}
            if not listed:
                continue
            names = _names_in(m.group("names"), m.start("names"))
            judged = [(s, e, n, _folded(n) in truth) for s, e, n in names if _folded(n) in people]
            wrong = [j for j in judged if not j[3]]
            if not wrong:
                continue
            if role == "director" and len(films) == 1 and len(films[0].directors) == 1 and len(names) == 1:
                right = films[0].directors[0]
                fixes.append(FactFix("person", wrong[0][2], right, "not the film's director"))
                edits.append(_Edit(wrong[0][0], wrong[0][1], right))
                continue
            kept = [n for s, e, n in names if (s, e, n, False) not in wrong]
            if not kept or len(names) == 1:
                fixes.extend(FactFix("person", w[2], "", f"not in the film's {'directors' if role == 'director' else 'cast'}")
                             for w in wrong)
                return False
            fixes.extend(FactFix("person", w[2], "", "cut from a list: not in the film's cast") for w in wrong)
            edits.append(_Edit(names[0][0], names[-1][1], _join(kept)))
    return True


def _decade_text(written: str, year: int) -> str:
    decade = year // 10 * 10
    if written[:1] in "'’":
        return f"{written[0]}{decade % 100:02d}s"
    if len(written) == 5:  # "1990s"
        return f"{decade}s"
    return f"{decade % 100:02d}s"


def _check_years(sentence: str, films: Sequence[Item], fixes: list[FactFix], edits: list[_Edit]) -> bool:
    years = [f.year for f in films if f.year]
    if not years:
        return True
    for rx in _YEAR_RES:
        for m in rx.finditer(sentence):
            if m.groupdict().get("year"):
                claimed = int(m.group("year"))
                if claimed in years:
                    continue
                group, right = "year", str(years[0])
            else:
                written = m.group("decade")
                digits = re.sub(r"\D", "", written)
                if len(digits) == 2:  # "90s": the century of the film
                    claimed_decade = [y // 100 * 100 + int(digits) for y in years]
                    if any(y // 10 * 10 == d for y, d in zip(years, claimed_decade, strict=True)):
                        continue
                elif any(y // 10 * 10 == int(digits) for y in years):
                    continue
                group, right = "decade", _decade_text(written, years[0])
            if len(years) > 1:
                fixes.append(FactFix("year", m.group(group), "", "fits none of the films named"))
                return False
            fixes.append(FactFix("year", m.group(group), right, "wrong year" if group == "year" else "wrong decade"))
            edits.append(_Edit(m.start(group), m.end(group), right))
    return True


def _genre_contradicted(np: str, film: Item) -> bool:
    claimed = genre_keys(np) - _UNJUDGED_GENRES
    actual = item_genre_keys(film)
    if not claimed or not actual:
        return False
    near = set(actual)
    for g in actual:
        near |= _NEAR_GENRES.get(g, frozenset())
    for g in claimed:
        if g in near or actual & _NEAR_GENRES.get(g, frozenset()):
            return False
    return True


def _check_genres(sentence: str, films: Sequence[Item], pronoun: bool, fixes: list[FactFix]) -> bool:
    if len(films) != 1:
        return True
    film = films[0]
    claims: list[str] = []
    low = sentence.lower()
    title = film.title.lower()
    pos = low.find(title)
    while pos >= 0:
        for rx in (_GENRE_AFTER_TITLE_RE, _GENRE_IF_YOU_RE):
            m = rx.match(sentence, pos + len(title))
            if m:
                claims.append(re.sub(r"(?i)\bsci\s+fi\b", "sci-fi", m.group("np")))  # "sci fi" as genre_keys reads it
        pos = low.find(title, pos + 1)
    if pronoun:
        m = _GENRE_PRONOUN_RE.match(sentence)
        if m:
            claims.append(m.group("np"))
    for np in claims:
        if _genre_contradicted(np, film):
            fixes.append(FactFix("genre", np, "", "not the film's genre"))
            return False
    return True


def check_facts(sentence: str, films: Sequence[Item], people: Mapping[tuple[str, ...], str], *,
                pronoun: bool = False) -> tuple[str | None, list[FactFix]]:
    """Check the claims ``sentence`` makes about ``films`` (the items it names).

    Args:
        sentence: one grounded sentence.
        films: the catalogue items the sentence names (or the previous sentence's, see ``pronoun``).
        people: folded name -> name, every director and cast member of the catalogue.
        pronoun: the sentence refers to ``films`` by a pronoun ("It stars ...").

    Returns:
        The corrected sentence (``None`` when it is dropped) and one :class:`FactFix` per false claim.
    """
    if not films:
        return sentence, []
    fixes: list[FactFix] = []
    edits: list[_Edit] = []
    if not (_check_people(sentence, films, people, fixes, edits) and _check_years(sentence, films, fixes, edits)
            and _check_genres(sentence, films, pronoun, fixes)):
        return None, fixes
    out = sentence
    edits = list({(e.start, e.end): e for e in edits}.values())
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: edit.start] + edit.text + out[edit.end :]
    return out, fixes
