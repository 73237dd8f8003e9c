"""Conversation state: what one session has said, liked, asked for and been shown.

A :class:`ConversationState` belongs to one session (one user, one chat tab). It holds the
turns, the items the user liked / disliked / has seen / has not seen, every item mentioned,
the active constraints (an :class:`~workbench.filters.ItemFilter`), everything already
recommended (so nothing is recommended twice unless asked), the judgements made on slate cards
(:meth:`ConversationState.set_card_stances`: a card's like / dislike / rating / "haven't seen it"
means the same as saying it), and a per-turn log of the candidates and per-source scores. :meth:`ConversationState.undo` restores the state before the
last turn. :meth:`to_dict` / :meth:`from_dict` give a plain, JSON-ready dict for the feedback
store.

It knows item ids and understanding results; it does not know scorers, generators or gradio.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.dialogue.intents import QUESTION_INTENTS
from workbench.dialogue.types import Turn
from workbench.dialogue.understand import Understanding
from workbench.errors import WorkbenchError
from workbench.filters import ItemFilter
from workbench.text import Intent

#: Version of :meth:`ConversationState.to_dict`'s layout.
STATE_SCHEMA_VERSION = 1
#: Most turns kept for undo (older snapshots are dropped; the turns themselves stay).
MAX_UNDO = 50


def filter_to_dict(flt: ItemFilter) -> dict[str, Any]:
    return {
        "genres": sorted(flt.genres),
        "exclude_genres": sorted(flt.exclude_genres),
        "year_min": flt.year_min,
        "year_max": flt.year_max,
        "people": sorted(flt.people),
        "exclude_ids": sorted(flt.exclude_ids),
        "exclude_people": sorted(flt.exclude_people),
        "exclude_topics": sorted(flt.exclude_topics),
    }


def filter_from_dict(d: Mapping[str, Any]) -> ItemFilter:
    return ItemFilter(
        frozenset(d.get("genres", ())),
        frozenset(d.get("exclude_genres", ())),
        d.get("year_min"),
        d.get("year_max"),
        frozenset(d.get("people", ())),
        frozenset(d.get("exclude_ids", ())),
        frozenset(d.get("exclude_people", ())),
        frozenset(d.get("exclude_topics", ())),
    )


@dataclass
class TurnLog:
    """What the engine did for one user message."""

    message: str
    intent: Intent
    slate: list[str] = field(default_factory=list)
    #: the merged candidates, best first: ``{"item_id", "score", "sources"}``
    candidates: list[dict[str, Any]] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    generator: str = ""
    fell_back: bool = False
    grounding_fixes: int = 0
    #: the grounding fixes by kind (``TurnResult.grounding_fixes_by_kind``: "title", "link", "replaced", ...)
    grounding_fixes_by_kind: dict[str, int] = field(default_factory=dict)
    #: the question asked after the slate (``Question.to_dict()``: attribute, text, gain), or empty
    question: dict[str, Any] = field(default_factory=dict)
    #: what the reply did (``workbench.dialogue.types.ACTS``; empty in logs written before acts)
    act: str = ""
    #: the fact answered (``Answer.to_dict()``: item_id, attribute, values), or empty
    answer: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message, "intent": self.intent, "slate": list(self.slate),
            "candidates": [dict(c, sources=dict(c.get("sources", {}))) for c in self.candidates],
            "reasons": dict(self.reasons), "notes": list(self.notes), "generator": self.generator,
            "fell_back": self.fell_back, "grounding_fixes": self.grounding_fixes,
            "grounding_fixes_by_kind": dict(self.grounding_fixes_by_kind),
            "question": dict(self.question), "act": self.act, "answer": dict(self.answer),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TurnLog:
        return cls(
            message=d["message"], intent=d["intent"], slate=list(d.get("slate", [])),
            candidates=[dict(c) for c in d.get("candidates", [])], reasons=dict(d.get("reasons", {})),
            notes=list(d.get("notes", [])), generator=d.get("generator", ""),
            fell_back=bool(d.get("fell_back", False)), grounding_fixes=int(d.get("grounding_fixes", 0)),
            grounding_fixes_by_kind={str(k): int(v) for k, v in (d.get("grounding_fixes_by_kind") or {}).items()},
            question=dict(d.get("question") or {}), act=d.get("act", ""), answer=dict(d.get("answer") or {}),
        )


def _add(seq: list[str], item_id: str) -> None:
    """Append ``item_id`` as the most recent entry (moving it if present)."""
    if item_id in seq:
        seq.remove(item_id)
    seq.append(item_id)


def _drop(seq: list[str], item_id: str) -> None:
    if item_id in seq:
        seq.remove(item_id)


#: The stances a slate card can give an item (see :func:`workbench.chat.live.card_stance`).
CARD_STANCES = ("liked", "disliked", "seen", "not_seen")


@dataclass(frozen=True)
class CardStance:
    """One card judgement the conversation has taken in: ``item_id`` is ``stance``, judged on turn ``turn``'s slate."""

    item_id: str
    stance: str  # one of CARD_STANCES
    turn: int  # 0-based index of the turn whose slate showed the card

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "stance": self.stance, "turn": self.turn}


@dataclass
class ConversationState:
    """One session's conversation. Mutated only by the engine when a turn completes."""

    session_id: str
    turns: list[Turn] = field(default_factory=list)
    liked: list[str] = field(default_factory=list)  # most recent last
    disliked: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    not_seen: list[str] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)  # every item named by anyone, most recent last
    constraints: ItemFilter = field(default_factory=ItemFilter)
    recommended: list[str] = field(default_factory=list)  # everything ever shown, in order
    last_slate: list[str] = field(default_factory=list)
    log: list[TurnLog] = field(default_factory=list)
    #: card judgements taken in, by item (what :meth:`set_card_stances` reconciles against)
    card_stances: dict[str, CardStance] = field(default_factory=dict)
    _undo: list[dict[str, Any]] = field(default_factory=list, repr=False)

    # -- reading ----------------------------------------------------------
    @property
    def user_turns(self) -> list[str]:
        return [t.text for t in self.turns if t.role == "user"]

    def excluded(self) -> set[str]:
        """Items never to recommend again: shown before, mentioned, disliked or seen."""
        return set(self.recommended) | set(self.mentioned) | set(self.disliked) | set(self.seen)

    def history(self) -> dict[str, float]:
        """What a recommender should read: liked items 1.0, other non-disliked mentions 0.5."""
        out: dict[str, float] = {}
        for item_id in self.mentioned:
            if item_id not in self.disliked:
                out[item_id] = 0.5
        for item_id in self.liked:
            out[item_id] = 1.0
        return out

    # -- changing -----------------------------------------------------------
    def apply(self, u: Understanding) -> None:
        """Fold one user message's understanding into the state (not the turn text itself)."""
        if u.reset:
            self.liked.clear()
            self.disliked.clear()
            self.constraints = ItemFilter()
        for m in u.mentions:
            self.note_stance(m.item_id, m.stance)
        if u.judged is not None:
            item_id, stance = u.judged
            self.note_stance(item_id, stance if stance != "neutral" else "seen")
        self.constraints = merge_constraints(self.constraints, *asked_for(u))

    def note_stance(self, item_id: str, stance: str) -> None:
        _add(self.mentioned, item_id)
        if stance == "liked":
            _add(self.liked, item_id)
            _drop(self.disliked, item_id)
            _add(self.seen, item_id)
            _drop(self.not_seen, item_id)
        elif stance == "disliked":
            _add(self.disliked, item_id)
            _drop(self.liked, item_id)
            _add(self.seen, item_id)
            _drop(self.not_seen, item_id)
        elif stance == "seen":
            _add(self.seen, item_id)
            _drop(self.not_seen, item_id)
        elif stance == "not_seen":
            _add(self.not_seen, item_id)
            _drop(self.seen, item_id)

    def card_liked(self, item_id: str) -> CardStance | None:
        """The card judgement that made ``item_id`` liked, if a card did (and nothing said since undid it)."""
        cs = self.card_stances.get(item_id)
        return cs if cs is not None and cs.stance == "liked" and item_id in self.liked else None

    def answer_focus(self) -> str | None:
        """The film the last turn answered a question about: what "it" means next ("and who's in it?")."""
        if self.log and self.log[-1].act == "answer":
            return self.log[-1].answer.get("item_id")
        return None

    def card_focus(self) -> str | None:
        """The newest item liked on a card of the last slate: what "more like that" points at."""
        for cs in reversed(list(self.card_stances.values())):
            if cs.stance == "liked" and cs.item_id in self.last_slate and cs.item_id in self.liked:
                return cs.item_id
        return None

    def set_card_stances(self, wanted: Mapping[str, CardStance]) -> bool:
        """Take in the card judgements ``wanted`` (item id -> stance): the same as saying them.

        Only what changed since the last call is applied, so a stance said later in the chat
        ("actually I hated it") is not overwritten by an older card judgement being re-sent. A
        card that is cleared, or whose turn was undone (the caller leaves it out of ``wanted``),
        takes back what it set: the item leaves liked / disliked / seen / not seen. Cards never
        add to ``mentioned`` (a film the user has not seen is no signal of taste). Returns
        whether anything changed.
        """
        changed = False
        for item_id in [i for i in self.card_stances if i not in wanted]:
            self._take_back(self.card_stances.pop(item_id))
            changed = True
        for item_id, cs in wanted.items():
            if cs.stance not in CARD_STANCES:
                raise WorkbenchError(f"card stance for item {item_id!r} must be one of {CARD_STANCES}, "
                                     f"got {cs.stance!r}")
            old = self.card_stances.get(item_id)
            if old == cs:
                continue
            if old is not None and old.stance != cs.stance:
                self._take_back(old)
            if old is None or old.stance != cs.stance:
                self._card_stance(item_id, cs.stance)
            self.card_stances.pop(item_id, None)
            self.card_stances[item_id] = cs  # newest last
            changed = True
        return changed

    def _card_stance(self, item_id: str, stance: str) -> None:
        if stance == "liked":
            _add(self.liked, item_id)
            _drop(self.disliked, item_id)
        elif stance == "disliked":
            _add(self.disliked, item_id)
            _drop(self.liked, item_id)
        if stance == "not_seen":
            _add(self.not_seen, item_id)
            _drop(self.seen, item_id)
        else:
            _add(self.seen, item_id)
            _drop(self.not_seen, item_id)

    def _take_back(self, cs: CardStance) -> None:
        """Undo what one card set (only the lists it added the item to)."""
        lists = {"liked": (self.liked, self.seen), "disliked": (self.disliked, self.seen),
                 "seen": (self.seen,), "not_seen": (self.not_seen,)}[cs.stance]
        for seq in lists:
            _drop(seq, cs.item_id)

    def add_turn(self, role: str, text: str) -> None:
        self.turns.append(Turn(role, text))  # type: ignore[arg-type]

    def record_slate(self, item_ids: Iterable[str]) -> None:
        ids = list(item_ids)
        if ids:
            self.last_slate = ids
        for item_id in ids:
            if item_id not in self.recommended:
                self.recommended.append(item_id)

    def push_undo(self) -> None:
        """Remember the state as it is now, before a turn changes it."""
        self._undo.append(self._snapshot())
        del self._undo[:-MAX_UNDO]

    def undo(self) -> str | None:
        """Restore the state before the last turn; return that turn's user message (None if none)."""
        if not self._undo:
            return None
        message = self.log[-1].message if self.log else None
        if message is None:
            users = self.user_turns
            message = users[-1] if users else None
        snap = self._undo.pop()
        restored = ConversationState.from_dict(snap)
        for name in ("turns", "liked", "disliked", "seen", "not_seen", "mentioned", "constraints",
                     "recommended", "last_slate", "log", "card_stances"):
            setattr(self, name, getattr(restored, name))
        return message

    def copy(self) -> ConversationState:
        """An independent copy (the engine works on one and commits it when a turn completes)."""
        new = copy.copy(self)
        for name in ("turns", "liked", "disliked", "seen", "not_seen", "mentioned", "recommended",
                     "last_slate", "_undo"):
            setattr(new, name, list(getattr(self, name)))
        new.log = [copy.deepcopy(entry) for entry in self.log]
        new.card_stances = dict(self.card_stances)
        return new

    def commit(self, other: ConversationState) -> None:
        """Take over every field of ``other`` (the completed turn's state)."""
        if other.session_id != self.session_id:
            raise WorkbenchError(
                f"state of session {other.session_id!r} cannot replace session {self.session_id!r}"
            )
        self.__dict__.update(other.__dict__)

    # -- serialising ----------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        d = self.to_dict()
        d.pop("undo", None)
        return d

    def to_dict(self, *, include_undo: bool = False) -> dict[str, Any]:
        """A plain dict (JSON-ready). The undo stack is left out unless asked for."""
        d: dict[str, Any] = {
            "schema_version": STATE_SCHEMA_VERSION,
            "session_id": self.session_id,
            "turns": [{"role": t.role, "text": t.text} for t in self.turns],
            "liked": list(self.liked),
            "disliked": list(self.disliked),
            "seen": list(self.seen),
            "not_seen": list(self.not_seen),
            "mentioned": list(self.mentioned),
            "constraints": filter_to_dict(self.constraints),
            "recommended": list(self.recommended),
            "last_slate": list(self.last_slate),
            "log": [entry.to_dict() for entry in self.log],
            "card_stances": [cs.to_dict() for cs in self.card_stances.values()],
        }
        if include_undo:
            d["undo"] = copy.deepcopy(self._undo)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConversationState:
        version = d.get("schema_version", STATE_SCHEMA_VERSION)
        if version != STATE_SCHEMA_VERSION:
            raise WorkbenchError(
                f"conversation state: schema_version {version} but this code reads {STATE_SCHEMA_VERSION}"
            )
        try:
            state = cls(
                session_id=str(d["session_id"]),
                turns=[Turn(t["role"], t["text"]) for t in d.get("turns", [])],
                liked=list(d.get("liked", [])),
                disliked=list(d.get("disliked", [])),
                seen=list(d.get("seen", [])),
                not_seen=list(d.get("not_seen", [])),
                mentioned=list(d.get("mentioned", [])),
                constraints=filter_from_dict(d.get("constraints", {})),
                recommended=list(d.get("recommended", [])),
                last_slate=list(d.get("last_slate", [])),
                log=[TurnLog.from_dict(e) for e in d.get("log", [])],
                card_stances={c["item_id"]: CardStance(str(c["item_id"]), str(c["stance"]), int(c["turn"]))
                              for c in d.get("card_stances", [])},
            )
        except (KeyError, TypeError) as exc:
            raise WorkbenchError(f"conversation state: malformed dict ({exc!r})") from None
        state._undo = copy.deepcopy(list(d.get("undo", [])))
        return state


def asked_for(u: Understanding) -> tuple[ItemFilter, frozenset[str]]:
    """The constraints ``u`` asks for, and their fields: a question's subject is no constraint ("is the
    first one a cartoon?" asks about a film, not for cartoons; "which of them has Tom Hanks?" neither)."""
    fields = set(u.constraint_fields)
    if u.intent in QUESTION_INTENTS and u.attribute in ("genre", "has_genre"):
        fields -= {"genres"}
    if u.intent in QUESTION_INTENTS and u.attribute in ("cast", "director", "has_person"):
        fields -= {"people"}
    return u.constraints, frozenset(fields)


def merge_constraints(current: ItemFilter, new: ItemFilter, fields: frozenset[str]) -> ItemFilter:
    """The constraints after a message: what it states replaces the same kind of constraint.

    "something scary" then "actually a comedy" leaves comedy; "no horror" adds to earlier
    exclusions (and lifts a request for horror); a new year range replaces the old one.
    """
    genres, excluded = set(current.genres), set(current.exclude_genres)
    year_min, year_max, people = current.year_min, current.year_max, set(current.people)
    if "genres" in fields:
        genres = set(new.genres)
        excluded -= new.genres
    if "exclude_genres" in fields:
        excluded |= new.exclude_genres
        genres -= new.exclude_genres
    if "years" in fields:
        year_min, year_max = new.year_min, new.year_max
    ruled_out = set(current.exclude_people)
    if "people" in fields:
        people = set(new.people)
        ruled_out -= new.people
    if "exclude_people" in fields:
        ruled_out |= new.exclude_people
        people -= new.exclude_people
    topics = current.exclude_topics | new.exclude_topics if "exclude_topics" in fields else current.exclude_topics
    return ItemFilter(frozenset(genres), frozenset(excluded), year_min, year_max, frozenset(people),
                      current.exclude_ids | new.exclude_ids, frozenset(ruled_out), topics)
