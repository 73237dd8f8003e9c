"""Feedback store throughput: durable appends per second, one writer vs 8 processes.

    python bench/feedback_append.py [--records 4000] [--processes 8] [--dir PATH]

Every append is validated, written as one line and fsynced before it returns,
as in the app. Measured side by side in one run on the same disk:

* one writer, ``append`` per record (latency p50/p99 too);
* one writer, ``append_many`` in batches of 50 (one write + one fsync per batch);
* N processes appending at once to the same data folder (aggregate appends/s,
  then a check that the store holds every record exactly once);
* reading the resulting store back: cold (new store object) and warm (cached shards).

Writes bench/results/feedback_append.json.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import ROOT, percentiles_ms, table, write


def build_record(writer: int, i: int):
    """A realistic record: 4 earlier turns, a 5-item slate with 3 sources each, two judgements, a comment."""
    from workbench.feedback.record import make_record

    return make_record(
        annotator=f"annotator-{writer}",
        session_id=f"session-{writer}-{i // 20}",
        turn_index=i % 20,
        conversation=[
            {"role": "user", "text": "Hi! I'm in the mood for something tense tonight."},
            {"role": "assistant", "text": "Sure. Do you prefer crime thrillers or horror?"},
            {"role": "user", "text": "Crime, ideally a heist. Nothing too old please 🎬"},
            {"role": "assistant", "text": "How about Heat (1995) or Inside Man (2006)?"},
        ],
        user_message=f"Something like Heat but more recent, request {i}",
        reply="You might enjoy Collateral (2004), The Town (2010) and Inside Man (2006).",
        generator_backend="transformers",
        generator_model="smollm2-135m-instruct",
        slate=[
            {"item_id": str(100 + r), "title": f"Film {r} (20{r:02d})", "rank": r + 1, "score": 0.9 - r / 10,
             "sources": {"dense": 0.5 + r / 100, "bm25": 0.25, "cf": 0.125}}
            for r in range(5)
        ],
        judgements={"100": {"label": "like", "rating": 5}, "103": {"label": "dislike"}},
        reply_label="like",
        comment="Good picks, but the second one was a stretch. " * 2,
        catalog_hash="0" * 64,
        index_id="flat-384-abc123",
    )


def _worker(data_dir: str, writer: int, count: int, barrier, out) -> None:
    from workbench.feedback.store import JsonlFeedbackStore

    store = JsonlFeedbackStore(data_dir)
    records = [build_record(writer, i) for i in range(count)]
    barrier.wait()
    start = time.perf_counter()
    for r in records:
        store.append(r)
    out.put((writer, start, time.perf_counter()))


def single_writer(data_dir: Path, count: int) -> dict:
    from workbench.feedback.store import JsonlFeedbackStore

    store = JsonlFeedbackStore(data_dir)
    records = [build_record(0, i) for i in range(count)]
    store.append(build_record(0, -1))  # create the shard outside the timing
    latencies = []
    start = time.perf_counter()
    for r in records:
        t = time.perf_counter()
        store.append(r)
        latencies.append(time.perf_counter() - t)
    seconds = time.perf_counter() - start
    return {"mode": "1 writer, append", "processes": 1, "appends": count, "seconds": seconds,
            "appends_per_s": count / seconds, **percentiles_ms(latencies)}


def batched_writer(data_dir: Path, count: int, batch: int = 50) -> dict:
    from workbench.feedback.store import JsonlFeedbackStore

    store = JsonlFeedbackStore(data_dir)
    records = [build_record(0, i) for i in range(count)]
    start = time.perf_counter()
    for k in range(0, count, batch):
        store.append_many(records[k:k + batch])
    seconds = time.perf_counter() - start
    return {"mode": f"1 writer, append_many({batch})", "processes": 1, "appends": count, "seconds": seconds,
            "appends_per_s": count / seconds}


def many_writers(data_dir: Path, processes: int, per_process: int) -> dict:
    from workbench.feedback.store import JsonlFeedbackStore

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(data_dir), w, per_process, barrier, out))
             for w in range(processes)]
    for p in procs:
        p.start()
    spans = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"a writer process failed (exit code {p.exitcode})")
    start = min(s for _, s, _ in spans)
    end = max(e for _, _, e in spans)
    total = processes * per_process
    result = JsonlFeedbackStore(data_dir).read()
    if len(result.records) != total or result.duplicates or result.problems:
        raise SystemExit(f"store check failed: {len(result.records)} of {total} records, "
                         f"{result.duplicates} duplicates, {len(result.problems)} problems")
    per_proc = [per_process / (e - s) for _, s, e in spans]
    return {"mode": f"{processes} processes, append", "processes": processes, "appends": total,
            "seconds": end - start, "appends_per_s": total / (end - start),
            "slowest_process_appends_per_s": min(per_proc)}


def read_back(data_dir: Path) -> list[dict]:
    from workbench.feedback.store import JsonlFeedbackStore

    store = JsonlFeedbackStore(data_dir)
    rows = []
    for label in ("read, cold", "read, warm (cached shards)"):
        start = time.perf_counter()
        n = len(store.read().records)
        seconds = time.perf_counter() - start
        rows.append({"mode": label, "processes": 1, "appends": n, "seconds": seconds,
                     "records_per_s": n / seconds})
    return rows


def filesystem(path: Path) -> str:
    try:
        out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True, check=True).stdout
        return out.splitlines()[1].split()[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=4000, help="appends per mode")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: a temp dir under the repo's disk)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="feedback-bench-", dir=args.dir or ROOT))
    try:
        rows = [
            single_writer(scratch / "one", args.records),
            batched_writer(scratch / "batched", args.records),
            many_writers(scratch / "many", args.processes, args.records // args.processes),
        ]
        rows += read_back(scratch / "many")
        record_bytes = len(__import__("workbench.feedback.store", fromlist=["encode_line"]).encode_line(
            build_record(0, 0)))
        fs = filesystem(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    single = rows[0]["appends_per_s"]
    for row in rows[:3]:
        row["vs_1_writer"] = row["appends_per_s"] / single
    print(f"feedback store, {record_bytes}-byte records, fsync per append, filesystem {fs}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} at start")
    print(table(rows, ["mode", "appends", "seconds", "appends_per_s", "vs_1_writer", "p50_ms", "p99_ms",
                       "records_per_s"]))
    path = write("feedback_append", {"record_bytes": record_bytes, "filesystem": fs, "rows": rows})
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
