"""The Dashboard tab's numbers, as pandas DataFrames and plain dicts.

From feedback records: judgements per day and per annotator, and the like-rate of recommended
items and of replies per day and per system (``generator + index id``: ``backend:model @ index``).
From a project: its progress, alpha per question and the most split units
(:mod:`workbench.quality.agreement`), and per annotator their gold accuracy, agreement, speed,
label use and flags (:mod:`workbench.quality.annotators`). The operations panel (turns per minute, latency,
fallbacks) belongs to the metrics recorder; :func:`operations_frame` is its placeholder.

A like-rate is ``likes / (likes + dislikes)``: "not seen" and unlabelled items do not count.
Every figure shown is rounded (:data:`SHOWN_DIGITS`); an empty frame comes with the line the tab
shows instead of empty axes (:data:`EMPTY_NOTES`).

It knows records, projects and pandas; it does not know gradio.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from workbench.feedback.record import FeedbackRecord
from workbench.quality.agreement import DISAGREEMENTS_SHOWN, project_agreement
from workbench.quality.annotators import project_quality

PER_DAY_COLUMNS = ["day", "judgements"]
PER_ANNOTATOR_COLUMNS = ["annotator", "judgements"]
LIKE_RATE_COLUMNS = ["day", "system", "like_rate", "judged"]
AGREEMENT_COLUMNS = ["question", "alpha", "units", "note"]
DISAGREEMENT_COLUMNS = ["question", "task_id", "item_id", "split", "judgements"]
PROGRESS_COLUMNS = ["annotator", "submitted", "skipped"]
OPERATIONS_NOTE = "No turn recorder on this server, so no operations numbers."
QUALITY_COLUMNS = ["annotator", "submitted", "gold seen", "gold accuracy", "gold 95% interval", "agreement (Δα)",
                   "median s", "not seen", "straight run", "flag"]
GOLD_COLUMNS = ["annotator", "gold_accuracy"]
LABEL_COLUMNS = ["annotator", "label", "share"]
SECONDS_COLUMNS = ["annotator", "median_seconds"]
#: Decimals of the figures the dashboard shows (raw floats such as 5.319053172999929 say nothing more).
SHOWN_DIGITS = 3
#: What the tab shows in place of an empty plot or table, by frame name.
EMPTY_NOTES = {
    "per_day": "No judgements saved yet.",
    "per_annotator": "No judgements saved yet.",
    "item_like_rate": "No item labelled like or dislike yet.",
    "reply_like_rate": "No reply labelled yet.",
    "quality": "No submissions in this project yet.",
    "gold_accuracy": "No gold task answered yet: make tasks gold with `project gold` and set a `--gold-rate`.",
    "labels": "No item labels given yet.",
    "seconds": "No claim-to-submit times recorded yet.",
}


def shown(value: Any, digits: int = SHOWN_DIGITS) -> Any:
    """``value`` rounded for display (floats only; None and the rest unchanged)."""
    if not isinstance(value, float):
        return value
    return round(value) if digits == 0 else round(value, digits)


def significant(value: Any, digits: int = SHOWN_DIGITS) -> Any:
    """``value`` to ``digits`` significant figures (for latencies from microseconds to minutes)."""
    return float(f"{value:.{digits}g}") if isinstance(value, float) else value


def empty_note(frame: pd.DataFrame, name: str) -> str:
    """The line shown instead of ``frame`` when it is empty, else ``""``."""
    return f"*{EMPTY_NOTES[name]}*" if frame.empty else ""


def system_of(record: FeedbackRecord) -> str:
    """The system that produced a turn: ``backend[:model] @ index_id``."""
    generator = record.generator_backend + (f":{record.generator_model}" if record.generator_model else "")
    return f"{generator} @ {record.index_id or 'no index'}"


def _day(record: FeedbackRecord) -> str:
    return record.created.date().isoformat()


def judgements_per_day(records: Iterable[FeedbackRecord]) -> pd.DataFrame:
    """``day`` (ISO date, UTC), ``judgements`` (saved records that day), oldest first."""
    days = pd.Series([_day(r) for r in records], dtype="object")
    frame = days.value_counts().sort_index().rename_axis("day").reset_index(name="judgements")
    return frame[PER_DAY_COLUMNS] if len(frame) else pd.DataFrame(columns=PER_DAY_COLUMNS)


def judgements_per_annotator(records: Iterable[FeedbackRecord]) -> pd.DataFrame:
    """``annotator``, ``judgements``: most active first (then by name)."""
    names = pd.Series([r.annotator for r in records], dtype="object")
    if names.empty:
        return pd.DataFrame(columns=PER_ANNOTATOR_COLUMNS)
    frame = names.value_counts().rename_axis("annotator").reset_index(name="judgements")
    return frame.sort_values(["judgements", "annotator"], ascending=[False, True], ignore_index=True)


def _like_rate(rows: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """Rows ``(day, system, label)`` -> the like-rate per day and system."""
    frame = pd.DataFrame(rows, columns=["day", "system", "label"])
    frame = frame[frame["label"].isin(["like", "dislike"])]
    if frame.empty:
        return pd.DataFrame(columns=LIKE_RATE_COLUMNS)
    frame = frame.assign(like=frame["label"].eq("like"))
    out = frame.groupby(["day", "system"], as_index=False).agg(like_rate=("like", "mean"), judged=("like", "size"))
    out["like_rate"] = out["like_rate"].astype(float).round(SHOWN_DIGITS)
    return out[LIKE_RATE_COLUMNS].sort_values(["day", "system"], ignore_index=True)


def item_like_rate(records: Iterable[FeedbackRecord]) -> pd.DataFrame:
    """Like-rate of recommended items per ``day`` and ``system`` (``judged``: labelled items)."""
    return _like_rate([(_day(r), system_of(r), j.label) for r in records for j in r.slate if j.label])


def reply_like_rate(records: Iterable[FeedbackRecord]) -> pd.DataFrame:
    """Like-rate of replies per ``day`` and ``system`` (``judged``: labelled replies)."""
    return _like_rate([(_day(r), system_of(r), r.reply_label) for r in records if r.reply_label])


def feedback_frames(records: Sequence[FeedbackRecord]) -> dict[str, pd.DataFrame]:
    """Every record-based frame: ``per_day``, ``per_annotator``, ``item_like_rate``, ``reply_like_rate``."""
    return {"per_day": judgements_per_day(records), "per_annotator": judgements_per_annotator(records),
            "item_like_rate": item_like_rate(records), "reply_like_rate": reply_like_rate(records)}


def project_overview(service: Any, project: str, *, limit: int = DISAGREEMENTS_SHOWN) -> dict[str, Any]:
    """A project's ``progress`` (dict), ``progress_frame``, ``agreement`` and ``disagreements`` frames.

    ``service`` is a :class:`~workbench.projects.service.ProjectService`.
    """
    progress = service.progress(project)
    result = project_agreement(service.store, project, limit=limit)
    progress_rows = [{"annotator": name, "submitted": c.get("submitted", 0), "skipped": c.get("skipped", 0)}
                     for name, c in sorted(progress["per_annotator"].items())]
    agreement_rows = [{"question": q.question, "alpha": shown(q.alpha), "units": q.units, "note": q.note}
                      for q in result.questions.values()]
    split_rows = [{**d, "item_id": d["item_id"] or "(reply)", "split": shown(d["split"], 2),
                   "judgements": ", ".join(f"{a}={v}" for a, v in d["judgements"].items())}
                  for d in result.disagreements]
    return {
        "progress": progress,
        "progress_frame": pd.DataFrame(progress_rows, columns=PROGRESS_COLUMNS),
        "agreement": pd.DataFrame(agreement_rows, columns=AGREEMENT_COLUMNS),
        "per_annotator": result.per_annotator,
        "disagreements": pd.DataFrame(split_rows, columns=DISAGREEMENT_COLUMNS),
        **quality_frames(project_quality(service.store, project)),
    }


def _interval(row: dict[str, Any]) -> str:
    lo_hi = row.get("gold_interval")
    return f"{lo_hi[0]:.2f}–{lo_hi[1]:.2f}" if lo_hi else ""


def quality_frames(report: dict[str, Any]) -> dict[str, Any]:
    """The per-annotator frames of a :func:`~workbench.quality.annotators.project_quality` report:
    ``quality`` (the table), ``gold_accuracy``, ``labels`` (share of each label) and ``seconds``
    (for plots), and the report itself under ``quality_report``."""
    rows, gold, labels, seconds = [], [], [], []
    for name, row in report["annotators"].items():
        rows.append({"annotator": name, "submitted": row["submitted"], "gold seen": row["gold_seen"],
                     "gold accuracy": shown(row["gold_accuracy"], 2), "gold 95% interval": _interval(row),
                     "agreement (Δα)": shown(row["agreement"], 2), "median s": shown(row["median_seconds"], 0),
                     "not seen": shown(row["not_seen_share"], 2), "straight run": row["straight_run"],
                     "flag": "⚑ " + "; ".join(row["reasons"]) if row["flagged"] else ""})
        if row["gold_accuracy"] is not None:
            gold.append({"annotator": name, "gold_accuracy": shown(row["gold_accuracy"], 2)})
        total = sum(row["labels"].values())
        labels += [{"annotator": name, "label": label, "share": shown(n / total, 2)}
                   for label, n in row["labels"].items() if total]
        if row["median_seconds"] is not None:
            seconds.append({"annotator": name, "median_seconds": shown(row["median_seconds"], 0)})
    return {"quality": pd.DataFrame(rows, columns=QUALITY_COLUMNS),
            "gold_accuracy": pd.DataFrame(gold, columns=GOLD_COLUMNS),
            "labels": pd.DataFrame(labels, columns=LABEL_COLUMNS),
            "seconds": pd.DataFrame(seconds, columns=SECONDS_COLUMNS),
            "quality_report": report}


#: Rows of the operations table: (label, how to read it from ``operations_summary``).
_OPERATIONS_ROWS = (
    ("turns", lambda s: s["turns"]),
    ("turns per minute", lambda s: shown(s["turns_per_minute"], 2)),
    ("turn latency p50 (s)", lambda s: significant(s["latency_s"]["turn"]["p50"])),
    ("turn latency p95 (s)", lambda s: significant(s["latency_s"]["turn"]["p95"])),
    ("engine p95 (s)", lambda s: significant(s["latency_s"]["engine"]["p95"])),
    ("generator p95 (s)", lambda s: significant(s["latency_s"]["generator"]["p95"])),
    ("generator fallbacks", lambda s: s["fallbacks"]),
    ("grounding fixes per reply", lambda s: shown(s["fixes_per_reply"], 2)),
    ("errors", lambda s: s["errors"]),
)


def operations_frame(services: Any) -> pd.DataFrame:
    """The operations panel: turns, latency p50/p95 (whole turn, engine and generator stages),
    fallbacks, grounding fixes per reply and errors, for the last hour and the last day, read
    from the services' turn recorder (:mod:`workbench.monitoring`). Active alerts are in
    ``attrs["alerts"]``; without a recorder the frame is empty and ``attrs["note"]`` says why."""
    monitor = getattr(services, "monitor", None)
    if monitor is None:
        frame = pd.DataFrame(columns=["metric", "last_hour", "last_day"])
        frame.attrs["note"] = OPERATIONS_NOTE
        return frame
    hour, day = monitor.operations_summary(3600.0), monitor.operations_summary(86400.0)
    frame = pd.DataFrame([{"metric": label, "last_hour": read(hour), "last_day": read(day)}
                          for label, read in _OPERATIONS_ROWS])
    frame.attrs["alerts"] = list(hour["alerts"])
    return frame


def project_names(service: Any) -> list[str]:
    """The projects a dashboard can show (none without a project service)."""
    return [p["name"] for p in service.list_projects()] if service is not None else []


def dashboard_data(feedback: Any, projects: Any = None, project: str | None = None) -> dict[str, Any]:
    """Everything the Dashboard tab shows: :func:`feedback_frames` of ``feedback`` (a JsonlFeedbackStore),
    ``projects`` (the project names) and, with ``project``, ``overview`` (:func:`project_overview`)."""
    data: dict[str, Any] = feedback_frames(feedback.read().records)
    data["projects"] = project_names(projects)
    data["overview"] = project_overview(projects, project) if project and projects is not None else None
    return data
