"""Carving a validation split out of training data, and choosing blend weights and
hyperparameters on it.

The hybrid's weights and the evaluation's hyperparameters (EASE's lambda, ALS
settings, content neighbours) are chosen here and only here: on items held out
from the *training* interactions, never on a test split. It knows matrices and
metrics; it does not know models' internals, files or gradio.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.metrics import ranking_metrics, top_k_matrix

#: Items per user (the anchor source's best) among which blend weights are compared.
TUNING_CANDIDATES = 200


def holdout_split(
    X: sp.spmatrix, fraction: float = 0.2, min_items: int = 3, seed: int = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split each row of ``X`` with at least ``min_items`` entries: hold out
    ``max(1, round(fraction * n))`` of them at random (seeded), keep the rest.

    Returns ``(kept, held_out)``, both the shape of ``X``; rows with fewer
    entries are kept whole.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    X = sp.csr_matrix(X)
    rng = np.random.default_rng(seed)
    keep_mask = np.ones(X.nnz, dtype=bool)
    for r in range(X.shape[0]):
        start, end = X.indptr[r], X.indptr[r + 1]
        n = end - start
        if n < min_items:
            continue
        n_out = max(1, int(round(fraction * n)))
        out = rng.choice(n, size=n_out, replace=False)
        keep_mask[start + out] = False
    coo = X.tocoo()
    kept = sp.csr_matrix((coo.data[keep_mask], (coo.row[keep_mask], coo.col[keep_mask])), shape=X.shape)
    held = sp.csr_matrix((coo.data[~keep_mask], (coo.row[~keep_mask], coo.col[~keep_mask])), shape=X.shape)
    return kept, held


def blend(zscores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The weighted sum of per-source standardised scores."""
    total = None
    for name, Z in zscores.items():
        w = weights.get(name, 0.0)
        if w == 0:
            continue
        total = w * Z if total is None else total + w * Z
    if total is None:
        first = next(iter(zscores.values()))
        return np.zeros_like(first)
    return total


def grid_search(
    rounds: Sequence[tuple[Mapping[str, np.ndarray], sp.spmatrix, sp.spmatrix]],
    anchor: str,
    grid: Mapping[str, Sequence[float]],
    k: int = 10,
) -> tuple[dict[str, float], float]:
    """Best weights (the ``anchor`` source fixed at 1) by NDCG@k averaged over validation rounds.

    Each round is ``(zscores, exclude, relevant)``: per-source standardised scores of
    the validation users, their training items (never ranked) and their held-out items.
    Ties keep the earlier combination in grid order.
    """
    prepared = []
    for zscores, exclude, relevant in rounds:
        # Excluded items get -inf in the anchor, so they never enter the candidates.
        ex = sp.coo_matrix(exclude)
        anchored = np.array(zscores[anchor], dtype=np.float32, copy=True)
        anchored[ex.row, ex.col] = -np.inf
        # Rank only the anchor's best TUNING_CANDIDATES items per user: small blend weights
        # reorder those, and scoring a few hundred columns per combination keeps tuning fast.
        cand = top_k_matrix(anchored, min(TUNING_CANDIDATES, anchored.shape[1]))
        valid = cand >= 0
        safe = np.where(valid, cand, 0)
        zs = {}
        for name, Z in zscores.items():
            src = anchored if name == anchor else np.asarray(Z, dtype=np.float32)
            vals = np.take_along_axis(src, safe, axis=1)
            vals[~valid] = -np.inf if name == anchor else 0.0
            zs[name] = vals
        prepared.append((zs, relevant, cand))
    others = [name for name in prepared[0][0] if name != anchor]
    choices = [list(grid.get(name, (0.0,))) for name in others]
    best: dict[str, float] = {anchor: 1.0, **{n: 0.0 for n in others}}
    best_score = -1.0
    for combo in itertools.product(*choices):
        weights = {anchor: 1.0, **dict(zip(others, combo, strict=True))}
        scores = []
        for zs, relevant, cand in prepared:
            pos = top_k_matrix(blend(zs, weights), k)
            top = np.where(pos >= 0, np.take_along_axis(cand, np.maximum(pos, 0), axis=1), -1)
            scores.append(ranking_metrics(top, relevant, [k])[k]["ndcg"])
        score = float(np.mean(scores))
        if score > best_score + 1e-9:
            best, best_score = weights, score
    return best, best_score


# ---------------------------------------------------------------------------
# choosing hyperparameters on a validation split


def ease_path(X: sp.spmatrix, lambdas: Sequence[float]) -> Iterator[tuple[float, np.ndarray]]:
    """EASE weight matrices ``B`` (float32, zero diagonal) for several ``lambdas`` at the cost of one.

    One Gram matrix ``G = X^T X`` and one eigendecomposition ``G = V diag(e) V^T`` serve every
    lambda: ``(G + lambda I)^-1 = V diag(1 / (e + lambda)) V^T`` is a matrix product, not a new
    inverse. Equal (to float rounding) to :func:`workbench.recommend.ease.ease_weights`.
    """
    import scipy.linalg

    G = X.T @ X
    G = np.asarray(G.toarray() if sp.issparse(G) else G, dtype=np.float64)
    e, V = scipy.linalg.eigh(G, check_finite=False)
    for lam in lambdas:
        if not lam > 0:
            raise ValueError(f"EASE lambda must be > 0, got {lam}")
        P = (V / (e + lam)) @ V.T
        B = P / (-np.diag(P))[None, :]
        B[np.diag_indices_from(B)] = 0.0
        yield float(lam), B.astype(np.float32)


def validation_ndcg(scores: np.ndarray, exclude: sp.spmatrix, relevant: Mapping[str, sp.spmatrix],
                    k: int) -> float:
    """NDCG@k of ``scores`` (users x items) on held-out items, ``exclude`` never ranked,
    averaged over the relevance protocols in ``relevant`` (name -> users x items)."""
    top = top_k_matrix(np.asarray(scores, dtype=np.float32), k, exclude=exclude)
    return float(np.mean([ranking_metrics(top, rel, [k])[k]["ndcg"] for rel in relevant.values()]))


def pick_best(scores: Mapping[Any, float]) -> Any:
    """The candidate with the highest validation score; ties keep the earlier candidate."""
    best, best_score = None, -np.inf
    for candidate, score in scores.items():
        if score > best_score + 1e-9:
            best, best_score = candidate, score
    if best is None:
        raise ValueError("pick_best: no candidates")
    return best
