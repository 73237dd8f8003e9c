"""First token and tokens/s of an OpenAI-compatible server (vLLM) at 1, 20 and 100 concurrent users.

    python bench/gpu/vllm_stream.py --base-url http://127.0.0.1:8000/v1 --model M [--users 1,20,100]

Each user sends one streamed chat completion (a movie-recommendation prompt, 128 new tokens);
first token = time to the first content delta, tokens/s = deltas after the first / their time.
Prints a table and writes ``bench/results/vllm_stream.json`` (or ``--json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

PROMPT = ("You recommend movies. The user said: 'a tense heist film like Heat, not too old'. "
          "Recommend three films from this list and say why in two sentences each: "
          "Collateral (2004), Inside Man (2006), The Town (2010), Baby Driver (2017).")


def one_user(base_url: str, model: str, out: list[dict], errors: list[str]) -> None:
    import httpx

    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 128,
            "stream": True, "temperature": 0.0}
    t0 = time.perf_counter()
    first = None
    pieces = 0
    try:
        with httpx.stream("POST", f"{base_url.rstrip('/')}/chat/completions", json=body, timeout=600) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[6:])["choices"][0].get("delta", {}).get("content")
                if delta:
                    pieces += 1
                    if first is None:
                        first = time.perf_counter()
    except Exception as exc:
        errors.append(repr(exc))
        return
    end = time.perf_counter()
    if first is not None:
        out.append({"first_token_s": first - t0, "tokens_per_s": (pieces - 1) / (end - first) if pieces > 1 else 0.0,
                    "total_s": end - t0, "pieces": pieces})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--users", default="1,20,100")
    parser.add_argument("--json", type=Path, default=Path(__file__).resolve().parents[1] / "results" / "vllm_stream.json")
    args = parser.parse_args()
    rows = []
    for n in (int(u) for u in args.users.split(",")):
        out: list[dict] = []
        errors: list[str] = []
        threads = [threading.Thread(target=one_user, args=(args.base_url, args.model, out, errors)) for _ in range(n)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        ft = sorted(r["first_token_s"] for r in out)
        rows.append({"users": n, "ok": len(out), "errors": len(errors), "error_samples": errors[:3],
                     "first_token_p50_s": round(statistics.median(ft), 3) if ft else None,
                     "first_token_p99_s": round(ft[min(len(ft) - 1, int(0.99 * (len(ft) - 1)))], 3) if ft else None,
                     "tokens_per_s_per_user_p50": round(statistics.median(r["tokens_per_s"] for r in out), 1) if out else None,
                     "aggregate_tokens_per_s": round(sum(r["pieces"] for r in out) / wall, 1)})
    print(f"{'users':>6} {'ok':>4} {'err':>4} {'first p50 s':>12} {'first p99 s':>12} {'tok/s/user':>11} {'tok/s all':>10}")
    for r in rows:
        print(f"{r['users']:>6} {r['ok']:>4} {r['errors']:>4} {r['first_token_p50_s']!s:>12} {r['first_token_p99_s']!s:>12} "
              f"{r['tokens_per_s_per_user_p50']!s:>11} {r['aggregate_tokens_per_s']!s:>10}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"benchmark": "vllm_stream", "model": args.model, "runs": rows}, indent=2) + "\n")
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
