"""Benchmark: N concurrent LLM replies with continuous batching vs without, in one run.

    python bench/llm_batching.py [--generator transformers|openvino] [--levels 1,8,20]
                                 [--modes batched,generate] [--max-new-tokens 48] [--prompts recommend|chat]
                                 [--alone-rounds 8] [--out NAME]

The generator is built the way the app builds it (``load_generator`` with ``generator=transformers``
or ``openvino``: the default model, the same prompt, primed opening, sentence limit, ``cpu_threads``
and the ``generator_timeout_s`` deadline with the template fallback), once with ``generator_batching``
on (``batched``: transformers' continuous-batching manager, or OpenVINO GenAI's
``ContinuousBatchingPipeline``) and once off (``generate``: transformers runs its own
``model.generate`` per reply in its own thread, as before issue 27; openvino runs the replies one at a
time on one ``LLMPipeline``). ``openvino`` needs ``openvino-genai`` (requirements-openvino.txt) and
the exported model (or an export Python).

For every level, that many replies start at once (recommendation requests built from ReDial seeker
messages, different ones at each level). Per level: p50 / p95 reply time, p50 / p95 first token (the
first model-written piece after the primed opening), replies that fell back to the template, the
aggregate generated tokens per second (model-written tokens of all replies / wall time of the level),
and the prompt tokens the level's replies started from (``processed_tokens_per_s`` counts them too:
replies here are short, so most of the work is prefill). The 1-stream level runs ``--alone-rounds``
replies one after another (each alone) and sums their times: one reply is too noisy a baseline.

Writes ``bench/results/<out>.json`` (default ``llm_batching`` for transformers,
``llm_batching_openvino``) with the load average: on the shared 2-core machine absolute numbers are
pessimistic; the ratios between levels and modes are measured side by side.
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
from workbench.dialogue.prompts import build_messages, reply_prefix
from workbench.dialogue.types import Turn


def one_reply(gen, req: GenerationRequest, prime: bool, count, out: list[dict], start: threading.Barrier,
              index: int) -> None:
    start.wait()
    t0 = time.perf_counter()
    stream = gen.stream(req)
    pieces = [(time.perf_counter() - t0, p) for p in stream]
    total = time.perf_counter() - t0
    model_pieces = pieces[1:] if prime else pieces
    fell_back = bool(stream.fell_back)
    out.append({"request": index, "text": "".join(p for _, p in pieces),
                "first_token_s": model_pieces[0][0] if model_pieces and not fell_back else float("nan"),
                "total_s": total, "fell_back": fell_back,
                "tokens": 0 if fell_back else count("".join(p for _, p in model_pieces))})


def one_round(gen, requests: list[GenerationRequest], prime: bool, count, rows: list[dict], first: int) -> float:
    """Start ``requests`` at once; the seconds until the last reply ended."""
    start = threading.Barrier(len(requests) + 1)
    threads = [threading.Thread(target=one_reply, args=(gen, req, prime, count, rows, start, first + i))
               for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def level(gen, requests: list[GenerationRequest], n: int, prime: bool, count, prompt_tokens: int) -> dict:
    """``len(requests) // n`` rounds of ``n`` replies at once, one round after another."""
    rows: list[dict] = []
    wall = sum(one_round(gen, requests[i:i + n], prime, count, rows, i) for i in range(0, len(requests), n))
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] == r["first_token_s"]]
    totals = [r["total_s"] for r in rows]
    tokens = sum(r["tokens"] for r in rows)
    return {"streams": n, "rounds": len(requests) // n, "wall_s": wall, "tokens": tokens,
            "tokens_per_s": tokens / wall, "prompt_tokens": prompt_tokens,
            "processed_tokens_per_s": (tokens + prompt_tokens) / wall,
            "fell_back": sum(r["fell_back"] for r in rows),
            "total_s_p50": percentile(totals, 50), "total_s_p95": percentile(totals, 95),
            "first_token_s_p50": percentile(firsts, 50) if firsts else float("nan"),
            "first_token_s_p95": percentile(firsts, 95) if firsts else float("nan"),
            "load_average": os.getloadavg()[0], "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=("transformers", "openvino"), default="transformers")
    parser.add_argument("--levels", default="1,8,20")
    parser.add_argument("--modes", default="batched,generate")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--timeout-s", type=float, default=Settings().generator_timeout_s,
                        help="generator_timeout_s (default: the setting's default)")
    parser.add_argument("--alone-rounds", type=int, default=8,
                        help="the 1-stream level runs this many replies one after another (one reply is too noisy)")
    parser.add_argument("--prompts", choices=("recommend", "chat"), default="recommend",
                        help="recommend: the app's prompt (~510 tokens, short replies); chat: the seeker's message "
                        "alone (~40 tokens), so decoding, not prefill, is the work")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="", help="result name under bench/results/ (default by generator)")
    args = parser.parse_args()
    out = args.out or ("llm_batching" if args.generator == "transformers" else f"llm_batching_{args.generator}")
    levels = [int(x) for x in args.levels.split(",")]
    sizes = [n * args.alone_rounds if n == 1 else n for n in levels]
    base = Settings(generator=args.generator, max_new_tokens=args.max_new_tokens,
                    generator_timeout_s=args.timeout_s)
    catalog = load_catalog(base.catalog)
    popular = sorted(catalog, key=lambda i: -i.mentions)[:200]
    rng = random.Random(args.seed)
    messages = seeker_messages(REDIAL_TEST, catalog, sum(sizes) + 1, args.seed)
    if args.prompts == "chat":  # the seeker's message alone as the chat: a short prompt, the reply is the work
        requests = [GenerationRequest(turns=(Turn("user", m),), messages=({"role": "user", "content": m},))
                    for m in messages]
    else:
        requests = [GenerationRequest(turns=(Turn("user", m),), recommendations=slate_for(m, catalog, popular, rng),
                                      intent="recommend") for m in messages]
    # each level gets requests of its own and the warm-up one more: no measured prompt is in a prefix cache
    # from an earlier level (only the fixed part every prompt starts with is)
    warm_up = requests.pop()
    batches = [requests[sum(sizes[:i]):sum(sizes[:i + 1])] for i in range(len(levels))]
    load_before = os.getloadavg()[0]
    results: dict[str, list[dict]] = {}
    for mode in args.modes.split(","):
        gen = load_generator(dataclasses.replace(base, generator_batching=mode == "batched"))
        gen.load()
        primary = gen.primary
        tokenizer = primary._tokenizer

        def count(text: str, tokenizer=tokenizer) -> int:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])

        def prompt_tokens(req: GenerationRequest, tokenizer=tokenizer) -> int:  # the prompt both backends build
            chat = [dict(m) for m in req.messages] or build_messages(req)
            text = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
            return count(text + ("" if req.messages else reply_prefix(req)))

        "".join(gen.stream(warm_up))  # warm-up (the shared prompt prefix, the batching manager), not counted
        name = primary.name
        results[mode] = []
        for n, batch in zip(levels, batches, strict=True):
            primed = primary.prime and args.prompts == "recommend"  # prebuilt chat messages are not primed
            r = level(gen, batch, n, primed, count, sum(prompt_tokens(req) for req in batch))
            results[mode].append(r)
            print(f"  {mode:<8} {n:3d} streams: {r['tokens_per_s']:6.2f} tok/s aggregate, p50 {r['total_s_p50']:6.1f}s "
                  f"first token p50 {r['first_token_s_p50']:6.1f}s, {r['fell_back']} fell back, "
                  f"load {r['load_average']:.1f}", flush=True)
        primary.close()
    print()
    runs = list(results.items())
    for (m, rs), (_, rs2) in zip(runs, runs[1:], strict=False):  # the same greedy text in both modes?
        for r, r2 in zip(rs, rs2, strict=True):
            texts = {row["request"]: row["text"] for row in r["rows"] if not row["fell_back"]}
            same = [texts[row["request"]] == row["text"] for row in r2["rows"] if row["request"] in texts]
            r2[f"same_text_as_{m}"] = f"{sum(same)} of {len(same)}"
    flat = [{"mode": m, **{k: v for k, v in r.items() if k != "rows"}} for m, rs in results.items() for r in rs]
    print(table(flat, ["mode", "streams", "rounds", "tokens", "tokens_per_s", "processed_tokens_per_s", "total_s_p50", "total_s_p95", "first_token_s_p50",
                       "first_token_s_p95", "fell_back", "load_average"]
                + [k for k in flat[-1] if k.startswith("same_text_as_")]))
    ratios = {m: {str(r["streams"]): r["tokens_per_s"] / rs[0]["tokens_per_s"] for r in rs}
              for m, rs in results.items() if rs and rs[0]["tokens_per_s"] > 0}
    print(f"aggregate tokens/s over {levels[0]} stream(s): {ratios}; threads {base.resolved_cpu_threads}; "
          f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    path = write(out, {"benchmark": "llm_batching", "generator": name, "model": base.generator_model,
                       "threads": base.resolved_cpu_threads, "max_new_tokens": args.max_new_tokens,
                       "timeout_s": args.timeout_s, "alone_rounds": args.alone_rounds, "prompts": args.prompts,
                       "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
                       "ratios_over_first_level": ratios, "levels": results, "machine_at_start": machine()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
