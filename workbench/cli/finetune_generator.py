"""``python -m workbench finetune generator``: fine-tune the dialogue generator on ReDial
conversations and/or annotators' feedback (SFT or DPO with TRL), and save it with its manifest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(fsub: argparse._SubParsersAction) -> None:
    g = fsub.add_parser(
        "generator",
        help="fine-tune the reply generator on ReDial replies and feedback (TRL SFT or DPO)",
        description=(
            "SFT examples: every ReDial recommender turn that mentions movies (--redial; the prompt is "
            "what the app gives the model for that conversation and a slate of the movies the turn "
            "mentions, the target is the person's reply) and replies annotators liked (--feedback). "
            "DPO pairs: liked vs disliked replies on one context (--feedback). A --holdout share of "
            "the conversations is never trained on; the manifest lists them. Serve the result with "
            "WORKBENCH_GENERATOR_MODEL=OUT, compare it with: python -m workbench eval replies."
        ),
    )
    g.add_argument("--out", type=Path, required=True, help="new folder for the fine-tuned model")
    g.add_argument("--redial", type=Path, metavar="FILE", default=None, help="ReDial JSONL (e.g. train.jsonl)")
    g.add_argument("--feedback", type=Path, metavar="DIR", default=None, help="feedback data folder")
    g.add_argument("--model", default=None,
                   help="base model (default: the generator_model setting; for 'default', the plain bundled base "
                   "smollm2-135m-instruct that the shipped adapter was trained on)")
    g.add_argument("--method", choices=("sft", "dpo"), default="sft", help="TRL trainer (default: sft)")
    g.add_argument("--max-steps", type=int, default=100,
                   help="stop after this many steps (default: 100, minutes on a free 2-core CPU; 0: run --epochs)")
    g.add_argument("--max-minutes", type=float, default=None,
                   help="also stop after this many minutes of training and save what was learnt "
                   "(constant learning rate after warm-up; the manifest records the steps that ran)")
    g.add_argument("--epochs", type=int, default=1, help="passes over the data when --max-steps is 0")
    g.add_argument("--holdout", type=float, default=0.1, help="share of conversations never trained on")
    g.add_argument("--batch-size", type=int, default=2, help="examples per step")
    g.add_argument("--lr", type=float, default=None,
                   help="peak learning rate (default: 5e-5 full, 2e-4 LoRA, 5e-6 DPO)")
    g.add_argument("--lora-r", type=int, default=0, help="train a LoRA adapter of this rank (0: all weights)")
    g.add_argument("--adapter", action="store_true",
                   help="with --lora-r: save the LoRA adapter alone (float16, a few MB) instead of a merged model")
    g.add_argument("--train-layers", type=int, default=8,
                   help="train only the top N transformer blocks (default: 8 of SmolLM2's 30; 0: all)")
    g.add_argument("--max-length", type=int, default=1024, help="token cap per example (longer ones are left out)")
    g.add_argument("--keep-ungrounded", action="store_true",
                   help="also train on human replies the grounder would change (titles typed without @)")
    g.add_argument("--no-prime", action="store_true",
                   help="serve the model without the primed opening (\"You might enjoy <title>\"); "
                   "by default the app primes it like the base model, which measured better")
    g.add_argument("--catalog", default=None, help="catalogue (default: the catalog setting)")
    g.add_argument("--seed", type=int, default=0, help="seeds the split and training")
    g.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    g.add_argument("--json", type=Path, default=None, dest="json_out", help="write the report here")
    g.set_defaults(func=_generator)


def _generator(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.config import Settings
    from workbench.errors import EvaluationError
    from workbench.evaluate import reply_data
    from workbench.finetune.generator import finetune_generator, training_rows

    settings = Settings.from_env()
    if args.redial is None and args.feedback is None:
        raise EvaluationError("finetune generator: give --redial FILE and/or --feedback DIR")
    if args.method == "dpo" and args.feedback is None:
        raise EvaluationError("finetune generator: --method dpo needs --feedback (ReDial has no rejected replies)")
    if args.method == "dpo" and args.redial is not None:
        raise EvaluationError("finetune generator: --method dpo learns from --feedback only; drop --redial")
    if not 0.0 <= args.holdout < 1.0:  # before any loading
        raise EvaluationError(f"--holdout must be at least 0 and below 1, got {args.holdout!r}")
    if args.max_steps < 0:
        raise EvaluationError(f"--max-steps must be >= 0, got {args.max_steps!r}")
    catalog = load_catalog(args.catalog or settings.catalog, settings.catalog_columns or None)
    examples: list[reply_data.ReplyExample] = []
    report: dict = {"method": args.method, "sources": {}}
    if args.redial is not None and args.method == "sft":
        from workbench.dialogue.grounding import Grounder
        from workbench.dialogue.prompts import INSTRUCTIONS
        from workbench.evaluate.redial import load_dialogues

        grounder = None if args.keep_ungrounded else Grounder(catalog, instructions=INSTRUCTIONS)
        found, skipped = reply_data.redial_examples(load_dialogues(args.redial), catalog, grounder=grounder)
        examples += found
        report["sources"]["redial"] = {"file": str(args.redial), "examples": len(found), "skipped": skipped}
    if args.feedback is not None:
        from workbench.feedback.store import JsonlFeedbackStore

        result = JsonlFeedbackStore(args.feedback).read()
        for bad in result.problems:
            print(f"warning: {bad}", file=sys.stderr)
        found, missing = reply_data.feedback_examples(result.records, catalog, args.method)
        if missing:
            print(f"warning: {missing} slate item(s) are not in the catalogue and were left out", file=sys.stderr)
        examples += found
        report["sources"]["feedback"] = {"folder": str(args.feedback), "records": len(result.records),
                                         "examples": len(found)}
    if not examples:
        raise EvaluationError(f"finetune generator: the data gives no {args.method} examples "
                              f"({json.dumps(report['sources'])})")
    train, held = reply_data.split_examples(examples, args.holdout, seed=args.seed)
    rows = training_rows(train, args.method)
    held_groups = sorted({e.group for e in held})
    print(f"{len(rows)} {args.method} rows from {len({e.group for e in train})} conversations; "
          f"{len(held_groups)} conversations held out", file=sys.stderr)
    meta = finetune_generator(
        _base_model(args.model or settings.generator_model), rows, args.out, method=args.method, epochs=args.epochs,
        max_steps=args.max_steps or None, batch_size=args.batch_size, lr=args.lr, lora_r=args.lora_r,
        adapter=args.adapter,
        train_layers=args.train_layers, prime=not args.no_prime, seed=args.seed, max_length=args.max_length,
        max_minutes=args.max_minutes,
        device=args.device,
        cache_dir=settings.cache_dir,
        extra_meta={"sources": report["sources"], "holdout": args.holdout, "holdout_groups": held_groups},
        log=lambda line: print(line, file=sys.stderr),
    )
    report.update({k: meta[k] for k in ("base_model", "rows", "rows_too_long", "steps", "train_loss",
                                         "train_seconds", "data_hash")})
    report.update(out=str(args.out), held_out_conversations=len(held_groups))
    print(f"{meta['method']}: {meta['rows']} rows, {meta['steps']} steps, train loss {meta['train_loss']:.3f}, "
          f"{meta['train_seconds']:.0f}s -> {args.out}")
    if args.adapter:
        print(f"ship it as the default generator's adapter: copy {args.out}/* into assets/generator-adapter/ "
              "(docs/finetuning.md)")
    else:
        print(f"serve it with: WORKBENCH_GENERATOR_MODEL={args.out}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0


def _base_model(name: str) -> str:
    """The base to train: ``default`` (base + shipped adapter) means its plain base, so a new adapter
    or fine-tune never stacks on the shipped one by accident (name a merged folder to do that)."""
    from workbench.dialogue.generators.transformers import ADAPTED_MODEL, DEFAULT_MODEL

    return DEFAULT_MODEL if name == ADAPTED_MODEL else name
