"""Offline ranking metrics: precision, recall, NDCG, hit rate, MRR and catalogue coverage at k.

Two forms that must agree (a test checks): plain functions over one ranked list
and one set of relevant ids (easy to read and to check by hand), and
:func:`ranking_metrics`, the vectorised form the evaluation protocols use over
a users x k matrix of top-ranked item numbers. Relevance is binary. NDCG's
ideal DCG is over ``min(k, |relevant|)`` items; recall divides by
``|relevant|``; MRR is the reciprocal rank of the first relevant item within
the top k (0 if none); coverage is the share of the catalogue that appears in
anyone's top k.

It knows rankings and relevance; it does not know models, files or gradio.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

METRICS = ("precision", "recall", "ndcg", "hit_rate", "mrr", "coverage")


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the top ``k`` that is relevant (the denominator is always ``k``)."""
    _check_k(k)
    return sum(1 for i in ranked[:k] if i in relevant) / k


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant items found in the top ``k`` (0 when nothing is relevant)."""
    _check_k(k)
    if not relevant:
        return 0.0
    return sum(1 for i in ranked[:k] if i in relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-gain NDCG: DCG of the top ``k`` over the DCG of ``min(k, |relevant|)`` hits."""
    _check_k(k)
    if not relevant:
        return 0.0
    dcg = sum(1.0 / np.log2(r + 2) for r, i in enumerate(ranked[:k]) if i in relevant)
    ideal = sum(1.0 / np.log2(r + 2) for r in range(min(k, len(relevant))))
    return float(dcg / ideal)


def hit_rate_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 if any relevant item is in the top ``k``, else 0.0."""
    _check_k(k)
    return float(any(i in relevant for i in ranked[:k]))


def mrr_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Reciprocal rank (1-based) of the first relevant item in the top ``k``; 0 if none."""
    _check_k(k)
    for r, i in enumerate(ranked[:k]):
        if i in relevant:
            return 1.0 / (r + 1)
    return 0.0


def coverage_at_k(rankings: Iterable[Sequence[str]], n_items: int, k: int) -> float:
    """Share of the ``n_items`` catalogue that appears in at least one top ``k``."""
    _check_k(k)
    if n_items <= 0:
        raise ValueError(f"n_items must be positive, got {n_items}")
    seen: set[str] = set()
    for ranked in rankings:
        seen.update(ranked[:k])
    return len(seen) / n_items


# ---------------------------------------------------------------------------
# vectorised


def top_k_matrix(scores: np.ndarray, k: int, exclude: sp.spmatrix | None = None) -> np.ndarray:
    """Per row, the column numbers of the ``k`` best scores, best first (-1 pads rows
    with fewer than ``k`` finite scores). ``exclude`` (same shape, nonzero = excluded) is
    applied first; ties go to the lower column number.
    """
    _check_k(k)
    S = np.array(scores, dtype=np.result_type(np.asarray(scores).dtype, np.float32), copy=True)
    if exclude is not None:
        ex = sp.coo_matrix(exclude)
        S[ex.row, ex.col] = -np.inf
    n_users, n_items = S.shape
    kk = min(k, n_items)
    if kk < n_items:
        part = np.argpartition(-S, kk - 1, axis=1)[:, :kk]
    else:
        part = np.tile(np.arange(n_items), (n_users, 1))
    vals = np.take_along_axis(S, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    top_vals = np.take_along_axis(vals, order, axis=1)
    top[~np.isfinite(top_vals)] = -1
    if kk < k:
        top = np.hstack([top, np.full((n_users, k - kk), -1, dtype=top.dtype)])
    return top


def ranking_metrics(
    top: np.ndarray, relevant: sp.spmatrix, ks: Sequence[int], n_items: int | None = None
) -> dict[int, dict[str, float]]:
    """Mean metrics over users at each k.

    Args:
        top: users x K column numbers, best first (-1 = no item), K >= max(ks).
        relevant: users x items, nonzero = relevant. Rows with no relevant item are skipped.
        ks: cut-offs.
        n_items: catalogue size for coverage (default ``relevant.shape[1]``).

    Returns:
        ``{k: {metric: value}}`` for :data:`METRICS`; all zeros if no user has a relevant item.
    """
    rel = sp.csr_matrix(relevant, dtype=bool)
    n_items = rel.shape[1] if n_items is None else n_items
    n_rel = np.asarray(rel.sum(axis=1)).ravel()
    users = np.flatnonzero(n_rel > 0)
    if max(ks) > top.shape[1]:
        raise ValueError(f"top has {top.shape[1]} columns, fewer than k={max(ks)}")
    out: dict[int, dict[str, float]] = {}
    if users.size == 0:
        return {k: dict.fromkeys(METRICS, 0.0) for k in ks}
    T = top[users]
    valid = T >= 0
    hits = np.zeros(T.shape, dtype=bool)
    sub = rel[users]
    hits[valid] = np.asarray(sub[np.nonzero(valid)[0], T[valid]]).ravel()
    nr = n_rel[users].astype(np.float64)
    discount = 1.0 / np.log2(np.arange(T.shape[1]) + 2.0)
    for k in ks:
        _check_k(k)
        h = hits[:, :k]
        nh = h.sum(axis=1)
        dcg = (h * discount[:k]).sum(axis=1)
        ideal = np.cumsum(discount[:k])[np.minimum(nr, k).astype(int) - 1]
        first = np.where(h.any(axis=1), h.argmax(axis=1), -1)
        rr = np.where(first >= 0, 1.0 / np.maximum(first + 1.0, 1.0), 0.0)
        shown = T[:, :k]
        out[k] = {
            "precision": float(np.mean(nh / k)),
            "recall": float(np.mean(nh / nr)),
            "ndcg": float(np.mean(dcg / ideal)),
            "hit_rate": float(np.mean(nh > 0)),
            "mrr": float(np.mean(rr)),
            "coverage": float(np.unique(shown[shown >= 0]).size / n_items),
        }
    return out
