"""Loading any saved scorer by the ``kind`` in its ``meta.json`` manifest.

It knows the scorer classes and the manifest; nothing about gradio.
"""

from __future__ import annotations

from pathlib import Path

from workbench.catalog import Catalog
from workbench.errors import RecommenderError
from workbench.interactions import Interactions
from workbench.recommend.base import MatrixScorer, read_manifest


def scorer_classes() -> dict[str, type[MatrixScorer]]:
    from workbench.recommend.als import ALSScorer
    from workbench.recommend.content import ContentScorer
    from workbench.recommend.ease import EASEScorer
    from workbench.recommend.hybrid import HybridScorer
    from workbench.recommend.knn import ItemKNNScorer
    from workbench.recommend.popularity import PopularityScorer

    classes = (PopularityScorer, ItemKNNScorer, EASEScorer, ALSScorer, ContentScorer, HybridScorer)
    return {cls.kind: cls for cls in classes}


def load_scorer(directory: str | Path, *, catalog: Catalog | None = None,
                interactions: Interactions | None = None) -> MatrixScorer:
    """Load whatever scorer ``directory`` holds (its manifest names the kind)."""
    kind = read_manifest(directory)["kind"]
    classes = scorer_classes()
    if kind not in classes:
        raise RecommenderError(
            f"{Path(directory) / 'meta.json'}: unknown model kind {kind!r}; known: {sorted(classes)}"
        )
    return classes[kind].load(directory, catalog=catalog, interactions=interactions)
