"""Hybrid item retrieval: dense (FAISS over embeddings) plus lexical (BM25), fused.

:class:`HybridRetriever` answers a free-text query with catalogue items:

1. the query is encoded and the item index returns its top ``pool`` items
   (source ``"dense"``, cosine similarity);
2. BM25 over titles, people and tags returns its top ``pool`` items
   (source ``"lexical"``);
3. every candidate gets both scores (the dense one from its stored vector, so a
   lexical-only hit is scored fairly) and they are fused.

Fusion (``fusion=``):

* ``"weighted"`` (default): ``w * dense_norm + (1 - w) * lexical_norm``, where
  ``dense_norm`` min-max scales the candidates' cosines to 0-1 and
  ``lexical_norm`` is BM25 divided by the query's best BM25 score. ``w`` is
  :data:`DENSE_WEIGHT`. When no word of the query matches, the ranking is the
  dense one.
* ``"rrf"``: reciprocal rank fusion, ``sum 1 / (RRF_K + rank)``.

``bench/retrieval_quality.py`` measures both on a labelled query set
(``bench/retrieval_queries.json``); the defaults are what measured best.

:func:`open_retriever` loads a saved index whose manifest matches the catalogue,
the embedder and the text template, or builds one in memory when none is saved.

It knows the catalogue, an embedder and an index; it does not know gradio.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.catalog import DEFAULT_TEXT_TEMPLATE, Catalog
from workbench.errors import ItemIndexError, WorkbenchError
from workbench.filters import ItemFilter
from workbench.manifest import MANIFEST
from workbench.retrieval.embed import Embedder
from workbench.retrieval.index import BruteForceIndex, ItemIndex, VectorIndex, rebuild_command
from workbench.retrieval.lexical import LexicalRetriever
from workbench.scored import ScoredItems

log = logging.getLogger(__name__)

FUSIONS = ("weighted", "rrf", "dense", "lexical")
#: Weight of the dense score in weighted fusion (tuned on bench/retrieval_queries.json).
DENSE_WEIGHT = 0.6
#: Rank offset of reciprocal rank fusion (the usual 60).
RRF_K = 60
#: Candidates taken from each source before fusing.
POOL = 100
#: Texts encoded per progress-bar step when building an index.
BUILD_CHUNK = 2048


class HybridRetriever:
    """Dense + lexical retrieval over a catalogue; returns :class:`ScoredItems`."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        index: VectorIndex,
        lexical: LexicalRetriever | None = None,
        *,
        fusion: str = "weighted",
        dense_weight: float = DENSE_WEIGHT,
        pool: int = POOL,
    ):
        if fusion not in FUSIONS:
            raise WorkbenchError(f"retriever: fusion {fusion!r} is not one of {', '.join(FUSIONS)}")
        missing = [i for i in index.ids if i not in catalog]
        if missing:
            raise ItemIndexError(
                f"index holds {len(missing)} ids not in the catalogue {catalog.source} "
                f"(first: {missing[0]!r}); rebuild it with: {rebuild_command('indexes/NAME')}"
            )
        self.catalog = catalog
        self.embedder = embedder
        self.index = index
        self.lexical = lexical if lexical is not None else LexicalRetriever.from_catalog(catalog)
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.pool = pool

    def _allowed(self, filters: ItemFilter | None) -> set[str] | None:
        if filters is None or filters.is_empty:
            return None
        return filters.allowed_ids(self.catalog)

    def _canonical(self, ids: Iterable[str]) -> set[str]:
        out = set()
        for i in ids:
            item = self.catalog.get(str(i))
            if item is not None:
                out.add(item.item_id)
        return out

    def search(
        self, query: str, k: int = 10, filters: ItemFilter | None = None, exclude: Collection[str] = ()
    ) -> ScoredItems:
        """The best ``k`` items for ``query`` that pass ``filters`` and are not in ``exclude``.

        Returns exactly ``k`` items whenever at least ``k`` pass. Each item's
        ``sources`` holds its ``"dense"`` (cosine) and ``"lexical"`` (BM25) scores.
        ``exclude`` may name alias ids.
        """
        if k <= 0:
            return ScoredItems()
        allowed = self._allowed(filters)
        drop = self._canonical(exclude)
        pool = max(self.pool, k)
        q = self.embedder.encode([query])
        dense = self.index.search(q, pool, allowed=allowed, exclude=drop)[0]
        if self.fusion == "dense":
            return dense.top(k)
        lexical = self.lexical.search(query, pool, allowed=allowed, exclude=drop)
        if self.fusion == "lexical":
            return lexical.top(k)
        cands = list(dict.fromkeys((*dense.ids, *lexical.ids)))
        if not cands:
            return ScoredItems()
        cos = self.index.vectors_for(cands) @ q[0]
        lex = np.array([lexical.score_of(i) or 0.0 for i in cands], dtype=np.float64)
        if self.fusion == "rrf":
            fused = np.zeros(len(cands))
            pos = {i: n for n, i in enumerate(cands)}
            for ranked in (dense, lexical):
                for rank, item_id in enumerate(ranked.ids):
                    fused[pos[item_id]] += 1.0 / (RRF_K + rank + 1)
        else:
            span = float(cos.max() - cos.min())
            dense_norm = (cos - cos.min()) / span if span > 0 else np.ones(len(cands))
            top_lex = float(lex.max())
            lex_norm = lex / top_lex if top_lex > 0 else np.zeros(len(cands))
            w = self.dense_weight if top_lex > 0 else 1.0
            fused = w * dense_norm + (1.0 - w) * lex_norm
        sources = ({"dense": float(c), "lexical": float(s)} for c, s in zip(cos, lex, strict=True))
        return ScoredItems.from_scores(cands, fused, sources, k=k)


# ---------------------------------------------------------------------------
# building and opening


def display_path(path: str | Path) -> str:
    """``path`` relative to the project root when inside it (manifests stay portable)."""
    from workbench.config import PROJECT_ROOT

    p = Path(path)
    try:
        return str(p.resolve().relative_to(PROJECT_ROOT))
    except (ValueError, OSError):
        return str(path)


def index_manifest(catalog: Catalog, embedder: Embedder, template: str = DEFAULT_TEXT_TEMPLATE) -> dict[str, Any]:
    """The manifest facts an index for this catalogue, embedder and template must carry."""
    return {
        "model_id": embedder.model_id,
        "catalog_hash": catalog.content_hash,
        "text_template": template,
    }


def encode_catalog(
    catalog: Catalog, embedder: Embedder, template: str = DEFAULT_TEXT_TEMPLATE, *, show_progress: bool = True
) -> np.ndarray:
    """Embed every item's text (catalogue order), with a tqdm progress bar when asked."""
    texts = catalog.texts(template)
    if not show_progress:
        return embedder.encode(texts)
    from tqdm.auto import tqdm

    parts = []
    with tqdm(total=len(texts), desc="encoding items", unit="item") as bar:
        for start in range(0, len(texts), BUILD_CHUNK):
            chunk = texts[start : start + BUILD_CHUNK]
            parts.append(embedder.encode(chunk))
            bar.update(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32)


def build_index(
    catalog: Catalog,
    embedder: Embedder,
    kind: str = "auto",
    template: str = DEFAULT_TEXT_TEMPLATE,
    *,
    show_progress: bool = True,
    extra_meta: dict[str, Any] | None = None,
    **index_options: Any,
) -> VectorIndex:
    """Encode the catalogue and index it (``kind="brute"`` gives the numpy reference).

    ``extra_meta`` adds informational fields to the manifest (e.g. ``catalog_columns``).
    """
    vectors = encode_catalog(catalog, embedder, template, show_progress=show_progress)
    meta = {**index_manifest(catalog, embedder, template), "catalog_source": display_path(catalog.source),
            **(extra_meta or {})}
    if kind == "brute":
        return BruteForceIndex(vectors, catalog.ids, meta)
    return ItemIndex.build(vectors, catalog.ids, kind=kind, meta=meta, **index_options)


def open_retriever(
    catalog: Catalog,
    embedder: Embedder,
    index_dir: str | Path,
    kind: str = "auto",
    *,
    template: str = DEFAULT_TEXT_TEMPLATE,
    **retriever_options: Any,
) -> HybridRetriever:
    """A retriever over ``catalog`` using the saved index in ``index_dir``.

    The saved manifest must match the embedder's model id, the catalogue's
    content hash and the text template, else :class:`ItemIndexError` says what
    differs and how to rebuild. When ``index_dir`` holds no index, one is built
    in memory (with a progress bar) and a log line says how to save it.
    """
    index_dir = Path(index_dir)
    expect = index_manifest(catalog, embedder, template)
    if (index_dir / MANIFEST).exists():
        index: VectorIndex = ItemIndex.load(index_dir, expect=expect)
    else:
        log.warning(
            "no saved index in %s; building one in memory for %d items. Save it with: %s",
            index_dir, len(catalog), rebuild_command(index_dir, {"catalog_source": display_path(catalog.source),
                                                                 "model_id": embedder.model_id}),
        )
        index = build_index(catalog, embedder, kind, template, show_progress=True)
    return HybridRetriever(catalog, embedder, index, **retriever_options)
