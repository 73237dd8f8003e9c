"""``python -m workbench eval understanding``: the engine's understanding against the labelled set."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: The labelled set shipped with the repository.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "understanding"


def register(eval_subparsers: argparse._SubParsersAction, eval_parser: argparse.ArgumentParser) -> None:
    p = eval_subparsers.add_parser(
        "understanding",
        help="per-field precision/recall/F1, intent accuracy and constraint satisfaction on labelled messages",
        description="Reads every labelled message in its context with the app's engine (template replies), "
        "scores the reading field by field against the gold, then answers each constrained turn and checks "
        "that its slate honours every stated inclusion and exclusion.",
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"labelled set directory (default {DEFAULT_DATA})")
    p.add_argument("--split", choices=("heldout", "dev", "all"), default="heldout",
                   help="heldout (default; never looked at while tuning), dev, or all")
    p.add_argument("--json", type=Path, default=None, dest="json_out", help="write the report here")
    p.add_argument("--failures", action="store_true", help="list the turns whose slate broke a constraint")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.evaluate import understanding
    from workbench.services import build_engine

    settings = Settings.from_env(generator="template")
    engine = build_engine(settings, generator=TemplateGenerator())
    examples = understanding.load_examples(args.data, args.split, engine.catalog)
    report = understanding.evaluate(engine, examples, split=args.split,
                                    log=lambda line: print(line, file=sys.stderr))
    print(understanding.format_table(report))
    if args.failures:
        for f in report["details"]["failures"]:
            print(f"  {f['id']}: {f['text']!r}: {'; '.join(f['broken'])}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(understanding.public_report(report), indent=2) + "\n")
        print(f"wrote {args.json_out}")
    return 0
