"""Embedders: ``encode(texts) -> float32 array`` of L2-normalised rows.

:class:`HashEmbedder` is deterministic and instant (hashed word and character
n-grams); tests use it, and it is a usable fallback with no model at all.
The sentence-transformers embedder and the embedding cache are added here by
the core-index work.

It knows texts and vectors, not FAISS, items or gradio.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


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
