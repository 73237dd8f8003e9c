"""Benchmark: memory of `python app.py` as turns accumulate (50, then up to 500 turns through /chat).

    python bench/app_memory.py [--turns 50,100,200,300,400,500] [--clients 4] [--generator template]

Starts the real app (default settings, except the generator: ``template`` by default, because 500
SmolLM2 replies take hours on a shared 2-core machine; ``--generator auto`` runs the LLM) with a
temporary feedback directory, waits until its background work is done, then runs ``/chat`` turns from
``--clients`` gradio_client threads, each starting a new session every 5 turns (so sessions pile up
as well as turns). At each checkpoint it reads the server's resident memory (``VmRSS``) and its peak
(``VmHWM``) from ``/proc/<pid>/status``. What must hold: memory levels off, because API sessions are
bounded per client (``WORKBENCH_API_SESSIONS_PER_CLIENT``) and in total and expire, a stored
conversation is bounded (``MAX_CONVERSATION_TURNS``) and the caches are bounded. Reports the growth
per 100 turns between the first and the last checkpoint. Writes ``bench/results/app_memory.json`` (``app_memory_<generator>.json`` for another generator).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

from app_load import CONVERSATIONS
from app_startup import RESULTS, AppProcess


def proc_memory_mb(pid: int) -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` (peak) of ``pid`` in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def run_turns(clients: list, n: int, counter: list[int], errors: list[str]) -> None:
    """``n`` turns spread over the clients; each client starts a new session every conversation."""

    def worker(index: int, client, quota: int) -> None:
        session, done = "", 0
        while done < quota:
            conversation = CONVERSATIONS[(counter[0] + index) % len(CONVERSATIONS)]
            session = ""
            for message in conversation:
                if done >= quota:
                    break
                try:
                    session = client.predict(message, session, api_name="/chat")["session_id"]
                except Exception as exc:
                    errors.append(repr(exc))
                done += 1

    quotas = [n // len(clients) + (1 if i < n % len(clients) else 0) for i in range(len(clients))]
    threads = [threading.Thread(target=worker, args=(i, c, q)) for i, (c, q) in enumerate(zip(clients, quotas, strict=True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counter[0] += n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", default="50,100,200,300,400,500", help="checkpoints (total turns)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--generator", default="template")
    args = parser.parse_args()
    checkpoints = sorted(int(t) for t in args.turns.split(","))

    from gradio_client import Client

    workdir = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    app = AppProcess(workdir / "app.log", generator=args.generator, feedback_dir=str(workdir / "feedback"))
    rows = []
    errors: list[str] = []
    load_start = os.getloadavg()[0]
    try:
        served = app.wait_until_served()
        idle = app.wait_until_idle()
        rows.append({"turns": 0, **proc_memory_mb(app.proc.pid), "seconds": 0.0})
        clients = [Client(app.url, verbose=False, download_files=False) for _ in range(args.clients)]
        counter = [0]
        t0 = time.perf_counter()
        for target in checkpoints:
            run_turns(clients, target - counter[0], counter, errors)
            rows.append({"turns": target, **proc_memory_mb(app.proc.pid),
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(f"  {target:>5} turns: RSS {rows[-1]['VmRSS']:.0f} MiB, peak {rows[-1]['VmHWM']:.0f} MiB "
                  f"({len(errors)} errors, load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        app.stop()

    first, last = rows[1], rows[-1]
    growth = (last["VmRSS"] - first["VmRSS"]) / max(1, last["turns"] - first["turns"]) * 100
    result = {
        "benchmark": "app_memory",
        "generator": args.generator,
        "clients": args.clients,
        "served_s": round(served, 2),
        "background_done_s": round(idle, 2),
        "rows": rows,
        "rss_after_50_mb": next((r["VmRSS"] for r in rows if r["turns"] == 50), None),
        "peak_rss_after_50_mb": next((r["VmHWM"] for r in rows if r["turns"] == 50), None),
        "rss_after_last_mb": last["VmRSS"],
        "peak_rss_after_last_mb": last["VmHWM"],
        "rss_growth_mb_per_100_turns": round(growth, 2),
        # levelling off: the growth over the last interval alone
        "rss_growth_last_interval_mb_per_100_turns": round(
            (last["VmRSS"] - rows[-2]["VmRSS"]) / max(1, last["turns"] - rows[-2]["turns"]) * 100, 2),
        "errors": len(errors),
        "error_samples": errors[:5],
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_avg_1m_at_start": load_start,
                    "load_avg_1m_at_end": os.getloadavg()[0],
                    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    }
    print(f"{'turns':>6} {'RSS MiB':>8} {'peak MiB':>9} {'s':>7}")
    for r in rows:
        print(f"{r['turns']:>6} {r['VmRSS']:>8.0f} {r['VmHWM']:>9.0f} {r['seconds']:>7.1f}")
    print(f"RSS growth {growth:.1f} MiB per 100 turns between {first['turns']} and {last['turns']} turns; "
          f"{len(errors)} errors; generator {args.generator}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "app_memory.json" if args.generator == "template" else f"app_memory_{args.generator}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS / name}")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
