"""Exporting a project: one row per annotator's latest submission of each task.

A row holds the task (id, messages, metadata), the stored reply and slate with this annotator's
judgements (label, rating per item), the reply label and comment, the annotator, the answer's
version, the guidelines version it was made under, whether the task is a gold task, the
feedback record id, and the task's ``final`` answer (``judgements``, ``reply_label``, ``source``:
``review`` when a reviewer set it, else ``majority`` of the annotators' latest answers, or
``single`` when only one answered; see :mod:`workbench.projects.review`). Formats: ``hf`` (a ``datasets.save_to_disk`` folder),
``parquet``, ``jsonl``. The rows are read from the project store alone, so they do not depend on
which fields the feedback records carry.

It knows rows and ``datasets``; it does not know gradio or the engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ProjectError
from workbench.projects.review import final_answer
from workbench.projects.store import ProjectStore

if TYPE_CHECKING:
    import datasets

EXPORT_FORMATS = ("hf", "parquet", "jsonl")


def project_features() -> datasets.Features:
    """The ``datasets`` schema of an exported row (the one declaration of its columns)."""
    from datasets import Features, List, Value

    return Features({
        "project": Value("string"),
        "task_id": Value("string"),
        "annotator": Value("string"),
        "version": Value("int64"),
        "record_id": Value("string"),
        "created_at": Value("string"),
        "messages": List({"role": Value("string"), "content": Value("string")}),
        "metadata": Value("string"),  # JSON text: free-form per task
        "reply": Value("string"),
        "generator": Value("string"),
        "index_id": Value("string"),
        "slate": List({
            "item_id": Value("string"),
            "title": Value("string"),
            "rank": Value("int64"),
            "score": Value("float64"),
            "sources": List({"source": Value("string"), "score": Value("float64")}),
            "reason": Value("string"),
            "label": Value("string"),
            "rating": Value("int64"),
        }),
        "reply_label": Value("string"),
        "comment": Value("string"),
        "guidelines_version": Value("int64"),
        "gold": Value("bool"),
        # the task's final answer (workbench.projects.review): judgements as a list here, a dict in jsonl
        "final": {"judgements": List({"item_id": Value("string"), "label": Value("string"),
                                      "rating": Value("int64")}),
                  "reply_label": Value("string"), "source": Value("string")},
    })


def export_rows(store: ProjectStore, project: str) -> list[dict[str, Any]]:
    """The rows of ``project``'s export, in task order then by annotator."""
    tasks: dict[str, Any] = {}
    gold = store.gold(project)
    rows = []
    subs = store.submissions(project)
    finals = _finals(store, project, subs)
    for sub in subs:
        task = tasks.get(sub.task_id) or tasks.setdefault(sub.task_id, store.task(project, sub.task_id))
        payload, answer = sub.payload or {}, task.answer or {}
        rows.append({
            "project": project,
            "task_id": sub.task_id,
            "annotator": sub.annotator,
            "version": sub.version,
            "record_id": sub.record_id or "",
            "created_at": sub.created_at,
            "messages": [{"role": m["role"], "content": m["content"]} for m in task.messages],
            "metadata": json.dumps(task.metadata, ensure_ascii=False),
            "reply": answer.get("reply", ""),
            "generator": answer.get("generator", ""),
            "index_id": answer.get("index_id", ""),
            "slate": [{k: j.get(k) for k in ("item_id", "title", "rank", "score", "sources", "reason", "label",
                                             "rating")} for j in payload.get("slate", [])],
            "reply_label": payload.get("reply_label"),
            "comment": payload.get("comment") or "",
            "guidelines_version": sub.guidelines_version,
            "gold": sub.task_id in gold,
            "final": finals[sub.task_id],
        })
    return rows


def _finals(store: ProjectStore, project: str, subs: list[Any]) -> dict[str, dict[str, Any] | None]:
    """Each submitted task's final answer: its latest review, else the majority of ``subs``."""
    payloads: dict[str, list[dict[str, Any]]] = {}
    for sub in subs:
        payloads.setdefault(sub.task_id, []).append(sub.payload or {})
    return {task_id: final_answer(store.final_answer(project, task_id), given)  # type: ignore[attr-defined]
            for task_id, given in payloads.items()}


def _arrow_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its final judgements as a list (Arrow columns cannot have per-row keys)."""
    final = row["final"] or {"judgements": {}, "reply_label": "", "source": ""}
    marks = [{"item_id": i, "label": m.get("label"), "rating": m.get("rating")} for i, m in final["judgements"].items()]
    return {**row, "final": {**final, "judgements": marks}}


def export_project(store: ProjectStore, project: str, fmt: str, out: str | Path) -> tuple[Path, int]:
    """Write ``project``'s export to ``out`` as ``fmt``; the path and the number of rows.

    Raises:
        ProjectError: an unknown project or format.
    """
    if fmt not in EXPORT_FORMATS:
        raise ProjectError(f"--format: must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    rows = export_rows(store, project)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with open(out, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return out, len(rows)
    import datasets

    ds = datasets.Dataset.from_list([_arrow_row(r) for r in rows], features=project_features())
    if fmt == "hf":
        ds.save_to_disk(str(out))
    else:
        ds.to_parquet(str(out))
    return out, len(rows)
