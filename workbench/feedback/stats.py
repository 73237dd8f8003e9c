"""Counts over saved feedback: per annotator, per label, per item and per day.

Counts are of saved records and judgements as stored (a re-saved judgement
counts again); exports consolidate, stats do not. It knows records, not files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.feedback.record import ITEM_LABELS, RATING_MAX, RATING_MIN, REPLY_LABELS, FeedbackRecord


@dataclass
class ItemCounts:
    """How one item was judged across all records."""

    item_id: str
    title: str
    shown: int = 0
    like: int = 0
    dislike: int = 0
    not_seen: int = 0
    ratings: int = 0
    rating_sum: int = 0

    @property
    def mean_rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


@dataclass
class FeedbackStats:
    """Counts over a set of records (see :func:`compute_stats`)."""

    records: int = 0
    annotators: dict[str, int] = field(default_factory=dict)  # records per annotator
    labels: dict[str, int] = field(default_factory=dict)  # "item:like", "item:rating=4", "reply:dislike", "comment"
    items: dict[str, ItemCounts] = field(default_factory=dict)  # judged items, most judged first
    days: dict[str, int] = field(default_factory=dict)  # records per UTC day, in date order
    sessions: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for item_id, counts in self.items.items():
            d["items"][item_id]["mean_rating"] = counts.mean_rating
        return d


def compute_stats(records: Iterable[FeedbackRecord]) -> FeedbackStats:
    """Count records per annotator and per day, judgements per label and per item."""
    annotators: Counter[str] = Counter()
    days: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    items: dict[str, ItemCounts] = {}
    sessions: set[str] = set()
    n = 0
    for r in records:
        n += 1
        annotators[r.annotator] += 1
        days[r.created.date().isoformat()] += 1
        sessions.add(r.session_id)
        if r.reply_label:
            labels[f"reply:{r.reply_label}"] += 1
        if r.comment.strip():
            labels["comment"] += 1
        for j in r.slate:
            counts = items.get(j.item_id)
            if counts is None:
                counts = items[j.item_id] = ItemCounts(j.item_id, j.title)
            counts.shown += 1
            if j.label in ITEM_LABELS:
                labels[f"item:{j.label}"] += 1
                setattr(counts, j.label, getattr(counts, j.label) + 1)
            if j.rating is not None:
                labels[f"item:rating={j.rating}"] += 1
                counts.ratings += 1
                counts.rating_sum += j.rating
    label_order = (
        [f"item:{label}" for label in ITEM_LABELS]
        + [f"item:rating={r}" for r in range(RATING_MIN, RATING_MAX + 1)]
        + [f"reply:{label}" for label in REPLY_LABELS]
        + ["comment"]
    )
    judged = [c for c in items.values() if c.like or c.dislike or c.not_seen or c.ratings]
    judged.sort(key=lambda c: (-(c.like + c.dislike + c.not_seen + c.ratings), c.item_id))
    return FeedbackStats(
        records=n,
        annotators=dict(sorted(annotators.items(), key=lambda kv: (-kv[1], kv[0]))),
        labels={k: labels[k] for k in label_order if labels[k]},
        items={c.item_id: c for c in judged},
        days=dict(sorted(days.items())),
        sessions=len(sessions),
    )
