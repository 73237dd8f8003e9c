"""User-item interactions for collaborative filtering.

An :class:`Interactions` table holds one row per (user, item) signal with the
columns ``user`` (str), ``item_id`` (str), ``signal`` (a label such as
``liked``/``disliked``/``suggested``/``rating``) and ``value`` (float; positive
means the user liked it, negative that they disliked it, ratings as given).

It knows ids and numbers, not embeddings, FAISS or gradio.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.errors import CatalogError

COLUMNS = ("user", "item_id", "signal", "value")

#: Default value per signal label when a file has no ``value`` column.
SIGNAL_VALUES = {"liked": 1.0, "disliked": -1.0, "suggested": 0.5, "seen": 0.5, "mentioned": 0.25}


@dataclass(frozen=True)
class Interactions:
    """A validated interactions frame (columns :data:`COLUMNS`)."""

    frame: pd.DataFrame

    def __post_init__(self) -> None:
        missing = [c for c in COLUMNS if c not in self.frame.columns]
        if missing:
            raise CatalogError(f"interactions: missing column(s) {missing}")

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def users(self) -> list[str]:
        return sorted(self.frame["user"].unique().tolist())

    def positives(self, threshold: float = 0.0) -> pd.DataFrame:
        """Rows with ``value > threshold`` (what implicit-feedback CF trains on)."""
        return self.frame[self.frame["value"] > threshold]

    def history(self, user: str) -> pd.DataFrame:
        return self.frame[self.frame["user"] == user]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, float]]) -> Interactions:
        frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
        frame = frame.astype({"user": str, "item_id": str, "signal": str, "value": float})
        return cls(frame)

    def save_csv(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.frame.to_csv(index=False).encode()
        if path.suffix == ".gz":
            with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
                f.write(data)
        else:
            path.write_bytes(data)


def load_interactions(path: str | Path, known_ids: Iterable[str] | None = None) -> Interactions:
    """Read a CSV (optionally gzipped) with ``user,item_id[,signal][,value]``.

    When ``known_ids`` is given, an unknown item id is an error naming its line.
    """
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{path}: interactions file not found")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not valid UTF-8 at byte offset {exc.start}") from None
    frame = pd.read_csv(io.StringIO(text), dtype={"user": str, "item_id": str, "signal": str})
    for col in ("user", "item_id"):
        if col not in frame.columns:
            raise CatalogError(f"{path}: missing column {col!r} (columns: {list(frame.columns)})")
    if "signal" not in frame.columns:
        frame["signal"] = "liked"
    if "value" not in frame.columns:
        unknown = sorted(set(frame["signal"]) - set(SIGNAL_VALUES))
        if unknown:
            raise CatalogError(
                f"{path}: signal {unknown[0]!r} has no default value; add a 'value' column "
                f"or use one of {sorted(SIGNAL_VALUES)}"
            )
        frame["value"] = frame["signal"].map(SIGNAL_VALUES)
    bad = frame["value"].isna() | frame["user"].isna() | frame["item_id"].isna()
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise CatalogError(f"{path}: line {line}: empty user, item_id or value")
    if known_ids is not None:
        known = set(known_ids)
        unknown_mask = ~frame["item_id"].isin(known)
        if unknown_mask.any():
            row = int(unknown_mask.to_numpy().nonzero()[0][0])
            raise CatalogError(
                f"{path}: line {row + 2}: field 'item_id' {frame['item_id'].iloc[row]!r} "
                "is not in the catalogue"
            )
    return Interactions(frame[list(COLUMNS)].reset_index(drop=True))
