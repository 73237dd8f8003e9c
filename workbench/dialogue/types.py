"""The dialogue engine's public value types: turns, recommendations, turn results.

These are the contract between the engine and its callers (the UI, the CLI,
the feedback store). They hold catalogue items and plain values, never gradio
payloads. Adapting them to a chat widget is one pure function in ``ui/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from workbench.catalog import Item
from workbench.dialogue.question import Question
from workbench.text import Intent

Role = Literal["user", "assistant"]

#: What a reply does (``TurnResult.act``, the ``act`` of ``/chat``'s JSON, the turn log and the
#: feedback record): ``recommend`` (a new slate), ``answer`` (a fact from the catalogue about films
#: the user asked about; ``TurnResult.answer`` says which), ``explain`` (why a film was suggested),
#: ``ask`` (no slate; the reply asks the user for more: nothing matched, or which film they mean),
#: ``greet``, ``close`` (the user is done), ``introduce`` (what the assistant can do), ``steer``
#: (off topic: back to films, once), ``chat`` (a short reply to small talk, or to off-topic talk
#: after a steer). See ``docs/answers.md``.
Act = Literal["recommend", "answer", "explain", "ask", "greet", "close", "introduce", "steer", "chat"]
#: Every :data:`Act`, in declaration order.
ACTS: tuple[str, ...] = get_args(Act)


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
class TitleReading:
    """How the engine read an ambiguous title in the user's message, and what else it could mean.

    ``span`` is the character range of ``surface`` in the message; ``chosen`` the item taken,
    ``alternatives`` the other films of that name (item ids, most popular first) the user can pick
    instead with one click (the message is then read again with "Title (Year)" in place of ``surface``).
    """

    surface: str
    span: tuple[int, int]
    chosen: str
    alternatives: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"surface": self.surface, "span": list(self.span), "chosen": self.chosen,
                "alternatives": list(self.alternatives)}


@dataclass(frozen=True)
class Answer:
    """A question about films answered from catalogue facts (see :mod:`workbench.dialogue.answers`).

    ``attribute`` is what was asked (``director``, ``cast``, ``year``, ``genre``, ``about`` about
    one film; ``newest``, ``oldest``, ``has_person``, ``has_genre``, ``has_year`` across several). ``item`` is the
    film answered about (for ``newest`` / ``oldest`` the one picked; for ``has_*`` the first that
    matches, ``None`` when none does). ``values`` are the catalogue's values for ``item``: names,
    the year, genres, genres then tags (``about``); for ``has_*`` the ids of the matching films.
    Empty ``values`` mean the catalogue does not know (the reply says so, never guesses).
    ``items`` are every film asked about, ``asked`` the value a yes/no question named
    ("animation", "Tom Hanks"), ``matches`` the films that have it.
    """

    item: Item | None
    attribute: str
    values: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    asked: str = ""
    matches: tuple[Item, ...] = ()

    @property
    def known(self) -> bool:
        """Whether the catalogue had the fact (``has_*``: always; "none of them" is an answer)."""
        return bool(self.values) or self.attribute.startswith("has_")

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item.item_id if self.item is not None else None, "attribute": self.attribute,
                "values": list(self.values)}


@dataclass(frozen=True)
class ReplyRestart:
    """A turn's stream event: the text streamed so far is withdrawn, and the pieces that follow replace it.

    The engine yields one when a language model failed after it had started writing and the
    fallback takes over (the half-written text may hold the very claim that made it fail). Every
    consumer of :meth:`~workbench.dialogue.engine.ChatEngine.stream` clears what it showed; the
    turn's :class:`TurnResult` holds only the replacement.
    """

    reason: str = ""  # the generator layer's: "timeout", "empty" or "error"


@dataclass(frozen=True)
class TurnResult:
    """Everything one engine turn produced."""

    reply: str
    recommendations: tuple[Recommendation, ...] = ()
    intent: Intent = "other"
    grounding_fixes: int = 0  # sentences or titles removed or corrected in the generated reply
    #: the same fixes by kind: "title", "person", "genre", "year", "echo", "repeat", "link", "shop",
    #: "instruction", "cut", "off_task", "unchecked", and per reply "emptied" (grounding dropped every sentence) or
    #: "replaced" (no sentence talked about films, or none answered the user's question): then the
    #: template reply was shown instead
    grounding_fixes_by_kind: Mapping[str, int] = field(default_factory=dict)
    generator: str = "template"  # backend:model that wrote the reply
    fell_back: bool = False  # an LLM failed or timed out and the template generator answered
    #: why: "timeout", "empty", "error" (the generator layer's reason) or "grounding" (nothing true left)
    fallback_reason: str = ""
    notes: tuple[str, ...] = ()  # e.g. "Took 'Heat' as Heat (1995)"
    readings: tuple[TitleReading, ...] = ()  # the guesses behind such notes, with the other films
    #: the question asked after the slate (its attribute, text and expected gain), if any
    question: Question | None = None
    #: what the reply does (one of :data:`ACTS`)
    act: Act = "recommend"
    #: the fact answered, for ``act == "answer"``
    answer: Answer | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply": self.reply,
            "items": [r.to_dict() for r in self.recommendations],
            "intent": self.intent,
            "grounding_fixes": self.grounding_fixes,
            "grounding_fixes_by_kind": dict(self.grounding_fixes_by_kind),
            "generator": self.generator,
            "fell_back": self.fell_back,
            "fallback_reason": self.fallback_reason,
            "notes": list(self.notes),
            "readings": [r.to_dict() for r in self.readings],
            "question": self.question.to_dict() if self.question is not None else None,
            "act": self.act,
            "answer": self.answer.to_dict() if self.answer is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], catalog: Any) -> TurnResult:
        """The result :meth:`to_dict` described, items resolved in ``catalog`` (one that left it is dropped)."""
        recs = []
        for rec in d.get("items", ()):
            item = catalog.get(rec["item_id"])
            if item is not None:
                recs.append(Recommendation(item=item, rank=int(rec["rank"]), score=float(rec["score"]),
                                           sources=dict(rec.get("sources", {})), reason=rec.get("reason", "")))
        readings = tuple(TitleReading(r["surface"], (int(r["span"][0]), int(r["span"][1])), r["chosen"],
                                      tuple(r["alternatives"])) for r in d.get("readings", ()))
        return cls(reply=d["reply"], recommendations=tuple(recs), intent=d.get("intent", "other"),
                   grounding_fixes=int(d.get("grounding_fixes", 0)),
                   grounding_fixes_by_kind=dict(d.get("grounding_fixes_by_kind", {})),
                   generator=d.get("generator", "template"), fell_back=bool(d.get("fell_back", False)),
                   fallback_reason=d.get("fallback_reason", ""), notes=tuple(d.get("notes", ())),
                   readings=readings, question=_question_from_dict(d.get("question")),
                   act=d.get("act", "recommend"), answer=_answer_from_dict(d.get("answer"), catalog))


def _question_from_dict(d: Mapping[str, Any] | None) -> Question | None:
    if not d:
        return None
    return Question(d["attribute"], d["text"], float(d["gain"]), float(d.get("slate_mass", 0.0)))


def _answer_from_dict(d: Mapping[str, Any] | None, catalog: Any) -> Answer | None:
    """The answer :meth:`Answer.to_dict` described (the item resolved in ``catalog``; the details
    that dict leaves out, ``items``, ``asked`` and ``matches``, stay empty)."""
    if not d:
        return None
    item = catalog.get(d["item_id"]) if d.get("item_id") is not None else None
    return Answer(item, d["attribute"], tuple(str(v) for v in d.get("values", ())))
