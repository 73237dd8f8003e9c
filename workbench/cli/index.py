"""`python -m workbench index` (being built; see its issue)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("index", help="(not built yet)")
