"""The documented install runs the documented evaluation (issue 16, item 16).

Regression: ``python -m workbench eval movielens`` failed after ``pip install -r requirements.txt``
with "ALSScorer needs the 'implicit' package", because ``implicit`` was only a dev requirement.
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.evaluate.movielens import default_systems

ROOT = Path(__file__).resolve().parents[2]


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower())
    return names


def test_every_default_movielens_system_is_built_from_runtime_requirements():
    assert "implicit" in _requirement_names(ROOT / "requirements.txt")
    systems = default_systems(None)
    assert any(name.startswith("ALS (implicit ") for name in systems)
    als = next(f for name, f in systems.items() if name.startswith("ALS"))
    assert als.build({}) is not None  # the scorer is constructed: its package imports
