"""``python -m workbench arena leaderboard`` and ``python -m workbench systems list``.

``arena leaderboard`` reads the arena votes from the feedback store (``--dir``, default the
``WORKBENCH_FEEDBACK_DIR`` setting) and prints the Bradley-Terry standings with 95% bootstrap
intervals and ranks (:mod:`workbench.arena.leaderboard`), the style-controlled fit beside it,
then each annotator's own standings; ``--json`` prints exactly ``{"votes", "voided", "systems":
[{"system", "config_hash", "rank", "strength", "ci_low", "ci_high", "wins", "losses", "ties",
"both_bad"}], "style_control": {"length_coef", "systems": [{"system", "config_hash", "rank",
"strength", "ci_low", "ci_high"}]}}`` (``--annotator`` restricts it to one annotator's votes). ``systems list`` prints every system this server knows (built in and
from ``WORKBENCH_SYSTEMS_FILE``) with its id, hash, configuration and whether the arena pairs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workbench.cli.output import json_safe, terminal_safe


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("arena", help="the blind side-by-side arena's leaderboard")
    asub = a.add_subparsers(dest="arena_command", metavar="ACTION", required=True)
    lb = asub.add_parser("leaderboard", help="Bradley-Terry strengths of the systems from the arena's votes")
    lb.add_argument("--dir", type=Path, default=None, help="feedback data folder (default: the setting)")
    lb.add_argument("--json", action="store_true", help="print the standings as JSON")
    lb.add_argument("--annotator", default=None, help="only this annotator's votes")
    lb.add_argument("--reps", type=int, default=None, help="bootstrap refits per interval (default 1000)")
    lb.set_defaults(func=_leaderboard)

    s = sub.add_parser("systems", help="the systems the arena can pair")
    ssub = s.add_subparsers(dest="systems_command", metavar="ACTION", required=True)
    ls = ssub.add_parser("list", help="every system: built in and from WORKBENCH_SYSTEMS_FILE")
    ls.add_argument("--json", action="store_true", help="print the systems as JSON")
    ls.set_defaults(func=_systems)


def _leaderboard(args: argparse.Namespace) -> int:
    from workbench.arena.leaderboard import BOOTSTRAP_REPS, by_annotator, leaderboard_json
    from workbench.arena.votes import read_votes
    from workbench.config import Settings
    from workbench.errors import ArenaError
    from workbench.feedback.store import JsonlFeedbackStore

    reps = BOOTSTRAP_REPS if args.reps is None else args.reps
    if reps < 0:
        raise ArenaError(f"--reps: must be 0 or more, got {reps}")
    settings = Settings.from_env()
    result = JsonlFeedbackStore(args.dir or settings.resolved_feedback_dir).read()
    for bad in result.problems:
        print(f"warning: {terminal_safe(bad)}", file=sys.stderr)
    votes = read_votes(result.records)
    if args.annotator is not None:
        votes = [v for v in votes if v.annotator == args.annotator]
    out = leaderboard_json(votes, reps=reps)
    if args.json:
        print(json_safe(json.dumps(out, ensure_ascii=False, indent=2)))
        return 0
    print(f"{len(votes)} arena vote{'s' if len(votes) != 1 else ''}"
          + (f" by {terminal_safe(args.annotator)}" if args.annotator is not None else "")
          + (f", {out['voided']} voided (a reply named a system; kept, not counted)" if out["voided"] else ""))
    _print_table(out["systems"])
    if out["systems"]:
        print(f"\nstyle control (reply length as a covariate; length coefficient "
              f"{out['style_control']['length_coef']:+.2f}):")
        _print_table(out["style_control"]["systems"])
    if args.annotator is None:
        for name, own in by_annotator(votes, reps=reps).items():
            n = sum(1 for v in votes if v.annotator == name)
            print(f"\n{terminal_safe(name)} ({n} vote{'s' if n != 1 else ''})")
            _print_table([r.to_dict() for r in own])
    return 0


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no votes yet: vote in the Arena tab (or with /arena_vote)")
        return
    counts = "wins" in rows[0]
    print(f"{'rank':>4} {'system':<20} {'hash':<10} {'strength':>9} {'95% interval':>18}"
          + (f" {'wins':>5} {'losses':>6} {'ties':>5} {'both bad':>8}" if counts else ""))
    for r in rows:
        interval = f"[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"
        print(f"{r['rank']:>4} {terminal_safe(r['system']):<20} {r['config_hash']:<10} {r['strength']:>+9.2f} "
              f"{interval:>18}"
              + (f" {r['wins']:>5} {r['losses']:>6} {r['ties']:>5} {r['both_bad']:>8}" if counts else ""))


def _systems(args: argparse.Namespace) -> int:
    from workbench.arena.systems import resolve_systems
    from workbench.config import Settings

    settings = Settings.from_env()
    systems = resolve_systems(settings)
    paired = {n.strip() for n in settings.arena_systems.split(",")}
    rows = [s.to_dict() | {"arena": name in paired} for name, s in systems.items()]
    if args.json:
        print(json_safe(json.dumps(rows, ensure_ascii=False, indent=2)))
        return 0
    for row in rows:
        c = row["config"]
        mark = "*" if row["arena"] else " "
        generator = c["generator"] + (f":{c['model']}" if c["model"] else "")
        print(f"{mark} {terminal_safe(row['system_id']):<24} generator {terminal_safe(generator)}; "
              f"sources {', '.join(c['sources']) or 'popularity prior only'}; k {c['k']}; "
              f"index {terminal_safe(c['index'])}")
        if row["description"]:
            print(f"    {terminal_safe(row['description'])}")
    print("\n* paired by the arena (WORKBENCH_ARENA_SYSTEMS)")
    return 0
