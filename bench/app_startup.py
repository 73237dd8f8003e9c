"""Benchmark: time from `python app.py` to the first served page, cold and warm caches.

    python bench/app_startup.py [--warm-runs 3] [--generator auto]

*Cold* starts with an empty ``WORKBENCH_CACHE_DIR`` (no fitted-recommender cache, no converted
LLM weights): the page must still be served quickly, while the recommenders are fitted and the
LLM converted in the background. *Warm* runs reuse the cache the cold run filled. For each run:
seconds until ``GET /`` answers 200 (target < 15 s), until the server's own wiring finished
(``services ready`` in its log), and until background work finished (``/status`` no longer
says "loading"). Prints a table and writes ``bench/results/app_startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TARGET_S = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """``python app.py`` with ``WORKBENCH_*`` settings on a free port (shared with bench/app_load.py)."""

    def __init__(self, log_path: Path, **settings: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
                    "WORKBENCH_PORT": str(self.port), "WORKBENCH_HOST": "127.0.0.1"})
        env.update({f"WORKBENCH_{k.upper()}": v for k, v in settings.items()})
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_served(self, timeout: float = 300.0) -> float:
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"not served within {timeout}s:\n{self.log()[-3000:]}")

    def wait_until_idle(self, timeout: float = 600.0) -> float:
        """Seconds from start until /status reports nothing loading any more."""
        import httpx
        from gradio_client import Client

        client = None
        while time.monotonic() - self.started < timeout:
            try:  # a server still loading on a busy machine may miss httpx's timeout: ask again
                client = client or Client(self.url, verbose=False, download_files=False)
                if not client.predict(api_name="/status")["busy"]:
                    return time.monotonic() - self.started
            except (OSError, httpx.HTTPError):
                pass
            time.sleep(0.5)
        raise TimeoutError("background work did not finish")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def one_run(label: str, cache_dir: Path, generator: str, workdir: Path) -> dict:
    app = AppProcess(workdir / f"{label}.log", cache_dir=str(cache_dir), generator=generator,
                     feedback_dir=str(workdir / "feedback"))
    try:
        served = app.wait_until_served()
        idle = app.wait_until_idle()
        log = app.log()
    finally:
        app.stop()
    m = re.search(r"services ready in ([\d.]+)s", log)
    llm = re.search(r"generator (\S+) ready in ([\d.]+)s", log)
    rec = re.search(r"recommenders done in ([\d.]+)s", log)
    return {
        "run": label,
        "served_s": round(served, 2),
        "build_services_s": float(m.group(1)) if m else None,
        "background_done_s": round(idle, 2),
        "llm": llm.group(1) if llm else None,
        "llm_load_s": float(llm.group(2)) if llm else None,
        "recommenders_s": float(rec.group(1)) if rec else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--generator", default="auto", help="WORKBENCH_GENERATOR for the runs")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    cache = workdir / "cache"
    runs = [one_run("cold", cache, args.generator, workdir)]
    for i in range(args.warm_runs):
        runs.append(one_run(f"warm-{i + 1}", cache, args.generator, workdir))
    shutil.rmtree(workdir, ignore_errors=True)

    warm = [r["served_s"] for r in runs[1:]]
    summary = {
        "cold_served_s": runs[0]["served_s"],
        "warm_served_median_s": median(warm) if warm else None,
        "target_s": TARGET_S,
        "meets_target": all(r["served_s"] < TARGET_S for r in runs),
    }
    print(f"{'run':<8} {'served s':>9} {'wiring s':>9} {'bg done s':>10} {'LLM load s':>11} {'recs s':>7}")
    for r in runs:
        print(f"{r['run']:<8} {r['served_s']:>9.2f} {r['build_services_s'] or 0:>9.2f} "
              f"{r['background_done_s']:>10.2f} {r['llm_load_s'] or 0:>11.2f} {r['recommenders_s'] or 0:>7.2f}")
    print(f"cold served in {summary['cold_served_s']:.2f}s, warm median {summary['warm_served_median_s']}s "
          f"(target < {TARGET_S:.0f}s: {'met' if summary['meets_target'] else 'MISSED'})")
    out = {
        "benchmark": "app_startup",
        "generator": args.generator,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "load_avg_1m_at_end": os.getloadavg()[0],
                    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        "runs": runs,
        "summary": summary,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "app_startup.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'app_startup.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
