"""``python -m workbench finetune retriever``: fine-tune the embedder on feedback or ReDial pairs,
then compare base and fine-tuned retrieval on held-out conversations. ``finetune generator``
lives in :mod:`workbench.cli.finetune_generator`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="fine-tune models on feedback and measure the change")
    fsub = p.add_subparsers(dest="finetune_command", metavar="MODEL", required=True)
    r = fsub.add_parser(
        "retriever",
        help="fine-tune the retriever's embedder; report Recall@k / MRR before and after",
        description=(
            "Training pairs come from annotators' feedback (--feedback: the triplets export rules) or, "
            "as a demonstration without annotations, from ReDial dialogues (--redial: the seeker's "
            "request in context -> the movie the recommender names). A --holdout share of the "
            "conversations is kept out of training; base and fine-tuned models rank the whole "
            "catalogue for each held-out anchor. Rebuild the index with the result: "
            "python -m workbench index build --model OUT."
        ),
    )
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--feedback", type=Path, metavar="DIR", help="feedback data folder")
    src.add_argument("--redial", type=Path, metavar="FILE", help="ReDial JSONL (e.g. train.jsonl)")
    r.add_argument("--test", type=Path, metavar="FILE", default=None,
                   help="with --redial: also evaluate on this ReDial JSONL (e.g. test.jsonl)")
    r.add_argument("--out", type=Path, required=True, help="new folder for the fine-tuned model")
    r.add_argument("--model", default=None, help="base model (default: the embed_model setting)")
    r.add_argument("--catalog", default=None, help="catalogue (default: the catalog setting)")
    r.add_argument("--epochs", type=int, default=1, help="passes over the training pairs")
    r.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    r.add_argument("--batch-size", type=int, default=32, help="pairs per step (in-batch negatives)")
    r.add_argument("--lr", type=float, default=2e-5, help="peak learning rate")
    r.add_argument("--max-seq-length", type=int, default=None, help="token cap per text (faster on CPU)")
    r.add_argument("--holdout", type=float, default=0.2, help="share of conversations held out")
    r.add_argument("--seed", type=int, default=0, help="seeds the split and training")
    r.add_argument("--device", default=None, help="torch device (default: the device setting)")
    r.add_argument("--json", type=Path, default=None, dest="json_out", help="write the report here")
    r.set_defaults(func=_retriever)
    from workbench.cli import finetune_generator

    finetune_generator.register(fsub)


def _retriever(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.config import Settings
    from workbench.errors import EvaluationError
    from workbench.evaluate import retrieval

    settings = Settings.from_env()
    if not 0.0 < args.holdout < 1.0:  # before any loading
        raise EvaluationError(f"--holdout must be between 0 and 1 (exclusive), got {args.holdout!r}")
    if args.test is not None and args.redial is None:
        raise EvaluationError("--test needs --redial (feedback has no separate test file)")
    catalog = load_catalog(args.catalog or settings.catalog, settings.catalog_columns or None)
    test_rows: list[retrieval.PairRow] = []
    if args.redial is not None:
        from workbench.evaluate.redial import load_dialogues

        rows = retrieval.redial_rows(load_dialogues(args.redial), catalog)
        if args.test is not None:
            test_rows = retrieval.redial_rows(load_dialogues(args.test), catalog)
        source = str(args.redial)
    else:
        from workbench.feedback.store import JsonlFeedbackStore

        result = JsonlFeedbackStore(args.feedback).read()
        for bad in result.problems:
            print(f"warning: {bad}", file=sys.stderr)
        if not result.records:
            raise EvaluationError(f"{args.feedback}: the feedback store holds no records")
        rows, missing = retrieval.feedback_rows(result.records, catalog)
        if missing:
            print(f"warning: {missing} judged item(s) are not in the catalogue and were skipped", file=sys.stderr)
        if not rows:
            raise EvaluationError(
                f"{args.feedback}: {len(result.records)} records give no training pairs "
                "(no shown item has both a liked and a disliked or unjudged neighbour)"
            )
        source = str(args.feedback)
    report = retrieval.finetune_and_compare(
        args.model or settings.embed_model, rows, catalog, args.out, holdout=args.holdout, test_rows=test_rows,
        epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        device=args.device or settings.device, max_seq_length=args.max_seq_length,
        log=lambda line: print(line, file=sys.stderr),
    )
    report = {"source": source, **report}
    print(retrieval.format_table(report))
    print(f"rebuild the index with: python -m workbench index build --model {args.out}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0
