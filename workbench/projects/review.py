"""Review rules of annotation projects: who reviews, when a task needs review, and its final answer.

A project names its reviewers and a review threshold (``project create --reviewers a,b
--review-threshold 2``; both kept in the project's ``meta``). A task whose annotators all
submitted (the overlap is reached) enters the review queue when, for any question, their latest
answers disagree: a split vote on an item's label or on the reply label, or ratings of one item
that differ by the threshold or more (:func:`disagreements`).

A task's *final answer* (:func:`final_answer`) is its latest review when it has one
(``source: "review"``), else the majority of its annotators' latest submissions
(``"majority"``: per item the most common label and the median rating, a tied vote left empty),
or the one submission (``"single"``).

It knows answers as payloads (the feedback record's dict form) and project ``meta``; it does not
know SQL, feedback stores or gradio.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import ProjectError
from workbench.feedback.record import RATING_MAX, RATING_MIN
from workbench.limits import MAX_ANNOTATOR_CHARS

#: Ratings of one item that differ by this much (or more) send a task to review, unless the project says otherwise.
DEFAULT_REVIEW_THRESHOLD = 2
#: The spread a threshold can name (a rating spread of 1 .. 4 on the 1-5 scale).
REVIEW_THRESHOLD_RANGE = (1, RATING_MAX - RATING_MIN)
#: Most reviewers a project may name.
MAX_REVIEWERS = 100
#: Where a final answer came from.
FINAL_SOURCES = ("review", "majority", "single")
#: ``session_id`` prefix of the feedback records a review writes (they are not an annotator's answer).
REVIEW_SESSION_PREFIX = "review:"


@dataclass(frozen=True)
class Review:
    """One saved review of a task: the reviewer's final answer and note (every version is kept)."""

    project: str
    task_id: str
    reviewer: str
    version: int
    judgements: dict[str, dict[str, Any]]
    reply_label: str | None
    note: str
    record_id: str
    payload: dict[str, Any] | None = None
    created_at: str = ""


@dataclass(frozen=True)
class ReviewSettings:
    """A project's reviewers and review threshold (from its ``meta``)."""

    reviewers: tuple[str, ...] = ()
    threshold: int = DEFAULT_REVIEW_THRESHOLD

    def to_meta(self) -> dict[str, Any]:
        return {"reviewers": list(self.reviewers), "review_threshold": self.threshold}


def parse_reviewers(value: Any, where: str = "--reviewers") -> tuple[str, ...]:
    """``"a,b"`` or ``["a", "b"]`` -> ``("a", "b")``: names stripped, no blanks or repeats."""
    if value is None or value == "":
        return ()
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)):
        raise ProjectError(f"{where}: expected comma-separated names, got {value!r}")
    out: list[str] = []
    for raw in names:
        name = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(name, str) or not name:
            raise ProjectError(f"{where}: an empty reviewer name in {value!r}")
        if len(name) > MAX_ANNOTATOR_CHARS:
            raise ProjectError(f"{where}: reviewer {name[:40]!r}... has {len(name)} characters "
                               f"(limit {MAX_ANNOTATOR_CHARS})")
        if name in out:
            raise ProjectError(f"{where}: reviewer {name!r} is named twice")
        out.append(name)
    if len(out) > MAX_REVIEWERS:
        raise ProjectError(f"{where}: {len(out)} reviewers (limit {MAX_REVIEWERS})")
    return tuple(out)


def check_threshold(value: Any, where: str = "--review-threshold") -> int:
    """``value`` if it is a rating spread 1-4, else a :class:`ProjectError` saying so."""
    low, high = REVIEW_THRESHOLD_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProjectError(f"{where}: must be an integer {low}-{high} (how far apart two ratings of one "
                           f"item must be to send the task to review), got {value!r}")
    return value


def review_settings(meta: Mapping[str, Any]) -> ReviewSettings:
    """The review settings a project's ``meta`` holds (none named: no reviewers)."""
    return ReviewSettings(tuple(meta.get("reviewers") or ()),
                          int(meta.get("review_threshold") or DEFAULT_REVIEW_THRESHOLD))


def check_reviewer(project: str, meta: Mapping[str, Any], reviewer: str) -> None:
    """Refuse ``reviewer`` unless ``project`` names them among its reviewers."""
    reviewers = review_settings(meta).reviewers
    if not reviewers:
        raise ProjectError(f"project {project!r} has no reviewers; create it with --reviewers NAME,NAME "
                           "(or set them with `project reviewers`)")
    if reviewer not in reviewers:
        raise ProjectError(f"{reviewer!r} is not a reviewer of project {project!r} "
                           f"(reviewers: {', '.join(reviewers)})")


# ---------------------------------------------------------------------------
# answers as judgements


def marks_of(payload: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``item_id -> {"label", "rating"}`` of the items a payload judged (the ``/feedback`` format)."""
    return {str(j["item_id"]): {"label": j.get("label"), "rating": j.get("rating")}
            for j in (payload or {}).get("slate") or []
            if j.get("label") is not None or j.get("rating") is not None}


def answer_view(annotator: str, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """One annotator's answer as ``/next_review`` lists it."""
    payload = payload or {}
    return {"annotator": annotator, "judgements": marks_of(payload),
            "reply_label": payload.get("reply_label") or "", "comment": payload.get("comment") or ""}


def disagreements(payloads: Sequence[Mapping[str, Any]], threshold: int = DEFAULT_REVIEW_THRESHOLD) -> list[str]:
    """The questions on which ``payloads`` (one per annotator) disagree, as ``"label:ITEM"``,
    ``"rating:ITEM"`` or ``"reply_label"``; empty when they agree (or fewer than two answered)."""
    labels: dict[str, list[Any]] = {}
    ratings: dict[str, list[int]] = {}
    replies: list[str] = []
    for payload in payloads:
        for item_id, mark in marks_of(payload).items():
            if mark["label"] is not None:
                labels.setdefault(item_id, []).append(mark["label"])
            if mark["rating"] is not None:
                ratings.setdefault(item_id, []).append(int(mark["rating"]))
        if payload.get("reply_label"):
            replies.append(payload["reply_label"])
    split = [f"label:{i}" for i, v in labels.items() if len(v) >= 2 and len(set(v)) > 1]
    split += [f"rating:{i}" for i, v in ratings.items() if len(v) >= 2 and max(v) - min(v) >= threshold]
    if len(replies) >= 2 and len(set(replies)) > 1:
        split.append("reply_label")
    return sorted(split)


def _mode(values: Sequence[Any]) -> Any:
    """The most common value, ``None`` on a tie for first place."""
    top = Counter(values).most_common()
    if not top or (len(top) > 1 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


def majority(payloads: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"judgements", "reply_label"}``: per item the most common label (a tie: none) and the
    median rating (the lower middle one of an even count); the most common reply label."""
    labels: dict[str, list[Any]] = {}
    ratings: dict[str, list[int]] = {}
    for payload in payloads:
        for item_id, mark in marks_of(payload).items():
            if mark["label"] is not None:
                labels.setdefault(item_id, []).append(mark["label"])
            if mark["rating"] is not None:
                ratings.setdefault(item_id, []).append(int(mark["rating"]))
    judgements = {}
    for item_id in sorted(set(labels) | set(ratings)):
        label = _mode(labels.get(item_id, []))
        rating = statistics.median_low(ratings[item_id]) if ratings.get(item_id) else None
        if label is not None or rating is not None:
            judgements[item_id] = {"label": label, "rating": rating}
    replies = [p.get("reply_label") for p in payloads if p.get("reply_label")]
    return {"judgements": judgements, "reply_label": _mode(replies) or ""}


def by_task(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    """``(task_id, payload)`` rows in task order -> ``(task_id, [payloads])``, lazily (a scan can stop early)."""
    for task_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        yield task_id, [payload for _, payload in group]


def first_disputed(candidates: Iterable[tuple[str, Sequence[Mapping[str, Any]]]], threshold: int) -> str | None:
    """The first ``(task_id, payloads)`` of ``candidates`` whose payloads disagree (:func:`disagreements`)."""
    for task_id, payloads in candidates:
        if disagreements(payloads, threshold):
            return task_id
    return None


def final_answer(review: Review | None, payloads: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``{"judgements", "reply_label", "source"}`` of a task: its latest review, else the majority
    of its annotators' latest submissions; ``None`` when it has neither."""
    if review is not None:
        return {"judgements": review.judgements, "reply_label": review.reply_label or "", "source": "review"}
    if not payloads:
        return None
    if len(payloads) == 1:
        only = payloads[0]
        return {"judgements": marks_of(only), "reply_label": only.get("reply_label") or "", "source": "single"}
    return {**majority(payloads), "source": "majority"}
