"""``python -m workbench data build-default|copy``: rebuild the bundled catalogue from ../shared/data;
copy feedback and projects between a feedback folder and PostgreSQL."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="build the bundled default data")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    b = dsub.add_parser("build-default", help="rebuild assets/ from the shared ReDial data")
    b.add_argument("--shared-data", type=Path, default=None, help="the shared data folder")
    b.add_argument("--out", type=Path, default=None, help="output folder (default: assets/)")
    b.add_argument(
        "--no-tags", action="store_true",
        help="leave out the keyword tags derived from the descriptions",
    )
    b.set_defaults(func=_build_default)
    c = dsub.add_parser(
        "copy", help="copy feedback records and annotation projects between a folder and PostgreSQL",
        description="Each of --from and --to is a feedback folder (JSONL shards + projects/projects.sqlite) "
                    "or a postgresql:// URL. Records already in the target (same record id) and projects "
                    "already there (same name) are skipped, so running it again copies nothing twice.",
    )
    c.add_argument("--from", dest="source", required=True, metavar="DIR_OR_URL", help="where the data is now")
    c.add_argument("--to", dest="target", required=True, metavar="DIR_OR_URL", help="where it should also be")
    c.add_argument("--json", action="store_true", help="print what was copied as JSON")
    c.set_defaults(func=_copy)


def _copy(args: argparse.Namespace) -> int:
    import json

    from workbench.cli.output import terminal_safe
    from workbench.datacopy import copy_data

    report = copy_data(args.source, args.target)
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    skipped = f"; already there: {', '.join(report.projects_skipped)}" if report.projects_skipped else ""
    print(terminal_safe(
        f"{report.source} -> {report.target}: {report.records_copied} of {report.records_read} feedback records "
        f"copied ({report.records_read - report.records_copied} already there); {len(report.projects_copied)} "
        f"projects copied with {report.answers_copied} answers{skipped}"))
    return 0


def _build_default(args: argparse.Namespace) -> int:
    from workbench import default_data

    kwargs = {}
    if args.shared_data:
        kwargs["shared_data"] = args.shared_data
    if args.out:
        kwargs["out_dir"] = args.out
    if not args.no_tags:
        from workbench.tags import KeywordTagger

        shared = args.shared_data or default_data.DEFAULT_SHARED_DATA
        metadata = shared / "movie-metadata" / "redial_catalogue.jsonl"
        if metadata.exists():  # a missing file is reported by build_default
            kwargs["tagger"] = KeywordTagger.fit_jsonl(metadata)
    catalog, interactions = default_data.build_default(**kwargs)
    print(
        f"catalogue: {len(catalog)} items ({sum(len(i.aliases) for i in catalog)} alias ids), "
        f"interactions: {len(interactions)} rows, hash {catalog.content_hash[:12]}"
    )
    return 0
