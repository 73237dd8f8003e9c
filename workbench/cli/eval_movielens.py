"""``python -m workbench eval movielens``: the MovieLens-100K evaluation (see workbench.evaluate.movielens)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.config import PROJECT_ROOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "ml-100k"
DEFAULT_WIKI = PROJECT_ROOT.parent / "shared" / "data" / "movie-metadata" / "wikipedia-movie-data"


def int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser(
        "movielens", help="MovieLens-100K: our recommenders vs implicit's ALS and the Chat-Rec paper",
        description="Train on uN.base, test on uN.test (official folds); relevance 'all' and 'rating>=4'.",
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help=f"MovieLens-100K folder with u.item and u1..u5 (default {DEFAULT_DATA})")
    p.add_argument("--folds", type=int_list, default=[1, 2, 3, 4, 5], help="folds, e.g. 1,2,3,4,5")
    p.add_argument("--k", type=int_list, default=[5, 10], help="cut-offs, e.g. 5,10")
    p.add_argument("--json", type=Path, default=None,
                   help="write results as JSON here, and the NDCG bar chart beside it (.png)")
    p.add_argument("--plot", type=Path, default=None, help="PNG path of the chart (default: --json with .png)")
    p.add_argument("--content", choices=("minilm", "hash", "none"), default="minilm",
                   help="item embedder for the content scorer and the hybrid (default minilm)")
    p.add_argument("--enrich", type=Path, default=DEFAULT_WIKI,
                   help="Wikipedia movie table used to add genres and cast to item text ('none' to skip)")
    p.add_argument("--ablation", action="store_true",
                   help="also run the hybrid without content, to measure what content adds")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="cap on BLAS threads during the run (default 1: faster than 2 on a busy "
                        "shared 2-core machine; 0 = no cap)")
    p.add_argument("--quiet", action="store_true", help="no per-fold progress lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.evaluate.movielens import evaluate_movielens, format_table, plot_ndcg, write_json

    settings = Settings.from_env()
    wiki = None if str(args.enrich) == "none" or not args.enrich.exists() else args.enrich
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    report = evaluate_movielens(
        args.data, args.folds, args.k, content=args.content, wiki_dir=wiki,
        cache_dir=settings.cache_dir, ablation=args.ablation, progress=progress,
        blas_threads=args.blas_threads or None,
    )
    print(format_table(report))
    print(f"\n{report.seconds:.1f} s in all (wall clock); per system, all folds (fit + score; "
          "'tuning' = choosing hyperparameters on validation data):")
    for name, seconds in report.fit_seconds.items():
        print(f"  {seconds:6.1f} s  {name}")
    if args.json:
        print(f"wrote {write_json(report, args.json)}")
    plot = args.plot or (args.json.with_suffix(".png") if args.json else None)
    if plot:
        print(f"wrote {plot_ndcg(report, plot)}")
    return 0
