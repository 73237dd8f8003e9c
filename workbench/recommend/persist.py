"""Loading any saved scorer by the ``kind`` in its ``meta.json`` manifest.

It knows the scorer classes and the manifest; nothing about gradio.
"""

from __future__ import annotations

from pathlib import Path

from workbench.catalog import Catalog
from workbench.interactions import Interactions
from workbench.recommend.base import MatrixScorer, load_by_kind
from workbench.recommend.hybrid import COMPONENT_CLASSES, HybridScorer


def scorer_classes() -> dict[str, type[MatrixScorer]]:
    """Every saveable scorer class by its ``kind``."""
    return {cls.kind: cls for cls in (*COMPONENT_CLASSES, HybridScorer)}


def load_scorer(directory: str | Path, *, catalog: Catalog | None = None,
                interactions: Interactions | None = None) -> MatrixScorer:
    """Load whatever scorer ``directory`` holds (its manifest names the kind)."""
    return load_by_kind(directory, scorer_classes(), catalog=catalog, interactions=interactions)
