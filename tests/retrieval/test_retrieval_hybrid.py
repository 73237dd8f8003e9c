"""HybridRetriever and BM25 on the tiny catalogue with the hash embedder."""

from __future__ import annotations

import logging

import pytest

from workbench.errors import ItemIndexError, WorkbenchError
from workbench.filters import ItemFilter
from workbench.retrieval.hybrid import HybridRetriever, build_index, open_retriever
from workbench.retrieval.index import ItemIndex
from workbench.retrieval.lexical import LexicalRetriever, tokenize


@pytest.fixture
def retriever(tiny_catalog, hash_embedder) -> HybridRetriever:
    index = build_index(tiny_catalog, hash_embedder, "flat", show_progress=False)
    return HybridRetriever(tiny_catalog, hash_embedder, index)


def test_tokenize_folds_accents_drops_stopwords_and_plurals():
    """Guards: 'Amélie' matches 'amelie'; chat filler and plural s do not block matches."""
    assert tokenize("Recommend me a movie like Amélie's cafés") == ["amelie", "cafe"]
    assert tokenize("the Jedi knights") == ["jedi", "knight"]


def test_bm25_finds_exact_title_and_person_words(tiny_catalog):
    """Guards: an exact word in a title or a person's name ranks that item first."""
    lex = LexicalRetriever.from_catalog(tiny_catalog)
    assert lex.search("jedi", 5).ids[0] == "9"  # in the title, and a tag of Star Wars too
    assert set(lex.search("jedi", 5).ids) == {"9", "8"}
    assert lex.search("Sigourney", 3).ids == ("7",)
    assert lex.search("Amelie", 3).ids == ("12",)
    assert len(lex.search("zzzz unknown words", 3)) == 0
    assert lex.search("jedi", 5, exclude={"9"}).ids == ("8",)
    assert lex.search("jedi", 5, allowed={"9", "1"}).ids == ("9",)


def test_hybrid_jedi_returns_both_star_wars_films(retriever):
    """Guards: 'jedi' (a title word) puts Return of the Jedi and Star Wars on top, each with
    dense and lexical source scores."""
    res = retriever.search("jedi", k=3)
    assert set(res.ids[:2]) == {"9", "8"}
    assert set(res[0].sources) == {"dense", "lexical"}
    assert res[0].sources["lexical"] > 0


def test_people_query_finds_their_films(retriever):
    """Guards: a director's name retrieves his films ahead of others."""
    assert set(retriever.search("Michael Mann", k=2).ids) == {"3", "5"}


def test_filters_return_exactly_k_passing_items(retriever, tiny_catalog):
    """Guards: genre/year filters give exactly k items when k pass, all of them passing."""
    f = ItemFilter.make(genres=["thriller"])
    res = retriever.search("heist", k=3, filters=f)
    assert len(res) == 3 and all(f.matches(tiny_catalog[i]) for i in res.ids)
    f2 = ItemFilter.make(year_min=1990, year_max=1999)
    res2 = retriever.search("space opera", k=10, filters=f2)
    assert set(res2.ids) == {"1", "3", "11"}  # all that pass, fewer than k


def test_exclude_accepts_alias_ids(retriever):
    """Guards: excluding an alias ('80') removes its canonical item (Star Wars, '8')."""
    res = retriever.search("jedi", k=5, exclude=["80"])
    assert "8" not in res.ids and "80" not in res.ids and res.ids[0] == "9"
    assert len(res) == 5


@pytest.mark.parametrize("fusion", ["weighted", "rrf", "dense", "lexical"])
def test_fusions_rank_the_named_film_first(tiny_catalog, hash_embedder, fusion):
    """Guards: every fusion mode answers a title query with that title."""
    index = build_index(tiny_catalog, hash_embedder, "flat", show_progress=False)
    r = HybridRetriever(tiny_catalog, hash_embedder, index, fusion=fusion)
    assert r.search("Collateral", k=3).ids[0] == "5"
    with pytest.raises(WorkbenchError, match="fusion 'max'"):
        HybridRetriever(tiny_catalog, hash_embedder, index, fusion="max")


def test_open_retriever_builds_in_memory_and_says_how_to_save(tiny_catalog, hash_embedder, tmp_path, caplog):
    """Guards: a missing index dir is not fatal: it builds in memory and logs the save command."""
    with caplog.at_level(logging.WARNING, logger="workbench.retrieval.hybrid"):
        r = open_retriever(tiny_catalog, hash_embedder, tmp_path / "missing")
    assert len(r.index) == len(tiny_catalog)
    assert "python -m workbench index build" in caplog.text and "missing" in caplog.text
    assert not (tmp_path / "missing").exists()


def test_open_retriever_loads_matching_index_and_rejects_stale_one(tiny_catalog, hash_embedder, tmp_path):
    """Guards: a saved index is reused when its manifest matches; after a catalogue or model
    change, loading fails naming the field and the rebuild command."""
    build_index(tiny_catalog, hash_embedder, "flat", show_progress=False).save(tmp_path / "ix")
    r = open_retriever(tiny_catalog, hash_embedder, tmp_path / "ix")
    assert isinstance(r.index, ItemIndex) and r.search("Inception", k=1).ids == ("10",)
    from workbench.catalog import Catalog
    from workbench.retrieval.embed import HashEmbedder

    edited = Catalog([*tiny_catalog.items[:-1]], source="tiny")
    with pytest.raises(ItemIndexError, match=r"catalog_hash: index has .*Rebuild it with: python -m workbench"):
        open_retriever(edited, hash_embedder, tmp_path / "ix")
    with pytest.raises(ItemIndexError, match=r"model_id: index has 'hash-64-0', expected 'hash-32-0'"):
        open_retriever(tiny_catalog, HashEmbedder(32), tmp_path / "ix")


def test_retriever_rejects_index_with_unknown_ids(tiny_catalog, hash_embedder):
    """Guards: an index holding ids the catalogue lacks is refused (no invented items shown)."""
    import numpy as np

    index = ItemIndex.build(np.eye(2, 64, dtype=np.float32), ["1", "999"], kind="flat")
    with pytest.raises(ItemIndexError, match="not in the catalogue"):
        HybridRetriever(tiny_catalog, hash_embedder, index)
