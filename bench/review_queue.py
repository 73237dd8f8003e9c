"""The review queue: how long ``next_review`` and ``submit_review`` take as a project grows.

    python bench/review_queue.py [--tasks 1000] [--disputed 0.05]

A project of ``--tasks`` one-turn tasks (overlap 2, a three-item slate) is answered by two
annotators who agree on all but ``--disputed`` of the tasks. Finding the next disputed task
reads the answers of the complete, unreviewed tasks in task order until one disagrees, so its
cost grows with the agreeing tasks ahead of it. Measured (SQLite, one process): every
``next_review`` + ``submit_review`` round trip of one reviewer until the queue is empty, and
``next_review`` on the empty queue (the worst case: every task read). Writes
bench/results/review_queue.json with the load average.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import percentiles_ms, table, write


def seed(data_dir: Path, tasks: int, disputed: float) -> object:
    from workbench.feedback import JsonlFeedbackStore
    from workbench.projects.review_service import set_reviewers
    from workbench.projects.service import ProjectService, projects_path
    from workbench.projects.store import SQLiteProjectStore

    store = SQLiteProjectStore(projects_path(data_dir))
    rows = [{"id": f"t{i:05d}", "messages": [{"role": "user", "content": f"a film, please ({i})"}], "metadata": {}}
            for i in range(tasks)]
    store.create_project("bench", "", 2, {}, rows)
    items = [{"item_id": str(k), "title": f"Film {k}", "rank": k, "score": 1.0 / k, "sources": {}}
             for k in (1, 2, 3)]
    for row in rows:
        store.set_answer("bench", row["id"], {"reply": "Try these.", "items": items, "generator": "template"})
    store.set_state("bench", "ready")
    set_reviewers(store, "bench", "rita")
    svc = ProjectService(store, JsonlFeedbackStore(data_dir))
    every = max(1, round(1 / disputed)) if disputed > 0 else tasks + 1
    for who in ("ann", "bob"):
        while not (task := svc.next_task("bench", who)).get("done"):
            n = int(task["task_id"][1:])
            label = "dislike" if who == "bob" and n % every == 0 else "like"
            svc.submit_task("bench", task["task_id"], who, {"1": {"label": label, "rating": 4}}, "", "")
    return svc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--disputed", type=float, default=0.05)
    args = ap.parse_args()
    from workbench.projects.review_service import next_review, submit_review

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        svc = seed(Path(tmp), args.tasks, args.disputed)
        seeded = time.perf_counter() - t0
        nexts, submits = [], []
        while True:
            t = time.perf_counter()
            task = next_review(svc, "bench", "rita")
            nexts.append(time.perf_counter() - t)
            if task.get("done"):
                break
            t = time.perf_counter()
            submit_review(svc, "bench", task["task_id"], "rita", {"1": {"label": "like"}}, "", "settled")
            submits.append(time.perf_counter() - t)
        empty = []
        for _ in range(5):
            t = time.perf_counter()
            next_review(svc, "bench", "rita")
            empty.append(time.perf_counter() - t)
    rows = [{"step": "next_review (queue)", "n": len(nexts) - 1, **percentiles_ms(nexts[:-1] or [0.0])},
            {"step": "submit_review", "n": len(submits), **percentiles_ms(submits or [0.0])},
            {"step": "next_review (empty queue)", "n": len(empty), **percentiles_ms(empty)}]
    cols = ["step", "n", *[k for k in rows[0] if k not in ("step", "n")]]
    print(f"{args.tasks} tasks, overlap 2, {len(submits)} disputed; seeded in {seeded:.1f} s")
    print(table(rows, cols))
    path = write("review_queue", {"tasks": args.tasks, "disputed": len(submits), "seed_s": round(seeded, 2),
                                  "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
