"""One-line summaries of a project's progress, for the Annotate tab and the CLI.

Takes the plain dict :meth:`~workbench.projects.service.ProjectService.progress` returns; it knows
neither the store nor gradio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def percent_complete(progress: Mapping[str, Any]) -> float:
    """Share of the project's tasks that have all the submissions they need (0-100)."""
    tasks = int(progress.get("tasks") or 0)
    return 100.0 * int(progress.get("complete") or 0) / tasks if tasks else 0.0


def annotator_counts(progress: Mapping[str, Any], annotator: str) -> dict[str, int]:
    """``{"submitted": n, "skipped": m}`` for ``annotator`` (zeros for a newcomer)."""
    counts = (progress.get("per_annotator") or {}).get(annotator) or {}
    return {"submitted": int(counts.get("submitted", 0)), "skipped": int(counts.get("skipped", 0))}


def progress_line(progress: Mapping[str, Any], annotator: str = "", *, done: bool = False) -> str:
    """``"task 12 of 40 · you: 9 submitted · project: 31% complete"``.

    The task number counts the tasks ``annotator`` has answered (submitted or skipped) plus the
    one open now; ``done`` says nothing is open (the line then reads ``"all N tasks seen"`` or
    the count answered). Without an annotator only the project's share is given.
    """
    tasks = int(progress.get("tasks") or 0)
    share = f"project: {percent_complete(progress):.0f}% complete"
    if not annotator:
        return f"{tasks} tasks · {share}"
    mine = annotator_counts(progress, annotator)
    answered = mine["submitted"] + mine["skipped"]
    where = f"{answered} of {tasks} tasks answered" if done else f"task {min(answered + 1, tasks)} of {tasks}"
    you = f"you: {mine['submitted']} submitted" + (f", {mine['skipped']} skipped" if mine["skipped"] else "")
    return f"{where} · {you} · {share}"
