"""Lexical retrieval: BM25 (the ``bm25s`` package) over titles, people and tags.

Dense embeddings blur rare exact words: a user who types "jedi" or "Boseman"
wants the film whose title or cast holds that word. :class:`LexicalRetriever`
indexes, per item, its title (counted twice, so a title word outweighs a tag),
its directors and cast, and its keyword tags. Text is folded to lowercase ASCII
(``Amélie`` matches ``amelie``), English stopwords and chat filler ("movie",
"recommend"; ``workbench.text.SEARCH_STOPWORDS``) are dropped, and a plural ``s`` is stripped
on both sides.

It knows items' facts and BM25 scores; it does not know embeddings, FAISS or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

import numpy as np

from workbench.catalog import Catalog, Item
from workbench.scored import ScoredItems
from workbench.text import SEARCH_STOPWORDS, fold

SOURCE = "lexical"
#: Title tokens are repeated this many times in an item's document.
TITLE_WEIGHT = 2


_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Words of ``text`` for BM25: folded, stopwords dropped, plural ``s`` stripped."""
    out = []
    for w in _WORD.findall(fold(text.replace("'", ""))):
        if w in SEARCH_STOPWORDS or (len(w) < 2 and not w.isdigit()):
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def item_tokens(item: Item) -> list[str]:
    """The BM25 document of an item: title (weighted), people and tags."""
    tokens = tokenize(item.title) * TITLE_WEIGHT
    for name in (*item.directors, *item.cast, *item.tags):
        tokens.extend(tokenize(name))
    return tokens


class LexicalRetriever:
    """BM25 over each item's title, people and tags."""

    def __init__(self, ids: Iterable[str], documents: Iterable[list[str]], *, k1: float = 1.2, b: float = 0.75):
        import bm25s

        self._ids = tuple(ids)
        self._rows = {item_id: row for row, item_id in enumerate(self._ids)}
        docs = [d if d else ["__empty__"] for d in documents]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index(docs, show_progress=False)
        self._vocab = set(self._bm25.vocab_dict)

    @classmethod
    def from_catalog(cls, catalog: Catalog, **kwargs: float) -> LexicalRetriever:
        return cls(catalog.ids, (item_tokens(item) for item in catalog), **kwargs)

    def __len__(self) -> int:
        return len(self._ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every item (catalogue order) for ``query``; zeros when no word matches."""
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return np.zeros(len(self._ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def search(self, query: str, k: int, *, allowed: Collection[str] | None = None,
               exclude: Collection[str] = ()) -> ScoredItems:
        """Up to ``k`` items with a positive BM25 score (source ``"lexical"``), best first."""
        s = self.scores(query)
        if allowed is not None:
            mask = np.zeros(len(self._ids), dtype=bool)
            mask[[self._rows[i] for i in allowed if i in self._rows]] = True
            s = np.where(mask, s, 0.0)
        if exclude:
            s = s.copy()
            s[[self._rows[i] for i in exclude if i in self._rows]] = 0.0
        hits = np.flatnonzero(s > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-s[hits], k - 1)[:k]]
        return ScoredItems.from_scores(
            (self._ids[r] for r in hits), s[hits], ({SOURCE: float(s[r])} for r in hits), k=k
        )
