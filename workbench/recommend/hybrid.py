"""The hybrid: collaborative filtering + content + a popularity prior, blended.

Each source's scores are standardised per user (z-scores over the items that
source knows) and summed with weights. The weights are either given or learned
by :meth:`HybridScorer.fit` on a validation split carved out of the training
interactions (never a test split), then every source is refitted on all of the
training data. Fallbacks follow from the blend: an item nobody interacted with
gets no CF score and is ranked by content (and the prior); a user with no
usable history gets content + popularity, or popularity alone.

Every recommended item carries each source's raw score in ``sources``.
It knows scorers and matrices; it does not know FAISS, text or gradio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from workbench.catalog import Catalog, Vocabulary
from workbench.errors import RecommenderError
from workbench.interactions import Interactions
from workbench.manifest import manifest_path
from workbench.recommend.als import ALSScorer
from workbench.recommend.base import (
    MatrixScorer,
    interaction_matrix,
    interactions_hash,
    load_by_kind,
    read_model,
    row_zscore,
    value_scale,
    write_model,
)
from workbench.recommend.content import ContentScorer
from workbench.recommend.ease import EASEScorer
from workbench.recommend.knn import ItemKNNScorer
from workbench.recommend.popularity import PopularityScorer
from workbench.recommend.tuning import blend, grid_search, holdout_split

#: The scorers a saved hybrid's sources may be (each loads from its own sub-directory).
COMPONENT_CLASSES: tuple[type[MatrixScorer], ...] = (
    PopularityScorer, ItemKNNScorer, EASEScorer, ALSScorer, ContentScorer,
)

#: Default weight grid searched for each non-anchor source when tuning.
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "content": (0.0, 0.025, 0.05, 0.1, 0.2),
    # A negative prior weight debiases a CF model that already over-ranks popular items.
    "popularity": (-0.15, -0.1, -0.05, 0.0, 0.05),
    "knn": (0.0, 0.1, 0.25, 0.5),
    "cf": (0.0, 0.25, 0.5, 1.0),
}
#: Weights used when tuning is off and none are given.
DEFAULT_WEIGHTS = {"cf": 1.0, "knn": 0.25, "content": 0.1, "popularity": 0.05}


class HybridScorer(MatrixScorer):
    """Blend of CF, kNN, content and popularity sources.

    Args:
        cf: a CF scorer (EASE or ALS), source "cf".
        content: a :class:`~workbench.recommend.content.ContentScorer`, source "content".
        popularity: the prior; a fresh :class:`PopularityScorer` when omitted.
        knn: optional item-kNN scorer, source "knn".
        weights: fixed weights per source; when omitted and ``tune`` is true they are learned.
        tune: learn weights on a validation split of the training data in :meth:`fit`.
        validation_fraction: share of each user's positives held out for tuning.
        min_items: users with fewer positives are not held out from.
        seed: seed of the (first) validation split.
        validation_rounds: validation splits (seeds ``seed``, ``seed + 1``, ...) whose mean
            NDCG picks the weights; more rounds give steadier weights at the cost of a fit each.
        grid: weights to try per source (the anchor, "cf" when present, stays at 1).
        tune_k: cut-off of the NDCG that tuning maximises.
        weighting: "binary" or "value" input for every source (see :class:`MatrixScorer`).
        catalog: optional catalogue used to resolve aliases and ``filters``.
    """

    kind = "hybrid"
    source = "hybrid"

    def __init__(
        self,
        cf: MatrixScorer | None = None,
        content: MatrixScorer | None = None,
        popularity: MatrixScorer | None = None,
        *,
        knn: MatrixScorer | None = None,
        weights: Mapping[str, float] | None = None,
        tune: bool = True,
        validation_fraction: float = 0.2,
        min_items: int = 3,
        seed: int = 0,
        validation_rounds: int = 1,
        grid: Mapping[str, Sequence[float]] | None = None,
        tune_k: int = 10,
        catalog: Catalog | None = None,
        weighting: str = "binary",
    ):
        super().__init__(catalog, weighting)
        comps: dict[str, MatrixScorer] = {}
        for name, comp in (("cf", cf), ("knn", knn), ("content", content),
                           ("popularity", popularity or PopularityScorer(catalog=catalog))):
            if comp is not None:
                comp.weighting = weighting  # every source reads the hybrid's input matrix
                comps[name] = comp
        self.components = comps
        self.anchor = "cf" if "cf" in comps else ("content" if "content" in comps else "popularity")
        if weights is not None:
            unknown = set(weights) - set(comps)
            if unknown:
                raise RecommenderError(
                    f"HybridScorer: weights for unknown source(s) {sorted(unknown)}; "
                    f"sources are {sorted(comps)}"
                )
            self.weights = {n: float(weights.get(n, 0.0)) for n in comps}
            self.tune = False
        else:
            self.weights = {n: DEFAULT_WEIGHTS.get(n, 0.0) for n in comps}
            self.weights[self.anchor] = 1.0
            self.tune = tune
        self.validation_fraction = validation_fraction
        self.min_items = min_items
        self.seed = seed
        if validation_rounds < 1:
            raise RecommenderError(f"HybridScorer: validation_rounds must be >= 1, got {validation_rounds}")
        self.validation_rounds = validation_rounds
        self.grid = dict(DEFAULT_GRID if grid is None else grid)
        self.tune_k = tune_k
        self.validation_ndcg: float | None = None
        self._positions: dict[str, np.ndarray] = {}

    # fitting ------------------------------------------------------------------
    def fit(self, interactions: Interactions) -> HybridScorer:
        """Learn weights on a validation split (if tuning), then fit every source on all data."""
        if not isinstance(interactions, Interactions):
            raise RecommenderError(
                f"HybridScorer.fit expects Interactions, got {type(interactions).__name__}"
            )
        X, _, vocab = interaction_matrix(interactions, catalog=self.catalog, weighting=self.weighting)
        if X.shape[1] == 0:
            raise RecommenderError("HybridScorer.fit: no positive interactions (value > 0) to fit on")
        scale = value_scale(interactions) if self.weighting == "value" else 1.0
        self.fit_matrix(X, vocab.ids, interactions_hash(interactions), scale)
        return self

    def fit_matrix(self, X: sp.csr_matrix, item_ids: Sequence[str], data_hash: str = "",
                   value_scale: float = 1.0) -> HybridScorer:
        """Fit on a users x items matrix whose columns are ``item_ids`` (see :meth:`MatrixScorer.fit_matrix`)."""
        X = sp.csr_matrix(X, dtype=np.float32)
        self.value_scale = float(value_scale)
        if self.tune and len(self.components) > 1:
            rounds = []
            for r in range(self.validation_rounds):
                kept, held = holdout_split(X, self.validation_fraction, self.min_items, self.seed + r)
                users = np.flatnonzero(np.diff(held.indptr) > 0)
                if users.size:
                    self._fit_components(kept, item_ids, data_hash, value_scale)
                    # The universe may hold more items than X's columns (e.g. content covers
                    # the whole catalogue): widen to it so every source's positions index it.
                    kept_u = self._to_universe(kept[users])
                    held_u = self._to_universe(held[users])
                    rounds.append((self._zscores(kept_u), kept_u, held_u))
            if rounds:
                grid = {n: self.grid.get(n, (0.0,)) for n in self.components if n != self.anchor}
                self.weights, self.validation_ndcg = grid_search(
                    rounds, self.anchor, grid, k=self.tune_k
                )
        self._fit_components(X, item_ids, data_hash, value_scale)
        self.data_hash = data_hash
        return self

    def _fit_components(self, X: sp.csr_matrix, item_ids: Sequence[str], data_hash: str,
                        value_scale: float) -> None:
        for comp in self.components.values():
            comp.fit_matrix(X, item_ids, data_hash, value_scale)
        self._set_universe(item_ids)

    def _to_universe(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """``X`` (columns = the fitted ``item_ids``, which lead the universe) widened with zero
        columns for the universe's remaining items (those only another source knows)."""
        extra = len(self.vocabulary) - X.shape[1]
        if extra <= 0:
            return sp.csr_matrix(X)
        return sp.csr_matrix(sp.hstack([X, sp.csr_matrix((X.shape[0], extra), dtype=X.dtype)]))

    def _set_universe(self, item_ids: Sequence[str]) -> None:
        ids: list[str] = []
        seen: set[str] = set()
        for group in (item_ids, *(c.item_ids for c in self.components.values())):
            for i in group:
                if i not in seen:
                    seen.add(i)
                    ids.append(i)
        self.vocabulary = Vocabulary(ids)
        self._positions = {
            name: np.asarray(self.vocabulary.numbers(comp.item_ids), dtype=np.int64)
            for name, comp in self.components.items()
        }

    # scoring ---------------------------------------------------------------------
    def _raw_scores(self, X: sp.csr_matrix) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per source: raw scores (NaN where the source does not know the item) and
        z-scores (0 there), both users x universe; plus which rows had history for it."""
        raw: dict[str, np.ndarray] = {}
        active: dict[str, np.ndarray] = {}
        n_users, n_items = X.shape
        for name, comp in self.components.items():
            pos = self._positions[name]
            Xc = X[:, pos]
            fill = np.nan if comp.missing_score is None else comp.missing_score
            R = np.full((n_users, n_items), fill, dtype=np.float32)
            R[:, pos] = comp.score_matrix(Xc)
            raw[name] = R
            active[name] = np.diff(sp.csr_matrix(Xc).indptr) > 0
        return raw, active

    def _zscores(self, X: sp.csr_matrix) -> dict[str, np.ndarray]:
        raw, active = self._raw_scores(X)
        return self._standardise(raw, active)

    def _standardise(self, raw: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]
                     ) -> dict[str, np.ndarray]:
        zs: dict[str, np.ndarray] = {}
        for name, R in raw.items():
            if self.components[name].missing_score is not None:
                Z = row_zscore(R)  # every item has a real score for this source
            else:
                pos = self._positions[name]
                Z = np.zeros_like(R)
                Z[:, pos] = row_zscore(R[:, pos])
            if name != "popularity":
                Z[~active[name]] = 0.0  # a source with nothing to go on says nothing
            zs[name] = Z
        return zs

    def _blend_rows(self, zs: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> np.ndarray:
        S = blend(zs, self.weights)
        if "popularity" in zs:
            # Cold start: rows where no weighted personal source had history fall back on the prior.
            personal = [n for n in zs if n != "popularity" and self.weights.get(n, 0) != 0]
            n_rows = S.shape[0]
            cold = np.ones(n_rows, dtype=bool)
            for n in personal:
                cold &= ~active[n]
            if cold.any():
                S[cold] = zs["popularity"][cold]
        return S

    def score_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        self._vocab()
        X = sp.csr_matrix(X, dtype=np.float32)
        raw, active = self._raw_scores(X)
        return self._blend_rows(self._standardise(raw, active), active)

    def _scores_with_sources(self, hist: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        X = self.history_matrix([hist])
        raw, active = self._raw_scores(X)
        final = self._blend_rows(self._standardise(raw, active), active)[0]
        return final, {name: R[0] for name, R in raw.items()}

    # persistence ------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Each source in its own sub-directory, the weights in this ``meta.json``."""
        vocab = self._vocab()
        path = Path(directory)
        for name, comp in self.components.items():
            comp.save(path / name)
        params = {
            "weighting": self.weighting,
            "value_scale": self.value_scale,
            "weights": self.weights,
            "components": {name: comp.kind for name, comp in self.components.items()},
            "validation_ndcg": self.validation_ndcg,
        }
        return write_model(path, self.kind, params, len(vocab), self.data_hash,
                           {"item_ids": np.asarray(vocab.ids, dtype=str)})

    @classmethod
    def load(cls, directory: str | Path, *, catalog: Catalog | None = None,
             interactions: Interactions | None = None) -> HybridScorer:
        meta, arrays = read_model(directory, cls.kind, interactions)
        classes = {c.kind: c for c in COMPONENT_CLASSES}
        comps = {}
        for name, kind in meta["params"]["components"].items():
            comp = load_by_kind(Path(directory) / name, classes, catalog=catalog)
            if comp.kind != kind:
                raise RecommenderError(
                    f"{Path(directory) / name}: holds a {comp.kind!r} model, manifest says {kind!r}"
                )
            comps[name] = comp
        obj = cls(comps.get("cf"), comps.get("content"), comps.get("popularity"), knn=comps.get("knn"),
                  weights=meta["params"]["weights"], catalog=catalog,
                  weighting=meta["params"].get("weighting", "binary"))
        obj.value_scale = float(meta["params"].get("value_scale", 1.0))
        obj.validation_ndcg = meta["params"].get("validation_ndcg")
        obj.data_hash = meta["data_hash"]
        obj._set_universe(arrays["item_ids"].tolist())
        if len(obj.vocabulary) != meta["item_count"]:
            raise RecommenderError(
                f"{manifest_path(directory)}: item_count {meta['item_count']} but the sources "
                f"cover {len(obj.vocabulary)} items; save the model again"
            )
        return obj

    def describe(self) -> str:
        parts = [f"{name}={w:g}" for name, w in self.weights.items()]
        return "hybrid(" + ", ".join(parts) + ")"
