"""Whether a grounded reply is a reply to this turn: it talks about films, and answers what was asked.

A small model sometimes answers a message nobody sent ("I'm sorry for your loss. Please go ahead
and relax.") or drifts past a question ("Who directed the second one?" answered with a new
list). Grounding keeps only true sentences, but a reply of true sentences about nothing is still
no reply. Two checks, both on what grounding let through:

* :func:`about_films`: a sentence names a slate or allowed film, or talks about films at all
  (film words, genres, people, "watch", "seen"). :class:`~workbench.dialogue.grounding.GroundedStream`
  holds sentences back until one is about films, so a reply with none never reaches the screen;
* answered: the user asked a question about films they named or pointed at (:func:`is_question`),
  and a sentence names one of them or refers back to one (:func:`refers_back`: "It", "That one",
  "He"); the stream holds sentences back until one does.

A reply that fails either is replaced by the template reply for the same turn (the engine and
``eval replies`` do this; the turn's record says so).

It knows text; it does not know items, the catalogue, generators or gradio.
"""

from __future__ import annotations

import re

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
    r"\?\s*$|^\W*(?:who|what|when|which|where|why|how|is|was|are|were|does|did|do|can|could|has|have)\b",
    re.IGNORECASE,
)
_FACT_QUESTION_RE = re.compile(
    r"\b(?:who|director|directed|direct|stars?|starring|starred|cast|actors?|actress|plays?|in\s+it|when|year"
    r"|released|come\s+out|came\s+out|old|new|(?:it|that|this|one)['’]?s?\s+about|plot|genre|kind\s+of\s+(?:film|movie)|long|rated|rating"
    r"|scary|funny|animated|sequel|based\s+on|true\s+story|for\s+kids)\b",
    re.IGNORECASE,
)
_REFERS_RE = re.compile(r"^\W*(?:it|its|it's|it’s|this|that|these|those|they|he|she|both|the\s+(?:first|second"
                        r"|third|last|film|movie|director|cast))\b", re.IGNORECASE)


def about_films(sentence: str, names_film: bool) -> bool:
    """Whether ``sentence`` talks about films (``names_film``: it names a slate or allowed film)."""
    return names_film or _FILM_TALK_RE.search(sentence) is not None


def is_question(message: str) -> bool:
    """Whether a user message asks something (a question mark, or a wh-/auxiliary opening)."""
    return _QUESTION_RE.search(message.strip()) is not None


def asks_fact(message: str) -> bool:
    """Whether a user message asks a fact about films (who directed or stars, when, what it is about, how
    long, which genre), rather than for more films ("What about something like Inception?")."""
    return is_question(message) and _FACT_QUESTION_RE.search(message) is not None


def refers_back(sentence: str) -> bool:
    """Whether ``sentence`` opens by referring to something already named ("It", "That one", "He")."""
    return _REFERS_RE.match(sentence) is not None
