"""Tiny engine parts for the dialogue tests: a brute-force retriever and a fitted hybrid over tiny_catalog."""

from __future__ import annotations

from workbench.catalog import Catalog
from workbench.dialogue.engine import ChatEngine, default_engine
from workbench.interactions import Interactions
from workbench.recommend.factory import build_recommender
from workbench.retrieval.embed import HashEmbedder
from workbench.retrieval.hybrid import HybridRetriever, build_index

#: A few sessions' likes over the tiny catalogue (Michael Mann fans, Pixar fans, sci-fi fans).
TINY_INTERACTIONS = [
    ("u1", "3", "liked", 1.0), ("u1", "5", "liked", 1.0), ("u1", "10", "liked", 1.0),
    ("u2", "3", "liked", 1.0), ("u2", "5", "liked", 1.0),
    ("u3", "1", "liked", 1.0), ("u3", "2", "liked", 1.0), ("u3", "11", "liked", 1.0),
    ("u4", "8", "liked", 1.0), ("u4", "9", "liked", 1.0), ("u4", "7", "liked", 1.0),
    ("u5", "8", "liked", 1.0), ("u5", "9", "liked", 1.0), ("u5", "10", "liked", 1.0),
    ("u6", "6", "liked", 1.0), ("u6", "7", "liked", 1.0),
]


def tiny_retriever(catalog: Catalog, embedder: HashEmbedder) -> HybridRetriever:
    index = build_index(catalog, embedder, kind="brute", show_progress=False)
    return HybridRetriever(catalog, embedder, index)


def tiny_engine(catalog: Catalog, embedder: HashEmbedder, **kwargs) -> ChatEngine:
    retriever = tiny_retriever(catalog, embedder)
    recommender = build_recommender(
        catalog, Interactions.from_rows(TINY_INTERACTIONS), embedder.encode(catalog.texts()),
        weights={"cf": 0.5, "knn": 1.0, "content": 0.5, "popularity": 0.0}, content_neighbors=5,
    )
    return default_engine(catalog, retriever, recommender, **kwargs)
