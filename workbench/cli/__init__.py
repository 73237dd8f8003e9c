"""The command line: ``python -m workbench COMMAND ...``.

Each command group lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func`` (called with the parsed
arguments, returns an exit code). Errors a user can act on
(:class:`~workbench.errors.WorkbenchError`) are caught here, once, and printed
without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from workbench import __version__
from workbench.errors import WorkbenchError


def build_parser() -> argparse.ArgumentParser:
    from workbench.cli import chat, data, eval, feedback, finetune, index, project, search

    parser = argparse.ArgumentParser(
        prog="python -m workbench", description="Chat-Rec Workbench command line."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (data, index, search, eval, chat, feedback, finetune, project):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
