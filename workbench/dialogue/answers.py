"""Answers to fact questions about films, from the catalogue: "Who directed the first one?".

When the user asks a fact about films they named or were shown, the engine puts the catalogue's
answer into the request's notes: a language model is told to mention it, the template generator
says it, and grounding holds back a reply that neither names the film nor states one of its facts
(:mod:`workbench.dialogue.on_task`). :func:`fact_answer` reads what is asked (director, cast, year,
genre; several when the question does not say) and writes one sentence per film.

It knows items and text; it does not know the engine, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from workbench.catalog import Item

#: Films one answer speaks about (a question about "these" of a long slate is answered for the first).
MAX_ANSWERED = 3
_ASKS = {
    "director": re.compile(r"\b(?:who\s+(?:directed|made)|director|directed)\b", re.IGNORECASE),
    "cast": re.compile(r"\b(?:who\s+(?:stars|is\s+in|was\s+in|plays|acts)|stars?|starring|cast|actors?|actress)\b",
                       re.IGNORECASE),
    "year": re.compile(r"\b(?:when|what\s+year|how\s+old|released|came\s+out|come\s+out|oldest|newest|newer|older)\b",
                       re.IGNORECASE),
    "genre": re.compile(r"\b(?:genre|what\s+kind|what\s+sort|scary|funny|animated|cartoon|for\s+kids|comedy|horror"
                        r"|drama|thriller|about)\b", re.IGNORECASE),
}


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def asked_facts(message: str) -> tuple[str, ...]:
    """Which facts a question asks for ("director", "cast", "year", "genre"); all four when it names none."""
    found = tuple(kind for kind, rx in _ASKS.items() if rx.search(message))
    return found or tuple(_ASKS)


def fact_answer(message: str, items: Sequence[Item]) -> str:
    """The catalogue's answer to ``message`` about ``items``: one sentence per film ("" when none is known).

    >>> heat = Item("3", "Heat", 1995, ("Crime", "Thriller"), ("Michael Mann",), ("Al Pacino", "Robert De Niro"))
    >>> fact_answer("Who directed it?", [heat])
    'Heat (1995) was directed by Michael Mann.'
    """
    kinds = asked_facts(message)
    sentences = []
    for item in items[:MAX_ANSWERED]:
        parts = []
        if "director" in kinds and item.directors:
            parts.append(f"was directed by {_join(item.directors[:2])}")
        if "cast" in kinds and item.cast:
            parts.append(f"stars {_join(item.cast[:3])}")
        if "year" in kinds and item.year:
            parts.append(f"came out in {item.year}")
        if "genre" in kinds and item.genres:
            parts.append(f"is filed under {_join([g.lower() for g in item.genres[:3]])}")
        if parts:
            sentences.append(f"{item.display_title} {_join(parts)}.")
    return " ".join(sentences)
