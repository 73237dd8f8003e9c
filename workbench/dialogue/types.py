"""The dialogue engine's public value types: turns, recommendations, turn results.

These are the contract between the engine and its callers (the UI, the CLI,
the feedback store). They hold catalogue items and plain values, never gradio
payloads. Adapting them to a chat widget is one pure function in ``ui/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from workbench.catalog import Item
from workbench.text import Intent

if TYPE_CHECKING:
    from workbench.dialogue.question import Question

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: Role
    text: str


@dataclass(frozen=True)
class Recommendation:
    """One slate entry: a catalogue item, its rank and score, where the score came from, and why."""

    item: Item
    rank: int  # 1-based
    score: float
    sources: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item.item_id,
            "title": self.item.display_title,
            "rank": self.rank,
            "score": float(self.score),
            "sources": {k: float(v) for k, v in self.sources.items()},
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TurnResult:
    """Everything one engine turn produced."""

    reply: str
    recommendations: tuple[Recommendation, ...] = ()
    intent: Intent = "other"
    grounding_fixes: int = 0  # sentences or titles removed or corrected in the generated reply
    #: the same fixes by kind: "title", "person", "genre", "year", "echo", "repeat", and "emptied"
    #: (grounding dropped every sentence, so the template reply was shown instead)
    grounding_fixes_by_kind: Mapping[str, int] = field(default_factory=dict)
    generator: str = "template"  # backend:model that wrote the reply
    fell_back: bool = False  # an LLM failed or timed out and the template generator answered
    #: why: "timeout", "empty", "error" (the generator layer's reason) or "grounding" (nothing true left)
    fallback_reason: str = ""
    notes: tuple[str, ...] = ()  # e.g. "Took 'Heat' as Heat (1995)"
    #: the question asked after the slate (its attribute, text and expected gain), if any
    question: Question | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply": self.reply,
            "items": [r.to_dict() for r in self.recommendations],
            "intent": self.intent,
            "grounding_fixes": self.grounding_fixes,
            "grounding_fixes_by_kind": dict(self.grounding_fixes_by_kind),
            "generator": self.generator,
            "fell_back": self.fell_back,
            "notes": list(self.notes),
            "question": self.question.to_dict() if self.question is not None else None,
        }
