"""``python -m workbench eval feedback``: a refitted recommender before/after, on held-out feedback sessions.

``eval feedback --model DIR [--feedback DIR] [--baseline DIR] [--k 10,50] [--json OUT]``: the
sessions ``refit recommender`` held out (named in ``DIR``'s manifest) are scored leave-one-out
(:mod:`workbench.evaluate.feedback`) by the model without feedback ("before": the hybrid fitted on
the same base interactions, or ``--baseline DIR``) and by the refitted one ("after").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from workbench.cli.eval_movielens import int_list


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser("feedback", help="a refitted recommender before/after on held-out feedback sessions")
    p.add_argument("--model", type=Path, required=True, help="folder written by `refit recommender`")
    p.add_argument("--feedback", type=Path, default=None, help="feedback store (default: the one it was refitted on)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="saved recommender for 'before' (default: the hybrid fitted on the same base interactions)")
    p.add_argument("--k", type=int_list, default=[10, 50], help="cut-offs, e.g. 10,50")
    p.add_argument("--json", type=Path, default=None, help="write the results as JSON here")
    p.set_defaults(func=run)


def format_table(result: dict[str, Any]) -> str:
    metrics = list(result["before"])
    lines = [f"{result['sessions']} held-out sessions, {result['cases']} hidden likes (leave-one-out)",
             f"{'metric':<10} {'before':>8} {'after':>8} {'after-before [95% CI]':>30}"]
    for m in metrics:
        d = result["difference"][m]
        lines.append(f"{m:<10} {result['before'][m]:>8.4f} {result['after'][m]:>8.4f} "
                     f"{d['mean']:>+10.4f} [{d['low']:+.4f}, {d['high']:+.4f}]")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from workbench.cli.refit import read_feedback
    from workbench.config import Settings
    from workbench.errors import EvaluationError
    from workbench.evaluate.feedback import compare
    from workbench.feedback.signals import feedback_interactions, interactions_digest
    from workbench.recommend import load_scorer
    from workbench.recommend.refit import load_refit, refit_info
    from workbench.services import load_core, load_or_fit_recommender

    info = refit_info(args.model)
    # "before" is the hybrid on the same base interactions, never a served refit
    settings = dataclasses.replace(Settings.from_env(), interactions=info["base_interactions"], recommender_dir="")
    core = load_core(settings)
    if interactions_digest(core.interactions) != info["base_interactions_hash"]:
        raise EvaluationError(f"{info['base_interactions']}: changed since {args.model} was refitted "
                              "(its hash differs from the manifest's); refit first")
    after = load_refit(args.model, core.catalog, core.index_id)
    if args.baseline is not None:
        before = load_scorer(args.baseline, catalog=core.catalog)
    else:
        before = load_or_fit_recommender(settings, core.catalog, core.interactions, core.retriever.index,
                                         core.index_id)
    held = info.get("heldout_sessions") or []
    if not held:
        raise EvaluationError(f"{args.model}: refitted with --holdout 0, so no session was held out to score")
    records, _ = read_feedback(args.feedback or Path(info["feedback_dir"]), core.catalog)
    held_out = feedback_interactions(records, core.catalog, sessions=set(held))
    result = compare(before, after, held_out, core.catalog, ks=args.k)
    result["model"] = str(args.model)
    print(format_table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
