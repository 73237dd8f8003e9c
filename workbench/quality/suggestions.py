"""Suggestions measured for anchoring: acceptance and agreement with and without them.

:func:`suggestion_report` is the ``suggestions`` key of ``project quality``
(:func:`workbench.quality.annotators.project_quality`). It compares a project's two arms
(:mod:`workbench.projects.suggestions`): how often annotators end on the engine's verdict
(acceptance; in the control arm, the base rate of agreeing with an engine they did not see) and
Krippendorff's alpha of the item labels among annotators. Acceptance well above the control's with
no gain in alpha is anchoring: annotators take the suggestion instead of judging.

It knows stored outcomes and the agreement measures; it does not know SQL or gradio.
"""

from __future__ import annotations

from typing import Any

from workbench.projects.suggestions import ARMS, share_of
from workbench.quality.agreement import Judgement, agreement, judgements_of


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
