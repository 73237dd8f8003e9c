"""Recommenders: popularity, item kNN, EASE, ALS (implicit), content and the hybrid.

All share :class:`~workbench.recommend.base.Recommender`: ``fit(interactions)``
and ``recommend(history, k, exclude=..., filters=...) -> ScoredItems`` with the
per-source scores on every item. ``implicit`` is imported only when ALS is used.
"""

from workbench.recommend.als import ALSScorer
from workbench.recommend.base import History, MatrixScorer, Recommender, normalize_history
from workbench.recommend.content import ContentScorer
from workbench.recommend.ease import EASEScorer
from workbench.recommend.hybrid import HybridScorer
from workbench.recommend.knn import ItemKNNScorer
from workbench.recommend.persist import load_scorer
from workbench.recommend.popularity import PopularityScorer

__all__ = [
    "ALSScorer", "ContentScorer", "EASEScorer", "History", "HybridScorer", "ItemKNNScorer",
    "MatrixScorer", "PopularityScorer", "Recommender", "load_scorer", "normalize_history",
]
