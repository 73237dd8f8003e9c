"""ScoredItems: the one currency for ranked results.

Retrievers, CF scorers, the hybrid and the dialogue engine all return
:class:`ScoredItems`: catalogue item ids (never FAISS row numbers), a final
score per item, and the per-source scores that produced it ("cf", "content",
"dense", "lexical", "popularity", ...), so that the UI and the dialogue can
say why an item was chosen. Modelled on lenskit's ``ItemList``.

It knows nothing about the catalogue, FAISS or gradio.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ScoredItem:
    """One ranked item: id, final score and the per-source scores behind it."""

    item_id: str
    score: float
    sources: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "score": float(self.score), "sources": dict(self.sources)}


@dataclass(frozen=True)
class ScoredItems:
    """An immutable ranked list of items, best first.

    Construct with :meth:`from_scores` (which sorts) or directly when the
    order is already right. ``sources[i]`` maps a source name to the score
    that source gave item ``i``.
    """

    ids: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()
    sources: tuple[Mapping[str, float], ...] = ()

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.scores) != n:
            raise ValueError(f"ScoredItems: {n} ids but {len(self.scores)} scores")
        if not self.sources:
            object.__setattr__(self, "sources", tuple(MappingProxyType({}) for _ in range(n)))
        elif len(self.sources) != n:
            raise ValueError(f"ScoredItems: {n} ids but {len(self.sources)} source maps")
        else:
            object.__setattr__(
                self, "sources", tuple(MappingProxyType(dict(s)) for s in self.sources)
            )
        if len(set(self.ids)) != n:
            raise ValueError("ScoredItems: item ids must be unique")

    # construction -----------------------------------------------------
    @classmethod
    def empty(cls) -> ScoredItems:
        return cls()

    @classmethod
    def from_scores(
        cls,
        ids: Iterable[str],
        scores: Iterable[float] | np.ndarray,
        sources: Iterable[Mapping[str, float]] | None = None,
        k: int | None = None,
    ) -> ScoredItems:
        """Sort by score (descending, ties by id for determinism) and keep the top ``k``."""
        ids = [str(i) for i in ids]
        scores = [float(s) for s in scores]
        srcs = list(sources) if sources is not None else [{} for _ in ids]
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
        if k is not None:
            order = order[: max(k, 0)]
        return cls(
            tuple(ids[i] for i in order),
            tuple(scores[i] for i in order),
            tuple(srcs[i] for i in order),
        )

    @classmethod
    def from_records(cls, records: Iterable[ScoredItem]) -> ScoredItems:
        """Keep the given order (already ranked)."""
        recs = list(records)
        return cls(
            tuple(r.item_id for r in recs),
            tuple(float(r.score) for r in recs),
            tuple(r.sources for r in recs),
        )

    # access -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[ScoredItem]:
        for i, s, src in zip(self.ids, self.scores, self.sources, strict=True):
            yield ScoredItem(i, s, src)

    def __getitem__(self, index: int) -> ScoredItem:
        return ScoredItem(self.ids[index], self.scores[index], self.sources[index])

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.ids

    def top(self, k: int) -> ScoredItems:
        """The first ``k`` items (the list is already ranked)."""
        if k >= len(self.ids):
            return self  # immutable: the same list
        return self._checked_slice(slice(0, k))

    def _checked_slice(self, part: slice) -> ScoredItems:
        """A slice of this already validated list, built without validating and copying it again
        (``top`` runs several times per turn; re-wrapping every source map was a measurable share
        of a turn's Python time under load)."""
        sliced = object.__new__(ScoredItems)
        object.__setattr__(sliced, "ids", self.ids[part])
        object.__setattr__(sliced, "scores", self.scores[part])
        object.__setattr__(sliced, "sources", self.sources[part])
        return sliced

    def filter(self, keep: Any) -> ScoredItems:
        """Items for which ``keep(item_id)`` is true, order kept."""
        return ScoredItems.from_records(r for r in self if keep(r.item_id))

    def exclude(self, item_ids: Iterable[str]) -> ScoredItems:
        drop = set(item_ids)
        return self.filter(lambda i: i not in drop)

    def score_of(self, item_id: str) -> float | None:
        try:
            return self.scores[self.ids.index(item_id)]
        except ValueError:
            return None

    def to_records(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self]
