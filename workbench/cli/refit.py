"""``python -m workbench refit recommender``: the hybrid refitted on the interactions plus annotators' feedback.

``refit recommender --feedback DIR [--interactions FILE] --out DIR [--holdout 0.2] [--seed 0] [--json OUT]``
reads the feedback store in ``DIR``, makes one pseudo-user per annotator session
(:mod:`workbench.feedback.signals`), holds a seeded share of sessions out, fits the app's hybrid
on the interactions (default: ``WORKBENCH_INTERACTIONS``) plus the other sessions, and writes it
with its manifest (:mod:`workbench.recommend.refit`). ``WORKBENCH_RECOMMENDER_DIR=DIR`` serves it;
``eval feedback --model DIR`` scores it against the model without feedback on the held-out sessions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("refit", help="refit a model on feedback")
    rsub = p.add_subparsers(dest="refit_command", metavar="MODEL", required=True)
    r = rsub.add_parser("recommender", help="the hybrid recommender on the interactions plus feedback sessions")
    r.add_argument("--feedback", type=Path, required=True, help="feedback store folder (its shards)")
    r.add_argument("--interactions", type=Path, default=None,
                   help="base interactions CSV (default: WORKBENCH_INTERACTIONS, the bundled ReDial likes)")
    r.add_argument("--out", type=Path, required=True, help="folder to write the refitted model into")
    r.add_argument("--holdout", type=float, default=0.2,
                   help="share of annotator sessions held out for `eval feedback` (0: fit on all)")
    r.add_argument("--seed", type=int, default=0, help="seed of the held-out sessions")
    r.add_argument("--json", type=Path, default=None, help="write the manifest's refit section here too")
    r.set_defaults(func=run)
    from workbench.cli import refit_intents

    refit_intents.register(rsub)


def read_feedback(directory: Path, catalog: Any) -> tuple[list[Any], int]:
    """The store's records and how many damaged lines were skipped (each named on stderr)."""
    from workbench.errors import FeedbackError
    from workbench.feedback import JsonlFeedbackStore

    if not directory.is_dir():
        raise FeedbackError(f"--feedback: {directory} is not a folder")
    result = JsonlFeedbackStore(directory, catalog=catalog).read()
    for bad in result.problems:
        print(f"warning: skipped {bad}", file=sys.stderr)
    return list(result.records), len(result.problems)


def run(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.errors import FeedbackError
    from workbench.feedback.signals import (
        feedback_interactions,
        interactions_digest,
        session_users,
        split_sessions,
    )
    from workbench.recommend.refit import refit, save_refit
    from workbench.services import load_core

    settings = Settings.from_env()
    if args.interactions is not None:
        settings = dataclasses.replace(settings, interactions=str(args.interactions))
    core = load_core(settings)
    records, bad = read_feedback(args.feedback, core.catalog)
    users = session_users(records)
    fit_users, held = split_sessions(users, args.holdout, args.seed)
    feedback = feedback_interactions(records, core.catalog, sessions=set(fit_users))
    if not len(feedback):
        raise FeedbackError(f"--feedback: {args.feedback} holds no judged item ({len(records)} records); "
                            "nothing to refit on")
    print(f"fitting on {len(core.interactions):,} interactions + {len(feedback):,} feedback signals from "
          f"{len(fit_users)} annotator sessions ({len(held)} held out)", file=sys.stderr, flush=True)
    model = refit(core.catalog, core.interactions, feedback, core.retriever.index)
    info = {
        "catalog_hash": core.catalog.content_hash, "index_id": core.index_id,
        "base_interactions": str(Path(settings.interactions).resolve()),
        "base_interactions_hash": interactions_digest(core.interactions), "base_rows": len(core.interactions),
        "feedback_dir": str(args.feedback.resolve()), "feedback_hash": interactions_digest(feedback),
        "feedback_rows": len(feedback), "feedback_sessions": len(fit_users), "skipped_lines": bad,
        "holdout": args.holdout, "seed": args.seed, "heldout_sessions": held,
    }
    out = args.out
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    save_refit(model, tmp, info)  # written whole, then put in place: a killed refit leaves the old model
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    print(f"wrote {out} ({len(model.item_ids):,} items; serve it with WORKBENCH_RECOMMENDER_DIR={out}; "
          f"score it with: python -m workbench eval feedback --model {out})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0
