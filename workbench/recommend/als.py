"""Implicit-feedback ALS through the ``implicit`` library (Hu, Koren and Volinsky 2008).

The well-known outside implementation we compare our own CF against, side by
side in one evaluation run. ``implicit`` is imported when a model is fitted or
loaded, never at import. It knows the interaction matrix and item ids only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.catalog import Catalog
from workbench.errors import RecommenderError
from workbench.recommend.base import MatrixScorer


def _implicit_als():
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError as exc:  # pragma: no cover - implicit is a dev requirement
        raise RecommenderError(f"ALSScorer needs the 'implicit' package ({exc}); pip install implicit") from None
    return AlternatingLeastSquares


def implicit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("implicit")
    except PackageNotFoundError:  # pragma: no cover
        return "missing"


class ALSScorer(MatrixScorer):
    """``implicit``'s ALS; histories are folded in with its own least-squares step.

    Args:
        factors: latent dimension.
        regularization: L2 weight.
        alpha: confidence scaling of a positive interaction.
        iterations: ALS sweeps.
        random_state: seed (results are reproducible with one thread).
        num_threads: threads for fitting (0: all cores).
        weighting: "binary" or "value" (values scale the confidence).
        catalog: optional catalogue used to resolve aliases and ``filters``.
    """

    kind = "als"
    source = "cf"

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 2.0,
                 iterations: int = 15, random_state: int = 0, num_threads: int = 0,
                 catalog: Catalog | None = None, *, weighting: str = "binary"):
        super().__init__(catalog, weighting)
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.iterations = int(iterations)
        self.random_state = int(random_state)
        self.num_threads = int(num_threads)
        self.model = None

    def _new_model(self):
        import warnings

        cls = _implicit_als()
        with warnings.catch_warnings():
            # implicit warns about OpenBLAS threads at construction; the models here are small.
            warnings.simplefilter("ignore", RuntimeWarning)
            return cls(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                       iterations=self.iterations, random_state=self.random_state,
                       num_threads=self.num_threads)

    def _fit_matrix(self, X: sp.csr_matrix) -> None:
        self.model = self._new_model()
        self.model.fit(sp.csr_matrix(X, dtype=np.float32), show_progress=False)

    def score_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        self._vocab()
        X = sp.csr_matrix(X, dtype=np.float32)
        if X.shape[0] == 0:
            return np.zeros((0, X.shape[1]), dtype=np.float32)
        users = self.model.recalculate_user(np.arange(X.shape[0]), X)
        return np.asarray(users @ self.model.item_factors.T)

    def _params(self) -> dict[str, Any]:
        return {"factors": self.factors, "regularization": self.regularization, "alpha": self.alpha,
                "iterations": self.iterations, "random_state": self.random_state,
                "implicit_version": implicit_version()}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"item_factors": np.asarray(self.model.item_factors)}

    def _restore(self, params: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        self.factors = int(params["factors"])
        self.regularization = float(params["regularization"])
        self.alpha = float(params["alpha"])
        self.iterations = int(params["iterations"])
        self.random_state = int(params["random_state"])
        self.num_threads = 0
        self.model = self._new_model()
        self.model.item_factors = arrays["item_factors"].astype(np.float32)
        self.model.user_factors = np.zeros((0, self.factors), dtype=np.float32)
