"""``python -m workbench eval ...``: offline evaluations.

Sub-commands live in their own modules (``eval_movielens``, ``eval_default``,
``eval_redial``, ``eval_replies``, ``eval_simulate``, ``eval_feedback``, ``eval_understanding``); this module only groups them.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="offline evaluation")
    esub = p.add_subparsers(dest="eval_command", metavar="PROTOCOL")
    from workbench.cli import (
        eval_default,
        eval_feedback,
        eval_movielens,
        eval_redial,
        eval_replies,
        eval_simulate,
        eval_understanding,
    )

    for module in (eval_default, eval_movielens, eval_redial, eval_replies, eval_simulate, eval_feedback,
                   eval_understanding):
        module.register(esub, p)
