"""Gold tasks: tasks with an expected answer, mixed into every annotator's queue and scored.

A gold answer is ``{"judgements": {item_id: {"label", "rating"}}, "reply_label"}``; any part may
be left out, but it must expect something. :func:`check_gold` checks one against the task's
slate (items may be named by id or, in a task file, by title); :func:`score_gold` counts how many
expected judgements an annotator's submission matched (exact label, exact rating, exact reply
label; a blank where something was expected is a miss); :func:`wilson_interval` is the 95%
interval of the resulting share.

:func:`gold_due` is the mixing rule both project stores apply inside ``claim_next``: answers are
grouped in rounds of ``round(1 / rate)``; in each round one position, drawn from a hash of
(project, annotator, round), is a gold task while the annotator has gold tasks left. So the
share of gold is the rate, the position is unpredictable, and the same inputs give the same
answer in every process (no random state). When no other task is left the remaining gold tasks
are served anyway: every annotator meets every gold task once.

It knows gold answers and counting; it does not know SQL, feedback records or gradio.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ProjectError
from workbench.feedback.inputs import check_judgements, shown
from workbench.feedback.record import REPLY_LABELS

#: The keys a gold answer may have.
GOLD_KEYS = ("judgements", "reply_label")
#: z of the 95% Wilson interval.
WILSON_Z = 1.959964


def check_rate(rate: Any, where: str = "--gold-rate") -> float:
    """``rate`` as a share of tasks 0-1 (0 switches gold tasks off)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or not 0 <= rate <= 1:
        raise ProjectError(f"{where}: must be a number 0-1 (the share of tasks that are gold), got {shown(rate)}")
    return float(rate)


def check_gold(answer: Any, slate: Sequence[Mapping[str, Any]], where: str) -> dict[str, Any]:
    """A gold answer checked against the task's ``slate`` (items ``{"item_id", "title"}``).

    Items are named by id, or by title when no item has that id (a task file's author knows the
    titles, not the ids). Returns the stored form: ``{"judgements": {item_id: {"label", "rating"}},
    "reply_label"}`` with only the parts given.

    Raises:
        ProjectError: naming ``where`` and the bad key, item, label or rating.
    """
    if not isinstance(answer, Mapping):
        raise ProjectError(f"{where}: a gold answer must be an object with 'judgements' and/or 'reply_label', "
                           f"got {shown(answer)}")
    unknown = sorted(str(k) for k in answer if k not in GOLD_KEYS)
    if unknown:
        raise ProjectError(f"{where}: unknown key {unknown[0]!r} in the gold answer (allowed: {', '.join(GOLD_KEYS)})")
    ids = [str(i["item_id"]) for i in slate]
    by_title = {str(i.get("title", "")).casefold(): str(i["item_id"]) for i in slate if i.get("title")}
    raw = answer.get("judgements")
    if raw not in (None, "") and not isinstance(raw, Mapping):
        raise ProjectError(f"{where}: judgements: expected an object item -> {{\"label\", \"rating\"}}, "
                           f"got {shown(raw)}")
    named = {}
    for key, value in (raw or {}).items():
        item = str(key) if str(key) in ids else by_title.get(str(key).casefold())
        if item is None:
            titles = ", ".join(f"{i['item_id']} ({i.get('title', '')})" for i in slate)
            raise ProjectError(f"{where}: judgements: item {key!r} is neither an id nor a title on the task's "
                               f"slate ({titles or 'empty slate'})")
        if item in named:
            raise ProjectError(f"{where}: judgements: item {key!r} is given twice")
        named[item] = value
    judged = check_judgements(named, f"{where}: judgements", slate=ids, slate_name="the task's slate",
                              error=ProjectError)
    out: dict[str, Any] = {}
    if judged:
        out["judgements"] = {item: {k: v for k, v in (("label", label), ("rating", rating)) if v is not None}
                             for item, label, rating in judged}
    reply = answer.get("reply_label")
    if reply not in (None, ""):
        if reply not in REPLY_LABELS:
            raise ProjectError(f"{where}: reply_label must be one of {', '.join(REPLY_LABELS)} or left out, "
                               f"got {shown(reply)}")
        out["reply_label"] = reply
    if not out:
        raise ProjectError(f"{where}: the gold answer expects nothing (give 'judgements' and/or 'reply_label')")
    return out


def expected_parts(gold: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The gold judgements as ``(question, item_id, value)``: ``item_label``, ``item_rating``, ``reply_label``."""
    parts = []
    for item, marks in (gold.get("judgements") or {}).items():
        if marks.get("label") is not None:
            parts.append(("item_label", item, marks["label"]))
        if marks.get("rating") is not None:
            parts.append(("item_rating", item, int(marks["rating"])))
    if gold.get("reply_label"):
        parts.append(("reply_label", "", gold["reply_label"]))
    return parts


def given_parts(payload: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """A submission's answers (a feedback record's dict form) keyed like :func:`expected_parts`."""
    out: dict[tuple[str, str], Any] = {}
    for card in payload.get("slate") or []:
        if card.get("label") is not None:
            out[("item_label", str(card["item_id"]))] = card["label"]
        if card.get("rating") is not None:
            out[("item_rating", str(card["item_id"]))] = int(card["rating"])
    if payload.get("reply_label"):
        out[("reply_label", "")] = payload["reply_label"]
    return out


def score_gold(gold: Mapping[str, Any], payload: Mapping[str, Any]) -> tuple[int, int]:
    """``(matched, expected)``: how many of ``gold``'s judgements the submission ``payload`` gave exactly."""
    given = given_parts(payload)
    parts = expected_parts(gold)
    return sum(given.get((q, item)) == value for q, item, value in parts), len(parts)


def wilson_interval(successes: int, n: int, z: float = WILSON_Z) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / n`` (95% by default); ``None`` when ``n`` is 0."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def gold_due(project: str, annotator: str, answered: int, gold_answered: int, rate: float) -> bool:
    """Whether ``annotator``'s next task should be a gold one (see the module docstring).

    Args:
        answered: tasks the annotator answered in the project so far (gold ones included).
        gold_answered: gold tasks among them.
        rate: the project's gold rate (0 never).
    """
    if rate <= 0:
        return False
    block = max(1, round(1 / rate))
    rnd, offset = divmod(answered, block)
    digest = hashlib.sha256(f"{project}\x1f{annotator}\x1f{rnd}".encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % block
    return gold_answered < rnd + (1 if offset >= slot else 0)


# ---------------------------------------------------------------------------
# use cases (the CLI and project creation call these)


def set_gold_answer(store: Any, project: str, task_id: str, answer: Any, source: str = "answer") -> dict[str, Any]:
    """Check ``answer`` against ``task_id``'s stored slate and make the task a gold task.

    Returns the stored form of the answer.

    Raises:
        ProjectError: an unknown project or task, a task the engine has not answered yet, or a
            bad answer (naming the key, item, label or rating).
    """
    task = store.task(project, task_id)
    where = f"project {project!r}, gold task {task_id!r}"
    if task.answer is None:
        raise ProjectError(f"{where}: not answered by the engine yet; finish `project create` first")
    checked = check_gold(answer, task.answer.get("items", []), where)
    store.set_gold(project, task_id, checked, source)
    return checked


def gold_from_review(store: Any, project: str, task_id: str) -> dict[str, Any]:
    """Make ``task_id`` a gold task with its reviewed final answer as the expected one.

    Raises:
        ProjectError: the task has no review (reviews are kept by the review queue).
    """
    store.task(project, task_id)  # an unknown project or task is named first
    review = store.final_answer(project, task_id)  # the latest review (workbench.projects.review_store)
    if review is None:
        raise ProjectError(f"project {project!r}: task {task_id!r} has no review; review it first, "
                           "or give the expected answer with --answer JSON")
    marks = {item: {k: v for k, v in mark.items() if v is not None} for item, mark in review.judgements.items()}
    return set_gold_answer(store, project, task_id, {"judgements": marks, "reply_label": review.reply_label or ""},
                           source="review")
