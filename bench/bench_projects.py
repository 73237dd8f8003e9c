"""Annotation projects: next-task + submit round trip with 20 concurrent annotators.

    python bench/bench_projects.py [--tasks 200] [--overlap 3] [--annotators 20]

A project is created once with the real engine and the template generator (the default
catalogue, a hash embedder so that no model loads; ReDial test contexts when the shared data is
there, else synthetic requests). Its answers are stored at creation, so a round trip never calls
the generator: it is ``next_task`` (a claim in a ``BEGIN IMMEDIATE`` transaction) then
``submit_task`` (validation, the committed answer, the fsynced feedback record, the written flag,
the progress counts), as the Annotate tab will call them. Measured on copies of the same
project:

* one process, ``--annotators`` threads;
* two processes sharing the data directory, half the annotators each (threads), started together.

Every annotator works until no task is left for them; afterwards every task must hold exactly
``--overlap`` submissions. Writes bench/results/bench_projects.json (with the load average: these
machines are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import ROOT, percentiles_ms, table, write

REDIAL_TEST = ROOT.parent / "shared" / "data" / "redial" / "test.jsonl"


def create(data_dir: Path, tasks: int, overlap: int) -> dict:
    """Create the benchmark project with the engine (template generator); the creation timings."""
    from workbench.config import Settings
    from workbench.projects import create_project, open_project_service, redial_tasks
    from workbench.projects.tasks import Task
    from workbench.services import build_engine

    settings = Settings(embed_model="hash-64", index_dir=str(data_dir / "no-index"), generator="template",
                        cache_dir="", feedback_dir=str(data_dir), build_index=True)
    t0 = time.perf_counter()
    engine = build_engine(settings)
    t1 = time.perf_counter()
    if REDIAL_TEST.exists():
        task_list, source = redial_tasks(REDIAL_TEST, tasks, engine.catalog), "redial test"
    else:
        task_list = [Task(f"t{i}", ({"role": "user", "content": f"a thriller from the {1960 + i % 60}s"},))
                     for i in range(tasks)]
        source = "synthetic"
    svc = open_project_service(data_dir)
    create_project(svc.store, "bench", task_list, overlap=overlap, engine=engine, index_id="bench",
                   show_progress=False)
    t2 = time.perf_counter()
    return {"engine_s": round(t1 - t0, 2), "answer_tasks_s": round(t2 - t1, 2), "tasks": len(task_list),
            "source": source, "per_task_ms": round(1000 * (t2 - t1) / len(task_list), 2)}


def annotate(data_dir: Path, names: list[str]) -> list[float]:
    """Each annotator in ``names`` on its own thread, until done; every round trip's seconds."""
    from workbench.projects import open_project_service

    svc = open_project_service(data_dir)
    times: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(names))

    errors: list[BaseException] = []

    def run(who: str) -> None:
        try:
            work(who)
        except BaseException as exc:  # surface a failing annotator instead of a silent short run
            errors.append(exc)

    def work(who: str) -> None:
        mine = []
        start.wait()
        while True:
            t = time.perf_counter()
            task = svc.next_task("bench", who)
            if task.get("done"):
                break
            marks = {i["item_id"]: {"label": "like", "rating": 4} for i in task["items"][:1]}
            svc.submit_task("bench", task["task_id"], who, marks, "like", "")
            mine.append(time.perf_counter() - t)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return times


def check(data_dir: Path, overlap: int) -> dict:
    from collections import Counter

    from workbench.projects import open_project_service

    svc = open_project_service(data_dir)
    counts = Counter(s.task_id for s in svc.store.submissions("bench"))
    records = svc.feedback.read()
    ok = set(counts.values()) == {overlap} and len(records) == sum(counts.values())
    return {"exact_overlap": ok, "submissions": sum(counts.values()), "duplicate_lines": records.duplicates}


def scenario(base: Path, name: str, processes: int, annotators: int, overlap: int) -> dict:
    data_dir = base / name
    shutil.copytree(base / "seed", data_dir)
    names = [f"annotator-{i:02d}" for i in range(annotators)]
    t0 = time.perf_counter()
    if processes == 1:
        times = annotate(data_dir, names)
    else:
        share = [names[p::processes] for p in range(processes)]
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(data_dir), ",".join(s)],
                                  stdout=subprocess.PIPE, text=True) for s in share]
        times = [t for p in procs for t in json.loads(p.communicate()[0])]
    wall = time.perf_counter() - t0
    return {"scenario": name, "processes": processes, "annotators": annotators, "round_trips": len(times),
            **{k: round(v, 2) for k, v in percentiles_ms(times).items()},
            "round_trips_per_s": round(len(times) / wall, 1), **check(data_dir, overlap)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--overlap", type=int, default=3)
    ap.add_argument("--annotators", type=int, default=20)
    ap.add_argument("--worker", nargs=2, metavar=("DATA_DIR", "NAMES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(annotate(Path(args.worker[0]), args.worker[1].split(","))))
        return
    base = Path(tempfile.mkdtemp(prefix="bench-projects-"))
    try:
        creation = create(base / "seed", args.tasks, args.overlap)
        rows = [scenario(base, "one_process", 1, args.annotators, args.overlap),
                scenario(base, "two_processes", 2, args.annotators, args.overlap)]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"creation: {creation}")
    print(table(rows, ["scenario", "processes", "annotators", "round_trips", "p50_ms", "p99_ms", "mean_ms",
                       "round_trips_per_s", "exact_overlap", "duplicate_lines"]))
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    path = write("bench_projects", {"settings": vars(args) | {"worker": None}, "creation": creation,
                                    "results": rows, "target_p50_ms": 50})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
