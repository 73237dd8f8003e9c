"""Benchmark: transformers vs llama.cpp on the same SmolLM2 GGUF and the same prompts, in one run.

    python bench/llm_backends.py [--n 4] [--max-new-tokens 64]

Both generators are built the way the app builds them (``load_generator`` with ``generator=transformers``
and ``generator=llamacpp``: the same prompt, primed opening, sentence limit and ``cpu_threads``);
they alternate per request, so the machine's load hits them alike. Per reply: ``first_token_s`` (the
first model-written piece after the primed opening), ``tokens_per_s`` after it (tokens counted with the
same SmolLM2 tokenizer for both), ``total_s``, and the load time. Needs ``llama_cpp``
(``requirements-llamacpp.txt``). Writes ``bench/results/llm_backends.json`` with the load average:
on a shared machine the absolute numbers are pessimistic; the ratios are side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import sys
import time

from _common import machine, percentile, table, write
from dialogue_llm import REDIAL_TEST, seeker_messages, slate_for

from workbench.catalog import load_catalog
from workbench.config import Settings
from workbench.dialogue.generators import GenerationRequest, llamacpp_available, load_generator
from workbench.dialogue.types import Turn


def timed(gen, req: GenerationRequest, count) -> dict:
    start = time.perf_counter()
    pieces = [(time.perf_counter() - start, p) for p in gen.stream(req)]
    total = time.perf_counter() - start
    model_pieces = pieces[1:] if gen.prime and req.recommendations else pieces
    first = model_pieces[0][0] if model_pieces else total
    tokens = count("".join(p for _, p in model_pieces))
    return {"first_token_s": first, "total_s": total, "tokens": tokens,
            "tokens_per_s": (tokens - 1) / (total - first) if tokens > 1 and total > first else float("nan"),
            "reply": "".join(p for _, p in pieces)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not llamacpp_available():
        sys.exit('llama_cpp is not installed: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -r requirements-llamacpp.txt')

    base = Settings(max_new_tokens=args.max_new_tokens)
    catalog = load_catalog(base.catalog)
    popular = sorted(catalog, key=lambda i: -i.mentions)[:200]
    rng = random.Random(args.seed)
    requests = [GenerationRequest(turns=(Turn("user", m),), recommendations=slate_for(m, catalog, popular, rng),
                                  intent="recommend")
                for m in seeker_messages(REDIAL_TEST, catalog, args.n + 1, args.seed)]
    load_before = os.getloadavg()[0]
    gens, load_s = {}, {}
    for backend in ("transformers", "llamacpp"):
        gen = load_generator(dataclasses.replace(base, generator=backend)).primary
        t0 = time.perf_counter()
        gen.load()
        load_s[backend] = time.perf_counter() - t0
        gen.generate(requests[0])  # warm-up (prefix caches), not counted
        gens[backend] = gen
    tokenizer = gens["transformers"]._tokenizer

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    rows = []
    for req in requests[1:]:
        for backend, gen in gens.items():
            r = {"backend": backend, **timed(gen, req, count)}
            rows.append(r)
            print(f"  {backend:<13}{r['first_token_s']:7.2f}s first token {r['tokens']:4d} tok "
                  f"{r['tokens_per_s']:7.1f} tok/s  load {os.getloadavg()[0]:.1f}", flush=True)

    summary = {}
    for backend in gens:
        mine = [r for r in rows if r["backend"] == backend]
        summary[backend] = {
            "load_s": load_s[backend],
            **{f"{k}_p50": percentile([r[k] for r in mine if r[k] == r[k]], 50)
               for k in ("first_token_s", "tokens_per_s", "total_s", "tokens")},
        }
    t, ll = summary["transformers"], summary["llamacpp"]
    ratios = {"first_token_llamacpp_over_transformers": ll["first_token_s_p50"] / t["first_token_s_p50"],
              "tokens_per_s_llamacpp_over_transformers": ll["tokens_per_s_p50"] / t["tokens_per_s_p50"]}
    print()
    print(table([{"backend": b, **v} for b, v in summary.items()],
                ["backend", "load_s", "first_token_s_p50", "tokens_per_s_p50", "total_s_p50", "tokens_p50"]))
    print(f"llama.cpp / transformers: first token x{ratios['first_token_llamacpp_over_transformers']:.2f}, "
          f"tokens/s x{ratios['tokens_per_s_llamacpp_over_transformers']:.2f}; threads "
          f"{base.resolved_cpu_threads}; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    path = write("llm_backends", {"benchmark": "llm_backends", "model": base.generator_model,
                                  "threads": base.resolved_cpu_threads, "max_new_tokens": args.max_new_tokens,
                                  "load_average_before": load_before, "summary": summary, **ratios, "rows": rows,
                                  "machine_at_start": machine()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
