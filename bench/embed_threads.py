"""Benchmark: one query encoding (the embedder every turn runs) at 1 thread vs torch's default, same run.

    python bench/embed_threads.py [--repeats 5]

Encodes three chat messages one at a time with the app's embedder, alternating torch's intra-op
threads between 1 and one per CPU (torch's default), and reports ms per query for each with the
load average: on a busy machine OpenMP threads that wait on each other spin while the cores run
other work (setting ``cpu_threads``). Writes ``bench/results/embed_threads.json``.
"""

from __future__ import annotations

import argparse
import os
import time

from _common import percentile, table, write

from workbench.config import Settings
from workbench.retrieval.embed import SentenceTransformerEmbedder

MESSAGES = ["something newer please", "a sci-fi film about dreams, like Inception",
            "no horror please, a 90s thriller like Heat"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    cpus = os.cpu_count() or 1
    embedder = SentenceTransformerEmbedder(Settings().embed_model)
    embedder.encode(["warm up"])
    times: dict[int, list[float]] = {1: [], cpus: []}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):
        for threads in times:
            torch.set_num_threads(threads)
            for message in MESSAGES:
                t0 = time.perf_counter()
                embedder.encode([message])
                times[threads].append(time.perf_counter() - t0)
    rows = [{"threads": t, "p50_ms": percentile(v, 50) * 1000, "p90_ms": percentile(v, 90) * 1000}
            for t, v in times.items()]
    print(table(rows, ["threads", "p50_ms", "p90_ms"]))
    ratio = rows[-1]["p50_ms"] / rows[0]["p50_ms"]
    print(f"torch default ({cpus} threads) / 1 thread, p50: {ratio:.2f}x; load average {load_before:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    path = write("embed_threads", {"benchmark": "embed_threads", "rows": rows, "default_over_one_thread_p50": ratio,
                                   "load_average_before": load_before})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
