"""``python -m workbench feedback export|stats``: turn saved annotations into datasets, or count them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workbench.cli.output import json_safe, terminal_safe
from workbench.feedback.export import DPO_PAIRS, EXPORT_FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feedback", help="export or summarise annotators' feedback")
    fsub = p.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)

    e = fsub.add_parser(
        "export",
        help="write the feedback as a dataset (raw or for fine-tuning)",
        description=(
            "Formats: hf (save_to_disk folder), parquet, jsonl: one row per record. "
            "sft (messages), dpo (prompt/chosen/rejected), triplets (anchor/positive/negative): "
            "training sets; written as Parquet or JSON lines by the suffix of --out, else a "
            "save_to_disk folder."
        ),
    )
    e.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="what to write")
    e.add_argument("--out", type=Path, default=None, help="output file or folder")
    e.add_argument("--push-to-hub", metavar="REPO", default=None,
                   help="also push the dataset to this Hub dataset repo (private if new; needs HF_TOKEN)")
    e.add_argument("--dir", type=Path, default=None, help="feedback data folder (default: the setting)")
    e.add_argument("--catalog", default=None, help="catalogue for item texts (triplets; default: the setting)")
    e.add_argument("--dpo-pairs", choices=DPO_PAIRS, default="both",
                   help="dpo: pairs of replies, of slate items, or both")
    e.set_defaults(func=_export)

    s = fsub.add_parser("stats", help="counts per annotator, label, item and day")
    s.add_argument("--dir", type=Path, default=None, help="feedback data folder (default: the setting)")
    s.add_argument("--top", type=int, default=20, help="items to list (most judged first)")
    s.add_argument("--json", action="store_true", help="print the counts as JSON")
    s.set_defaults(func=_stats)


def _read(args: argparse.Namespace) -> tuple[Any, Any]:
    from workbench.config import Settings
    from workbench.feedback.backends import store_at

    settings = Settings.from_env()
    # --dir names a shard folder; else the database when WORKBENCH_DATABASE_URL is set, else feedback_dir
    store = store_at(args.dir or settings.database_url or settings.resolved_feedback_dir)
    result = store.read()
    for bad in result.problems:
        print(f"warning: {terminal_safe(bad)}", file=sys.stderr)
    for record_id in result.conflicts:
        print(f"warning: record {terminal_safe(record_id)} appears in two shards with different content; "
              "kept the first", file=sys.stderr)
    return settings, (store, result)


def _export(args: argparse.Namespace) -> int:
    import datasets

    from workbench.feedback.export import export

    settings, (store, result) = _read(args)
    catalog = None
    if args.format == "triplets":
        from workbench.catalog import load_catalog

        catalog = load_catalog(args.catalog or settings.catalog, settings.catalog_columns)
    datasets.disable_progress_bars()
    done = export(
        result.records, args.format, args.out, catalog=catalog, push_to_hub=args.push_to_hub,
        token=settings.hf_token or None, dpo_pairs=args.dpo_pairs,
    )
    for warning in done.warnings:
        print(f"warning: {terminal_safe(warning)}", file=sys.stderr)
    where = [terminal_safe(done.path)] if done.path else []
    if done.pushed_to:
        where.append(f"hf://datasets/{done.pushed_to}")
    print(
        f"{done.format}: {done.rows} rows from {done.records} records in {terminal_safe(store.location)} "
        f"({result.shards} shards, {result.duplicates} duplicates skipped, "
        f"{len(result.torn_lines)} torn lines) -> {', '.join(where)}"
    )
    return 0


def _stats(args: argparse.Namespace) -> int:
    from workbench.feedback.stats import compute_stats

    _settings, (store, result) = _read(args)
    stats = compute_stats(result.records)
    if args.json:
        d = stats.to_dict()
        d.update(data_dir=store.location, shards=result.shards, duplicates=result.duplicates,
                 torn_lines=len(result.torn_lines), invalid_lines=len(result.invalid_lines))
        print(json_safe(json.dumps(d, ensure_ascii=False, indent=2)))
        return 0
    print(
        f"{stats.records} records, {stats.sessions} sessions, {len(stats.annotators)} annotators in "
        f"{terminal_safe(store.location)} ({result.shards} shards, {result.duplicates} duplicates, "
        f"{len(result.torn_lines)} torn lines, {len(result.invalid_lines)} invalid lines)"
    )
    _table("annotator", "records", stats.annotators.items())
    _table("label", "count", stats.labels.items())
    top = list(stats.items.values())[: max(args.top, 0)]
    if top:
        print(f"\n{'item':<10} {'title':<40} {'shown':>5} {'like':>5} {'dislike':>7} {'not_seen':>8} "
              f"{'ratings':>7} {'mean':>5}")
        for c in top:
            mean = f"{c.mean_rating:.2f}" if c.mean_rating is not None else "-"
            print(f"{terminal_safe(c.item_id):<10} {terminal_safe(c.title)[:40]:<40} {c.shown:>5} {c.like:>5} {c.dislike:>7} "
                  f"{c.not_seen:>8} {c.ratings:>7} {mean:>5}")
        if len(stats.items) > len(top):
            print(f"... {len(stats.items) - len(top)} more judged items (--top)")
    _table("day (UTC)", "records", stats.days.items())
    return 0


def _table(key: str, value: str, rows: Any) -> None:
    # keys come from records (annotator names, labels, days): never print them raw
    rows = [(terminal_safe(k), v) for k, v in rows]
    if not rows:
        return
    width = max(len(key), *(len(str(k)) for k, _ in rows))
    print(f"\n{key:<{width}}  {value:>7}")
    for k, v in rows:
        print(f"{k:<{width}}  {v:>7}")
