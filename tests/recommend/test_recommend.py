"""Recommenders on tiny generated interaction matrices with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from workbench.errors import RecommenderError
from workbench.filters import ItemFilter
from workbench.interactions import Interactions
from workbench.recommend import (
    ALSScorer,
    ContentScorer,
    EASEScorer,
    HybridScorer,
    ItemKNNScorer,
    PopularityScorer,
    Recommender,
    load_scorer,
)
from workbench.recommend.base import interaction_matrix
from workbench.scored import ScoredItems


def likes(pairs: dict[str, list[str]], value: float = 1.0) -> Interactions:
    return Interactions.from_rows(
        (user, item, "liked", value) for user, items in pairs.items() for item in items
    )


# C co-occurs with both A and B; D and E form a separate cluster; F is popular noise.
COOC = likes({
    "u1": ["A", "B", "C"], "u2": ["A", "C"], "u3": ["B", "C"], "u4": ["A", "B", "C"],
    "u5": ["D", "E", "F"], "u6": ["D", "E"], "u7": ["F", "E"], "u8": ["F", "D"], "u9": ["F"],
})


@pytest.mark.parametrize("make", [lambda: ItemKNNScorer(neighbors=5), lambda: EASEScorer(lambda_=1.0)])
def test_co_occurring_item_comes_first(make):
    """Guards the core of CF: liked A and B, C co-occurs with both -> C is recommended first."""
    rec = make().fit(COOC)
    out = rec.recommend({"A": 1.0, "B": 1.0}, k=3)
    assert out.ids[0] == "C"
    assert "A" not in out and "B" not in out  # history excluded by default


def test_history_may_be_a_list_of_liked_ids():
    """Guards the History contract: a sequence of ids means each liked with value 1."""
    rec = EASEScorer(lambda_=1.0).fit(COOC)
    assert rec.recommend(["A", "B"], k=4) == rec.recommend({"A": 1.0, "B": 1.0}, k=4)


def test_ease_matches_numpy_closed_form():
    """Guards the EASE solution against a direct numpy inverse on a small random matrix."""
    rng = np.random.default_rng(3)
    X = (rng.random((12, 7)) < 0.4).astype(np.float32)
    ids = [f"i{j}" for j in range(7)]
    rec = EASEScorer(lambda_=2.0).fit_matrix(sp.csr_matrix(X), ids)
    P = np.linalg.inv(X.T.astype(np.float64) @ X + 2.0 * np.eye(7))
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    np.testing.assert_allclose(rec.weights, B, atol=1e-5)
    x = X[0]
    np.testing.assert_allclose(rec.score({ids[j]: 1.0 for j in np.flatnonzero(x)}), x @ B, atol=1e-5)


def test_item_knn_similarity_is_cosine():
    """Guards the kNN similarity: co-counts over the product of item norms."""
    rec = ItemKNNScorer(neighbors=10).fit(COOC)
    vocab = rec.vocabulary
    S = rec.similarity.toarray()
    # A: u1,u2,u4; C: u1..u4 -> 3 / sqrt(3*4)
    assert S[vocab.number("A"), vocab.number("C")] == pytest.approx(3 / np.sqrt(12), rel=1e-5)
    assert S[vocab.number("A"), vocab.number("A")] == 0.0


def test_popularity_orders_by_count_and_fills_sources():
    """Guards the baseline: most-interacted items first, with their count as provenance."""
    out = PopularityScorer().fit(COOC).recommend({}, k=3)
    assert out.ids[:1] == ("C",)  # C: 4 users; F: 4 users -> tie broken by id
    assert out.ids[1] == "F"
    assert out[0].sources == {"popularity": 4.0}


def test_disliked_item_pushes_its_neighbours_down():
    """Guards negative history values: disliking D lowers E (D's co-occurring item)."""
    rec = EASEScorer(lambda_=1.0).fit(COOC)
    neutral = rec.recommend({"F": 1.0}, k=10)
    disliked = rec.recommend({"F": 1.0, "D": -1.0}, k=10)
    assert disliked.score_of("E") < neutral.score_of("E")
    assert "D" not in disliked


def test_exclude_and_k():
    """Guards exclusion of given ids and the k limit and its validation."""
    rec = EASEScorer(lambda_=1.0).fit(COOC)
    out = rec.recommend(["A"], k=2, exclude={"C"})
    assert len(out) == 2 and "C" not in out and "A" not in out
    with pytest.raises(RecommenderError, match="k must be"):
        rec.recommend(["A"], k=-1)
    with pytest.raises(RecommenderError, match="string"):
        rec.recommend("A", k=2)


def test_not_fitted_and_empty_data_raise():
    """Guards clear errors for misuse instead of AttributeErrors."""
    with pytest.raises(RecommenderError, match="not fitted"):
        EASEScorer().recommend(["A"])
    with pytest.raises(RecommenderError, match="no positive interactions"):
        EASEScorer().fit(likes({"u": ["A"]}, value=-1.0))


# --- catalogue, filters and aliases ------------------------------------------------


@pytest.fixture
def tiny_interactions():
    return likes({
        "u1": ["6", "7", "10"], "u2": ["6", "7"], "u3": ["8", "9", "10"], "u4": ["8", "9"],
        "u5": ["1", "2"], "u6": ["1", "2", "11"], "u7": ["3", "5"], "u8": ["3", "5", "10"],
        "u9": ["99"],  # not in the catalogue
    })


def test_filters_are_resolved_through_the_catalogue(tiny_catalog, tiny_interactions):
    """Guards filter support: only horror items come back when genres={'horror'}."""
    rec = ItemKNNScorer(neighbors=10, catalog=tiny_catalog).fit(tiny_interactions)
    out = rec.recommend(["10"], k=5, filters=ItemFilter.make(genres=["horror"]))
    assert set(out.ids) <= {"6", "7"} and len(out) > 0


def test_filters_without_catalogue_raise(tiny_interactions):
    """Guards the contract: filters need a catalogue."""
    rec = ItemKNNScorer().fit(tiny_interactions)
    with pytest.raises(RecommenderError, match="catalog"):
        rec.recommend(["10"], filters=ItemFilter.make(genres=["horror"]))


def test_alias_in_history_is_excluded_and_unknown_items_never_recommended(tiny_catalog, tiny_interactions):
    """Guards catalogue safety: "80" (alias of Star Wars) excludes item 8; id "99" is never shown."""
    rec = EASEScorer(lambda_=1.0, catalog=tiny_catalog).fit(tiny_interactions)
    out = rec.recommend({"80": 1.0}, k=20)
    assert "8" not in out and "80" not in out
    assert "9" == out.ids[0]  # Return of the Jedi co-occurs with Star Wars
    assert "99" not in out
    assert all(i in tiny_catalog for i in out.ids)


def test_interaction_matrix_maps_aliases_to_canonical_ids(tiny_catalog):
    """Guards alias handling when fitting: signals on "80" count for item "8"."""
    X, users, vocab = interaction_matrix(likes({"u": ["80", "9"], "v": ["8"]}), catalog=tiny_catalog)
    assert set(vocab.ids) == {"8", "9"}
    assert X[:, vocab.number("8")].sum() == 2


# --- the protocol, save and load ----------------------------------------------------


def _content(ids):
    rng = np.random.default_rng(0)
    return ContentScorer(ids, rng.normal(size=(len(ids), 8)), neighbors=3)


def all_scorers():
    ids = ["A", "B", "C", "D", "E", "F"]
    return {
        "popularity": PopularityScorer(),
        "knn": ItemKNNScorer(neighbors=3),
        "ease": EASEScorer(lambda_=1.0),
        "als": ALSScorer(factors=4, iterations=3, num_threads=1),
        "content": _content(ids),
        "hybrid": HybridScorer(cf=EASEScorer(lambda_=1.0), content=_content(ids), tune=False),
    }


@pytest.mark.parametrize("name", list(all_scorers()))
def test_every_scorer_meets_the_protocol_and_round_trips(name, tmp_path):
    """Guards save/load for every kind: same recommendations after load, manifest written, no pickle."""
    rec = all_scorers()[name].fit(COOC)
    assert isinstance(rec, Recommender)
    before = rec.recommend(["A", "D"], k=4)
    assert isinstance(before, ScoredItems) and len(before) == 4
    rec.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["kind"] == rec.kind and meta["item_count"] == len(rec.item_ids)
    assert meta["schema_version"] == 1 and meta["data_hash"]
    with np.load(tmp_path / "m" / "arrays.npz", allow_pickle=False) as npz:
        assert "item_ids" in npz.files
    loaded = load_scorer(tmp_path / "m", interactions=COOC)
    after = loaded.recommend(["A", "D"], k=4)
    assert after.ids == before.ids
    np.testing.assert_allclose(after.scores, before.scores, rtol=1e-4, atol=1e-5)


def test_load_rejects_wrong_kind_schema_and_data(tmp_path):
    """Guards manifest checks: a model of another kind, another schema or other data fails clearly."""
    EASEScorer(lambda_=1.0).fit(COOC).save(tmp_path / "m")
    with pytest.raises(RecommenderError, match="'ease' model, not 'item_knn'"):
        ItemKNNScorer.load(tmp_path / "m")
    other = likes({"x": ["A", "B"]})
    with pytest.raises(RecommenderError, match="fitted on other interactions"):
        EASEScorer.load(tmp_path / "m", interactions=other)
    meta_path = tmp_path / "m" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(RecommenderError, match="schema version 99"):
        EASEScorer.load(tmp_path / "m")
    with pytest.raises(RecommenderError, match="missing meta.json"):
        load_scorer(tmp_path / "nothing")


def test_load_rejects_item_count_mismatch(tmp_path):
    """Guards against a manifest that disagrees with the arrays (a partial overwrite)."""
    PopularityScorer().fit(COOC).save(tmp_path / "m")
    meta_path = tmp_path / "m" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["item_count"] = 3
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(RecommenderError, match="item_count 3"):
        PopularityScorer.load(tmp_path / "m")


def test_fit_and_fit_matrix_agree():
    """Guards the evaluation shortcut: fit_matrix on the same matrix gives the same model as fit."""
    X, _, vocab = interaction_matrix(COOC)
    a = EASEScorer(lambda_=3.0).fit(COOC)
    b = EASEScorer(lambda_=3.0).fit_matrix(X, vocab.ids)
    assert a.recommend(["A"], k=5) == b.recommend(["A"], k=5)


# --- value weighting ------------------------------------------------------------------


def test_value_weighting_keeps_the_strongest_signal_scaled():
    """Guards "value" weighting: the strongest value per (user, item) over the largest value overall."""
    data = Interactions.from_rows([
        ("u", "A", "rating", 5.0), ("u", "B", "rating", 2.0), ("u", "B", "rating", 4.0),
        ("v", "A", "rating", 1.0), ("v", "C", "disliked", -1.0),
    ])
    X, users, vocab = interaction_matrix(data, weighting="value")
    assert X[users.index("u"), vocab.number("A")] == pytest.approx(1.0)
    assert X[users.index("u"), vocab.number("B")] == pytest.approx(0.8)
    assert X[users.index("v"), vocab.number("A")] == pytest.approx(0.2)
    assert "C" not in vocab  # negative values are not positives
    with pytest.raises(RecommenderError, match="weighting"):
        interaction_matrix(data, weighting="log")


def test_value_weighted_history_favours_neighbours_of_highly_rated_items():
    """Guards value-weighted scoring: the neighbour of the 5-star item outranks the 1-star item's."""
    data = Interactions.from_rows(
        [(f"a{u}", i, "rating", 5.0) for u in range(5) for i in ("A", "A2")]
        + [(f"b{u}", i, "rating", 5.0) for u in range(5) for i in ("B", "B2")]
    )
    rec = EASEScorer(lambda_=1.0, weighting="value").fit(data)
    out = rec.recommend({"A": 5.0, "B": 1.0}, k=2)
    assert out.ids == ("A2", "B2")
    binary = EASEScorer(lambda_=1.0).fit(data).recommend({"A": 5.0, "B": 1.0}, k=2)
    assert binary.scores[0] == pytest.approx(binary.scores[1])  # binary input cannot tell them apart


def test_weighting_survives_save_and_load(tmp_path):
    """Guards the manifest: a value-weighted model loads value-weighted with its scale."""
    data = Interactions.from_rows([("u", "A", "rating", 4.0), ("u", "B", "rating", 2.0),
                                   ("v", "A", "rating", 3.0), ("v", "C", "rating", 5.0)])
    rec = EASEScorer(lambda_=1.0, weighting="value").fit(data)
    rec.save(tmp_path / "m")
    loaded = EASEScorer.load(tmp_path / "m")
    assert loaded.weighting == "value" and loaded.value_scale == 5.0
    assert loaded.recommend({"A": 4.0}, k=2) == rec.recommend({"A": 4.0}, k=2)


def test_hybrid_tunes_when_content_covers_items_nobody_interacted_with():
    """Guards the tuning IndexError in ``HybridScorer._zscores``: content knows items (G, H) the
    interactions never mention, so the universe is wider than the interaction matrix; tuning must
    still run, learn weights, and rank the uninteracted items only through content."""
    ids = ["A", "B", "C", "D", "E", "F", "G", "H"]
    many = likes({f"u{i}": (["A", "B", "C"] if i % 2 else ["D", "E", "F"]) for i in range(20)})
    hybrid = HybridScorer(cf=EASEScorer(lambda_=1.0), content=_content(ids), tune=True,
                          grid={"content": (0.0, 0.1), "popularity": (0.0,)})
    hybrid.fit(many)
    assert hybrid.validation_ndcg is not None and hybrid.weights["cf"] == 1.0
    scores = hybrid.score_matrix(hybrid.history_matrix([{"A": 1.0}]))
    assert scores.shape == (1, len(ids))
    out = hybrid.recommend({"A": 1.0}, k=8)
    assert set(out.ids) <= set(ids) and {"B", "C"} <= set(out.ids[:2])
