"""``python -m workbench project gold|configure|quality|guidelines|requeue``: trust in annotators.

* ``gold NAME TASK_ID --answer JSON`` makes a task a gold task (``--from-review``: its reviewed
  answer; ``--remove``: an ordinary task again);
* ``configure NAME --gold-rate R ...`` changes the gold rate and the flagging thresholds;
* ``quality NAME [--json]`` prints per-annotator gold accuracy, agreement, speed and flags
  (:func:`workbench.quality.annotators.project_quality`; ``--json`` prints that dict);
* ``guidelines NAME --file F`` stores a new version of the guidelines (without ``--file``: lists them);
* ``requeue NAME --before-version N`` hands out again the tasks answered under older guidelines.

See docs/annotation-quality.md for the workflow.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import ProjectError
from workbench.projects.quality_settings import QualitySettings


def register(psub: argparse._SubParsersAction, data_dir: Callable[[argparse.ArgumentParser], None],
             service: Callable[[argparse.Namespace], Any]) -> None:
    """Add the quality actions to ``project``'s subparsers (``data_dir`` adds ``--data-dir``;
    ``service`` opens the project service from the parsed arguments)."""

    def run(func: Callable[[Any, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: func(service(args), args)

    g = psub.add_parser("gold", help="make a task a gold task (an expected answer every annotator meets once)")
    g.add_argument("name")
    g.add_argument("task_id")
    how = g.add_mutually_exclusive_group(required=True)
    how.add_argument("--answer", help='expected answer: {"judgements": {item_id: {"label", "rating"}}, '
                                      '"reply_label"} (any part may be left out)')
    how.add_argument("--from-review", action="store_true", help="the task's reviewed final answer")
    how.add_argument("--remove", action="store_true", help="make it an ordinary task again")
    data_dir(g)
    g.set_defaults(func=run(_gold))

    c = psub.add_parser("configure", help="change the gold rate and when annotators are flagged")
    c.add_argument("name")
    for f, meta in _setting_fields():
        c.add_argument("--" + f.replace("_", "-"), type=int if meta["int"] else float, default=None,
                       help=f"{meta['help']} (default {meta['default']})")
    data_dir(c)
    c.set_defaults(func=run(_configure))

    q = psub.add_parser("quality", help="per-annotator gold accuracy, agreement, speed and flags")
    q.add_argument("name")
    q.add_argument("--json", action="store_true", help="print the report as JSON")
    q.add_argument("--guidelines-version", type=int, default=None, metavar="N",
                   help="only the answers made under version N of the guidelines")
    data_dir(q)
    q.set_defaults(func=run(_quality))

    v = psub.add_parser("guidelines", help="store a new version of the guidelines (or list the versions)")
    v.add_argument("name")
    v.add_argument("--file", type=Path, default=None, help="Markdown file: becomes the next version")
    v.add_argument("--json", action="store_true", help="print the versions as JSON")
    data_dir(v)
    v.set_defaults(func=run(_guidelines))

    r = psub.add_parser("requeue", help="hand out again the tasks answered under older guidelines")
    r.add_argument("name")
    r.add_argument("--before-version", type=int, required=True, metavar="N",
                   help="re-queue the answers made under guidelines versions before N")
    data_dir(r)
    r.set_defaults(func=run(_requeue))


def _setting_fields() -> list[tuple[str, dict[str, Any]]]:
    import dataclasses

    return [(f.name, {"help": f.metadata["help"], "default": f.default, "int": f.type in ("int", int)})
            for f in dataclasses.fields(QualitySettings)]


def _gold(service: Any, args: argparse.Namespace) -> int:
    from workbench.projects.gold import gold_from_review, set_gold_answer

    store = service.store
    if args.remove:
        was = store.remove_gold(args.name, args.task_id)
        store.task(args.name, args.task_id)
        print(f"task {args.task_id} is {'no longer' if was else 'not'} a gold task")
        return 0
    if args.from_review:
        answer = gold_from_review(store, args.name, args.task_id)
    else:
        try:
            parsed = json.loads(args.answer)
        except json.JSONDecodeError as exc:
            raise ProjectError(f"--answer: not valid JSON ({exc.msg} at character {exc.pos})") from None
        answer = set_gold_answer(store, args.name, args.task_id, parsed)
    rate = store.quality_settings(args.name).gold_rate
    note = "" if rate > 0 else " (the gold rate is 0: set one with `project configure NAME --gold-rate R`)"
    print(f"task {args.task_id} is a gold task: {json.dumps(answer)}{note}")
    return 0


def _configure(service: Any, args: argparse.Namespace) -> int:
    store = service.store
    changes = {name: getattr(args, name) for name, _ in _setting_fields()}
    settings = store.quality_settings(args.name).replace(**changes)
    if any(v is not None for v in changes.values()):
        store.set_quality_settings(args.name, settings)
    print(f"project {args.name}: " + ", ".join(f"{k} {v:g}" for k, v in settings.to_dict().items()))
    return 0


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def _quality(service: Any, args: argparse.Namespace) -> int:
    from workbench.quality.annotators import project_quality

    report = project_quality(service.store, args.name, guidelines_version=args.guidelines_version)
    if args.json:
        print(json.dumps(report))
        return 0
    version = f" (guidelines version {args.guidelines_version})" if args.guidelines_version else ""
    print(f"{args.name}: per-annotator quality{version}")
    if not report["annotators"]:
        print("  no submissions yet")
    for name, row in report["annotators"].items():
        lo_hi = row["gold_interval"]
        gold = (f"gold {_fmt(row['gold_accuracy'])} [{_fmt(lo_hi[0])}, {_fmt(lo_hi[1])}] over {row['gold_seen']} tasks"
                if lo_hi else "no gold tasks")
        print(f"  {name}: {row['submitted']} submitted, {gold}, agreement {_fmt(row['agreement'], '+.2f')}, "
              f"median {_fmt(row['median_seconds'], '.0f')} s, not seen {_fmt(row['not_seen_share'], '.0%')}"
              + (f"  FLAGGED: {'; '.join(row['reasons'])}" if row["flagged"] else ""))
    alphas = ", ".join(f"{q} {_fmt(a)}" for q, a in report["alpha"].items())
    print(f"  alpha: {alphas}")
    if len(report["versions"]) > 1:
        for version, row in report["versions"].items():
            split = ", ".join(f"{q} {_fmt(a)}" for q, a in row["alpha"].items())
            print(f"  guidelines version {version}: {row['submissions']} submissions, alpha {split}")
    sug = report["suggestions"]
    if sug["share"]:
        for arm in ("suggested", "control"):
            row = sug[arm]
            print(f"  {arm} tasks ({sug['share']:.0%} suggested): {row['answers']} answers, engine's verdict "
                  f"kept {_fmt(row['acceptance'], '.0%')}, item-label alpha {_fmt(row['alpha_item_label'])}")
    return 0


def _guidelines(service: Any, args: argparse.Namespace) -> int:
    from workbench.projects.guidelines import add_version, versions

    if args.file is not None:
        n = add_version(service.store, args.name, args.file)
        print(f"project {args.name}: guidelines version {n} from {args.file}; answers from now on record it")
        return 0
    rows = versions(service.store, args.name)
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        print(f"version {row['version']}\t{row['created_at']}\t{row['chars']} characters")
    return 0


def _requeue(service: Any, args: argparse.Namespace) -> int:
    from workbench.projects.guidelines import requeue_before

    moved = requeue_before(service.store, args.name, args.before_version)
    tasks = len({m["task_id"] for m in moved})
    print(f"project {args.name}: re-queued {len(moved)} answers to {tasks} tasks made under guidelines before "
          f"version {args.before_version} (kept in the history and the feedback store)")
    return 0
