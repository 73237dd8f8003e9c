"""The hybrid: blending, cold-start fallbacks, provenance and validation tuning."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from workbench.errors import RecommenderError
from workbench.interactions import Interactions
from workbench.recommend import ContentScorer, EASEScorer, HybridScorer, PopularityScorer
from workbench.recommend.tuning import holdout_split


def likes(pairs):
    return Interactions.from_rows((u, i, "liked", 1.0) for u, items in pairs.items() for i in items)


DATA = likes({
    "u1": ["A", "B", "C"], "u2": ["A", "C"], "u3": ["B", "C"], "u4": ["A", "B", "C"],
    "u5": ["D", "E"], "u6": ["D", "E"], "u7": ["E", "C"],
})
# "Z" has no interactions; its vector is almost D's. "Y" is orthogonal to everything.
IDS = ["A", "B", "C", "D", "E", "Y", "Z"]
VECS = np.array([
    [1, 0, 0, 0], [0.9, 0.1, 0, 0], [0.8, 0.2, 0, 0], [0, 0, 1, 0], [0, 0, 0.9, 0.1],
    [0, 1, 0, 0], [0, 0, 1, 0.01],
], dtype=np.float32)


def hybrid(**kw):
    return HybridScorer(cf=EASEScorer(lambda_=1.0), content=ContentScorer(IDS, VECS, neighbors=3),
                        **kw).fit(DATA)


def test_item_without_interactions_is_reached_through_content():
    """Guards the cold-item fallback: Z (no interactions, D's twin) is recommended on content alone."""
    out = hybrid(weights={"cf": 1.0, "content": 1.0, "popularity": 0.0}).recommend(["D"], k=3)
    assert "Z" in out.ids
    z = out[out.ids.index("Z")]
    assert "content" in z.sources and "cf" not in z.sources  # CF cannot score an unseen item


def test_user_with_no_history_gets_popularity():
    """Guards the cold-user fallback: an empty history ranks by popularity even if its weight is 0."""
    rec = hybrid(weights={"cf": 1.0, "content": 0.5, "popularity": 0.0})
    pop = PopularityScorer().fit(DATA).recommend({}, k=3)
    assert rec.recommend({}, k=3).ids == pop.ids


def test_history_known_only_to_content_uses_content_and_popularity():
    """Guards the fallback for a history CF cannot read (an item nobody interacted with)."""
    out = hybrid(weights={"cf": 1.0, "content": 1.0, "popularity": 0.0}).recommend(["Z"], k=2)
    assert out.ids[0] == "D"


def test_every_item_carries_each_source_score():
    """Guards provenance: cf, content and popularity raw scores travel with each item."""
    rec = hybrid(weights={"cf": 1.0, "content": 0.2, "popularity": 0.1})
    out = rec.recommend(["A", "B"], k=3)
    assert out.ids[0] == "C"
    assert set(out[0].sources) == {"cf", "content", "popularity"}
    assert out[0].sources["popularity"] == 5.0  # C is liked by five users
    assert out[0].sources["cf"] == pytest.approx(rec.components["cf"].recommend(["A", "B"], k=1).scores[0])


def test_unknown_weight_name_is_rejected():
    """Guards typos in weights: a source the hybrid does not have is an error naming it."""
    with pytest.raises(RecommenderError, match="knn"):
        HybridScorer(cf=EASEScorer(), weights={"knn": 1.0})


def _clustered(seed=0, n_users=120, n_items=40, clusters=4):
    """Users like items of one cluster; content vectors encode the cluster exactly."""
    rng = np.random.default_rng(seed)
    ids = [f"i{j}" for j in range(n_items)]
    cluster = np.arange(n_items) % clusters
    rows = []
    for u in range(n_users):
        c = u % clusters
        members = np.flatnonzero(cluster == c)
        for j in rng.choice(members, size=4, replace=False):
            rows.append((f"u{u}", ids[j], "liked", 1.0))
        rows.append((f"u{u}", ids[rng.integers(n_items)], "liked", 1.0))  # noise
    vecs = np.eye(clusters)[cluster] + 0.01 * rng.normal(size=(n_items, clusters))
    return Interactions.from_rows(rows), ids, vecs


def test_tuning_gives_informative_content_weight():
    """Guards the learned blend: when content carries the signal, validation tuning weights it above 0."""
    data, ids, vecs = _clustered()
    rec = HybridScorer(cf=EASEScorer(lambda_=50.0), content=ContentScorer(ids, vecs, neighbors=9),
                       tune_k=5).fit(data)
    assert rec.weights["content"] > 0
    assert rec.validation_ndcg is not None and 0 < rec.validation_ndcg <= 1


def test_holdout_split_is_seeded_and_partitions_rows():
    """Guards the validation carve-out: kept + held = original, 20% per eligible row, seeded."""
    rng = np.random.default_rng(1)
    X = sp.csr_matrix((rng.random((30, 50)) < 0.3).astype(np.float32))
    kept, held = holdout_split(X, 0.2, min_items=3, seed=7)
    assert (kept + held != X).nnz == 0
    assert kept.multiply(held).nnz == 0
    n = np.diff(X.indptr)
    expected = np.where(n >= 3, np.maximum(1, np.round(0.2 * n)), 0)
    np.testing.assert_array_equal(np.diff(held.indptr), expected)
    again, held2 = holdout_split(X, 0.2, min_items=3, seed=7)
    assert (held2 != held).nnz == 0


def test_value_weighted_hybrid_round_trips(tmp_path):
    """Guards save/load of a value-weighted, tuned hybrid: weights, weighting and results survive."""
    data, ids, vecs = _clustered(seed=2)
    rec = HybridScorer(cf=EASEScorer(lambda_=50.0), content=ContentScorer(ids, vecs, neighbors=9),
                       weighting="value").fit(data)
    before = rec.recommend({"i0": 1.0, "i4": 1.0}, k=5)
    rec.save(tmp_path / "h")
    loaded = HybridScorer.load(tmp_path / "h", interactions=data)
    assert loaded.weights == rec.weights and loaded.weighting == "value"
    after = loaded.recommend({"i0": 1.0, "i4": 1.0}, k=5)
    assert after.ids == before.ids
    np.testing.assert_allclose(after.scores, before.scores, rtol=1e-4, atol=1e-5)
