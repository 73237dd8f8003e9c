"""Popularity: how many users interacted positively with each item.

The baseline every other scorer must beat, and the prior the hybrid falls back
on for a user with no history. It knows item ids and counts, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.catalog import Catalog
from workbench.recommend.base import MatrixScorer


class PopularityScorer(MatrixScorer):
    """Scores every item by its number of positive interactions (same for every user).

    Args:
        catalog: optional catalogue used to resolve aliases and ``filters``.
    """

    kind = "popularity"
    source = "popularity"
    missing_score = 0.0  # an item nobody interacted with has zero interactions

    def __init__(self, catalog: Catalog | None = None):
        super().__init__(catalog)
        self.counts: np.ndarray | None = None

    def _fit_matrix(self, X: sp.csr_matrix) -> None:
        self.counts = np.asarray((X > 0).sum(axis=0), dtype=np.float32).ravel()

    def score_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        self._vocab()
        return np.broadcast_to(self.counts, (X.shape[0], len(self.counts))).copy()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def _restore(self, params: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.counts = arrays["counts"].astype(np.float32)
