"""Leave-some-out evaluation on the default catalogue's own interactions (ReDial-derived likes).

Users are ReDial conversations. For every user with at least ``min_likes``
"liked" items, a seeded ``fraction`` of those likes is held out (at least one);
everything else (the other likes, and the suggested / seen / mentioned signals)
is training data. Systems rank the items that appear in the interactions file
(the catalogue items anyone interacted with), excluding the user's training
items; the held-out likes are the relevant items. Same metrics and table as the
MovieLens evaluation, so a default install can run an evaluation offline.

It knows the catalogue and interactions files, systems and metrics; not gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.catalog import Catalog, load_catalog
from workbench.errors import EvaluationError
from workbench.evaluate.movielens import (
    CONTENT_NEIGHBORS,
    ContentVariants,
    EvalReport,
    SystemFactory,
    Tuned,
    default_systems,
    evaluate_systems,
    tune_fold,
)
from workbench.evaluate.movielens_data import TrainTest
from workbench.interactions import Interactions, load_interactions
from workbench.recommend.base import MatrixScorer
from workbench.recommend.tuning import holdout_split


def split_likes(
    interactions: Interactions,
    catalog: Catalog | None = None,
    fraction: float = 0.2,
    min_likes: int = 3,
    seed: int = 0,
) -> tuple[sp.csr_matrix, sp.csr_matrix, list[str], list[str]]:
    """Binary training matrix and held-out likes (users x items), users and item ids.

    Item ids are every item in the interactions (canonical ids when ``catalog`` is given).
    """
    frame = interactions.frame.copy()
    frame["item_id"] = frame["item_id"].astype(str)
    if catalog is not None:
        frame["item_id"] = frame["item_id"].map(lambda i: catalog.canonical_id(i) if i in catalog else i)
    frame["user"] = frame["user"].astype(str)
    users = sorted(frame["user"].unique())
    items = sorted(frame["item_id"].unique())
    urow = {u: r for r, u in enumerate(users)}
    icol = {i: c for c, i in enumerate(items)}

    def matrix(part) -> sp.csr_matrix:
        m = sp.csr_matrix(
            (np.ones(len(part), dtype=np.float32),
             (part["user"].map(urow).to_numpy(), part["item_id"].map(icol).to_numpy())),
            shape=(len(users), len(items)),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    liked = matrix(frame[(frame["signal"] == "liked") & (frame["value"] > 0)])
    positives = matrix(frame[frame["value"] > 0])
    _, held = holdout_split(liked, fraction, min_likes, seed)
    train = positives - positives.multiply(held > 0)
    train.eliminate_zeros()
    return sp.csr_matrix(train), held, users, items


def strongest_values(interactions: Interactions, catalog: Catalog | None, users: list[str],
                     items: list[str], train: sp.csr_matrix) -> tuple[sp.csr_matrix, float]:
    """The strongest positive value per training (user, item), over the largest value."""
    frame = interactions.frame
    pos = frame[frame["value"] > 0]
    scale = float(pos["value"].max()) if len(pos) else 1.0
    urow = {u: r for r, u in enumerate(users)}
    icol = {i: c for c, i in enumerate(items)}
    best: dict[tuple[int, int], float] = {}
    for user, item, value in zip(pos["user"].astype(str), pos["item_id"].astype(str), pos["value"],
                                 strict=True):
        if catalog is not None and item in catalog:
            item = catalog.canonical_id(item)
        key = (urow[user], icol[item])
        best[key] = max(best.get(key, 0.0), float(value))
    coo = train.tocoo()
    vals = np.array([best[(r, c)] / scale for r, c in zip(coo.row, coo.col, strict=True)], dtype=np.float32)
    return sp.csr_matrix((vals, (coo.row, coo.col)), shape=train.shape), scale


def evaluate_default(
    catalog_path: str | Path,
    interactions_path: str | Path,
    ks: tuple[int, ...] | list[int] = (5, 10),
    *,
    content: str = "minilm",
    embed_model: str = "all-MiniLM-L6-v2",
    cache_dir: str | None = None,
    fraction: float = 0.2,
    min_likes: int = 3,
    seed: int = 0,
    systems: Mapping[str, SystemFactory] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvalReport:
    """Run the default systems on a seeded leave-some-out split of the likes."""
    start = time.perf_counter()
    if not ks or min(ks) < 1:
        raise EvaluationError(f"--k: cut-offs must be positive integers, got {list(ks)}")
    catalog = load_catalog(catalog_path)
    interactions = load_interactions(interactions_path, known_ids=None)
    train, held, users, items = split_likes(interactions, catalog, fraction, min_likes, seed)
    if held.nnz == 0:
        raise EvaluationError(
            f"{interactions_path}: no user has {min_likes} or more liked items; nothing to hold out"
        )
    notes = [
        f"{int((np.diff(held.indptr) > 0).sum())} users with >= {min_likes} likes; "
        f"{held.nnz} likes held out ({fraction:.0%} per user, seed {seed}); "
        f"{len(items)} candidate items (those in the interactions file)"
    ]
    variants = None
    if systems is None:
        content_scorer = _content_scorer(catalog, items, content, embed_model, cache_dir)
        variants = ContentVariants(content_scorer) if content_scorer is not None else None
        label = {"minilm": "MiniLM", "hash": "hash embedder"}.get(content, content)
        systems = default_systems(variants, label, tune_k=max(ks))
    # Systems named "tuned" choose their hyperparameters on a validation split of the training
    # likes (never on the held-out likes), exactly as in the MovieLens protocol.
    needs = {key for f in systems.values() if isinstance(f, Tuned) for key in f.keys}
    tuner = None
    if needs:
        def tuner(split: TrainTest, ids: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
            return tune_fold(split, ids, k=max(ks), content=variants, needs=needs)
    values, scale = strongest_values(interactions, catalog, users, items, train)
    split_data = TrainTest(train, values, scale, {"liked": held})
    tuning: list[dict[str, Any]] = []
    results, seconds = evaluate_systems(systems, [split_data], items, ks, progress, tuner=tuner,
                                        tuning=tuning)
    if tuning:
        notes.append(f"hyperparameters chosen on validation data: {tuning[0].get('chosen', tuning[0])}")
    split = (
        f"leave-some-out over the liked items of {Path(interactions_path).name}: "
        f"{fraction:.0%} of each user's likes held out (users with >= {min_likes} likes, seed {seed})"
    )
    return EvalReport("default-catalogue", [1], sorted(set(ks)), results, split, notes,
                      time.perf_counter() - start, seconds)


def _content_scorer(catalog: Catalog, items: list[str], content: str, embed_model: str,
                    cache_dir: str | None) -> MatrixScorer | None:
    if content == "none":
        return None
    from workbench.catalog import Item, render_text
    from workbench.recommend.content import ContentScorer
    from workbench.retrieval.embed import HashEmbedder, load_embedder

    texts = []
    for item_id in items:
        item = catalog.get(item_id)
        texts.append(render_text(item) if item is not None else render_text(Item(item_id, item_id)))
    if content == "hash":
        embedder = HashEmbedder(dimension=256)
    elif content == "minilm":
        embedder = load_embedder(embed_model, device="cpu", cache_dir=cache_dir)
    else:
        raise EvaluationError(f"--content must be minilm, hash or none, got {content!r}")
    return ContentScorer.from_texts(items, texts, embedder, neighbors=CONTENT_NEIGHBORS)
