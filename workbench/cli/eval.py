"""``python -m workbench eval ...``: offline evaluations.

Sub-commands live in their own modules (``eval_movielens``, ``eval_default``,
``eval_redial``); this module only groups them.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="offline evaluation")
    esub = p.add_subparsers(dest="eval_command", metavar="PROTOCOL")
    # Each protocol module adds its own parser; imported here so their imports stay lazy.
    import importlib

    for name in ("eval_movielens", "eval_default", "eval_redial"):
        try:
            module = importlib.import_module(f"workbench.cli.{name}")
        except ModuleNotFoundError:
            continue  # not built yet
        module.register(esub, p)
