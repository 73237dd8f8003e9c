"""Content-based scoring: similarity between the items a user liked and every item.

Item vectors come from an embedder (texts rendered from the catalogue), from a
built item index (``ItemIndex.vectors_for``), or are given precomputed. With
``neighbors`` set, each liked item votes for its ``neighbors`` most similar
items (an item-kNN over content, which ranks better than one mean profile);
with ``neighbors=None`` the score is the cosine to the mean of the liked
vectors. Scores are averaged over the history, so they read as similarities.
It needs no interactions and so scores items nobody has interacted with.

It knows vectors and item ids; it does not know FAISS, models or gradio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.catalog import DEFAULT_TEXT_TEMPLATE, Catalog, Vocabulary
from workbench.errors import RecommenderError
from workbench.interactions import Interactions
from workbench.recommend.base import MatrixScorer, interactions_hash
from workbench.recommend.knn import topk_similarity
from workbench.retrieval.embed import Embedder


class ContentScorer(MatrixScorer):
    """Scores items by embedding similarity to the history.

    Args:
        item_ids: the items the vectors describe (row order of ``vectors``).
        vectors: ``len(item_ids) x dim`` item embeddings (L2-normalised here).
        neighbors: similar items each liked item votes for; ``None`` for a mean-profile cosine.
        catalog: optional catalogue used to resolve aliases and ``filters``.
    """

    kind = "content"
    source = "content"

    def __init__(self, item_ids: Sequence[str], vectors: np.ndarray, *, neighbors: int | None = 50,
                 catalog: Catalog | None = None):
        super().__init__(catalog)
        vectors = np.asarray(vectors, dtype=np.float32)
        ids = [str(i) for i in item_ids]
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise RecommenderError(
                f"ContentScorer: vectors of shape {vectors.shape} do not match {len(ids)} item ids"
            )
        if not np.isfinite(vectors).all():
            raise RecommenderError("ContentScorer: vectors hold NaN or infinite values")
        if neighbors is not None and neighbors < 1:
            raise RecommenderError(f"ContentScorer: neighbors must be >= 1 or None, got {neighbors}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.vectors = vectors / norms
        self.neighbors = neighbors
        self.vocabulary = Vocabulary(ids)
        self.similarity: sp.csr_matrix | None = None
        if neighbors is not None:
            self.similarity = topk_similarity(self.vectors, self.vectors.T, neighbors)

    # construction ---------------------------------------------------------------
    @classmethod
    def from_texts(cls, item_ids: Sequence[str], texts: Sequence[str], embedder: Embedder,
                   **kwargs: Any) -> ContentScorer:
        """Encode ``texts`` (one per item) with ``embedder``."""
        if len(texts) != len(item_ids):
            raise RecommenderError(f"ContentScorer: {len(texts)} texts for {len(item_ids)} item ids")
        return cls(item_ids, embedder.encode(list(texts)), **kwargs)

    @classmethod
    def from_catalog(cls, catalog: Catalog, embedder: Embedder,
                     template: str = DEFAULT_TEXT_TEMPLATE, **kwargs: Any) -> ContentScorer:
        """Encode every catalogue item's text (the same template the index uses)."""
        return cls.from_texts(list(catalog.ids), catalog.texts(template), embedder,
                              catalog=catalog, **kwargs)

    @classmethod
    def from_index(cls, index: Any, item_ids: Sequence[str], **kwargs: Any) -> ContentScorer:
        """Reuse the vectors of a built item index (anything with ``vectors_for(ids)``)."""
        return cls(item_ids, index.vectors_for(list(item_ids)), **kwargs)

    # fitting and scoring ----------------------------------------------------------
    def fit(self, interactions: Interactions) -> ContentScorer:
        """Content needs no interactions; records their hash so a saved model says what it saw."""
        self.data_hash = interactions_hash(interactions)
        return self

    def _fit_matrix(self, X: sp.csr_matrix) -> None:
        return None

    def fit_matrix(self, X: sp.csr_matrix, item_ids: Sequence[str], data_hash: str = "",
                   value_scale: float = 1.0) -> ContentScorer:
        self.data_hash = data_hash
        self.value_scale = float(value_scale)
        return self

    def score_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        X = sp.csr_matrix(X, dtype=np.float32)
        weight = np.asarray(abs(X).sum(axis=1)).ravel()
        weight[weight == 0] = 1.0
        if self.similarity is not None:
            S = (X @ self.similarity).toarray()
        else:
            S = np.asarray((X @ self.vectors) @ self.vectors.T)
        return S / weight[:, None]

    # persistence ---------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return {"neighbors": self.neighbors, "dimension": int(self.vectors.shape[1])}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"vectors": self.vectors}

    def _restore(self, params: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        fresh = ContentScorer(arrays["item_ids"].tolist(), arrays["vectors"],
                              neighbors=params["neighbors"], catalog=self.catalog)
        self.vectors, self.neighbors, self.similarity = fresh.vectors, fresh.neighbors, fresh.similarity
