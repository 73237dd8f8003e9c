"""Benchmark: where the first token's time goes, and the app's generator against plain ``model.generate``.

    python bench/first_token.py [--n 6] [--breakdown 2] [--threads 0] [--out first_token]

Builds the generator the way the app does (``load_generator`` with ``generator=transformers``:
the bundled SmolLM2-135M, the prompt-prefix cache, ``cpu_threads``) and, on the identical
prompt ids (system prompt + worked example + candidates + conversation + the primed opening),
plain ``model.generate`` with torch's defaults (one thread per CPU, the whole prompt prefilled).
Both stream through a ``TextIteratorStreamer``, so "first token" means the same thing for both:
the first decoded text after the prompt. The configurations alternate per request, so a change
in the machine's load hits them alike:

* ``app``: the app's generator (its own thread count and dtype, ``generator_dtype``: bfloat16 on a
  CPU that has it natively; the cached prefix);
* ``plain``: ``model.generate`` as transformers gives it: the weights in float32 (the saved
  checkpoint's dtype), torch's default thread count;
* ``plain, app threads``: ``model.generate`` on the app's own model, threads and dtype (what the
  cache alone buys).

``--breakdown`` requests are also timed piece by piece (whole-prompt prefill, prefill of the part
after the cached prefix, one decode step) at 1 thread and at one per CPU, in float32 and in the
app's dtype. Reports the prompt's
tokens (cached / encoded per request), the prefix cache's hit rate, p50 first-token times and the
ratio app / plain, with the load average (these machines are shared: on a busy one every absolute
number is pessimistic, the ratios less so). Writes ``bench/results/first_token.json``.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import sys
import threading
import time

from _common import machine, percentile, table, write
from dialogue_llm import REDIAL_TEST, seeker_messages, slate_for

from workbench.catalog import load_catalog
from workbench.config import Settings
from workbench.dialogue.generators import GenerationRequest, load_generator
from workbench.dialogue.prompts import build_messages, reply_prefix
from workbench.dialogue.types import Turn


def app_first_token(gen, req: GenerationRequest) -> float:
    """Seconds until the app's generator yields its first model-written piece (after the primed opening)."""
    start = time.perf_counter()
    stream = gen.stream(req)
    try:
        for i, _ in enumerate(stream):
            if i >= (1 if gen.prime and req.recommendations else 0):
                return time.perf_counter() - start
    finally:
        stream.close()  # stops model.generate
    return time.perf_counter() - start


def plain_first_token(model, tokenizer, input_ids, attention_mask) -> float:
    """Seconds until plain ``model.generate`` on ``input_ids`` streams its first text."""
    import torch
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)

    def run() -> None:
        with torch.inference_mode():
            model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=4,
                           do_sample=False, temperature=None, top_p=None, top_k=None, streamer=streamer,
                           pad_token_id=tokenizer.pad_token_id)

    start = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    first = None
    for piece in streamer:
        if piece and first is None:
            first = time.perf_counter() - start
    worker.join()
    return first if first is not None else time.perf_counter() - start


def breakdown(model, prefix_ids, input_ids, threads: int) -> dict:
    """Whole-prompt prefill, prefill after the cached prefix, and one decode step, in seconds."""
    import torch

    torch.set_num_threads(threads)
    n = prefix_ids.shape[1]
    with torch.inference_mode():
        cache = model(input_ids=prefix_ids, use_cache=True).past_key_values
        t = time.perf_counter()
        model(input_ids=input_ids)
        full = time.perf_counter() - t
        past = copy.deepcopy(cache)
        t = time.perf_counter()
        out = model(input_ids=input_ids[:, n:], past_key_values=past, use_cache=True)
        suffix = time.perf_counter() - t
        nxt = out.logits[:, -1:].argmax(-1)
        t = time.perf_counter()
        for _ in range(3):
            out = model(input_ids=nxt, past_key_values=out.past_key_values, use_cache=True)
            nxt = out.logits[:, -1:].argmax(-1)
        decode = (time.perf_counter() - t) / 3
    return {"dtype": str(model.dtype).removeprefix("torch."), "threads": threads, "prefill_whole_s": full, "prefill_after_prefix_s": suffix,
            "decode_step_s": decode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="seeker messages (requests) to time")
    parser.add_argument("--breakdown", type=int, default=2, help="requests to time piece by piece")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0,
                        help="the app's cpu_threads (WORKBENCH_CPU_THREADS; default 0: half the CPUs)")
    parser.add_argument("--out", default="first_token", help="result name under bench/results/")
    args = parser.parse_args()

    import torch

    default_threads = torch.get_num_threads()  # torch's own choice, before the generator sets one
    settings = Settings(generator="transformers", cpu_threads=args.threads)
    catalog = load_catalog(settings.catalog)
    popular = sorted(catalog, key=lambda i: -i.mentions)[:200]
    if not REDIAL_TEST.exists():
        sys.exit(f"{REDIAL_TEST}: not found (ReDial test split)")
    rng = random.Random(args.seed)
    requests = [GenerationRequest(turns=(Turn("user", m),), recommendations=slate_for(m, catalog, popular, rng),
                                  intent="recommend")
                for m in seeker_messages(REDIAL_TEST, catalog, args.n + 1, args.seed)]
    load_before = os.getloadavg()[0]
    gen = load_generator(settings).primary  # the FallbackGenerator's TransformersGenerator
    gen.load()
    app_threads = torch.get_num_threads()
    app_first_token(gen, requests[0])  # warm-up; builds the prefix cache
    requests = requests[1:]
    tokenizer, model = gen._tokenizer, gen._model
    float_model = copy.deepcopy(model).float()  # what from_pretrained gives: the checkpoint is float32
    hits_before = gen.prompt_cache_hits

    rows = []
    for req in requests:
        messages = build_messages(req)
        enc = gen._encode(messages, reply_prefix(req))  # the very ids the app's generator encodes
        row = {"message": req.turns[-1].text[:60], "prompt_tokens": int(enc["input_ids"].shape[1]),
               "prefix_tokens": int(gen._prefix[1].shape[1])}
        row["encoded_tokens"] = row["prompt_tokens"] - row["prefix_tokens"]
        torch.set_num_threads(app_threads)
        row["app_s"] = app_first_token(gen, req)
        torch.set_num_threads(default_threads)
        row["plain_s"] = plain_first_token(float_model, tokenizer, enc["input_ids"], enc["attention_mask"])
        torch.set_num_threads(app_threads)
        row["plain_app_threads_s"] = plain_first_token(model, tokenizer, enc["input_ids"], enc["attention_mask"])
        row["ratio"] = row["app_s"] / row["plain_s"]
        rows.append(row)
        print(f"  {row['prompt_tokens']} tok ({row['encoded_tokens']} encoded): app {row['app_s']:.2f}s "
              f"plain {row['plain_s']:.2f}s plain@{app_threads}t {row['plain_app_threads_s']:.2f}s "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    hits = gen.prompt_cache_hits - hits_before

    pieces = []
    for req in requests[: args.breakdown]:
        ids = gen._encode(build_messages(req), reply_prefix(req))["input_ids"]
        for threads in sorted({1, os.cpu_count() or 1}):
            for m in (float_model, model) if model.dtype != float_model.dtype else (model,):
                pieces.append({"prompt_tokens": int(ids.shape[1]), **breakdown(m, gen._prefix[1], ids, threads)})
    torch.set_num_threads(app_threads)

    def p50(key: str, src=rows) -> float:
        return percentile([r[key] for r in src], 50)

    summary = {
        "app_first_token_p50_s": p50("app_s"),
        "plain_generate_first_token_p50_s": p50("plain_s"),
        "plain_generate_app_threads_first_token_p50_s": p50("plain_app_threads_s"),
        "ratio_app_over_plain_p50": p50("ratio"),
        "ratio_of_p50s": p50("app_s") / p50("plain_s"),
        "ratio_app_over_plain_same_threads": p50("app_s") / p50("plain_app_threads_s"),
        "prompt_tokens_p50": p50("prompt_tokens"),
        "prefix_tokens": rows[0]["prefix_tokens"] if rows else None,
        "encoded_tokens_p50": p50("encoded_tokens"),
        "prefix_cache_hit_rate": hits / max(1, len(requests)),
        "app_threads": app_threads,
        "app_dtype": gen.dtype,
        "torch_default_threads": default_threads,
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "target": "ratio <= 0.4 and app p50 <= 0.5 s on a quiet 2-core machine",
    }
    print()
    print(table(rows, ["prompt_tokens", "encoded_tokens", "app_s", "plain_s", "plain_app_threads_s", "ratio"]))
    print()
    if pieces:
        print(table(pieces, ["prompt_tokens", "dtype", "threads", "prefill_whole_s", "prefill_after_prefix_s",
                             "decode_step_s"]))
        print()
    print(f"app first token p50 {summary['app_first_token_p50_s']:.2f}s; plain model.generate "
          f"{summary['plain_generate_first_token_p50_s']:.2f}s (float32, {default_threads} threads), "
          f"{summary['plain_generate_app_threads_first_token_p50_s']:.2f}s ({gen.dtype}, {app_threads} threads); "
          f"ratio app/plain p50 {summary['ratio_app_over_plain_p50']:.2f} "
          f"(same threads {summary['ratio_app_over_plain_same_threads']:.2f}); "
          f"prefix cache hit rate {summary['prefix_cache_hit_rate']:.0%}; "
          f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    path = write(args.out, {"benchmark": "first_token", "model": settings.generator_model,
                                 "source": gen.source, **summary, "rows": rows, "breakdown": pieces,
                                 "machine_at_start": machine()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
