"""Contract tests: FAISS ItemIndex (flat, HNSW, IVF) and the numpy BruteForceIndex pass the same checks.

Each check guards a promise of the index protocol: the same top-k as exact search,
filters that return exactly k whenever k items pass, a lossless save/load round
trip, and a manifest mismatch that says what differs and how to rebuild.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import ItemIndexError
from workbench.retrieval import index as index_mod
from workbench.retrieval.index import BruteForceIndex, ItemIndex, choose_kind

N, D = 600, 24


def _data(seed: int = 0, n: int = N, d: int = D) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Clustered unit vectors (so neighbourhoods exist), string ids, and held-out queries."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    v = centres[rng.integers(0, 20, n)] + 0.5 * rng.normal(size=(n, d))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    q = centres[rng.integers(0, 20, 8)] + 0.5 * rng.normal(size=(8, d))
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    return v, [f"item-{i}" for i in range(n)], q


def _brute(v, ids, meta=None):
    return BruteForceIndex(v, ids, meta)


def _flat(v, ids, meta=None):
    return ItemIndex.build(v, ids, kind="flat", meta=meta, use_gpu=False)


def _hnsw(v, ids, meta=None):
    return ItemIndex.build(v, ids, kind="hnsw", meta=meta, use_gpu=False, ef_search=256)


def _ivf(v, ids, meta=None):
    # nprobe = nlist probes every cell: exact, so results must equal brute force
    return ItemIndex.build(v, ids, kind="ivf", meta=meta, use_gpu=False, nlist=8, nprobe=8)


FACTORIES = {"brute": _brute, "flat": _flat, "hnsw": _hnsw, "ivf": _ivf}
EXACT = {"brute", "flat", "ivf"}
LOADERS = {"brute": BruteForceIndex.load, "flat": ItemIndex.load, "hnsw": ItemIndex.load, "ivf": ItemIndex.load}


@pytest.fixture(params=list(FACTORIES))
def kind(request) -> str:
    return request.param


def test_same_top_k_as_exact_search(kind):
    """Guards: every implementation returns the exact top-k (HNSW: recall >= 0.95) with cosine scores."""
    v, ids, q = _data()
    got = FACTORIES[kind](v, ids).search(q, 10)
    want = _brute(v, ids).search(q, 10)
    assert [len(r) for r in got] == [10] * len(q)
    if kind in EXACT:
        assert [r.ids for r in got] == [r.ids for r in want]
    else:
        overlap = np.mean([len(set(a.ids) & set(b.ids)) / 10 for a, b in zip(got, want, strict=True)])
        assert overlap >= 0.95
    for r in got:
        assert list(r.scores) == sorted(r.scores, reverse=True)
        for item_id, score in zip(r.ids, r.scores, strict=True):
            row = ids.index(item_id)
            assert score == pytest.approx(float(q[got.index(r)] @ v[row]), abs=1e-4)
        assert all(set(s) == {"dense"} for s in r.sources)


@pytest.mark.parametrize("n_allowed", [3, 10, 40, 450])
def test_filters_return_exactly_k(kind, n_allowed, monkeypatch):
    """Guards: allowed/exclude filters give exactly min(k, passing) items, all passing,
    also through FAISS's IDSelector path of approximate indexes (forced here)."""
    monkeypatch.setattr(index_mod, "EXACT_SUBSET_MAX", 0)  # small subsets would go exact
    v, ids, q = _data(1)
    rng = np.random.default_rng(n_allowed)
    allowed = set(rng.choice(ids, n_allowed, replace=False).tolist())
    excluded = set(sorted(allowed)[:2])
    res = FACTORIES[kind](v, ids).search(q, 10, allowed=allowed | {"not-an-id"}, exclude=excluded)
    passing = allowed - excluded
    want = _brute(v, ids).search(q, 10, allowed=allowed, exclude=excluded)
    for r, w in zip(res, want, strict=True):
        assert len(r) == min(10, len(passing))
        assert set(r.ids) <= passing
        if kind in EXACT:
            assert r.ids == w.ids


def test_gpu_style_widen_and_retry_returns_exactly_k(monkeypatch):
    """Guards: the GPU path (filter after an unfiltered search, widening) still gives exactly k
    allowed items; a CPU index stands in for the GPU copy."""
    monkeypatch.setattr(index_mod, "EXACT_SUBSET_MAX", 0)
    v, ids, q = _data(2)
    ix = _flat(v, ids)
    ix._gpu_index = ix._index
    allowed = set(ids[::7])
    res = ix.search(q, 10, allowed=allowed)
    want = _brute(v, ids).search(q, 10, allowed=allowed)
    assert [r.ids for r in res] == [r.ids for r in want]


def test_k_edge_cases(kind):
    """Guards: k above the item count, k=0, an empty allowed set and 1-d queries behave."""
    v, ids, q = _data(3, n=50)
    ix = FACTORIES[kind](v, ids)
    assert [len(r) for r in ix.search(q, 80)] == [50] * len(q)
    assert [len(r) for r in ix.search(q, 0)] == [0] * len(q)
    assert [len(r) for r in ix.search(q, 5, allowed=set())] == [0] * len(q)
    assert len(ix.search(q[0], 3)) == 1
    with pytest.raises(ItemIndexError, match=r"shape \(n, 24\)"):
        ix.search(np.zeros((1, 5), np.float32), 3)


def test_vectors_for_returns_stored_rows(kind):
    """Guards: recommenders get item vectors by id (row numbers stay inside the index)."""
    v, ids, _ = _data(4)
    ix = FACTORIES[kind](v, ids)
    np.testing.assert_allclose(ix.vectors_for(["item-5", "item-0"]), v[[5, 0]], atol=1e-6)
    assert ix.vectors_for([]).shape == (0, D)
    with pytest.raises(ItemIndexError, match="unknown item id 'nope'"):
        ix.vectors_for(["nope"])


def test_save_load_round_trip(kind, tmp_path):
    """Guards: a saved index loads with the same ids, vectors, manifest and results."""
    v, ids, q = _data(5)
    meta = {"model_id": "hash-24", "catalog_hash": "abc", "text_template": "{title}"}
    ix = FACTORIES[kind](v, ids, meta)
    ix.save(tmp_path / "ix")
    manifest = json.loads((tmp_path / "ix" / "meta.json").read_text())
    assert manifest["count"] == N and manifest["dimension"] == D and manifest["schema_version"] == 1
    assert manifest["metric"] == "inner_product" and manifest["model_id"] == "hash-24"
    back = LOADERS[kind](tmp_path / "ix", expect=meta)
    assert back.ids == ix.ids and back.meta["kind"] == ix.meta["kind"]
    assert [r.ids for r in back.search(q, 7)] == [r.ids for r in ix.search(q, 7)]
    np.testing.assert_array_equal(back.vectors_for(ids[:3]), ix.vectors_for(ids[:3]))


def test_manifest_mismatch_names_fields_and_rebuild_command(kind, tmp_path):
    """Guards: loading against another model/catalogue says what differs and how to rebuild."""
    v, ids, _ = _data(6, n=60)
    meta = {"model_id": "hash-24", "catalog_hash": "abc", "catalog_source": "data/films.csv"}
    FACTORIES[kind](v, ids, meta).save(tmp_path / "ix")
    with pytest.raises(ItemIndexError) as exc:
        LOADERS[kind](tmp_path / "ix", expect={"model_id": "minilm", "catalog_hash": "def"})
    msg = str(exc.value)
    assert "model_id: index has 'hash-24', expected 'minilm'" in msg
    assert "catalog_hash: index has 'abc', expected 'def'" in msg
    assert "python -m workbench index build --catalog data/films.csv --model minilm" in msg
    assert f"--out {tmp_path / 'ix'}" in msg


def test_corrupt_or_missing_files_raise_item_index_error(tmp_path):
    """Guards: a missing dir, a truncated FAISS file or mismatched ids fail with a rebuild hint."""
    with pytest.raises(ItemIndexError, match="directory not found.*index build"):
        ItemIndex.load(tmp_path / "none")
    v, ids, _ = _data(7, n=60)
    _flat(v, ids).save(tmp_path / "ix")
    data = (tmp_path / "ix" / "index.faiss").read_bytes()
    (tmp_path / "ix" / "index.faiss").write_bytes(data[:100])
    with pytest.raises(ItemIndexError, match="index.faiss.*rebuild with"):
        ItemIndex.load(tmp_path / "ix")
    _flat(v, ids).save(tmp_path / "ix")
    (tmp_path / "ix" / "ids.json").write_text(json.dumps(ids[:-1]))
    with pytest.raises(ItemIndexError, match="holds 59 ids but the manifest says 60"):
        ItemIndex.load(tmp_path / "ix")
    with pytest.raises(ItemIndexError, match="kind"):
        BruteForceIndex.load(tmp_path / "ix")  # a FAISS dir is not a brute-force dir


def test_build_input_validation():
    """Guards: bad build inputs (length mismatch, NaN, duplicate ids, bad kind) are explained."""
    v, ids, _ = _data(8, n=10)
    with pytest.raises(ItemIndexError, match="10 vectors but 9 ids"):
        ItemIndex.build(v, ids[:-1])
    bad = v.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ItemIndexError, match="item 'item-3'.*not finite"):
        ItemIndex.build(bad, ids)
    with pytest.raises(ItemIndexError, match="duplicate item id"):
        ItemIndex.build(v, ["a"] * 10)
    with pytest.raises(ItemIndexError, match="index kind 'annoy'"):
        ItemIndex.build(v, ids, kind="annoy")


def test_auto_kind_thresholds():
    """Guards: the documented thresholds: flat below 50k, HNSW to 300k, IVF above."""
    assert choose_kind(6_843) == "flat"
    assert choose_kind(index_mod.FLAT_MAX_ITEMS) == "hnsw"
    assert choose_kind(index_mod.HNSW_MAX_ITEMS) == "hnsw"
    assert choose_kind(index_mod.HNSW_MAX_ITEMS + 1) == "ivf"
    assert choose_kind(1_000_000, "flat") == "flat"


_V, _IDS, _Q = _data(9, n=300)
_INDEXES = {k: f(_V, _IDS) for k, f in FACTORIES.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(sorted(FACTORIES)),
    k=st.integers(1, 40),
    allowed=st.one_of(st.none(), st.sets(st.integers(0, 299), max_size=300)),
    exclude=st.sets(st.integers(0, 299), max_size=30),
)
def test_filtered_search_property(kind, k, allowed, exclude):
    """Guards (hypothesis): for any k and filter, results are exactly min(k, passing), unique,
    passing, and ranked by score."""
    allowed_ids = None if allowed is None else {_IDS[i] for i in allowed}
    exclude_ids = {_IDS[i] for i in exclude}
    passing = (set(_IDS) if allowed_ids is None else allowed_ids) - exclude_ids
    for r in _INDEXES[kind].search(_Q[:2], k, allowed=allowed_ids, exclude=exclude_ids):
        assert len(r) == min(k, len(passing))
        assert set(r.ids) <= passing
        assert list(r.scores) == sorted(r.scores, reverse=True)
