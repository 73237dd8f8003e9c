"""``python -m workbench eval redial``: the ReDial conversational recommendation protocol."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser(
        "redial",
        help="Recall@1/10/50 of the chat engine on ReDial dialogues (published anchors for reference)",
        description="For every recommender message that mentions a movie, the engine ranks the catalogue "
        "from the earlier messages; everything it learns comes from --train.",
    )
    p.add_argument("--train", type=Path, required=True, help="ReDial JSONL the engine learns from")
    p.add_argument("--data", type=Path, required=True, help="ReDial JSONL to evaluate on (e.g. test.jsonl)")
    p.add_argument("--mentions", choices=("gold", "text"), default="gold",
                   help="gold: @movieId markers as linked items; text: titles the engine must link")
    p.add_argument("--json", type=Path, default=None, dest="json_out", help="write the report here")
    p.add_argument("--no-tune", action="store_true", help="use default weights (no validation split search)")
    p.add_argument("--folds", type=int, default=5,
                   help="validation folds carved from --train for tuning (1: one 80/20 split)")
    p.add_argument("--index-dir", default=None, help="item index directory (default: the settings' index_dir)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.config import Settings
    from workbench.evaluate import redial
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import open_retriever
    from workbench.services import require_saved_index

    settings = Settings.from_env()
    index_dir = args.index_dir or settings.index_dir
    require_saved_index(settings, index_dir)  # before minutes of loading, not after
    train = redial.load_dialogues(args.train)
    data = redial.load_dialogues(args.data)
    catalog = load_catalog(settings.catalog, settings.catalog_columns or None)
    embedder = load_embedder(settings.embed_model, settings.device, settings.cache_dir)
    retriever = open_retriever(catalog, embedder, index_dir, settings.index_kind)
    report = redial.evaluate(catalog, retriever, retriever.index, train, data, mentions=args.mentions,
                             tune=not args.no_tune, folds=args.folds, log=lambda line: print(line, file=sys.stderr))
    print(redial.format_table(report))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0
