"""Benchmark: the dialogue generator with SmolLM2 (time to first token, tokens/s) vs the template.

Samples seeker messages from ReDial's test split (``@movieId`` rendered as
titles), gives each a five-item slate from the catalogue, and measures per reply:

* ``first_piece_s``: time until the first text reaches the caller (the primed opening),
* ``first_token_s``: time until the model's first generated token,
* ``tokens_per_s``: generated tokens / time after the first token,
* ``total_s``, the grounding fixes and whether the grounded reply still names the slate.

The same requests run, alternating, through a second generator without the
prompt cache (the system prompt + worked example re-encoded every time) for a
side-by-side first-token ratio, and through the template generator.
The machine's load average is recorded, because the numbers depend on it.

    python bench/dialogue_llm.py [--n 12] [--threads N] [--max-new-tokens 160]

Writes ``bench/results/dialogue_llm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import percentile  # noqa: E402

from workbench.catalog import Catalog, Item, load_catalog  # noqa: E402
from workbench.config import Settings  # noqa: E402
from workbench.dialogue.generators import (  # noqa: E402
    GenerationRequest,
    TemplateGenerator,
    TransformersGenerator,
)
from workbench.dialogue.grounding import Grounder  # noqa: E402
from workbench.dialogue.types import Recommendation, Turn  # noqa: E402

REDIAL_TEST = ROOT.parent / "shared" / "data" / "redial" / "test.jsonl"
RESULTS = ROOT / "bench" / "results" / "dialogue_llm.json"


def seeker_messages(path: Path, catalog: Catalog, n: int, seed: int) -> list[str]:
    """``n`` seeker messages (at least 4 words) with ``@id`` mentions rendered as display titles."""
    messages = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            conv = json.loads(line)
            seeker = conv["initiatorWorkerId"]
            for m in conv["messages"]:
                if m["senderWorkerId"] != seeker:
                    continue
                text = re.sub(r"@(\d+)", lambda mm, c=conv: _title(catalog, c, mm.group(1)), m["text"])
                if len(text.split()) >= 4:
                    messages.append(text)
    return random.Random(seed).sample(messages, min(n, len(messages)))


def _title(catalog: Catalog, conv: dict, movie_id: str) -> str:
    item = catalog.get(movie_id)
    if item is not None:
        return item.display_title
    return " ".join(conv.get("movieMentions", {}).get(movie_id, "a movie").split())


def slate_for(message: str, catalog: Catalog, popular: list[Item], rng: random.Random, k: int = 5):
    """A plausible slate: popular items sharing a genre word with the message, else popular items."""
    words = set(re.findall(r"[a-z]+", message.lower()))
    matching = [i for i in popular if any(g.lower().split()[0] in words for g in i.genres)]
    pool = matching if len(matching) >= k else popular
    items = rng.sample(pool[:60], k)
    return tuple(
        Recommendation(item, rank, 1.0 / rank,
                       reason=f"A popular {(item.genres[0].lower() if item.genres else 'film')}"
                              + (f" directed by {item.directors[0]}" if item.directors else ""))
        for rank, item in enumerate(items, 1)
    )


def measure(gen: TransformersGenerator, req: GenerationRequest, grounder: Grounder) -> dict:
    """Stream one reply and time it."""
    start = time.perf_counter()
    pieces: list[tuple[float, str]] = []
    for piece in gen.stream(req):
        pieces.append((time.perf_counter() - start, piece))
    total = time.perf_counter() - start
    text = "".join(p for _, p in pieces)
    model_pieces = pieces[1:] if gen.prime and req.recommendations else pieces  # [0] is the primed opening
    generated = "".join(p for _, p in model_pieces)
    n_tokens = len(gen._tokenizer(generated, add_special_tokens=False)["input_ids"])
    first_token = model_pieces[0][0] if model_pieces else total
    grounded = grounder.ground(text, req.recommendations)
    return {
        "message": req.turns[-1].text[:80],
        "slate": [r.item.display_title for r in req.recommendations],
        "raw_reply": text,
        "reply": grounded.text,
        "fixes": [f"{f.kind} {f.span!r} ({f.reason})" for f in grounded.events],
        "first_piece_s": pieces[0][0] if pieces else total,
        "first_token_s": first_token,
        "total_s": total,
        "tokens": n_tokens,
        "tokens_per_s": (n_tokens - 1) / (total - first_token) if n_tokens > 1 and total > first_token
        else float("nan"),
        "grounding_fixes": grounded.fixes,
        "names_slate_item": grounded.names_slate_item,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="seeker messages to sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--max-new-tokens", type=int, default=Settings().max_new_tokens)
    parser.add_argument("--model", default=Settings().generator_model)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    settings = Settings()
    catalog = load_catalog(settings.catalog)
    popular = sorted(catalog, key=lambda i: -i.mentions)[:200]
    if not REDIAL_TEST.exists():
        sys.exit(f"{REDIAL_TEST}: not found (ReDial test split)")
    messages = seeker_messages(REDIAL_TEST, catalog, args.n, args.seed)
    rng = random.Random(args.seed)
    requests = [
        GenerationRequest(turns=(Turn("user", m),), recommendations=slate_for(m, catalog, popular, rng),
                          intent="recommend")
        for m in messages
    ]
    load_before = os.getloadavg()

    # load: first construction may convert the GGUF; a second generator shows the cached load
    t0 = time.perf_counter()
    TransformersGenerator(args.model, cache_dir=settings.cache_dir).load()
    first_load_s = time.perf_counter() - t0
    configs = {
        "prompt cache": TransformersGenerator(args.model, cache_dir=settings.cache_dir,
                                              max_new_tokens=args.max_new_tokens),
        "no prompt cache": TransformersGenerator(args.model, cache_dir=settings.cache_dir,
                                                 max_new_tokens=args.max_new_tokens, cache_prompt=False),
    }
    for gen in configs.values():
        gen.load()
        gen.generate(requests[0])  # warm-up (and builds the prompt cache), not counted
    cached_load_s = configs["prompt cache"].load_seconds
    grounder = Grounder(catalog)

    rows: dict[str, list[dict]] = {name: [] for name in configs}
    for req in requests:  # the two configurations alternate, so load changes hit both alike
        for name, gen in configs.items():
            rows[name].append(measure(gen, req, grounder))
            r = rows[name][-1]
            print(f"  {name:<16}{r['first_token_s']:6.2f}s first token  {r['tokens']:4d} tok "
                  f"{r['tokens_per_s']:6.1f} tok/s  fixes {r['grounding_fixes']}", flush=True)

    template = TemplateGenerator()
    t_template = []
    for req in requests:
        start = time.perf_counter()
        "".join(template.stream(req))
        t_template.append(time.perf_counter() - start)

    def summary(name: str, key: str) -> dict[str, float]:
        vals = [r[key] for r in rows[name] if r[key] == r[key]]
        return {"p50": percentile(vals, 50), "p90": percentile(vals, 90),
                "mean": statistics.fmean(vals) if vals else float("nan")}

    keys = ("first_piece_s", "first_token_s", "total_s", "tokens", "tokens_per_s")
    main_rows = rows["prompt cache"]
    gen = configs["prompt cache"]
    result = {
        "benchmark": "dialogue_llm",
        "model": args.model,
        "source": gen.source,
        "device": gen.device,
        "torch_threads": torch.get_num_threads(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "n": len(main_rows),
        "max_new_tokens": args.max_new_tokens,
        "first_load_s": first_load_s,
        "cached_load_s": cached_load_s,
        **{key: summary("prompt cache", key) for key in keys},
        "no_prompt_cache": {key: summary("no prompt cache", key) for key in keys},
        "first_token_speedup_p50": summary("no prompt cache", "first_token_s")["p50"]
        / max(summary("prompt cache", "first_token_s")["p50"], 1e-9),
        "grounding_fixes_total": sum(r["grounding_fixes"] for r in main_rows),
        "replies_naming_slate": sum(r["names_slate_item"] for r in main_rows),
        "template_total_s": {"p50": percentile(t_template, 50), "p90": percentile(t_template, 90)},
        "llm_over_template_p50": summary("prompt cache", "total_s")["p50"] / max(percentile(t_template, 50), 1e-9),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))

    print()
    print(f"model {args.model} on {gen.device}, torch threads {torch.get_num_threads()}, "
          f"{len(main_rows)} seeker messages, load avg {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'metric':<22}{'p50':>9}{'p90':>9}{'mean':>9}   {'no cache p50':>12}")
    for key in keys:
        a, b = result[key], result["no_prompt_cache"][key]
        print(f"{key:<22}{a['p50']:>9.3f}{a['p90']:>9.3f}{a['mean']:>9.3f}   {b['p50']:>12.3f}")
    print(f"{'template total_s':<22}{result['template_total_s']['p50']:>9.5f}"
          f"{result['template_total_s']['p90']:>9.5f}")
    print(f"first-token speed-up from the prompt cache (p50): {result['first_token_speedup_p50']:.2f}x")
    print(f"load: first {first_load_s:.2f}s, cached {cached_load_s:.2f}s; grounding fixes "
          f"{result['grounding_fixes_total']} over {len(main_rows)} replies; "
          f"{result['replies_naming_slate']}/{len(main_rows)} still name a slate item")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
