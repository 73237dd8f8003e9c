"""Ranking metrics against hand-computed values, and the vectorised form against the plain one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from workbench.metrics import (
    METRICS,
    coverage_at_k,
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    top_k_matrix,
)

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"b", "e", "z"}


def test_hand_computed_values_at_5():
    """Guards each formula on one list: hits at ranks 2 and 5, three relevant items."""
    assert precision_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 5)
    assert recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(dcg / idcg)
    assert hit_rate_at_k(RANKED, RELEVANT, 5) == 1.0
    assert mrr_at_k(RANKED, RELEVANT, 5) == pytest.approx(1 / 2)


def test_hand_computed_values_at_1_and_ideal_cut():
    """Guards the cut-off: nothing relevant in the top 1; IDCG uses min(k, |relevant|)."""
    assert precision_at_k(RANKED, RELEVANT, 1) == 0.0
    assert mrr_at_k(RANKED, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == 0.0
    assert ndcg_at_k(["x", "b"], {"b"}, 2) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["b", "x"], {"b"}, 2) == 1.0  # one relevant item first is perfect


def test_no_relevant_items_and_bad_k():
    """Guards edge cases: empty relevance gives 0, k < 1 is refused."""
    assert recall_at_k(RANKED, set(), 5) == 0.0 and ndcg_at_k(RANKED, set(), 5) == 0.0
    with pytest.raises(ValueError):
        precision_at_k(RANKED, RELEVANT, 0)


def test_coverage():
    """Guards coverage: distinct items in anyone's top k over the catalogue size."""
    assert coverage_at_k([["a", "b", "c"], ["a", "d", "e"]], 10, 2) == pytest.approx(3 / 10)


def test_top_k_matrix_excludes_breaks_ties_and_pads():
    """Guards ranking: excluded columns never appear, ties go to the lower column, -1 pads."""
    S = np.array([[0.5, 0.9, 0.9, 0.1], [1.0, -np.inf, -np.inf, -np.inf]])
    exclude = sp.csr_matrix(np.array([[0, 0, 0, 1], [0, 0, 0, 0]]))
    top = top_k_matrix(S, 3, exclude)
    np.testing.assert_array_equal(top, [[1, 2, 0], [0, -1, -1]])
    np.testing.assert_array_equal(top_k_matrix(S[:1], 6)[0], [1, 2, 0, 3, -1, -1])


def test_vectorised_metrics_equal_the_plain_functions():
    """Guards the evaluation's fast path: it must give the same numbers as the readable functions."""
    rng = np.random.default_rng(0)
    n_users, n_items, ks = 40, 30, [1, 3, 5, 10]
    scores = rng.random((n_users, n_items))
    rel = sp.csr_matrix(rng.random((n_users, n_items)) < 0.15)
    top = top_k_matrix(scores, max(ks))
    got = ranking_metrics(top, rel, ks)
    users = [u for u in range(n_users) if rel[u].nnz]
    for k in ks:
        ranked = {u: [str(i) for i in top[u]] for u in users}
        relevant = {u: {str(i) for i in rel[u].indices} for u in users}
        plain = {
            "precision": np.mean([precision_at_k(ranked[u], relevant[u], k) for u in users]),
            "recall": np.mean([recall_at_k(ranked[u], relevant[u], k) for u in users]),
            "ndcg": np.mean([ndcg_at_k(ranked[u], relevant[u], k) for u in users]),
            "hit_rate": np.mean([hit_rate_at_k(ranked[u], relevant[u], k) for u in users]),
            "mrr": np.mean([mrr_at_k(ranked[u], relevant[u], k) for u in users]),
            "coverage": coverage_at_k([ranked[u] for u in users], n_items, k),
        }
        for m in METRICS:
            assert got[k][m] == pytest.approx(plain[m]), (k, m)


def test_users_without_relevant_items_are_skipped():
    """Guards averaging 'over users with at least one relevant test item'."""
    top = np.array([[0, 1], [0, 1]])
    rel = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0]]))
    assert ranking_metrics(top, rel, [1])[1]["precision"] == 1.0
