"""Item-based k-nearest-neighbour collaborative filtering.

Cosine similarity between items' user columns, pruned to each item's
``neighbors`` most similar items; a user's score for an item is the sum of its
similarities to the items in the history (disliked items subtract). It knows
the interaction matrix and item ids, nothing about text or FAISS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.catalog import Catalog
from workbench.errors import RecommenderError
from workbench.recommend.base import MatrixScorer

#: Rows of the dense similarity matrix computed at once (bounds memory on big catalogues).
BLOCK_ROWS = 1024


def prune_rows(sim_rows: np.ndarray, neighbors: int, offset: int) -> sp.csr_matrix:
    """Keep each row's ``neighbors`` largest positive entries (the diagonal dropped)."""
    sim = np.array(sim_rows, dtype=np.float32)
    rows = np.arange(sim.shape[0])
    diag = rows + offset
    inside = diag < sim.shape[1]
    sim[rows[inside], diag[inside]] = 0.0
    n = sim.shape[1]
    if neighbors < n:
        drop = np.argpartition(-sim, neighbors, axis=1)[:, neighbors:]
        np.put_along_axis(sim, drop, 0.0, axis=1)
    sim[sim < 0] = 0.0
    return sp.csr_matrix(sim)


def topk_similarity(left: np.ndarray | sp.spmatrix, right_t: np.ndarray | sp.spmatrix,
                    neighbors: int) -> sp.csr_matrix:
    """Row-pruned ``left @ right_t`` computed block by block, as a sparse matrix."""
    blocks = []
    n = left.shape[0]
    for start in range(0, n, BLOCK_ROWS):
        part = left[start : start + BLOCK_ROWS] @ right_t
        part = part.toarray() if sp.issparse(part) else np.asarray(part)
        blocks.append(prune_rows(part, neighbors, start))
    return sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, right_t.shape[1]))


class ItemKNNScorer(MatrixScorer):
    """Item-item cosine kNN.

    Args:
        neighbors: similar items kept per item (at least 1).
        catalog: optional catalogue used to resolve aliases and ``filters``.
    """

    kind = "item_knn"
    source = "knn"

    def __init__(self, neighbors: int = 100, catalog: Catalog | None = None, *,
                 weighting: str = "binary"):
        if neighbors < 1:
            raise RecommenderError(f"ItemKNNScorer: neighbors must be >= 1, got {neighbors}")
        super().__init__(catalog, weighting)
        self.neighbors = int(neighbors)
        self.similarity: sp.csr_matrix | None = None

    def _fit_matrix(self, X: sp.csr_matrix) -> None:
        Xc = sp.csc_matrix(X)
        norms = np.sqrt(np.asarray(Xc.multiply(Xc).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        Xn = sp.csr_matrix(Xc.multiply(1.0 / norms[None, :]), dtype=np.float32)
        XnT = sp.csr_matrix(Xn.T)
        self.similarity = topk_similarity(XnT, Xn, self.neighbors)

    def score_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        self._vocab()
        return np.asarray((X @ self.similarity).toarray() if sp.issparse(X) else X @ self.similarity)

    def _params(self) -> dict[str, Any]:
        return {"neighbors": self.neighbors}

    def _arrays(self) -> dict[str, np.ndarray]:
        S = self.similarity
        return {"sim_data": S.data, "sim_indices": S.indices, "sim_indptr": S.indptr}

    def _restore(self, params: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.neighbors = int(params["neighbors"])
        n = len(arrays["item_ids"])
        self.similarity = sp.csr_matrix(
            (arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]), shape=(n, n)
        )
