"""Suggestions, measured for anchoring: the engine's own verdicts pre-filled on a share of tasks.

A project created with ``--suggestions SHARE`` shows, on that share of its tasks (the
*suggested* arm), a verdict per slate item pre-filled on the card: ``like`` when the engine
scored the item at least at the slate's median score, else ``dislike``
(:func:`engine_verdicts`). The other tasks are the *control* arm and never show one. The arm
of a task is fixed by a hash of ``(project, task_id)`` (:func:`arm_of`), so every annotator of a
task sees the same condition and agreement can be compared within each arm.

Every submission in such a project stores its outcome with the answer (``history.suggestion``):
the arm, the engine's verdicts (shown or, in the control arm, not) and per item whether the
annotator's label equals it (``kept``). :func:`suggestion_report` compares the arms: how often
annotators end on the engine's verdict (acceptance; in the control arm the base rate of
agreeing with an unseen engine) and Krippendorff's alpha of the item labels among annotators.
A large gap in acceptance with no gain in alpha is anchoring.

It knows stored answers and the agreement measures; it does not know SQL, the engine or gradio.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import ProjectError
from workbench.quality.agreement import Judgement, agreement, judgements_of

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


def suggestion_report(store: Any, project: str) -> dict[str, Any]:
    """Acceptance and agreement with and without suggestions (the ``suggestions`` key of ``project quality``).

    Returns:
        ``{"share", "suggested": {...}, "control": {...}}``; each arm has ``tasks`` and ``answers``
        (latest submissions with an outcome), ``items`` (verdicts they were compared with),
        ``acceptance`` (share of those where the annotator's label is the engine's verdict; ``None``
        without items) and ``alpha_item_label`` (Krippendorff's alpha of the item labels within
        the arm, ``None`` with too little overlap) with its ``units``.
    """
    meta = store.project(project).meta
    outcomes = store.suggestion_outcomes(project)
    payloads = {(a.task_id, a.annotator): a.payload for a in store.submissions(project) if a.payload}
    report: dict[str, Any] = {"share": share_of(meta)}
    for arm in ARMS:
        rows = [(t, who, o) for t, who, o in outcomes if o.get("arm") == arm]
        kept = [bool(k) for _, _, o in rows for k in (o.get("kept") or {}).values()]
        judgements: list[Judgement] = [j for t, who, _ in rows if (t, who) in payloads
                                       for j in judgements_of(payloads[(t, who)], t)]
        labels = agreement(judgements).questions["item_label"]
        report[arm] = {"tasks": len({t for t, _, _ in rows}), "answers": len(rows), "items": len(kept),
                       "acceptance": sum(kept) / len(kept) if kept else None,
                       "alpha_item_label": labels.alpha, "units": labels.units}
    return report
