"""Helpers for the project tests: store implementations by name, seeded projects, worker loops.

``STORES`` maps a store kind to a factory ``(data_dir, clock) -> ProjectStore`` and ``FEEDBACK``
to the feedback store that goes with it; the contract tests run over every kind. ``postgres``
keeps both in the database whose URL :func:`use_kind` wrote to ``<data_dir>/pg.url`` (so that
spawned workers and subprocesses, which get only the data dir, find the same database).
Workers are module-level functions so that spawned processes can run them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.feedback import JsonlFeedbackStore
from workbench.feedback.pg_store import PostgresFeedbackStore
from workbench.feedback.store import RecordStore
from workbench.projects.pg_store import PostgresProjectStore
from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import ProjectStore, SQLiteProjectStore

PG_URL_FILE = "pg.url"


def _pg_url(data_dir: Path) -> str:
    return (Path(data_dir) / PG_URL_FILE).read_text(encoding="utf-8").strip()


STORES: dict[str, Callable[..., ProjectStore]] = {
    "sqlite": lambda data_dir, clock=time.time: SQLiteProjectStore(projects_path(data_dir), clock=clock),
    "postgres": lambda data_dir, clock=time.time: PostgresProjectStore(_pg_url(data_dir), clock=clock),
}
FEEDBACK: dict[str, Callable[[Path], RecordStore]] = {
    "sqlite": lambda data_dir: JsonlFeedbackStore(data_dir),
    "postgres": lambda data_dir: PostgresFeedbackStore(_pg_url(data_dir)),
}


def use_kind(request: Any, kind: str, data_dir: Path) -> str:
    """Prepare ``data_dir`` for ``kind`` (a fresh database for ``postgres``); returns ``kind``."""
    if kind == "postgres":
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / PG_URL_FILE).write_text(request.getfixturevalue("pg_url"), encoding="utf-8")
    return kind


def feedback(kind: str, data_dir: Path) -> RecordStore:
    """A new feedback store object of ``kind`` over ``data_dir``'s records."""
    return FEEDBACK[kind](data_dir)

SLATE_IDS = ("1", "3", "8")


def fake_answer(n: int, slate_ids: tuple[str, ...] = SLATE_IDS) -> dict[str, Any]:
    """A stored engine answer: a reply and a three-item slate of tiny-catalogue ids (or ``slate_ids``)."""
    return {
        "reply": f"Try these, number {n}.",
        "items": [{"item_id": i, "title": f"Film {i}", "rank": r, "score": 1.0 / r,
                   "sources": {"content": 0.5, "popularity": 0.25}, "reason": "", "year": 2000,
                   "genres": [], "directors": [], "cast": []} for r, i in enumerate(slate_ids, start=1)],
        "generator": "template",
        "index_id": "test@0",
        "catalog_hash": "h",
        "intent": "recommend",
        "notes": [],
    }


def seed_project(store: ProjectStore, name: str = "p", tasks: int = 12, overlap: int = 2,
                 slate_ids: tuple[str, ...] = SLATE_IDS) -> None:
    """A ready project of ``tasks`` one-turn tasks, answered with :func:`fake_answer`."""
    rows = [{"id": f"t{i:02d}", "messages": [{"role": "user", "content": f"something like film {i}"}],
             "metadata": {"n": i}} for i in range(tasks)]
    store.create_project(name, "# Rate the slate", overlap, {}, rows)
    for i, row in enumerate(rows):
        store.set_answer(name, row["id"], fake_answer(i, slate_ids))
    store.set_state(name, "ready")


def service(kind: str, data_dir: Path, clock: Callable[[], float] = time.time, **kw: Any) -> ProjectService:
    return ProjectService(STORES[kind](data_dir, clock), feedback(kind, data_dir), **kw)


def annotate_all(svc: ProjectService, project: str, annotator: str, *, out: Any = None) -> list[str]:
    """Take and submit tasks until none is left; the task ids submitted (each acknowledged id is
    printed to ``out`` when given, as soon as it is acknowledged)."""
    done = []
    while True:
        task = svc.next_task(project, annotator)
        if task.get("done"):
            return done
        saved = svc.submit_task(project, task["task_id"], annotator, {"1": {"label": "like", "rating": 4}},
                                "like", f"{annotator} on {task['task_id']}")
        done.append(task["task_id"])
        if out is not None:
            print(f"{task['task_id']} {saved['record_id']}", file=out, flush=True)


def process_worker(kind: str, data_dir: str, project: str, annotator: str) -> list[str]:
    """One annotator in its own process (multiprocessing with spawn)."""
    return annotate_all(service(kind, Path(data_dir)), project, annotator)


if __name__ == "__main__":  # python projects_support.py KIND DATA_DIR PROJECT ANNOTATOR: prints acknowledged ids
    k, d, p, a = sys.argv[1:5]
    annotate_all(service(k, Path(d)), p, a, out=sys.stdout)
