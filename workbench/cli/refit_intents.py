"""``python -m workbench refit intents``: fit the intent model (:mod:`workbench.dialogue.intent_model`).

``refit intents [--data DIR] [--out DIR] [--c 16]`` fits on the labelled set's ``dev`` split plus
``intents_train.jsonl`` (never the held-out split) over the embeddings of ``WORKBENCH_EMBED_MODEL``
and writes ``weights.npz`` + ``meta.json``. Before that it fits a model on ``dev`` alone and reads
``intents_train.jsonl`` with the rules alone and with the rules plus that model: messages neither
the rules nor that model were tuned on, so the manifest records an honest estimate of the gain.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any


def register(rsub: argparse._SubParsersAction) -> None:
    from workbench.cli.eval_understanding import DEFAULT_DATA
    from workbench.dialogue.intent_model import BUNDLED_DIR

    r = rsub.add_parser("intents", help="the intent model: an embedding classifier that second-guesses the rules",
                        description=__doc__.split("\n\n", 1)[1])
    r.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"labelled set directory (default {DEFAULT_DATA})")
    r.add_argument("--out", type=Path, default=BUNDLED_DIR, help=f"folder to write the model into (default {BUNDLED_DIR})")
    r.add_argument("--c", type=float, default=16.0, help="inverse L2 strength of the logistic regression (default 16)")
    r.set_defaults(func=run)


def _accuracy(engine: Any, examples: list, guesser: Any) -> float:
    from workbench.evaluate.understanding import replay

    engine.understander.intent_guesser = guesser
    right = sum(engine.understand(replay(engine, ex), ex.text).intent == ex.intent for ex in examples)
    return round(right / max(len(examples), 1), 4)


def run(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.dialogue.intent_model import IntentGuesser, data_hash, fit_intent_model, save_intent_model
    from workbench.evaluate.understanding import load_intent_training
    from workbench.manifest import package_versions
    from workbench.services import build_engine

    settings = Settings.from_env(generator="template", intent_model="off")
    engine = build_engine(settings, generator=TemplateGenerator())
    embedder = engine.ranker.retriever.embedder
    dev, extra = load_intent_training(args.data, engine.catalog)
    dev_rows = [(ex.text, bool(ex.slate), ex.intent) for ex in dev]
    rows = dev_rows + [(ex.text, bool(ex.slate), ex.intent) for ex in extra]
    # the untuned check: a model fitted on dev alone, read on the messages written after the rules
    dev_model = fit_intent_model(dev_rows, embedder, c=args.c)
    check = {
        "examples": len(extra),
        "rules_alone": _accuracy(engine, extra, None),
        "rules_with_dev_model": _accuracy(engine, extra, IntentGuesser(dev_model, embedder)),
    }
    engine.understander.intent_guesser = None
    print(f"intents_train ({check['examples']} messages): intent accuracy rules alone {check['rules_alone']:.3f}, "
          f"rules + a model fitted on dev alone {check['rules_with_dev_model']:.3f}", file=sys.stderr)
    model = fit_intent_model(rows, embedder, c=args.c)
    meta = {"data": str(args.data), "data_hash": data_hash(rows), "rows": len(rows), "c": args.c,
            "untuned_check": check, "versions": package_versions(["scikit-learn", "sentence-transformers"])}
    out = args.out
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    save_intent_model(model, tmp, meta)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)  # written whole, then put in place
    print(f"wrote {out} ({len(rows)} examples, {len(model.classes)} intents, embedder {model.embedder_id})")
    return 0
