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
from workbench.cli.output import terminal_safe
from workbench.errors import WorkbenchError


def build_parser() -> argparse.ArgumentParser:
    from workbench.cli import arena, chat, data, docs, eval, feedback, finetune, index, project, refit, search

    parser = argparse.ArgumentParser(
        prog="python -m workbench", description="Chat-Rec Workbench command line."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (data, index, search, eval, chat, feedback, finetune, project, refit, arena, docs):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the CLI's one error boundary.

    Building the parser reads the settings (for the defaults shown in ``--help``), so a bad
    setting surfaces here too: every :class:`WorkbenchError`, wherever it is raised, becomes one
    ``error: ...`` line on stderr (control characters escaped) and exit code 2, like
    ``python app.py``.
    """
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        return int(func(args) or 0)
    except WorkbenchError as exc:
        print(f"error: {terminal_safe(exc)}", file=sys.stderr)  # messages quote data values
        return 2
    except KeyboardInterrupt:
        return 130
