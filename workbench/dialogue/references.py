"""References: which films a message points at ("the third one", "the first two", "those",
"that one", "the Nolan one", "Jaws").

:func:`resolve_refs` reads pointers against the last slate (the previous recommendations, best
first) and returns catalogue ids in the order the message names them:

* ordinals and positions: "the second one", "the 3rd", "number 2", "#2", "the last one",
  "the first two", "the last three", "the top 2", "both" (a two-film slate);
* the whole slate: "those", "these", "all of them", "any of these", "which of them";
* one pointer: "that one", "this one", "it" -> the ``focus`` (the film the conversation is on:
  the last film answered about, or the card the user just liked), else the top pick;
* a person's or a genre's film on the slate: "the Nolan one", "the Tom Hanks movie", "the horror one";
* a year on the slate: "the 1995 one";
* a named film (a linked title), on the slate or not.

It knows item ids, the slate and words; it does not know scores, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from workbench.catalog import Item
from workbench.dialogue.linking import Mention, PersonMention
from workbench.filters import genre_keys, item_genre_keys
from workbench.text import norm_person

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9}
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "top": 1, "last": -1, "final": -1,
    "penultimate": -2, "middle": 0,
}
_ORD = r"first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|6th|seventh|7th|eighth|8th|ninth|9th|tenth|10th"
_NOUN = r"(?:ones?|movies?|films?|picks?|suggestions?|options?|titles?|recommendations?|choices?)"
#: "the first two", "the last 3", "the top two"
_SPAN_RE = re.compile(r"\b(first|last|top|other)\s+(two|three|four|five|2|3|4|5)\b(?!\s*(?:19|20)\d\d)", re.I)
#: "the second one", "the 3rd", "the last one", "the middle one", "number 2", "#2", "no. 2", "option 3",
#: "number four", "option two"
_POS_RE = re.compile(
    rf"\b(?:the\s+)?({_ORD}|last(?!\s+(?:year|night|week|weekend|month|time|summer|winter|few))|final|penultimate|middle)"
    rf"(?:\s+{_NOUN}|\s+(?:of|on)\s+(?:these|those|them|the\s+list))?\b"
    r"|(?:#|\bnumber\s+|\bno\.\s*|\boption\s+|\bpick\s+)(\d{1,2})\b"
    r"|\b(?:number|option)\s+(one|two|three|four|five|six|seven|eight|nine|ten)\b",
    re.I,
)
#: "the top one", "the top pick": position 1 (but not "top 5")
_TOP_RE = re.compile(rf"\b(?:the\s+)?top\s+{_NOUN}\b", re.I)
_BOTH_RE = re.compile(r"\b(?:both(?:\s+of\s+(?:them|these|those))?|the\s+two\s+of\s+them|these\s+two|those\s+two)\b",
                      re.I)
_ALL_RE = re.compile(
    rf"\b(?:all\s+(?:of\s+)?(?:them|these|those|the\s+{_NOUN})|any\s+of\s+(?:them|these|those|the\s+{_NOUN})"
    rf"|(?:which|what|none|each|one|either|neither)\s+of\s+(?:them|these|those|the\s+{_NOUN}|your\s+{_NOUN})"
    rf"|(?:these|those)(?:\s+{_NOUN})?|them|your\s+(?:picks|suggestions|list|recommendations))\b",
    re.I,
)
_ONE_RE = re.compile(r"\b(?:that|this)(?:\s+" + _NOUN + r")?\b|\bit\b|\bits\b|\bit'?s\b", re.I)
#: "the Nolan one", "the Tom Hanks movie", "the horror one", "the 1995 one": a qualifier, then a noun
_QUALIFIED_RE = re.compile(rf"\bthe\s+([\w' -]{{2,40}}?)\s+{_NOUN}\b", re.I)
_YEAR_ONE_RE = re.compile(rf"\b(?:the\s+)?((?:19|20)\d\d)\s+{_NOUN}\b|\bthe\s+one\s+from\s+((?:19|20)\d\d)\b", re.I)


def position_of(m: re.Match[str], n: int) -> int:
    """The 1-based slate position a :data:`_POS_RE` match names in a slate of ``n`` (may be out of range)."""
    if m.group(2):
        return int(m.group(2))
    if m.group(3):  # "number four", "option two"
        return _NUMBERS[m.group(3).lower()]
    pos = _ORDINALS[m.group(1).lower()]
    if pos == 0:
        return (n + 1) // 2
    return n + 1 + pos if pos < 0 else pos


def slate_position(text: str, slate: Sequence[str]) -> str | None:
    """The slate film the first position in ``text`` names ("the fourth", "number 2", "the last
    one"), or ``None``: the one reading of positions, shared with :func:`resolve_refs`."""
    for m in _POS_RE.finditer(text):
        pos = position_of(m, len(slate))
        return slate[pos - 1] if 1 <= pos <= len(slate) else None
    return None


def _spans(rx: re.Pattern[str], text: str) -> list[re.Match[str]]:
    return list(rx.finditer(text))


def _free(taken: list[tuple[int, int]], m: re.Match[str]) -> bool:
    return all(m.end() <= s or m.start() >= e for s, e in taken)


def _by_name(words: str, slate: Sequence[str], item: Callable[[str], Item | None]) -> list[str]:
    """Slate films with a director or actor called ``words`` ("Nolan", "Tom Hanks", "De Niro")."""
    key = norm_person(words)
    key = re.sub(r"^(?:the|a|an|one|movie|film|with|by|from)\s+", "", key)
    if len(key) < 3:
        return []
    out = []
    for i in slate:
        it = item(i)
        if it is None:
            continue
        for name in (*it.directors, *it.cast):
            full = norm_person(name)
            if full == key or full.endswith(" " + key):
                out.append(i)
                break
    return out


def resolve_refs(
    text: str,
    masked: str,
    mentions: Sequence[Mention],
    people: Sequence[PersonMention],
    slate: Sequence[str],
    item: Callable[[str], Item | None],
    focus: str | None = None,
) -> tuple[str, ...]:
    """The catalogue ids ``text`` points at, in the order named (see the module docstring).

    Args:
        text: the message as written.
        masked: ``text`` with linked titles and people blanked (so a title's words are no pointer).
        mentions: the linked titles (their spans are in ``text``).
        people: the linked people.
        slate: the last slate's canonical ids, best first.
        item: looks an id up in the catalogue.
        focus: what "it" / "that one" means when the conversation is on one film.
    """
    found: list[tuple[int, list[str]]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str] | tuple[int, int], ids: list[str]) -> None:
        span = (m.start(), m.end()) if isinstance(m, re.Match) else m
        taken.append(span)
        if ids:
            found.append((span[0], ids))

    positional = [m.span() for rx in (_SPAN_RE, _TOP_RE, _POS_RE) for m in rx.finditer(text)] if slate else []
    for m in mentions:
        if any(m.span[0] < e and s < m.span[1] for s, e in positional):
            continue  # "the last one" is a slate position, not the film "The Last One"
        add(m.span if m.span != (0, 0) else (len(text), len(text)), [m.item_id])
    if slate:
        n = len(slate)
        masked = "".join(c if not any(s <= j < e for s, e in positional) else text[j] for j, c in enumerate(masked))
        for m in _spans(_SPAN_RE, masked):
            count = _NUMBERS[m.group(2).lower()]
            ids = list(slate[:count]) if m.group(1).lower() in ("first", "top") else list(slate[-count:])
            add(m, ids)
        for m in _spans(_TOP_RE, masked):
            if _free(taken, m):
                add(m, [slate[0]])
        for m in _spans(_POS_RE, masked):
            if not _free(taken, m):
                continue
            pos = position_of(m, n)
            add(m, [slate[pos - 1]] if 1 <= pos <= n else [])
        for m in _spans(_YEAR_ONE_RE, masked):
            if _free(taken, m):
                year = int(m.group(1) or m.group(2))
                add(m, [i for i in slate if (it := item(i)) is not None and it.year == year])
        for p in people:
            key = norm_person(p.name)
            on = [i for i in slate if (it := item(i)) is not None
                  and key in {norm_person(x) for x in (*it.directors, *it.cast)}]
            after = masked[p.span[1]:p.span[1] + 30]
            if on and (re.match(rf"\s*(?:'s\s+)?{_NOUN}\b", after, re.I)
                       or re.search(r"\b(?:the|which|with|by)\s*$", masked[:p.span[0]], re.I)):
                add(p.span, on)
        for m in _spans(_QUALIFIED_RE, masked):
            if not _free(taken, m):
                continue
            keys = genre_keys(m.group(1))
            if keys:
                add(m, [i for i in slate if (it := item(i)) is not None and keys & item_genre_keys(it)])
                continue
            named = _by_name(m.group(1), slate, item)
            if named:
                add(m, named)
        if n == 2:
            for m in _spans(_BOTH_RE, masked):
                if _free(taken, m):
                    add(m, list(slate))
        for m in _spans(_ALL_RE, masked):
            if _free(taken, m):
                add(m, list(slate))
    if not found:
        for m in _spans(_ONE_RE, masked):
            target = focus if focus is not None else (slate[0] if slate else None)
            if target is not None and _free(taken, m):
                add(m, [target])
                break
    out: list[str] = []
    for _, ids in sorted(found, key=lambda f: f[0]):
        for i in ids:
            if i not in out:
                out.append(i)
    return tuple(out)
