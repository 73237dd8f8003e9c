"""Feedback records as interactions: one pseudo-user per annotator session (issue 14, part 3).

Annotators' card judgements are user-item signals like any other. Each (annotator, session) is one
pseudo-user ``feedback:<annotator>:<session_id>`` (a session is one conversation, so its judgements
describe one taste, as a ReDial conversation does); each judged item becomes one row, with the
same rule as the live conversation and the exports (:func:`~workbench.feedback.export.item_vote`:
a rating outranks a label): rating 4-5 / like -> ``liked`` 1.0, rating 1-2 / dislike ->
``disliked`` -1.0, rating 3 -> ``seen`` 0.5, "haven't seen it" and unjudged cards -> nothing.
When a session judged one item twice (two turns), the newest judgement wins.

:func:`split_sessions` holds a seeded share of sessions out (what the refit never sees and the
evaluation scores). It knows records and interactions; it does not know models or gradio.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Iterable, Sequence

from workbench.catalog import Catalog
from workbench.errors import FeedbackError
from workbench.feedback.export import item_vote
from workbench.feedback.record import FeedbackRecord
from workbench.interactions import SIGNAL_VALUES, Interactions

#: Prefix of the pseudo-users the feedback becomes (ReDial users are ``redial:<conversation id>``).
FEEDBACK_USER_PREFIX = "feedback:"


def session_user(annotator: str, session_id: str) -> str:
    """The pseudo-user of one annotator session."""
    return f"{FEEDBACK_USER_PREFIX}{annotator}:{session_id}"


def _signal(label: str | None, rating: int | None) -> str | None:
    from workbench.feedback.record import ItemJudgement

    vote = item_vote(ItemJudgement("x", "x", 1, 0.0, {}, label, rating))
    if vote > 0:
        return "liked"
    if vote < 0:
        return "disliked"
    return "seen" if rating is not None else None  # a 3: seen, no taste either way


def feedback_interactions(records: Iterable[FeedbackRecord], catalog: Catalog | None = None,
                          *, sessions: Collection[str] | None = None) -> Interactions:
    """The judged items of ``records`` as interactions, one pseudo-user per annotator session.

    Args:
        catalog: when given, ids resolve to canonical catalogue ids and an id the catalogue does
            not hold is an error naming the record (feedback of another catalogue).
        sessions: only these pseudo-users (:func:`session_user`); ``None``: all.
    """
    latest: dict[tuple[str, str], tuple[tuple[str, str], str]] = {}
    for r in sorted(records, key=lambda r: (r.created, r.record_id)):
        user = session_user(r.annotator, r.session_id)
        if sessions is not None and user not in sessions:
            continue
        for j in r.slate:
            signal = _signal(j.label, j.rating)
            if signal is None:
                continue
            item_id = j.item_id
            if catalog is not None:
                if item_id not in catalog:
                    raise FeedbackError(
                        f"feedback record {r.record_id}: item {item_id!r} is not in the catalogue "
                        f"({len(catalog)} items); was it judged on another catalogue?"
                    )
                item_id = catalog.canonical_id(item_id)
            latest[(user, item_id)] = ((r.created, r.record_id), signal)
    rows = [(user, item_id, signal, SIGNAL_VALUES[signal])
            for (user, item_id), (_, signal) in sorted(latest.items())]
    return Interactions.from_rows(rows)


def session_users(records: Iterable[FeedbackRecord]) -> list[str]:
    """Every annotator session's pseudo-user that judged at least one item, sorted."""
    return sorted({session_user(r.annotator, r.session_id) for r in records
                   if any(_signal(j.label, j.rating) for j in r.slate)})


def split_sessions(users: Sequence[str], holdout: float, seed: int = 0) -> tuple[list[str], list[str]]:
    """``(fit, held_out)``: a seeded ``holdout`` share of ``users`` (at least one when any and
    ``holdout`` > 0, never all of them) is held out."""
    if not 0.0 <= holdout < 1.0:
        raise FeedbackError(f"--holdout: must be at least 0 and below 1, got {holdout}")
    users = sorted(users)
    n = 0 if holdout == 0 or len(users) < 2 else min(len(users) - 1, max(1, round(holdout * len(users))))
    held = set(random.Random(seed).sample(users, n))
    return [u for u in users if u not in held], sorted(held)


def interactions_digest(interactions: Interactions) -> str:
    """A short content hash of an interactions table (for a manifest)."""
    frame = interactions.frame.sort_values(["user", "item_id", "signal"])
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()[:16]
