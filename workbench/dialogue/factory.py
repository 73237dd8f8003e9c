"""Building a :class:`~workbench.dialogue.engine.ChatEngine` from settings.

:func:`build_recommender` fits the hybrid recommender (EASE + item kNN + content + popularity) on
an interactions table: what the app (through its recommender cache), the terminal chat and the
ReDial evaluation all recommend with. Loading the parts named by settings is
:mod:`workbench.services`' job.

It knows which components exist and how they fit; it does not know gradio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.catalog import Catalog
from workbench.interactions import Interactions

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
) -> Any:
    """A fitted :class:`~workbench.recommend.HybridScorer`.

    Args:
        catalog: the items (aliases resolve through it; content covers every item).
        interactions: what CF learns from.
        item_vectors: ``len(catalog) x dim`` item embeddings in catalogue order, or anything
            with ``vectors_for(ids)`` (an item index); ``None`` leaves content out.
        weights: fixed source weights (default :data:`RECOMMENDER_WEIGHTS`); pass ``{}`` to
            tune them on a validation split of ``interactions`` instead.
    """
    from workbench.recommend import ContentScorer, EASEScorer, HybridScorer, ItemKNNScorer, PopularityScorer

    # The scorers work on canonical catalogue ids (the engine never passes aliases or filters), so
    # they are built without the catalogue: its per-item Python checks cost ~40 ms per call.
    _ = catalog
    catalog_for_scorers = None
    content = None
    if item_vectors is not None:
        if hasattr(item_vectors, "vectors_for"):
            content = ContentScorer.from_index(item_vectors, list(catalog.ids), neighbors=content_neighbors,
                                               catalog=catalog_for_scorers)
        else:
            content = ContentScorer(list(catalog.ids), item_vectors, neighbors=content_neighbors,
                                    catalog=catalog_for_scorers)
    hybrid = HybridScorer(
        EASEScorer(ease_lambda, catalog=catalog_for_scorers),
        content,
        PopularityScorer(catalog=catalog_for_scorers),
        knn=ItemKNNScorer(knn_neighbors, catalog=catalog_for_scorers),
        weights=(RECOMMENDER_WEIGHTS if weights is None else weights) or None,
        catalog=catalog_for_scorers,
    )
    # CF over the interacted items only (EASE is cubic in items); content still covers the catalogue
    # (tuning, when asked for, widens its validation rows to that wider universe itself).
    canonical = interactions.frame.assign(
        item_id=interactions.frame["item_id"].map(lambda i: catalog.canonical_id(i) if i in catalog else i))
    return hybrid.fit(Interactions(canonical))
