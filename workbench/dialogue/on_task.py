"""Whether a grounded reply is a reply to this turn: it talks about films, and answers what was asked.

A small model sometimes answers a message nobody sent ("I'm sorry for your loss. Please go ahead
and relax.") or drifts past a question ("Who directed the second one?" answered with a new
list). Grounding keeps only true sentences, but a reply of true sentences about nothing is still
no reply. Two checks, both on what grounding let through:

* :func:`about_films`: a sentence names a slate or allowed film, or talks about films at all
  (film words, genres, people, "watch", "seen"). :class:`~workbench.dialogue.grounding.GroundedStream`
  holds sentences back until one is about films, so a reply with none never reaches the screen;
* answered: the user asked a fact question (:func:`asks_fact`) about films they named or pointed at,
  and a sentence names one of them or states one of their facts (:func:`answers`: a director, cast
  member, year or genre of theirs), or says plainly that it cannot tell ("I can't tell you where to
  watch these films"); the stream holds sentences back until one does. "It has many options" after
  "Who directed the first one?" does not answer.

A reply that fails either is replaced by the template reply for the same turn (the engine and
``eval replies`` do this; the turn's record says so).

It knows text and items; it does not know the catalogue, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from workbench.catalog import Item

_FILM_TALK_RE = re.compile(
    r"\b(?:films?|movies?|flicks?|cinema|watch\w*|seen|see|saw|cast|director|directed|stars?|starring|star(?:s|red)"
    r"|actors?|actress(?:es)?|roles?|plays|played|performances?|story|stories|plot|characters?|scenes?|sequels?"
    r"|prequels?|classics?|series|trilogy|franchise|genre|comed(?:y|ies)|dramas?|thrillers?|horror|action"
    r"|adventure|romance|romantic|animated|animation|documentar(?:y|ies)|westerns?|musicals?|sci-fi|fantasy"
    r"|mystery|crime|war|family|superhero|picks?|suggest\w*|recommend\w*|titles?|released|ending|twist"
    r"|funny|scary|tense|heist|enjoy\w*)\b",
    re.IGNORECASE,
)
_QUESTION_RE = re.compile(
    r"\?\s*$|^\W*(?:who|what|when|which|where|why|how|is|was|are|were|does|did|do|can|could|has|have"
    r"|tell\s+me)\b",
    re.IGNORECASE,
)
_FACT_QUESTION_RE = re.compile(
    r"\b(?:who|director|directed|direct|stars?|starring|starred|cast|actors?|actress|plays?|in\s+it|when|year"
    r"|tell\s+me\s+(?:more\s+)?about|oldest|newest"
    r"|released|come\s+out|came\s+out|old|new|(?:it|that|this|one)['’]?s?\s+about|plot|genre|kind\s+of\s+(?:film|movie)|long|rated|rating"
    r"|scary|funny|animated|sequel|based\s+on|true\s+story|for\s+kids)\b",
    re.IGNORECASE,
)


def about_films(sentence: str, names_film: bool) -> bool:
    """Whether ``sentence`` talks about films (``names_film``: it names a slate or allowed film)."""
    return names_film or _FILM_TALK_RE.search(sentence) is not None


def is_question(message: str) -> bool:
    """Whether a user message asks something (a question mark, or a wh-/auxiliary opening)."""
    return _QUESTION_RE.search(message.strip()) is not None


# A question that asks for films, not about one: "what would you recommend?", "any ideas?", "how about a
# movie that was released recently?" ("released", "old" and "stars" describe the films wanted there)
_FILMS_REQUEST_RE = re.compile(
    r"\b(?:recommend\w*|suggest\w*|ideas?|anything|something|more\s+like|know\s+(?:of\s+)?any"
    r"|(?:a|an|any|some|other)\s+(?:\w+\s+)?(?:movies?|films?|ones?)\s+(?:that|with|like|where|from|in|starring))\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def asks_fact(message: str) -> bool:
    """Whether a user message asks a fact about films (who directed or stars, when, what it is about, how
    long, which genre), rather than for more films ("What about something like Inception?", "the old one
    was better, so what would you recommend?"). Read per sentence: the fact words must be in a question,
    and a question asking for films asks no fact ("I loved the old ones. Can you recommend a comedy?")."""
    return any(is_question(q) and _FACT_QUESTION_RE.search(q) is not None and _FILMS_REQUEST_RE.search(q) is None
               for q in _SENTENCE_END_RE.split(message.strip()))


_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "last": -1}
_ORDINAL_RE = re.compile(r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\s+(?:one|film|movie|pick)\b",
                         re.IGNORECASE)
_ALL_RE = re.compile(r"\b(?:these|those|them|they|all\s+of\s+(?:them|these))\b", re.IGNORECASE)


def referenced(message: str, last_slate: Sequence[str], named: Sequence[str]) -> tuple[str, ...]:
    """Item ids a question points at: the films it names, "the second one" of the last slate, or the
    whole last slate for "these"/"them" (for understanding that reads no references itself)."""
    out = list(named)
    for m in _ORDINAL_RE.finditer(message):
        idx = _ORDINALS[m.group(1).lower()]
        if last_slate and -len(last_slate) <= idx < len(last_slate):
            out.append(last_slate[idx])
    if not out and _ALL_RE.search(message):
        out = list(last_slate)
    return tuple(dict.fromkeys(out))


def answer_values(items: Iterable[Item]) -> tuple[str, ...]:
    """What would answer a question about ``items``: their directors, cast, years and genres (lower case)."""
    values = {v.lower() for item in items for v in (*item.directors, *item.cast, *item.genres) if v}
    values |= {str(item.year) for item in items if item.year}
    return tuple(sorted(values))


_NOT_KNOWN_RE = re.compile(  # the catalogue's own words for "not known", not a model's "I don't know much about it"
    r"\bcan(?:not|['’]t)\s+tell\s+you\b|\bi\s+have\s+no\s+(?:plot|summary)\b"
    r"|\bmy\s+catalogue\s+(?:knows|does\s+not\s+know|doesn['’]t\s+know)\b",
    re.IGNORECASE,
)


def answers(sentence: str, values: Iterable[str]) -> bool:
    """Whether ``sentence`` states one of ``values`` (a name, year or genre of the films asked about), or
    says plainly that the answer is not known ("I can't tell you where to watch these films": an honest
    answer; the engine still states the catalogue's answer where it has one)."""
    low = sentence.lower()
    return any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", low) for v in values) or _NOT_KNOWN_RE.search(sentence) is not None
