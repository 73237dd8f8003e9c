"""Suggestions, measured for anchoring: the engine's own verdicts pre-filled on a share of tasks.

A project created with ``--suggestions SHARE`` shows, on that share of its tasks (the
*suggested* arm), a verdict per slate item pre-filled on the card: ``like`` when the engine
scored the item at least at the slate's median score, else ``dislike``
(:func:`engine_verdicts`). The other tasks are the *control* arm and never show one. The arm
of a task is fixed by a hash of ``(project, task_id)`` (:func:`arm_of`), so every annotator of a
task sees the same condition and agreement can be compared within each arm.

Every submission in such a project stores its outcome with the answer (``history.suggestion``):
the arm, the engine's verdicts (shown or, in the control arm, not) and per item whether the
annotator's label equals it (``kept``). :func:`workbench.quality.suggestions.suggestion_report`
compares the arms (the ``suggestions`` key of ``project quality``).

It knows slates, arms and outcomes; it does not know SQL, the engine, agreement measures or gradio.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ProjectError

ARMS = ("suggested", "control")
#: The ``meta`` key holding a project's suggestion share.
META_KEY = "suggestions"


def suggestion_meta(share: Any, where: str = "--suggestions") -> dict[str, float]:
    """``{"suggestions": share}`` for a project's meta, or a :class:`ProjectError` for a bad share."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= float(share) <= 1.0:
        raise ProjectError(f"{where}: must be a share of tasks from 0 to 1 (0.5: half the tasks show the engine's "
                           f"verdicts), got {share!r}")
    return {META_KEY: float(share)}


def share_of(meta: Mapping[str, Any]) -> float:
    """The suggestion share a project's meta holds (0: no suggestions, no outcomes stored)."""
    return float(meta.get(META_KEY) or 0.0)


def arm_of(project: str, task_id: str, share: float) -> str:
    """``"suggested"`` or ``"control"``: the same for every annotator of a task, about ``share`` suggested."""
    digest = hashlib.sha256(f"{project}\x1f{task_id}".encode()).digest()
    return ARMS[0] if int.from_bytes(digest[:8], "big") / 2**64 < share else ARMS[1]


def engine_verdicts(items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``item_id -> "like" | "dislike"``: liked when scored at least at the slate's median score."""
    scored = [(str(i["item_id"]), float(i.get("score") or 0.0)) for i in items]
    if not scored:
        return {}
    middle = statistics.median(s for _, s in scored)
    return {item_id: "like" if score >= middle else "dislike" for item_id, score in scored}


def shown(project: str, task_id: str, meta: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The suggestions an annotator of ``task_id`` sees (empty in the control arm or without suggestions)."""
    share = share_of(meta)
    if share <= 0 or arm_of(project, task_id, share) != ARMS[0]:
        return {}
    return engine_verdicts(items)


def outcome(project: str, task_id: str, meta: Mapping[str, Any], items: Sequence[Mapping[str, Any]],
            marks: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """What to store with a submission: ``{"arm", "verdicts", "kept"}`` (``None`` without suggestions)."""
    share = share_of(meta)
    if share <= 0:
        return None
    verdicts = engine_verdicts(items)
    kept = {i: (marks.get(i) or {}).get("label") == v for i, v in verdicts.items()}
    return {"arm": arm_of(project, task_id, share), "verdicts": verdicts, "kept": kept}
