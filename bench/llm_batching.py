"""Benchmark: N concurrent LLM replies with continuous batching vs one ``generate`` per reply, in one run.

    python bench/llm_batching.py [--levels 1,8,20] [--modes batched,generate] [--max-new-tokens 48]

The generator is built the way the app builds it (``load_generator`` with ``generator=transformers``:
the bundled SmolLM2, the same prompt, primed opening, sentence limit, ``cpu_threads`` and the
``generator_timeout_s`` deadline with the template fallback), once with ``generator_batching`` on
(``batched``) and once off (``generate``: each reply runs its own ``model.generate`` in its own thread,
as before issue 27). For every level, that many replies start at once (recommendation requests
built from ReDial seeker messages). Per level: p50 / p95 reply time, p50 / p95 first token (the first
model-written piece after the primed opening), replies that fell back to the template, and the
aggregate generated tokens per second (model-written tokens of all replies / wall time of the level).
Writes ``bench/results/llm_batching.json`` with the load average: on the shared 2-core machine absolute
numbers are pessimistic; the ratios between levels and modes are measured side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import threading
import time

from _common import machine, percentile, table, write
from dialogue_llm import REDIAL_TEST, seeker_messages, slate_for

from workbench.catalog import load_catalog
from workbench.config import Settings
from workbench.dialogue.generators import GenerationRequest, load_generator
from workbench.dialogue.types import Turn


def one_reply(gen, req: GenerationRequest, prime: bool, count, out: list[dict], start: threading.Barrier) -> None:
    start.wait()
    t0 = time.perf_counter()
    stream = gen.stream(req)
    pieces = [(time.perf_counter() - t0, p) for p in stream]
    total = time.perf_counter() - t0
    model_pieces = pieces[1:] if prime else pieces
    fell_back = bool(stream.fell_back)
    out.append({"first_token_s": model_pieces[0][0] if model_pieces and not fell_back else float("nan"),
                "total_s": total, "fell_back": fell_back,
                "tokens": 0 if fell_back else count("".join(p for _, p in model_pieces))})


def level(gen, requests: list[GenerationRequest], n: int, prime: bool, count) -> dict:
    rows: list[dict] = []
    start = threading.Barrier(n + 1)
    threads = [threading.Thread(target=one_reply, args=(gen, requests[i % len(requests)], prime, count, rows, start))
               for i in range(n)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] == r["first_token_s"]]
    totals = [r["total_s"] for r in rows]
    tokens = sum(r["tokens"] for r in rows)
    return {"streams": n, "wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall,
            "fell_back": sum(r["fell_back"] for r in rows),
            "total_s_p50": percentile(totals, 50), "total_s_p95": percentile(totals, 95),
            "first_token_s_p50": percentile(firsts, 50) if firsts else float("nan"),
            "first_token_s_p95": percentile(firsts, 95) if firsts else float("nan"),
            "load_average": os.getloadavg()[0], "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,20")
    parser.add_argument("--modes", default="batched,generate")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--timeout-s", type=float, default=Settings().generator_timeout_s,
                        help="generator_timeout_s (default: the setting's default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    base = Settings(generator="transformers", max_new_tokens=args.max_new_tokens,
                    generator_timeout_s=args.timeout_s)
    catalog = load_catalog(base.catalog)
    popular = sorted(catalog, key=lambda i: -i.mentions)[:200]
    rng = random.Random(args.seed)
    requests = [GenerationRequest(turns=(Turn("user", m),), recommendations=slate_for(m, catalog, popular, rng),
                                  intent="recommend")
                for m in seeker_messages(REDIAL_TEST, catalog, max(levels), args.seed)]
    load_before = os.getloadavg()[0]
    results: dict[str, list[dict]] = {}
    for mode in args.modes.split(","):
        gen = load_generator(dataclasses.replace(base, generator_batching=mode == "batched"))
        gen.load()
        primary = gen.primary
        tokenizer = primary._tokenizer

        def count(text: str, tokenizer=tokenizer) -> int:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])

        "".join(gen.stream(requests[0]))  # warm-up (prefix caches, the batching manager), not counted
        results[mode] = []
        for n in levels:
            r = level(gen, requests, n, primary.prime, count)
            results[mode].append(r)
            print(f"  {mode:<8} {n:3d} streams: {r['tokens_per_s']:6.2f} tok/s aggregate, p50 {r['total_s_p50']:6.1f}s "
                  f"first token p50 {r['first_token_s_p50']:6.1f}s, {r['fell_back']} fell back, "
                  f"load {r['load_average']:.1f}", flush=True)
        batcher = getattr(primary, "_batcher", None)
        if batcher is not None:
            batcher.close()
    print()
    flat = [{"mode": m, **{k: v for k, v in r.items() if k != "rows"}} for m, rs in results.items() for r in rs]
    print(table(flat, ["mode", "streams", "tokens_per_s", "total_s_p50", "total_s_p95", "first_token_s_p50",
                       "first_token_s_p95", "fell_back", "load_average"]))
    ratios = {m: {str(r["streams"]): r["tokens_per_s"] / rs[0]["tokens_per_s"] for r in rs}
              for m, rs in results.items() if rs and rs[0]["tokens_per_s"] > 0}
    print(f"aggregate tokens/s over {levels[0]} stream(s): {ratios}; threads {base.resolved_cpu_threads}; "
          f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    path = write("llm_batching", {"benchmark": "llm_batching", "model": base.generator_model,
                                  "threads": base.resolved_cpu_threads, "max_new_tokens": args.max_new_tokens,
                                  "timeout_s": args.timeout_s, "load_average_before": load_before,
                                  "ratios_over_first_level": ratios, "levels": results,
                                  "machine_at_start": machine()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
