"""Per-turn latency of the chat engine without an LLM: understanding + recommending.

Replays the seeker messages of ReDial's test dialogues (``@id`` markers replaced by titles, so
the linker does real work) through one engine built from the settings (default catalogue,
saved index, hybrid recommender) with the template generator and no embedding disk cache, one
conversation per dialogue.
Timed per turn: ``understand`` (linking, stance, constraints, intent), ``recommend`` (gather +
merge: recommender, retriever, attributes, prior) and ``turn`` (the whole ``respond`` call with
the template reply and grounding); ``recommend, all sources`` times the same engine with the
optional ``history_dense``, ``recent`` and ``suggested`` sources on as well (the ReDial-tuned
system), side by side. Prints a table and writes ``bench/results/dialogue_turn.json``.

    python bench/dialogue_turn.py [--dialogues N] [--test PATH]

Target: p50 of ``recommend`` + ``understand`` under 30 ms on the default catalogue.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _common import percentile  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=Path, default=ROOT.parent / "shared" / "data" / "redial" / "test.jsonl")
    parser.add_argument("--dialogues", type=int, default=150, help="dialogues replayed (0: all)")
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dialogue_turn.json")
    args = parser.parse_args()

    from workbench.config import Settings
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.evaluate.redial import load_dialogues, seeker_texts
    from workbench.services import build_engine

    # no embedding disk cache: every query is encoded, as for a user typing something new
    overrides = {"generator": "template", "cache_dir": ""}
    if args.index_dir:
        overrides["index_dir"] = args.index_dir
    settings = Settings.from_env(**overrides)
    t0 = time.perf_counter()
    engine = build_engine(settings, generator=TemplateGenerator())
    build_s = time.perf_counter() - t0
    dialogues = load_dialogues(args.test)
    if args.dialogues:
        dialogues = dialogues[: args.dialogues]
    # warm up (first encode loads the embedding model)
    engine.respond(engine.new_state("warmup"), "I loved Heat, anything similar from the 90s?")

    # the same engine with every optional source on (what the ReDial-tuned system gathers)
    from dataclasses import replace

    every = engine.with_weights(replace(engine.weights, history_dense=engine.weights.history_dense or 1.0,
                                        recent=1.0, suggested=1.0))
    und, rec, turn, rec_all = [], [], [], []
    for conv in dialogues:
        state = engine.new_state(str(conv["conversationId"]))
        for text in seeker_texts(conv, engine.catalog):
            probe = state.copy()
            t = time.perf_counter()
            u = engine.understand(probe, text)
            t1 = time.perf_counter()
            probe.apply(u)
            probe.add_turn("user", text)
            # the two engines alternate going first, so neither always finds the other's caches warm
            ms = {}
            for eng in ((engine, every) if len(und) % 2 == 0 else (every, engine)):
                ta = time.perf_counter()
                eng.ranker.combine(eng.ranker.gather(probe, u), engine.k)
                ms[eng is every] = (time.perf_counter() - ta) * 1000
            rec_all.append(ms[True])
            t2 = t1 + ms[False] / 1000
            t2_end = time.perf_counter()
            engine.respond(state, text)
            t3 = time.perf_counter()
            t3 = t2 + (t3 - t2_end)  # respond's own time
            und.append((t1 - t) * 1000)
            rec.append((t2 - t1) * 1000)
            turn.append((t3 - t2) * 1000)
    both = [a + b for a, b in zip(und, rec, strict=True)]
    both_all = [a + b for a, b in zip(und, rec_all, strict=True)]
    rows = [("understand", und), ("recommend", rec), ("understand+recommend", both), ("respond (template)", turn),
            ("recommend, all sources", rec_all), ("understand+recommend, all", both_all)]
    report = {
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_version()}",
        "catalog_items": len(engine.catalog),
        "dialogues": len(dialogues),
        "turns": len(und),
        "engine_build_s": round(build_s, 2),
        "target": "understand+recommend p50 < 30 ms",
        "results": [{"stage": name, "p50_ms": round(percentile(v, 50), 2), "p99_ms": round(percentile(v, 99), 2),
                     "mean_ms": round(sum(v) / len(v), 2)} for name, v in rows],
    }
    print(f"{len(und)} seeker turns from {len(dialogues)} dialogues, {len(engine.catalog)} items, "
          f"engine built in {build_s:.1f} s ({report['machine']})")
    print(f"{'stage':<26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for r in report["results"]:
        print(f"{r['stage']:<26} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['mean_ms']:>8.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
