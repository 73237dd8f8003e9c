"""``python -m workbench project create|progress|list|export|close|agreement|reviewers``: annotation projects from the terminal.

Gold tasks, per-annotator quality and versioned guidelines (``gold``, ``configure``, ``quality``,
``guidelines``, ``requeue``) are registered by :mod:`workbench.cli.project_quality`.

Projects live beside the feedback shards (``<feedback dir>/projects/projects.sqlite``);
``--data-dir`` names another feedback folder. ``create`` builds the engine from the settings
(``WORKBENCH_GENERATOR=template`` answers fastest) and answers every task once, with a progress
bar; run it again after an interruption to answer the rest. ``agreement`` prints Krippendorff's
alpha per question and each annotator's agreement with the majority
(:mod:`workbench.quality.agreement`); ``--json`` prints exactly ``project``, ``alpha``, ``units``
and ``per_annotator`` (``--disagreements`` adds the most split units under ``disagreements``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workbench.errors import ProjectError
from workbench.projects.export import EXPORT_FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="create, follow and export annotation projects")
    psub = p.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    c = psub.add_parser("create", help="create a project and answer its tasks with the engine (resumable)")
    c.add_argument("name", help="project name (letters, digits, '.', '_', '-')")
    source = c.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="tasks: JSONL, CSV or Parquet file or saved datasets folder "
                                                  "with a 'messages' column (optional 'id', 'metadata')")
    source.add_argument("--redial", type=Path, help="tasks: ReDial JSONL, cut before recommender turns")
    c.add_argument("--n", type=int, default=None, help="with --redial: how many conversations")
    c.add_argument("--overlap", type=int, required=True, help="how many different annotators judge each task")
    c.add_argument("--guidelines", type=Path, default=None, help="Markdown file shown to annotators")
    c.add_argument("--reviewers", default=None, metavar="A,B",
                   help="who reviews disputed tasks and sets final answers (with sign-in on: usernames)")
    c.add_argument("--review-threshold", type=int, default=None, metavar="N",
                   help="ratings of one item this far apart (1-4, default 2) send a task to review; "
                        "a split label always does")
    c.add_argument("--suggestions", type=float, default=None, metavar="SHARE",
                   help="show the engine's verdicts as pre-filled suggestions on this share (0-1) of tasks; "
                        "the rest are the control (see docs/review-and-arena.md)")
    c.add_argument("--gold-rate", type=float, default=None,
                   help="share of each annotator's tasks that are gold tasks (tasks with a 'gold' answer; default 0)")
    _data_dir(c)
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=_create)

    g = psub.add_parser("progress", help="tasks complete, submissions and skips per annotator")
    g.add_argument("name")
    g.add_argument("--json", action="store_true", help="print the counts as JSON")
    _data_dir(g)
    g.set_defaults(func=_progress)

    ls = psub.add_parser("list", help="the projects in the data directory")
    ls.add_argument("--json", action="store_true", help="print the list as JSON")
    _data_dir(ls)
    ls.set_defaults(func=_list)

    ag = psub.add_parser("agreement", help="Krippendorff's alpha per question and per-annotator agreement")
    ag.add_argument("name")
    ag.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ag.add_argument("--disagreements", type=int, default=None, metavar="N",
                    help="also list the N most split units (with --json: under 'disagreements'; text: 10)")
    ag.add_argument("--guidelines-version", type=int, default=None, metavar="N",
                    help="only the answers made under version N of the guidelines")
    _data_dir(ag)
    ag.set_defaults(func=_agreement)

    rv = psub.add_parser("reviewers", help="name (or rename) a project's reviewers and review threshold")
    rv.add_argument("name")
    rv.add_argument("reviewers", help="comma-separated names ('' for none)")
    rv.add_argument("--review-threshold", type=int, default=None, metavar="N", help="rating spread 1-4")
    _data_dir(rv)
    rv.set_defaults(func=_reviewers)

    cl = psub.add_parser("close", help="close a project: no more claims, submissions or changed answers")
    cl.add_argument("name")
    _data_dir(cl)
    cl.set_defaults(func=_close)

    e = psub.add_parser("export", help="one row per annotator's latest submission of each task")
    e.add_argument("name")
    e.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="hf (save_to_disk folder), parquet, jsonl")
    e.add_argument("--out", type=Path, required=True, help="output file or folder")
    _data_dir(e)
    e.set_defaults(func=_export)

    from workbench.cli import project_quality

    project_quality.register(psub, _data_dir, _service)


def _data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None,
                   help="feedback data folder holding projects/ (default: the feedback_dir setting)")


def _service(args: argparse.Namespace) -> Any:
    from workbench.config import Settings
    from workbench.projects.service import open_project_service

    settings = Settings.from_env()
    # --data-dir names a feedback folder; else the database when WORKBENCH_DATABASE_URL is set
    return open_project_service(args.data_dir or settings.database_url or settings.resolved_feedback_dir)


def _create(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.projects.create import create_project
    from workbench.projects.tasks import read_tasks, redial_tasks
    from workbench.services import build_engine, index_id_of

    if args.redial is not None and args.n is None:
        raise ProjectError("--redial needs --n (how many conversations)")
    if args.file is not None and args.n is not None:
        raise ProjectError("--n goes with --redial, not --file")
    guidelines = ""
    if args.guidelines is not None:
        try:
            guidelines = args.guidelines.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{args.guidelines}: cannot read the guidelines ({exc})") from None
    review_meta = _review_meta(args)  # bad review or suggestion options fail before models load, too
    tasks = read_tasks(args.file) if args.file is not None else None  # fail on a bad file before loading models
    settings = Settings.from_env()
    service = _service(args)
    engine = build_engine(settings)
    if tasks is None:
        tasks = redial_tasks(args.redial, args.n, engine.catalog)
    index_id = index_id_of(dict(getattr(engine.retriever.index, "meta", {}) or {}), settings.index_dir)
    source = str(args.file or args.redial)
    info = create_project(service.store, args.name, tasks, overlap=args.overlap, engine=engine,
                          guidelines=guidelines, index_id=index_id, meta={"source": source, **review_meta},
                          show_progress=not args.quiet, gold_rate=args.gold_rate)
    if review_meta:  # also when resuming a creation started without them
        service.store.set_meta(info.name, review_meta)
    print(f"project {info.name}: {info.tasks} tasks, overlap {info.overlap}")
    return 0


def _review_meta(args: argparse.Namespace) -> dict[str, Any]:
    """Project meta from ``--reviewers``, ``--review-threshold`` and ``--suggestions`` (checked)."""
    from workbench.projects.review import ReviewSettings, check_threshold, parse_reviewers
    from workbench.projects.suggestions import suggestion_meta

    meta: dict[str, Any] = {}
    if args.reviewers is not None or args.review_threshold is not None:
        threshold = ReviewSettings().threshold if args.review_threshold is None else args.review_threshold
        meta.update(ReviewSettings(parse_reviewers(args.reviewers), check_threshold(threshold)).to_meta())
    if args.suggestions is not None:
        meta.update(suggestion_meta(args.suggestions))
    return meta


def _reviewers(args: argparse.Namespace) -> int:
    from workbench.projects.review_service import set_reviewers

    settings = set_reviewers(_service(args).store, args.name, args.reviewers, args.review_threshold)
    print(f"project {args.name}: reviewers {', '.join(settings.reviewers) or 'none'}, "
          f"review threshold {settings.threshold}")
    return 0


def _progress(args: argparse.Namespace) -> int:
    p = _service(args).progress(args.name)
    if args.json:
        print(json.dumps(p))
        return 0
    share = 100 * p["complete"] / p["tasks"] if p["tasks"] else 0.0
    print(f"{p['project']}: {p['complete']} of {p['tasks']} tasks complete ({share:.0f}%), overlap {p['overlap']}; "
          f"{p['submissions']} submissions, {p['skipped']} skipped")
    for name, counts in p["per_annotator"].items():
        print(f"  {name}: {counts['submitted']} submitted, {counts['skipped']} skipped")
    return 0


def _list(args: argparse.Namespace) -> int:
    projects = _service(args).list_projects()
    if args.json:
        print(json.dumps(projects))
        return 0
    if not projects:
        print("no projects", file=sys.stderr)
    for p in projects:
        pr = p["progress"]
        print(f"{p['name']}\t{p['state']}\t{p['tasks']} tasks\toverlap {p['overlap']}\t"
              f"{pr['complete']} complete\t{pr['submissions']} submissions")
    return 0


def _close(args: argparse.Namespace) -> int:
    service = _service(args)
    service.close_project(args.name)
    p = service.progress(args.name)
    print(f"project {args.name} closed: {p['complete']} of {p['tasks']} tasks complete, {p['submissions']} submissions")
    return 0


def _export(args: argparse.Namespace) -> int:
    import datasets

    from workbench.projects.export import export_project

    datasets.disable_progress_bars()
    path, rows = export_project(_service(args).store, args.name, args.format, args.out)
    print(f"wrote {rows} rows to {path}")
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _agreement(args: argparse.Namespace) -> int:
    from workbench.quality.agreement import project_agreement

    shown = args.disagreements if args.disagreements is not None else 10
    result = project_agreement(_service(args).store, args.name, limit=max(shown, 0),
                               guidelines_version=args.guidelines_version)
    if args.json:
        print(json.dumps(result.to_dict(args.name, disagreements=args.disagreements is not None)))
        return 0
    print(f"{args.name}: Krippendorff's alpha per question (units judged by 2+ annotators)")
    for q in result.questions.values():
        note = f"  ({q.note})" if q.note else ""
        print(f"  {q.question}: {_fmt(q.alpha)} over {q.units} units{note}")
    for name, row in result.per_annotator.items():
        print(f"  {name}: {row['units']} units, agreement with the majority {_fmt(row['agreement_with_majority'])}")
    if result.disagreements:
        print("most split units:")
    for d in result.disagreements:
        item = f" item {d['item_id']}" if d["item_id"] else ""
        values = ", ".join(f"{a}={v}" for a, v in d["judgements"].items())
        print(f"  task {d['task_id']}{item} {d['question']}: split {d['split']:.2f} ({values})")
    return 0
