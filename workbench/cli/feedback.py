"""`python -m workbench feedback` (being built; see its issue)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("feedback", help="(not built yet)")
