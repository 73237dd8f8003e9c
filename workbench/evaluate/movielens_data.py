"""Reading MovieLens-100K: items, the official folds as train/test matrices, and item texts.

The files are read by path at evaluation time and nothing derived from them row by row is
written anywhere. Item text for the content scorer is rendered from ``u.item`` (title, year,
genres), optionally enriched with genres and cast from the Wikipedia movie table; the
Wikipedia prose (``extract``) is never read.

It knows the MovieLens and Wikipedia-table files; it does not know scorers, metrics or gradio.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.errors import EvaluationError
from workbench.text import split_title_year

RELEVANCE = ("all", "rating>=4")
ML_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)


# ---------------------------------------------------------------------------
# reading the files


@dataclass(frozen=True)
class TrainTest:
    """One evaluation split: what systems train on and what counts as relevant.

    ``train`` is binary (and is what gets excluded from rankings); ``values`` has the
    same entries divided by ``value_scale`` (for scorers with ``weighting="value"``).
    """

    train: sp.csr_matrix
    values: sp.csr_matrix
    value_scale: float
    relevant: Mapping[str, sp.csr_matrix]


@dataclass(frozen=True)
class MovieLensFold:
    """One official fold as matrices over all 1,682 items (columns) and 943 users (rows)."""

    fold: int
    train: sp.csr_matrix  # binary: rated in training
    train_ratings: sp.csr_matrix  # the training ratings (1-5)
    test_ratings: sp.csr_matrix  # the test ratings (1-5)

    def split(self) -> TrainTest:
        return TrainTest(self.train, self.train_ratings / 5.0, 5.0,
                         {rel: self.relevant(rel) for rel in RELEVANCE})

    def relevant(self, relevance: str) -> sp.csr_matrix:
        if relevance == "all":
            return sp.csr_matrix(self.test_ratings > 0)
        if relevance == "rating>=4":
            return sp.csr_matrix(self.test_ratings >= 4)
        raise EvaluationError(f"relevance must be one of {RELEVANCE}, got {relevance!r}")


def _require(path: Path) -> Path:
    if not path.exists():
        raise EvaluationError(
            f"{path}: not found; --data must be the MovieLens-100K folder holding u.item and u1..u5"
        )
    return path


def read_items(data_dir: str | Path) -> list[dict[str, Any]]:
    """``u.item`` as dicts (item_id, title, year, genres), in file order."""
    path = _require(Path(data_dir) / "u.item")
    items = []
    for lineno, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < 5 + len(ML_GENRES):
            raise EvaluationError(f"{path}: line {lineno}: expected 24 '|'-separated fields, got {len(parts)}")
        title, year = split_title_year(parts[1])
        flags = parts[5 : 5 + len(ML_GENRES)]
        genres = [g for g, f in zip(ML_GENRES, flags, strict=True) if f.strip() == "1" and g != "unknown"]
        items.append({"item_id": parts[0].strip(), "title": title, "year": year, "genres": genres})
    return items


def _read_ratings(path: Path) -> np.ndarray:
    _require(path)
    try:
        data = np.loadtxt(path, dtype=np.int64, delimiter="\t", ndmin=2)
    except ValueError as exc:
        raise EvaluationError(f"{path}: not tab-separated user/item/rating/timestamp rows ({exc})") from None
    if data.shape[1] != 4:
        raise EvaluationError(f"{path}: expected 4 columns, got {data.shape[1]}")
    bad = (data[:, 2] < 1) | (data[:, 2] > 5)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise EvaluationError(f"{path}: line {row + 1}: rating must be 1-5, got {data[row, 2]}")
    return data


def read_fold(data_dir: str | Path, fold: int, n_users: int, item_ids: Sequence[str]) -> MovieLensFold:
    """Fold ``fold`` (1-5) as matrices; users are rows ``user_id - 1``."""
    data_dir = Path(data_dir)
    col = {item_id: c for c, item_id in enumerate(item_ids)}
    mats = []
    for name in (f"u{fold}.base", f"u{fold}.test"):
        path = data_dir / name
        r = _read_ratings(path)
        try:
            cols = np.fromiter((col[str(i)] for i in r[:, 1]), dtype=np.int64, count=len(r))
        except KeyError as exc:
            raise EvaluationError(f"{path}: item {exc.args[0]} is not in u.item") from None
        if r[:, 0].min() < 1 or r[:, 0].max() > n_users:
            raise EvaluationError(f"{path}: user ids must be 1-{n_users}")
        mats.append(sp.csr_matrix((r[:, 2].astype(np.float32), (r[:, 0] - 1, cols)),
                                  shape=(n_users, len(item_ids))))
    train = mats[0].copy()
    train.data[:] = 1.0
    return MovieLensFold(fold, train, mats[0], mats[1])


def count_users(data_dir: str | Path) -> int:
    path = _require(Path(data_dir) / "u.user")
    return sum(1 for line in path.read_text(encoding="latin-1").splitlines() if line.strip())


# ---------------------------------------------------------------------------
# item text for the content scorer


def _title_key(title: str) -> str:
    """Normalised title: "Usual Suspects, The" -> "the usual suspects"; alternate titles dropped."""
    t = re.sub(r"\s*\([^)]*\)", "", title)  # "(a.k.a. ...)", original-language titles
    m = re.match(r"^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$", t.strip())
    if m:
        t = f"{m.group(2)} {m.group(1)}"
    return " ".join(re.findall(r"[^\W_]+", t.lower().replace("&", "and")))


def read_wikipedia_facts(wiki_dir: str | Path) -> dict[tuple[str, int], dict[str, list[str]]]:
    """``(title key, year) -> {genres, cast}`` from the Wikipedia movie table's decade files.

    Only facts are read; the ``extract`` prose is ignored.
    """
    facts: dict[tuple[str, int], dict[str, list[str]]] = {}
    for path in sorted(Path(wiki_dir).glob("movies-*.json")):
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{path}: invalid JSON at line {exc.lineno} ({exc.msg})") from None
        for row in rows:
            title, year = row.get("title"), row.get("year")
            if not isinstance(title, str) or not isinstance(year, int):
                continue
            facts.setdefault((_title_key(title), year), {
                "genres": [str(g) for g in row.get("genres") or []],
                "cast": [str(c) for c in row.get("cast") or []],
            })
    return facts


def item_texts(items: Sequence[Mapping[str, Any]], wiki_dir: str | Path | None = None,
               max_cast: int = 4, include_title: bool = False) -> tuple[list[str], int]:
    """One text per item, and how many were enriched from the Wikipedia table.

    ``"1990s film. Animation, Children's, Comedy. Starring Tom Hanks, Tim Allen."``; with
    ``include_title`` the text starts with "Title (year)" instead of the decade. Titles are
    left out by default: measured on the five folds, title words make content neighbours
    worse (they match "Story" with "Story", not films with films).
    """
    facts = read_wikipedia_facts(wiki_dir) if wiki_dir is not None and Path(wiki_dir).exists() else {}
    texts, enriched = [], 0
    for item in items:
        genres = list(item["genres"])
        cast: list[str] = []
        year = item["year"]
        if facts and year is not None:
            key = _title_key(item["title"])
            hit = facts.get((key, year)) or facts.get((key, year - 1)) or facts.get((key, year + 1))
            if hit:
                enriched += 1
                low = {g.lower() for g in genres}
                genres += [g for g in hit["genres"] if g.lower() not in low]
                cast = hit["cast"][:max_cast]
        m = re.match(r"^(.*), (The|A|An)$", item["title"])
        title = f"{m.group(2)} {m.group(1)}" if m else item["title"]
        if include_title:
            parts = [f"{title} ({year})" if year else title]
        else:
            parts = [f"{(year // 10) * 10}s film" if year else "Film"]
        if genres:
            parts.append(", ".join(genres))
        if cast:
            parts.append("Starring " + ", ".join(cast))
        texts.append(". ".join(parts) + ".")
    return texts, enriched
