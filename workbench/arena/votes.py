"""Arena votes as feedback records: one record per side, both written in one append.

A vote on a blind pair becomes two :class:`~workbench.feedback.record.FeedbackRecord` s (schema 3),
one for the reply shown as A (left) and one for B, each with its side's conversation, reply,
slate (and the annotator's per-item judgements on it), system id, hash and configuration, and
both with the pair id, the vote and the comment. They go through the feedback store's public
``append_many`` (one write, one fsync: both or neither), so votes are kept, synced and exported
like every other judgement. Their record ids are derived from (pair, annotator, side), so a
retried write is read back once.

:func:`read_votes` pairs the two records back into :class:`Vote` s for the leaderboard. A vote
whose reply names a system (an arena system's name or model id, :func:`void_reason`) is voided:
its records are kept and it is listed with ``void`` set, but the leaderboard does not count it
(a reply that gives its system away breaks blindness).

It knows records and the store's public methods; it does not know engines, pairing or gradio.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import ArenaError
from workbench.feedback.record import ARENA_SIDES, ARENA_VOTES, FeedbackRecord, make_record
from workbench.feedback.store import idempotent_record_id
from workbench.limits import MAX_CONVERSATION_TURNS

#: Names shorter than this are not looked for in replies (too likely to be an ordinary word).
MIN_NAME_CHARS = 3


@dataclass(frozen=True)
class SideShown:
    """What one side of a pair showed: enough to store it (and nothing shown to the annotator)."""

    system_id: str
    system_hash: str
    system_config: Mapping[str, Any]
    conversation: Sequence[Any]  # this side's turns before the message
    reply: str
    generator: str  # backend:model that wrote the reply
    recommendations: Sequence[Any]  # dialogue.types.Recommendation


@dataclass(frozen=True)
class Vote:
    """One annotator's vote on one pair, as the leaderboard reads it."""

    pair_id: str
    annotator: str
    a: str  # system id shown as A (left)
    b: str
    vote: str  # a | b | tie | both_bad
    created_at: str = ""
    len_a: int = 0  # characters of the reply shown as A (the style-control covariate)
    len_b: int = 0
    void: str = ""  # why the vote is voided (kept, not counted); empty when it counts

    @property
    def winner(self) -> str | None:
        return self.a if self.vote == "a" else self.b if self.vote == "b" else None


def vote_record_id(pair_id: str, annotator: str, side: str) -> str:
    """The record id of ``annotator``'s ``side`` record for ``pair_id`` (deterministic: retries dedupe)."""
    return idempotent_record_id(f"{pair_id}:{side}", "arena", annotator)


def vote_records(*, pair_id: str, session_id: str, turn_index: int, message: str, vote: str, annotator: str,
                 comment: str, a: SideShown, b: SideShown, judgements: Mapping[str, Mapping[str, Mapping[str, Any]]],
                 catalog: Any, index_ids: Mapping[str, str]) -> list[FeedbackRecord]:
    """The two records of one vote (validated; raises :class:`~workbench.errors.FeedbackError`).

    ``judgements`` maps a side (``"a"``/``"b"``) to ``item_id -> {"label", "rating"}`` on that side's slate.
    """
    if vote not in ARENA_VOTES:
        raise ArenaError(f"vote: must be one of {', '.join(ARENA_VOTES)}, got {vote!r}")
    unknown = sorted(set(judgements) - {"a", "b"})
    if unknown:
        raise ArenaError(f"judgements: sides are 'a' and 'b', got {unknown[0]!r}")
    records = []
    for side, shown in (("a", a), ("b", b)):
        backend, _, model = (shown.generator or "template").partition(":")
        records.append(make_record(
            annotator=annotator, session_id=session_id, turn_index=turn_index,
            conversation=list(shown.conversation)[-MAX_CONVERSATION_TURNS:], user_message=message,
            reply=shown.reply, generator_backend=backend or "template", generator_model=model,
            slate=shown.recommendations, judgements=judgements.get(side, {}), comment=comment,
            catalog_hash=getattr(catalog, "content_hash", ""), index_id=index_ids.get(shown.system_id, ""),
            catalog=catalog,
            extra={"record_id": vote_record_id(pair_id, annotator, side), "system_id": shown.system_id,
                   "system_hash": shown.system_hash,
                   "system_config": json.dumps(dict(shown.system_config), sort_keys=True),
                   "arena_pair": pair_id, "arena_side": side, "arena_vote": vote},
        ))
    return records


def has_voted(records: Iterable[FeedbackRecord], pair_id: str, annotator: str) -> bool:
    return any(r.arena_pair == pair_id and r.annotator == annotator for r in records)


def system_names(records: Iterable[FeedbackRecord]) -> set[str]:
    """What would name a system in a reply: every arena system's name and model id (and the model
    id's last path part, ``Qwen/Qwen2.5-0.5B`` -> ``Qwen2.5-0.5B``) in ``records``."""
    names: set[str] = set()
    for r in records:
        if not r.system_id:
            continue
        names.add(r.system_id.partition("@")[0])
        try:
            model = str(json.loads(r.system_config or "{}").get("model") or "")
        except (ValueError, AttributeError):
            model = ""
        if model:
            names.update({model, model.rstrip("/").rsplit("/", 1)[-1]})
    return {n for n in names if len(n) >= MIN_NAME_CHARS}


def void_reason(replies: Mapping[str, str], names: Iterable[str]) -> str:
    """Why a vote on these replies is void (a reply names a system), or ``""``."""
    for side in ARENA_SIDES:
        text = replies.get(side) or ""
        for name in sorted(names):
            if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text, flags=re.IGNORECASE):
                return f"reply {side.upper()} names system {name!r}"
    return ""


def read_votes(records: Iterable[FeedbackRecord]) -> list[Vote]:
    """Every complete vote (both sides' records present) in ``records``, oldest first, with its
    replies' lengths and, when a reply names a system (:func:`void_reason`), why it is void."""
    records = list(records)
    names = system_names(records)
    sides: dict[tuple[str, str], dict[str, FeedbackRecord]] = defaultdict(dict)
    for r in records:
        if r.arena_pair and r.arena_side in ("a", "b"):
            sides[(r.arena_pair, r.annotator)].setdefault(r.arena_side, r)
    votes = []
    for (pair_id, annotator), by_side in sides.items():
        if set(by_side) == {"a", "b"}:
            a, b = by_side["a"], by_side["b"]
            votes.append(Vote(pair_id, annotator, a.system_id, b.system_id, a.arena_vote, a.created_at,
                              len(a.reply), len(b.reply), void_reason({"a": a.reply, "b": b.reply}, names)))
    return sorted(votes, key=lambda v: (v.created_at, v.pair_id, v.annotator))

