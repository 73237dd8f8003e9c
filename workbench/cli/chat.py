"""``python -m workbench chat [--json]``: talk to the recommender in a terminal.

Interactive by default (``/undo``, ``/state``, ``/quit``). With ``--json`` it reads one user
message per line from stdin and prints one JSON object per turn:
``{"reply", "items": [{"item_id", "title", "score", "reason"}], "intent", "grounding_fixes"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.cli.output import json_safe, terminal_safe


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat with the recommender in the terminal")
    p.add_argument("--json", action="store_true", help="one message per stdin line, one JSON object per turn")
    p.add_argument("--generator", default=None, help="override the generator setting (template, transformers, ...)")
    p.add_argument("--k", type=int, default=None, help="recommendations per turn (default: the k setting)")
    p.set_defaults(func=_run)


def turn_json(result: Any) -> dict[str, Any]:
    """The ``--json`` line for one :class:`~workbench.dialogue.types.TurnResult`."""
    return {
        "reply": result.reply,
        "items": [
            {"item_id": r.item.item_id, "title": r.item.display_title, "score": round(float(r.score), 6),
             "reason": r.reason}
            for r in result.recommendations
        ],
        "intent": result.intent,
        "grounding_fixes": result.grounding_fixes,
    }


def _run(args: argparse.Namespace) -> int:
    from workbench.config import Settings
    from workbench.dialogue.types import ReplyRestart, TurnResult
    from workbench.errors import WorkbenchError
    from workbench.services import build_engine

    overrides: dict[str, Any] = {}
    if args.generator:
        overrides["generator"] = args.generator
    if args.k:
        overrides["k"] = args.k
    settings = Settings.from_env(**overrides)
    engine = build_engine(settings)
    state = engine.new_state("cli")
    if args.json:
        for line in sys.stdin:
            message = line.rstrip("\n")
            if not message.strip():
                continue
            try:
                result = engine.respond(state, message)
                out = turn_json(result)
            except WorkbenchError as exc:
                out = {"error": str(exc)}
            print(json_safe(json.dumps(out, ensure_ascii=False)), flush=True)
        return 0
    print(f"Chat-Rec Workbench ({engine.generator.name}). /undo, /state, /quit.")
    while True:
        try:
            message = input("you> ")
        except EOFError:
            print()
            return 0
        if message.strip() in ("/quit", "/exit"):
            return 0
        if message.strip() == "/undo":
            undone = state.undo()
            print("(undid: " + terminal_safe(undone or "nothing") + ")")
            continue
        if message.strip() == "/state":
            print(json.dumps({k: v for k, v in state.to_dict().items() if k not in ("log", "turns")}, indent=1))
            continue
        if not message.strip():
            continue
        try:
            print("bot> ", end="", flush=True)
            for piece in engine.stream(state, message):
                if isinstance(piece, ReplyRestart):  # a terminal cannot take text back: say it was withdrawn
                    print("\n(withdrawn)\nbot> ", end="", flush=True)
                elif isinstance(piece, TurnResult):
                    print()
                    for r in piece.recommendations:
                        print(f"  {r.rank}. {terminal_safe(r.item.display_title)}  ({terminal_safe(r.reason)})")
                else:
                    print(terminal_safe(piece, keep="\n"), end="", flush=True)
        except WorkbenchError as exc:
            print(f"\nerror: {terminal_safe(exc)}")
