"""`python -m workbench chat` (being built; see its issue)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("chat", help="(not built yet)")
