"""The cost of asking: the question policy per turn, the app's turn with and without it, and the
simulation's throughput.

1. Replays the seeker messages of ReDial test dialogues (titles in place of ``@id``) through the app's
   engine (settings' catalogue, saved index, hybrid recommender, template generator), timing per turn
   the whole ``respond`` with the question policy on and, on a copy of the same state, off; and the
   policy's own ``choose`` on that turn's candidate pool.
2. Runs ``eval simulate``'s protocol (attribute mode, the asking engine only, k=10) on the first
   ``--samples`` test samples with the weights of ``--weights`` and reports samples per second.

    python bench/simulate.py [--dialogues N] [--samples N] [--weights bench/results/eval_redial_gold.json]

Target: turn p50 under 30 ms without an LLM (issue 15).
Prints a table and writes ``bench/results/simulate.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _common import machine, percentile  # noqa: E402


def _stats(name: str, ms: list[float]) -> dict:
    return {"stage": name, "n": len(ms), "p50_ms": round(percentile(ms, 50), 3),
            "p99_ms": round(percentile(ms, 99), 3), "mean_ms": round(sum(ms) / max(len(ms), 1), 3)}


def turn_costs(dialogues: list, settings) -> tuple[list[dict], dict]:
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.evaluate.redial import seeker_texts
    from workbench.services import build_engine

    engine = build_engine(settings, generator=TemplateGenerator())
    quiet = engine.with_parts(questions=None)
    engine.respond(engine.new_state("warm"), "I loved Heat, anything similar from the 90s?")
    asking, silent, policy = [], [], []
    asked = 0
    for conv in dialogues:
        state = engine.new_state(str(conv["conversationId"]))
        for text in seeker_texts(conv, engine.catalog):
            probe = state.copy()
            t = time.perf_counter()
            quiet.respond(probe, text)
            silent.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            result = engine.respond(state, text)
            asking.append((time.perf_counter() - t) * 1000)
            asked += result.question is not None
            pool = engine.ranker.combine(engine.ranker.gather(state), engine.questions.pool)  # after the turn
            t = time.perf_counter()
            engine.question_for(state, pool, engine.k)
            policy.append((time.perf_counter() - t) * 1000)
    rows = [_stats("respond, questions on", asking), _stats("respond, questions off", silent),
            _stats("question policy (choose)", policy)]
    return rows, {"turns": len(asking), "questions_asked": asked, "catalog_items": len(engine.catalog)}


def simulation_rate(settings, train_path: Path, test_path: Path, weights_path: Path, n: int) -> dict:
    from workbench.catalog import load_catalog
    from workbench.dialogue.titles import TitleIndex
    from workbench.evaluate import redial
    from workbench.evaluate.simulation import protocol
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import open_retriever

    train, test = redial.load_dialogues(train_path), redial.load_dialogues(test_path)
    catalog = load_catalog(settings.catalog, settings.catalog_columns or None)
    retriever = open_retriever(catalog, load_embedder(settings.embed_model, settings.device, settings.cache_dir),
                               settings.index_dir, settings.index_kind)
    titles = TitleIndex(catalog)
    ranker = protocol.build_ranker(catalog, retriever, retriever.index, train, titles)
    systems = protocol.engines(ranker, protocol.weights_from(weights_path), titles)
    systems.pop(protocol.CONTROL)
    sample_list = redial.samples(test, catalog)[:n]
    report, _ = protocol.simulate(systems, protocol.attribute_simulator(catalog), sample_list, rounds=5, ks=(10,),
                                  log=lambda _: None)
    return {"samples": len(sample_list), "k": 10, "rounds": 5, "seconds": report["seconds"],
            "samples_per_s": report["samples_per_s"], "simulated_turns": report["simulated_turns"],
            "turns_per_s": round(report["simulated_turns"] / max(report["seconds"], 1e-9), 2)}


def main() -> int:
    data = ROOT.parent / "shared" / "data" / "redial"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=data / "train.jsonl")
    parser.add_argument("--test", type=Path, default=data / "test.jsonl")
    parser.add_argument("--dialogues", type=int, default=60, help="test dialogues replayed for turn costs")
    parser.add_argument("--samples", type=int, default=100, help="test samples simulated for the rate (0: skip)")
    parser.add_argument("--weights", type=Path, default=ROOT / "bench" / "results" / "eval_redial_gold.json")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "simulate.json")
    args = parser.parse_args()

    from workbench.config import Settings
    from workbench.evaluate.redial import load_dialogues

    settings = Settings.from_env(generator="template", cache_dir="")
    rows, info = turn_costs(load_dialogues(args.test)[: args.dialogues], settings)
    rate = simulation_rate(settings, args.train, args.test, args.weights, args.samples) if args.samples else None
    report = {"machine": machine(), **info, "target": "respond p50 < 30 ms without an LLM", "results": rows,
              "simulation": rate}
    print(f"{info['turns']} seeker turns, {info['questions_asked']} asked a question, {info['catalog_items']} items")
    print(f"{'stage':<28} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for r in rows:
        print(f"{r['stage']:<28} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['mean_ms']:>8.2f}")
    if rate:
        print(f"simulation: {rate['samples']} samples x 1 system x k=10, {rate['samples_per_s']} samples/s, "
              f"{rate['turns_per_s']} simulated turns/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
