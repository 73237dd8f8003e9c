"""``python -m workbench data build-default``: rebuild the bundled catalogue from ../shared/data."""

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
