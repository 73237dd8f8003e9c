"""``python -m workbench eval [default]``: leave-some-out evaluation on the default catalogue's likes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.eval_movielens import int_list


def _add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int_list, default=[5, 10], help="cut-offs, e.g. 5,10")
    p.add_argument("--json", type=Path, default=None,
                   help="write results as JSON here, and the NDCG bar chart beside it (.png)")
    p.add_argument("--content", choices=("minilm", "hash", "none"), default="minilm",
                   help="item embedder for the content scorer and the hybrid (default minilm)")
    p.add_argument("--holdout", type=float, default=0.2, help="share of each user's likes held out")
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out likes")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser(
        "default", help="leave-some-out over the default catalogue's ReDial-derived likes (the default)",
    )
    _add_options(p)
    p.set_defaults(func=run)
    # `python -m workbench eval` with no protocol runs this one with its defaults.
    eval_parser.set_defaults(func=run, k=[5, 10], json=None, content="minilm", holdout=0.2, seed=0,
                             quiet=False)


def run(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.evaluate.default import evaluate_default
    from workbench.evaluate.movielens import format_table, plot_ndcg, write_json

    settings = Settings.from_env()
    progress = None if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    report = evaluate_default(
        settings.catalog, settings.interactions, args.k, content=args.content,
        embed_model=settings.embed_model, cache_dir=settings.cache_dir, fraction=args.holdout,
        seed=args.seed, progress=progress,
    )
    print(format_table(report, published=()))
    print(f"\n{report.seconds:.1f} s in all")
    if args.json:
        print(f"wrote {write_json(report, args.json)}")
        print(f"wrote {plot_ndcg(report, args.json.with_suffix('.png'), published=())}")
    return 0
