"""Item indexes: nearest items for query vectors, by inner product, with filters.

:class:`ItemIndex` wraps FAISS. It picks the index kind from the catalogue size
(``kind="auto"``; override with ``flat``, ``hnsw`` or ``ivf``):

=====================  ==========  ==================================================
items                  auto kind   why
=====================  ==========  ==================================================
< 50,000               ``flat``    exact; a query scans 50k x 384 floats in ~2 ms
50,000 - 300,000       ``hnsw``    sub-millisecond queries, recall ~0.99 (efSearch 64)
> 300,000              ``ivf``     HNSW's graph build gets slow on few cores (the
                                   1M build would take tens of minutes on 2 cores);
                                   IVF trains in a minute and tunes with ``nprobe``
=====================  ==========  ==================================================

(:data:`FLAT_MAX_ITEMS`, :data:`HNSW_MAX_ITEMS`.) Vectors are expected to be
L2-normalised, so inner product is cosine similarity. When ``faiss.get_num_gpus()
> 0`` (the ``faiss-gpu`` build) flat and IVF indexes search on the GPU; the API and
results are the same as on CPU.

Filtered search (``allowed`` / ``exclude``) returns exactly ``k`` items whenever
at least ``k`` items pass, also with approximate indexes: small allowed sets are
searched exactly; larger ones go through FAISS ``IDSelector`` search parameters
(on GPU: widen-and-retry), and any query left short falls back to exact search
over the allowed subset.

:class:`BruteForceIndex` is the numpy reference with the same protocol; contract
tests run both through the same checks.

Saved indexes are a directory with ``index.faiss`` (``faiss.write_index``) or
``vectors.npy``, ``ids.json`` and a ``meta.json`` manifest checked on load. Nothing
is unpickled. The index knows vectors, item ids and row numbers (row numbers never
leave this module); it does not know text, the catalogue or gradio.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from workbench.errors import ItemIndexError
from workbench.manifest import (
    built_with,
    mismatches,
    read_manifest,
    rebuild_hint,
    write_atomic,
    write_manifest,
)
from workbench.scored import ScoredItems

#: Bump when the saved layout changes; older indexes then ask to be rebuilt.
SCHEMA_VERSION = 1
METRIC = "inner_product"
KINDS = ("auto", "flat", "hnsw", "ivf")
#: ``kind="auto"``: exact search up to this many items.
FLAT_MAX_ITEMS = 50_000
#: ``kind="auto"``: HNSW up to this many items, IVF above.
HNSW_MAX_ITEMS = 300_000
#: HNSW graph degree, construction and search breadth.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64
#: IVF probes per query (tuned on the 1M benchmark: see bench/index_scale.py).
IVF_NPROBE = 24
#: Filtered searches over at most this many allowed items are exact (a numpy dot).
EXACT_SUBSET_MAX = 20_000
#: Largest k a GPU search accepts in one call (FAISS GPU top-k limit).
GPU_MAX_K = 2048
SOURCE = "dense"

IDS_FILE = "ids.json"


def choose_kind(n_items: int, kind: str = "auto") -> str:
    """The concrete index kind for ``n_items`` (see the module table)."""
    if kind not in KINDS:
        raise ItemIndexError(f"index kind {kind!r}: expected one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    if n_items < FLAT_MAX_ITEMS:
        return "flat"
    if n_items <= HNSW_MAX_ITEMS:
        return "hnsw"
    return "ivf"


def ivf_nlist(n_items: int) -> int:
    """IVF cells for ``n_items``: about 2 sqrt(n) (2,000 at 1M), at most n / 39 (FAISS's training
    minimum). Fewer, larger cells train and assign faster on few cores and need fewer probes."""
    return max(1, min(int(2 * math.sqrt(n_items)), n_items // 39 or 1))


def rebuild_command(out_dir: str | Path, meta: Mapping[str, Any] | None = None) -> str:
    """The CLI command that rebuilds the index in ``out_dir``."""
    meta = meta or {}
    parts = ["python -m workbench index build"]
    if meta.get("catalog_source"):
        parts.append(f"--catalog {meta['catalog_source']}")
    if meta.get("model_id"):
        # a fine-tuned folder's id is "PATH@weights-revision"; the command takes the path
        model = str(meta["model_id"])
        if "@" in model and Path(model.rsplit("@", 1)[0]).is_dir():
            model = model.rsplit("@", 1)[0]
        parts.append(f"--model {model}")
    parts.append(f"--out {out_dir}")
    return " ".join(parts)


@runtime_checkable
class VectorIndex(Protocol):
    """What retrievers and recommenders need from an item index."""

    @property
    def ids(self) -> tuple[str, ...]: ...

    @property
    def dimension(self) -> int: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    def __len__(self) -> int: ...

    def search(
        self, queries: np.ndarray, k: int, *, allowed: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[ScoredItems]: ...

    def vectors_for(self, ids: Sequence[str]) -> np.ndarray: ...

    def save(self, directory: str | Path) -> None: ...


class _BaseIndex:
    """Ids, manifest, filters and exact search shared by both implementations."""

    kind: str
    _FILES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ids: Sequence[str], dimension: int, meta: Mapping[str, Any] | None):
        self._ids = tuple(str(i) for i in ids)
        self._rows = {item_id: row for row, item_id in enumerate(self._ids)}
        if len(self._rows) != len(self._ids):
            dup = next(i for i in self._ids if self._ids.count(i) > 1)
            raise ItemIndexError(f"index: duplicate item id {dup!r}")
        self._dimension = int(dimension)
        self._meta: dict[str, Any] = dict(meta or {})

    # access -----------------------------------------------------------
    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def meta(self) -> dict[str, Any]:
        """The manifest: schema version, kind, metric, dimension, count and caller facts."""
        return {
            **self._meta,
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "metric": METRIC,
            "dimension": self._dimension,
            "count": len(self._ids),
            "params": self._params(),
        }

    def _params(self) -> dict[str, Any]:
        return {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    def _vectors(self) -> np.ndarray:
        raise NotImplementedError

    def vectors_for(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``ids`` (one row each, in order); unknown ids raise."""
        rows = []
        for item_id in ids:
            row = self._rows.get(item_id)
            if row is None:
                raise ItemIndexError(f"index: unknown item id {item_id!r}")
            rows.append(row)
        return np.array(self._vectors()[rows], dtype=np.float32).reshape(len(rows), self._dimension)

    # search helpers -----------------------------------------------------
    def _check_queries(self, queries: np.ndarray) -> np.ndarray:
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self._dimension:
            raise ItemIndexError(
                f"index: queries must have shape (n, {self._dimension}), got {tuple(np.shape(queries))}"
            )
        return np.ascontiguousarray(q)

    def _mask(self, allowed: Collection[str] | None, exclude: Collection[str]) -> np.ndarray | None:
        """A boolean row mask, or ``None`` when nothing is filtered. Unknown ids are ignored."""
        if allowed is None and not exclude:
            return None
        if allowed is None:
            mask = np.ones(len(self._ids), dtype=bool)
        else:
            # one dict lookup per id: this loop is the cost of a filter (~0.5 us per allowed id)
            get = self._rows.get
            rows = np.fromiter((get(i, -1) for i in allowed), dtype=np.int64, count=len(allowed))
            mask = np.zeros(len(self._ids) + 1, dtype=bool)  # slot -1 absorbs unknown ids
            mask[rows] = True
            mask = mask[:-1]
        if exclude:
            get = self._rows.get
            drop = [r for r in (get(i) for i in exclude) if r is not None]
            mask[drop] = False
        return mask

    def _to_scored(self, scores: np.ndarray, rows: np.ndarray, k: int) -> ScoredItems:
        keep = rows >= 0
        ids = [self._ids[r] for r in rows[keep]]
        vals = scores[keep]
        return ScoredItems.from_scores(ids, vals, ({SOURCE: float(s)} for s in vals), k=k)

    def _exact(self, q: np.ndarray, k: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``k`` (scores, rows) over ``rows`` (all rows when ``None``)."""
        vectors = self._vectors()
        sub = vectors if rows is None else vectors[rows]
        scores = q @ sub.T
        k = min(k, sub.shape[0])
        if k <= 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        found = top if rows is None else rows[top]
        return top_scores.astype(np.float32), found.astype(np.int64)

    # manifest ---------------------------------------------------------
    @staticmethod
    def _read_manifest(directory: Path) -> dict[str, Any]:
        if not directory.is_dir():
            raise ItemIndexError(
                f"index {directory}: directory not found; build it with: {rebuild_command(directory)}"
            )
        return read_manifest(directory, error=ItemIndexError, what="index",
                             fix=rebuild_hint(rebuild_command(directory)))

    @staticmethod
    def check_manifest(directory: Path, meta: Mapping[str, Any], expect: Mapping[str, Any] | None,
                       kind_family: tuple[str, ...]) -> None:
        """Raise :class:`ItemIndexError` listing every field that differs from ``expect``."""
        problems = []
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            problems.append(f"schema_version: index has {version!r}, this code reads {SCHEMA_VERSION}")
        if meta.get("kind") not in kind_family:
            problems.append(f"kind: index has {meta.get('kind')!r}, expected one of {kind_family}")
        problems += mismatches(meta, expect, "index")
        if problems:
            fix = rebuild_command(directory, {**meta, **(expect or {})})
            raise ItemIndexError(built_with(f"index {directory}", problems, fix))

    def _write_common(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / IDS_FILE, json.dumps(list(self._ids), ensure_ascii=False).encode())
        write_manifest(directory, {**self.meta, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    @staticmethod
    def _read_ids(directory: Path, meta: Mapping[str, Any]) -> list[str]:
        path = directory / IDS_FILE
        try:
            ids = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ItemIndexError(f"{path}: unreadable ({exc}); rebuild with: "
                                 f"{rebuild_command(directory, meta)}") from None
        if not isinstance(ids, list) or len(ids) != meta.get("count"):
            raise ItemIndexError(
                f"{path}: holds {len(ids) if isinstance(ids, list) else '?'} ids but the manifest "
                f"says {meta.get('count')}; rebuild with: {rebuild_command(directory, meta)}"
            )
        return [str(i) for i in ids]


def _check_build_inputs(vectors: np.ndarray, ids: Sequence[str]) -> np.ndarray:
    v = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if v.ndim != 2:
        raise ItemIndexError(f"index: vectors must be a 2-d array, got shape {v.shape}")
    if v.shape[0] != len(ids):
        raise ItemIndexError(f"index: {v.shape[0]} vectors but {len(ids)} ids")
    if v.shape[0] == 0:
        raise ItemIndexError("index: no items to index")
    if not np.isfinite(v).all():
        row = int(np.argwhere(~np.isfinite(v))[0, 0])
        raise ItemIndexError(f"index: vector for item {ids[row]!r} (row {row}) is not finite")
    return v


# ---------------------------------------------------------------------------
# the numpy reference


class BruteForceIndex(_BaseIndex):
    """Exact inner-product search in numpy: the reference implementation."""

    kind = "brute"

    def __init__(self, vectors: np.ndarray, ids: Sequence[str], meta: Mapping[str, Any] | None = None):
        v = _check_build_inputs(vectors, ids)
        super().__init__(ids, v.shape[1], meta)
        self._v = v

    @classmethod
    def build(cls, vectors: np.ndarray, ids: Sequence[str], kind: str = "brute",
              meta: Mapping[str, Any] | None = None, **_: Any) -> BruteForceIndex:
        return cls(vectors, ids, meta)

    def _vectors(self) -> np.ndarray:
        return self._v

    def search(self, queries: np.ndarray, k: int, *, allowed: Collection[str] | None = None,
               exclude: Collection[str] = ()) -> list[ScoredItems]:
        """Top-``k`` items per query row, restricted to ``allowed`` and without ``exclude``."""
        q = self._check_queries(queries)
        mask = self._mask(allowed, exclude)
        rows = None if mask is None else np.flatnonzero(mask)
        scores, found = self._exact(q, k, rows)
        return [self._to_scored(s, r, k) for s, r in zip(scores, found, strict=True)]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / "vectors.npy.tmp"
        with open(tmp, "wb") as f:
            np.save(f, self._v, allow_pickle=False)
        os.replace(tmp, directory / "vectors.npy")
        self._write_common(directory)

    @classmethod
    def load(cls, directory: str | Path, expect: Mapping[str, Any] | None = None) -> BruteForceIndex:
        directory = Path(directory)
        meta = cls._read_manifest(directory)
        cls.check_manifest(directory, meta, expect, ("brute",))
        ids = cls._read_ids(directory, meta)
        try:
            v = np.load(directory / "vectors.npy", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ItemIndexError(f"{directory / 'vectors.npy'}: unreadable ({exc})") from None
        if v.shape != (len(ids), meta.get("dimension")):
            raise ItemIndexError(f"{directory / 'vectors.npy'}: shape {v.shape} does not match the manifest")
        return cls(v, ids, {k: v_ for k, v_ in meta.items() if k not in _DERIVED})


_DERIVED = {"schema_version", "kind", "metric", "dimension", "count", "params", "saved_at"}


# ---------------------------------------------------------------------------
# FAISS


class ItemIndex(_BaseIndex):
    """A FAISS inner-product index over item vectors (flat, HNSW or IVF; GPU when available)."""

    INDEX_FILE = "index.faiss"

    def __init__(self, index: Any, ids: Sequence[str], kind: str, meta: Mapping[str, Any] | None = None,
                 *, use_gpu: bool | str = "auto", vectors: np.ndarray | None = None):
        super().__init__(ids, index.d, meta)
        if index.ntotal != len(self._ids):
            raise ItemIndexError(f"index: FAISS holds {index.ntotal} vectors but there are {len(self._ids)} ids")
        self.kind = kind
        self._index = index
        self._v = vectors if vectors is not None else _stored_vectors(index, kind)
        self._gpu_index = _to_gpu(index, kind, required=use_gpu is True) if _want_gpu(use_gpu) else None

    # construction -----------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ids: Sequence[str],
        kind: str = "auto",
        meta: Mapping[str, Any] | None = None,
        *,
        use_gpu: bool | str = "auto",
        hnsw_m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH,
        nlist: int | None = None,
        nprobe: int = IVF_NPROBE,
        seed: int = 1234,
    ) -> ItemIndex:
        """Index ``vectors`` (row i belongs to ``ids[i]``) with the kind ``choose_kind`` picks.

        ``meta`` holds the caller's facts for the manifest (``model_id``,
        ``catalog_hash``, ``text_template``, ``catalog_source``).
        """
        import faiss

        v = _check_build_inputs(vectors, ids)
        n, d = v.shape
        concrete = choose_kind(n, kind)
        if concrete == "flat":
            index = faiss.IndexFlatIP(d)
            index.add(v)
        elif concrete == "hnsw":
            index = faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.hnsw.efSearch = ef_search
            index.add(v)
        else:
            cells = min(nlist or ivf_nlist(n), n)
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quantizer, d, cells, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = seed
            train = v
            if n > 64 * cells:  # FAISS samples 256/cell anyway; subsample to keep training quick
                rng = np.random.default_rng(seed)
                train = v[np.sort(rng.choice(n, 64 * cells, replace=False))]
            index.train(train)
            index.add(v)
            index.nprobe = min(nprobe, cells)
            index.make_direct_map()
        return cls(index, ids, concrete, meta, use_gpu=use_gpu, vectors=v if concrete == "ivf" else None)

    def _params(self) -> dict[str, Any]:
        if self.kind == "hnsw":
            return {"M": int(self._index.hnsw.nb_neighbors(1)), "efSearch": int(self._index.hnsw.efSearch),
                    "efConstruction": int(self._index.hnsw.efConstruction)}
        if self.kind == "ivf":
            return {"nlist": int(self._index.nlist), "nprobe": int(self._index.nprobe)}
        return {}

    @property
    def on_gpu(self) -> bool:
        return self._gpu_index is not None

    def set_search_params(self, *, ef_search: int | None = None, nprobe: int | None = None) -> None:
        """Trade recall for speed on approximate indexes (ignored for flat)."""
        if ef_search is not None and self.kind == "hnsw":
            self._index.hnsw.efSearch = int(ef_search)
        if nprobe is not None and self.kind == "ivf":
            self._index.nprobe = int(nprobe)
            if self._gpu_index is not None:
                with _GPU_LOCK:
                    self._gpu_index.nprobe = int(nprobe)

    def _vectors(self) -> np.ndarray:
        return self._v

    # search -------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int, *, allowed: Collection[str] | None = None,
               exclude: Collection[str] = ()) -> list[ScoredItems]:
        """Top-``k`` items per query row (source ``"dense"``), best first.

        Returns exactly ``min(k, number of items that pass)`` items per query:
        ``allowed`` restricts the candidates (unknown ids are ignored), ``exclude``
        removes ids.
        """
        q = self._check_queries(queries)
        mask = self._mask(allowed, exclude)
        n = len(self._ids)
        n_ok = n if mask is None else int(mask.sum())
        kk = min(int(k), n_ok)
        if kk <= 0:
            return [ScoredItems() for _ in range(len(q))]
        if mask is None:
            scores, rows = self._faiss_search(q, kk, None)
        elif n_ok <= EXACT_SUBSET_MAX and (self.kind != "flat" or self._gpu_index is not None):
            # a small allowed set: scoring it exactly beats an approximate index's selector and,
            # on the GPU, widening (measured on an H100, bench/index_gpu.py). A CPU flat index's
            # own ID selector is as fast, so it keeps that.
            scores, rows = self._exact(q, kk, np.flatnonzero(mask))
        elif self._gpu_index is None:
            scores, rows = self._faiss_search(q, kk, mask)
        else:
            scores, rows = self._widen_search(q, kk, mask)
        # Approximate search may come back short (an IVF probe with too few items, a
        # selective HNSW filter): redo those queries exactly over what passes.
        short = np.flatnonzero((rows[:, :kk] < 0).any(axis=1)) if rows.shape[1] >= kk else np.arange(len(q))
        if len(short):
            allowed_rows = None if mask is None else np.flatnonzero(mask)
            s2, r2 = self._exact(q[short], kk, allowed_rows)
            scores = _pad(scores, kk)
            rows = _pad(rows, kk, -1)
            scores[short], rows[short] = s2, r2
        return [self._to_scored(s, r, kk) for s, r in zip(scores, rows, strict=True)]

    def _faiss_search(self, q: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        if mask is None:
            index = self._gpu_index if self._gpu_index is not None and k <= GPU_MAX_K else self._index
            if self.kind == "hnsw" and k > self._index.hnsw.efSearch:
                params = faiss.SearchParametersHNSW(efSearch=k)
                return self._index.search(q, k, params=params)
            if index is self._gpu_index:
                with _GPU_LOCK:  # FAISS GPU indexes are not thread-safe, not even for search
                    return index.search(q, k)
            return index.search(q, k)
        bitmap = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(bitmap)
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(k, int(self._index.hnsw.efSearch)))
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF(sel=sel, nprobe=int(self._index.nprobe))
        else:
            params = faiss.SearchParameters(sel=sel)
        return self._index.search(q, k, params=params)

    def _widen_search(self, q: np.ndarray, k: int, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Filter after an unfiltered search, widening until ``k`` pass (GPU path)."""
        n = len(self._ids)
        frac = max(float(mask.mean()), 1e-6)
        want = min(n, int(math.ceil(k / frac * 2)) + 16)
        out_s = np.full((len(q), k), -np.inf, np.float32)
        out_r = np.full((len(q), k), -1, np.int64)
        todo = np.arange(len(q))
        while len(todo) and want <= GPU_MAX_K:
            scores, rows = self._faiss_search(q[todo], want, None)
            still = []
            for j, qi in enumerate(todo):
                ok = rows[j] >= 0
                ok[ok] &= mask[rows[j][ok]]
                if ok.sum() >= k:
                    out_s[qi], out_r[qi] = scores[j][ok][:k], rows[j][ok][:k]
                else:
                    still.append(qi)
            todo = np.array(still, dtype=np.int64)
            if want >= n:
                break
            want = min(n, want * 4)
        return out_s, out_r  # rows still -1 fall back to exact search in ``search``

    # persistence --------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write ``index.faiss``, ``ids.json`` and the ``meta.json`` manifest into ``directory``."""
        import faiss

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / (self.INDEX_FILE + ".tmp")
        faiss.write_index(self._index, str(tmp))
        os.replace(tmp, directory / self.INDEX_FILE)
        self._write_common(directory)

    @classmethod
    def load(cls, directory: str | Path, expect: Mapping[str, Any] | None = None,
             *, use_gpu: bool | str = "auto") -> ItemIndex:
        """Load a saved index; ``expect`` lists manifest fields that must match.

        Raises :class:`ItemIndexError` naming every differing field and the
        command that rebuilds the index.
        """
        import faiss

        directory = Path(directory)
        meta = cls._read_manifest(directory)
        cls.check_manifest(directory, meta, expect, ("flat", "hnsw", "ivf"))
        ids = cls._read_ids(directory, meta)
        path = directory / cls.INDEX_FILE
        if not path.exists():
            raise ItemIndexError(f"{path}: missing; rebuild with: {rebuild_command(directory, meta)}")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise ItemIndexError(
                f"{path}: unreadable FAISS index ({str(exc).splitlines()[0]}); "
                f"rebuild with: {rebuild_command(directory, meta)}"
            ) from None
        if index.d != meta.get("dimension") or index.ntotal != len(ids):
            raise ItemIndexError(
                f"{path}: holds {index.ntotal} x {index.d} vectors, manifest says "
                f"{meta.get('count')} x {meta.get('dimension')}; rebuild with: {rebuild_command(directory, meta)}"
            )
        kind = meta["kind"]
        if kind == "ivf":
            index.make_direct_map()
        return cls(index, ids, kind, {k: v for k, v in meta.items() if k not in _DERIVED}, use_gpu=use_gpu)


def _pad(a: np.ndarray, k: int, fill: float = -np.inf) -> np.ndarray:
    if a.shape[1] >= k:
        return a[:, :k].copy()
    out = np.full((a.shape[0], k), fill, dtype=a.dtype)
    out[:, : a.shape[1]] = a
    return out


def _stored_vectors(index: Any, kind: str) -> np.ndarray:
    """The vectors inside a CPU index: a zero-copy view for flat/HNSW, a copy for IVF."""
    import faiss

    n, d = index.ntotal, index.d
    if kind == "flat":
        flat = faiss.downcast_index(index)
    elif kind == "hnsw":
        flat = faiss.downcast_index(index.storage)
    else:
        return index.reconstruct_n(0, n).astype(np.float32)
    if n == 0:
        return np.zeros((0, d), np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), n * d).reshape(n, d)


def _want_gpu(use_gpu: bool | str) -> bool:
    if use_gpu is False:
        return False
    import faiss

    has = hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    if use_gpu is True and not has:
        raise ItemIndexError("index: use_gpu=True but FAISS sees no GPU (install faiss-gpu; see docs/using.md)")
    return has


_GPU_RESOURCES: Any = None
#: Serialises every call into FAISS GPU objects. FAISS GPU indexes are not thread-safe, not even
#: for search: they share one ``StandardGpuResources`` (its scratch memory has one user at a time),
#: and the app searches from several request threads.
_GPU_LOCK = threading.Lock()
_log = logging.getLogger(__name__)


def _to_gpu(index: Any, kind: str, *, required: bool = False) -> Any:
    """A GPU copy of ``index`` for searching, or ``None`` (HNSW has no GPU version).

    When the copy fails (an old driver, out of GPU memory) the CPU index answers instead,
    with a warning; with ``required`` (``use_gpu=True``) it raises :class:`ItemIndexError`.
    """
    global _GPU_RESOURCES
    if kind == "hnsw":
        return None
    import faiss

    try:
        with _GPU_LOCK:
            if _GPU_RESOURCES is None:
                _GPU_RESOURCES = faiss.StandardGpuResources()
            return faiss.index_cpu_to_gpu(_GPU_RESOURCES, 0, index)
    except Exception as exc:  # the CPU index still answers
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if required:
            raise ItemIndexError(f"index: use_gpu=True but copying the {kind} index "
                                 f"({index.ntotal} x {index.d}) to the GPU failed: {reason}") from None
        _log.warning("index: searching the %s index on CPU; copying it to the GPU failed: %s", kind, reason)
        return None
