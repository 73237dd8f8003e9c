"""Building the app's recommender: the hybrid (EASE + item kNN + content + popularity) from interactions.

:func:`build_recommender` fits it on an interactions table: what the app (through its recommender
cache), the terminal chat and the ReDial evaluation all recommend with. Loading the parts named by
settings is :mod:`workbench.services`' job.

It knows which scorers exist and how they fit together; it does not know the dialogue or gradio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.catalog import Catalog
from workbench.interactions import Interactions
from workbench.recommend.content import ContentScorer
from workbench.recommend.ease import EASEScorer
from workbench.recommend.hybrid import HybridScorer
from workbench.recommend.knn import ItemKNNScorer
from workbench.recommend.popularity import PopularityScorer

#: Source weights of the chat engine's recommender (fixed: tuning over the whole catalogue is slow at
#: start-up; the ReDial evaluation uses the same values).
RECOMMENDER_WEIGHTS = {"cf": 0.5, "knn": 1.0, "content": 0.5, "popularity": 0.0}


def build_recommender(
    catalog: Catalog,
    interactions: Interactions,
    item_vectors: Any = None,
    *,
    weights: Mapping[str, float] | None = None,
    knn_neighbors: int = 100,
    ease_lambda: float = 500.0,
    content_neighbors: int = 50,
) -> HybridScorer:
    """A fitted :class:`~workbench.recommend.HybridScorer`.

    The scorers work on canonical catalogue ids (the chat engine never passes aliases or filters),
    so they are built without the catalogue: its per-item Python checks cost ~40 ms per call.

    Args:
        catalog: the items (aliases in ``interactions`` resolve through it; content covers every item).
        interactions: what CF learns from.
        item_vectors: ``len(catalog) x dim`` item embeddings in catalogue order, or anything
            with ``vectors_for(ids)`` (an item index); ``None`` leaves content out.
        weights: fixed source weights (default :data:`RECOMMENDER_WEIGHTS`); pass ``{}`` to
            tune them on a validation split of ``interactions`` instead.
    """
    content = None
    if item_vectors is not None:
        if hasattr(item_vectors, "vectors_for"):
            content = ContentScorer.from_index(item_vectors, list(catalog.ids), neighbors=content_neighbors)
        else:
            content = ContentScorer(list(catalog.ids), item_vectors, neighbors=content_neighbors)
    hybrid = HybridScorer(
        EASEScorer(ease_lambda),
        content,
        PopularityScorer(),
        knn=ItemKNNScorer(knn_neighbors),
        weights=(RECOMMENDER_WEIGHTS if weights is None else weights) or None,
    )
    # CF over the interacted items only (EASE is cubic in items); content still covers the catalogue
    # (tuning, when asked for, widens its validation rows to that wider universe itself).
    canonical = interactions.frame.assign(
        item_id=interactions.frame["item_id"].map(lambda i: catalog.canonical_id(i) if i in catalog else i))
    return hybrid.fit(Interactions(canonical))
