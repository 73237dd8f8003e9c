"""Benchmark: 20 concurrent gradio_client users x 5 turns against `python app.py` (template generator).

    python bench/app_load.py [--users 20] [--turns 5]

Starts the real app on a free port with the template generator and a temporary feedback
directory, waits until its background work is done, then measures in one run, side by side:

* one user alone running the same 5-turn conversation (the baseline), and
* ``--users`` clients, each in its own thread and its own ``/chat`` session, 5 turns each,
  all at once.

Every turn must succeed and return a slate of catalogue items. Reports p50/p99 turn latency,
errors, throughput and the p50 ratio concurrent/alone; writes ``bench/results/app_load.json``.
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

from _common import percentile
from app_startup import RESULTS, AppProcess

CONVERSATIONS = [
    ["I loved Toy Story and Up, something for a family night?", "something newer please",
     "more like the first one", "no animation this time", "thanks! one more comedy?"],
    ["no horror please, a 90s thriller like Heat", "with Al Pacino maybe", "something from the 2000s",
     "I've seen Collateral", "any heist films?"],
    ["a sci-fi film about dreams, like Inception", "older ones", "I hated Interstellar",
     "what about space operas with jedi", "more like Star Wars"],
    ["a romantic comedy for date night", "set in Paris", "not too long ago, after 2000",
     "I loved Amélie", "something funnier"],
]


def run_user(url: str, messages: list[str], latencies: list[float], errors: list[str],
             catalog_ids: set[str], start: threading.Barrier | None) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, download_files=False)
    except Exception as exc:  # a client that cannot connect is an error, not a crash
        errors.append(f"connect: {exc!r}")
        return
    if start is not None:
        start.wait()
    session = ""
    for message in messages:
        t0 = time.perf_counter()
        try:
            out = client.predict(message, session, api_name="/chat")
            session = out["session_id"]
            bad = [i["item_id"] for i in out["items"] if i["item_id"] not in catalog_ids]
            if bad or not out["reply"]:
                errors.append(f"turn {message!r}: empty reply or unknown items {bad}")
        except Exception as exc:
            errors.append(f"turn {message!r}: {exc!r}")
            continue
        latencies.append(time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    args = parser.parse_args()

    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from workbench.catalog import load_catalog
    from workbench.config import Settings

    catalog_ids = set()
    for item in load_catalog(Settings().catalog):
        catalog_ids.add(item.item_id)
        catalog_ids.update(item.aliases)

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    app = AppProcess(workdir / "app.log", generator="template", feedback_dir=str(workdir / "feedback"))
    try:
        app.wait_until_served()
        app.wait_until_idle()

        alone: list[float] = []
        alone_errors: list[str] = []
        run_user(app.url, CONVERSATIONS[0][: args.turns], alone, alone_errors, catalog_ids, None)

        latencies: list[float] = []
        errors: list[str] = []
        barrier = threading.Barrier(args.users)
        threads = [
            threading.Thread(target=run_user, args=(app.url, CONVERSATIONS[u % len(CONVERSATIONS)][: args.turns],
                                                    latencies, errors, catalog_ids, barrier))
            for u in range(args.users)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        app.stop()

    turns = args.users * args.turns
    result = {
        "benchmark": "app_load",
        "generator": "template",
        "users": args.users,
        "turns_per_user": args.turns,
        "alone": {"turns": len(alone), "errors": len(alone_errors),
                  "p50_ms": round(percentile(alone, 50) * 1000, 1),
                  "p99_ms": round(percentile(alone, 99) * 1000, 1)},
        "concurrent": {"turns": len(latencies), "expected_turns": turns, "errors": len(errors),
                       "error_samples": errors[:5],
                       "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                       "p99_ms": round(percentile(latencies, 99) * 1000, 1),
                       "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
                       "wall_s": round(wall, 2), "turns_per_s": round(len(latencies) / wall, 2)},
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_avg_1m_at_end": os.getloadavg()[0],
                    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    }
    result["concurrent_over_alone_p50"] = round(result["concurrent"]["p50_ms"] / result["alone"]["p50_ms"], 2)
    result["zero_errors"] = not errors and not alone_errors and len(latencies) == turns

    a, c = result["alone"], result["concurrent"]
    print(f"{'run':<22} {'turns':>6} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'1 user alone':<22} {a['turns']:>6} {a['errors']:>7} {a['p50_ms']:>8.1f} {a['p99_ms']:>8.1f}")
    print(f"{f'{args.users} users at once':<22} {c['turns']:>6} {c['errors']:>7} {c['p50_ms']:>8.1f} "
          f"{c['p99_ms']:>8.1f}")
    print(f"throughput {c['turns_per_s']} turns/s over {c['wall_s']}s; p50 ratio concurrent/alone "
          f"{result['concurrent_over_alone_p50']}; zero errors: {result['zero_errors']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "app_load.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS / 'app_load.json'}")
    return 0 if result["zero_errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
