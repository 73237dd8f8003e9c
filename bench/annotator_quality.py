"""A simulated team of four annotators, one answering at random: does ``project quality`` catch them?

Seeds a project (40 tasks, 8 of them gold, overlap 3, gold rate 0.2) in a temporary data folder,
lets three careful annotators (the hidden true answer with ~10% slips) and one random annotator
take turns through the project service, then runs ``python -m workbench project quality NAME
--json`` on it and prints a table. Writes the report, the seed and the load average to
``bench/results/annotator_quality.json``.

    python bench/annotator_quality.py [--tasks 40] [--gold 8] [--overlap 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, ROOT, machine

sys.path.insert(0, str(ROOT / "tests"))

TEAM = {"ann": "careful", "bob": "careful", "cy": "careful", "dee": "random"}


def main(argv: list[str] | None = None) -> int:
    from quality_support import Clock, seed_team_project, simulate_team

    from workbench.cli import main as cli
    from workbench.feedback import JsonlFeedbackStore
    from workbench.projects.service import ProjectService, projects_path
    from workbench.projects.store import SQLiteProjectStore

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=40)
    ap.add_argument("--gold", type=int, default=8)
    ap.add_argument("--overlap", type=int, default=3)
    ap.add_argument("--gold-rate", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS / "annotator_quality.json", help="where the JSON goes")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        clock = Clock()
        service = ProjectService(SQLiteProjectStore(projects_path(data), clock=clock), JsonlFeedbackStore(data))
        truths = seed_team_project(service.store, "team", tasks=args.tasks, gold=args.gold, overlap=args.overlap,
                                   gold_rate=args.gold_rate, seed=args.seed)
        start = time.perf_counter()
        done = simulate_team(service, "team", truths, TEAM, clock, seed=args.seed + 4)
        simulate_s = time.perf_counter() - start
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            code = cli(["project", "quality", "team", "--json", "--data-dir", str(data)])
        report_s = time.perf_counter() - start
        if code != 0:
            return code
        report = json.loads(out.getvalue())

    print(f"{'annotator':<10}{'kind':<9}{'tasks':>6}{'gold':>6}{'gold acc':>10}{'interval':>14}{'Δα':>8}"
          f"{'median s':>10}  flagged")
    for name, row in report["annotators"].items():
        lo, hi = row["gold_interval"]
        print(f"{name:<10}{TEAM[name]:<9}{row['submitted']:>6}{row['gold_seen']:>6}{row['gold_accuracy']:>10.2f}"
              f"{f'{lo:.2f}-{hi:.2f}':>14}{row['agreement']:>+8.2f}{row['median_seconds']:>10.0f}  "
              f"{'; '.join(row['reasons']) or '-'}")
    print(f"alpha per question: {report['alpha']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"bench": "annotator_quality", "args": {k: str(v) if isinstance(v, Path) else v
                                                     for k, v in vars(args).items()}, "team": TEAM, "tasks_answered": done,
              "simulate_s": round(simulate_s, 2), "report_s": round(report_s, 3), "report": report,
              "machine": machine()}
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (load average {result['machine']['load_average_1m']:.2f}); "
          f"simulation {simulate_s:.1f} s, report {report_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
