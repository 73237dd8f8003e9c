"""Benchmark: one vs two `python app.py` replicas on one PostgreSQL, 20 concurrent clients (issue 18).

    python bench/replicas.py [--clients 20] [--tasks 60] [--turns 3] [--database-url postgresql://...]
        [--generator openai --openai-base-url http://127.0.0.1:8000/v1 --openai-model M] [--replicas 1,2]

For 1 and then 2 replicas (template generator, a fresh database each time), ``--clients``
gradio_client users spread round-robin over the replicas at once: 60% annotate an annotation
project (``/next_task`` + ``/submit_task`` until it is done, overlap 2), the others chat
(``/chat`` x ``--turns``, each turn judged with ``/feedback``). Reports per run: wall time,
submissions/s, p50/p99 of a task round trip (next + submit) and of a chat turn, errors, and
checks that the database holds every acknowledged record once and each task exactly 2
submissions. Writes ``bench/results/replicas.json`` (with the load average: the machine is shared).

Without ``--database-url`` (or ``WORKBENCH_TEST_DATABASE_URL``) it starts a throwaway cluster
with tests/pg_support.py's helper (PostgreSQL binaries on PATH or under /usr/lib/postgresql).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _common import RESULTS, ROOT, machine
from app_startup import AppProcess

sys.path.insert(0, str(ROOT / "tests"))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def one_run(admin_url: str, replicas: int, clients: int, tasks: int, turns: int, workdir: Path,
            generator: dict[str, str]) -> dict:
    import gradio_client
    import psycopg
    from pg_support import _with_db
    from projects_support import seed_project

    from workbench.projects.pg_store import PostgresProjectStore

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(admin_url, name)
    store = PostgresProjectStore(url)
    seed_project(store, "bench", tasks=tasks, overlap=2)
    store.close()
    settings = {**generator, "database_url": url, "feedback_dir": str(workdir / "unused")}
    apps = [AppProcess(workdir / f"{replicas}-{i}.log", **settings) for i in range(replicas)]
    task_lat: list[float] = []
    chat_lat: list[float] = []
    acked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        for app in apps:
            app.wait_until_served()
        for app in apps:
            app.wait_until_idle()
        annotators = max(1, round(clients * 0.6))
        barrier = threading.Barrier(clients)

        def annotate(i: int) -> None:
            client = gradio_client.Client(apps[i % replicas].url, verbose=False, download_files=False)
            barrier.wait()
            who = f"ann{i}"
            while True:
                t0 = time.perf_counter()
                try:
                    task = client.predict("bench", who, api_name="/next_task")
                    if task.get("done"):
                        return
                    saved = client.predict("bench", task["task_id"], who, {"3": {"label": "like"}}, "like", "",
                                           api_name="/submit_task")
                except Exception as exc:
                    with lock:
                        errors.append(f"{who}: {exc!r}")
                    return
                with lock:
                    task_lat.append(time.perf_counter() - t0)
                    acked.append(saved["record_id"])

        def chat(i: int) -> None:
            client = gradio_client.Client(apps[i % replicas].url, verbose=False, download_files=False)
            barrier.wait()
            session = ""
            for n in range(turns):
                t0 = time.perf_counter()
                try:
                    out = client.predict(f"a tense heist film please, take {n}", session, api_name="/chat")
                    session = out["session_id"]
                    item = out["items"][0]["item_id"]
                    saved = client.predict(session, out["turn"], f"chat{i}", {item: {"label": "like"}}, "like", "",
                                           f"k{n}", api_name="/feedback")
                except Exception as exc:
                    with lock:
                        errors.append(f"chat{i}: {exc!r}")
                    return
                with lock:
                    chat_lat.append(time.perf_counter() - t0)
                    acked.append(saved["record_id"])

        threads = [threading.Thread(target=annotate if i < annotators else chat, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        for app in apps:
            app.stop()
    with psycopg.connect(url) as conn:
        stored = {r[0]: r[1] for r in conn.execute("SELECT record_id, COUNT(*) FROM feedback_records GROUP BY 1")}
        per_task = [r[0] for r in conn.execute(
            "SELECT COUNT(*) FROM answers WHERE project = 'bench' AND status = 'submitted' GROUP BY task_id")]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return {
        "replicas": replicas, "clients": clients, "annotators": annotators, "chatters": clients - annotators,
        "wall_s": round(wall, 2), "submissions": len(task_lat), "submissions_per_s": round(len(task_lat) / wall, 2),
        "task_p50_ms": round(_pct(task_lat, 50) * 1000, 1), "task_p99_ms": round(_pct(task_lat, 99) * 1000, 1),
        "chat_turns": len(chat_lat), "chat_p50_ms": round(_pct(chat_lat, 50) * 1000, 1),
        "chat_p99_ms": round(_pct(chat_lat, 99) * 1000, 1), "errors": len(errors), "error_samples": errors[:3],
        "every_ack_once": all(stored.get(r) == 1 for r in acked),
        "tasks_exactly_two": len(per_task) == tasks and set(per_task) == {2},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("WORKBENCH_TEST_DATABASE_URL", ""),
                        help="admin URL of a server to create the bench databases on (default: a throwaway cluster)")
    parser.add_argument("--generator", default="template", choices=("template", "openai"))
    parser.add_argument("--openai-base-url", default="", help="with --generator openai: the server (vLLM, TGI)")
    parser.add_argument("--openai-model", default="", help="with --generator openai: the model to ask for")
    parser.add_argument("--replicas", default="1,2", help="replica counts to run, side by side")
    parser.add_argument("--out", default="replicas.json", help="file name under bench/results/")
    args = parser.parse_args()
    generator = {"generator": args.generator}
    if args.generator == "openai":
        generator.update(openai_base_url=args.openai_base_url, openai_model=args.openai_model)
    cluster = None
    admin_url = args.database_url
    if not admin_url:
        from pg_support import Cluster, _pg_bin

        bindir = _pg_bin()
        if bindir is None:
            print("no PostgreSQL binaries; pass --database-url", file=sys.stderr)
            return 2
        cluster = Cluster(bindir)
        admin_url = cluster.start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    try:
        runs = [one_run(admin_url, int(n), args.clients, args.tasks, args.turns, workdir, generator)
                for n in args.replicas.split(",")]
    finally:
        if cluster is not None:
            cluster.stop()
    cols = ("replicas", "wall_s", "submissions_per_s", "task_p50_ms", "task_p99_ms", "chat_p50_ms", "chat_p99_ms",
            "errors", "every_ack_once", "tasks_exactly_two")
    print(" ".join(f"{c:>17}" for c in cols))
    for r in runs:
        print(" ".join(f"{str(r[c]):>17}" for c in cols))
    out = {"benchmark": "replicas", "generator": generator, "runs": runs, "machine": machine(),
           "note": "template generator: the app's own CPU work per request; with an LLM server the "
                   "generation moves off the app processes."}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / args.out} (load average {out['machine']['load_average_1m']:.2f})")
    return 0 if all(r["errors"] == 0 and r["every_ack_once"] and r["tasks_exactly_two"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
