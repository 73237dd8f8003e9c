"""Before/after a refit, on held-out feedback sessions (issue 14, part 3).

Each held-out annotator session (a pseudo-user the refit never saw) with at least ``min_likes``
liked items is scored leave-one-out: every liked item in turn is hidden, the session's other
judgements are the history (liked +1, disliked -1, rated 3 +0.5, as the live conversation passes
them), and the model ranks every item it knows except that history. Per session: HR@k (the
hidden like is in the top k), NDCG@k and the reciprocal rank, averaged over its likes; then the
mean over sessions for each model, and for the difference after - before a paired bootstrap 95%
interval over sessions (a session's cases move together).

It knows scorers' matrices and interactions; it does not know the feedback store or gradio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.catalog import Catalog
from workbench.errors import EvaluationError
from workbench.interactions import Interactions

#: Default cut-offs.
KS = (10, 50)
#: Bootstrap resamples of the sessions.
BOOTSTRAP = 2000


def session_histories(interactions: Interactions, catalog: Catalog | None = None) -> dict[str, dict[str, float]]:
    """user -> item -> value (canonical ids when ``catalog`` is given; the strongest value per item)."""
    out: dict[str, dict[str, float]] = {}
    for user, item, value in zip(interactions.frame["user"].astype(str), interactions.frame["item_id"].astype(str),
                                 interactions.frame["value"].astype(float), strict=True):
        if catalog is not None and item in catalog:
            item = catalog.canonical_id(item)
        hist = out.setdefault(user, {})
        if item not in hist or abs(value) > abs(hist[item]):
            hist[item] = value
    return out


def _cases(sessions: Mapping[str, Mapping[str, float]], min_likes: int) -> list[tuple[int, dict[str, float], str]]:
    cases = []
    for s, (_user, hist) in enumerate(sorted(sessions.items())):
        liked = sorted(i for i, v in hist.items() if v >= 1.0)
        if len(liked) < min_likes:
            continue
        for target in liked:
            cases.append((s, {i: v for i, v in hist.items() if i != target}, target))
    return cases


def ranks(model: Any, cases: Sequence[tuple[int, dict[str, float], str]], batch: int = 256) -> np.ndarray:
    """0-based rank of each case's hidden item among the items ``model`` knows, its history left out
    (``inf`` when the model does not know the item)."""
    ids = list(model.item_ids)
    col = {i: c for c, i in enumerate(ids)}
    out = np.full(len(cases), np.inf)
    for start in range(0, len(cases), batch):
        part = cases[start:start + batch]
        S = np.asarray(model.score_matrix(model.history_matrix([h for _, h, _ in part])), dtype=np.float64)
        for row, (_, hist, target) in enumerate(part):
            c = col.get(target)
            if c is None:
                continue
            scores = S[row]
            drop = [col[i] for i in hist if i in col]
            scores[drop] = -np.inf
            out[start + row] = float((scores > scores[c]).sum())
    return out


def _per_session(values: np.ndarray, sessions: np.ndarray, n: int) -> np.ndarray:
    sums = np.bincount(sessions, weights=values, minlength=n)
    counts = np.bincount(sessions, minlength=n)
    return sums[counts > 0] / counts[counts > 0]


def _metrics(r: np.ndarray, ks: Sequence[int]) -> dict[str, np.ndarray]:
    m: dict[str, np.ndarray] = {"mrr": np.where(np.isfinite(r), 1.0 / (r + 1.0), 0.0)}
    for k in ks:
        hit = r < k
        m[f"hr@{k}"] = hit.astype(float)
        m[f"ndcg@{k}"] = np.where(hit, 1.0 / np.log2(np.where(hit, r, 0.0) + 2.0), 0.0)
    return m


def compare(before: Any, after: Any, held_out: Interactions, catalog: Catalog | None = None, *,
            ks: Sequence[int] = KS, min_likes: int = 2, seed: int = 0, bootstrap: int = BOOTSTRAP
            ) -> dict[str, Any]:
    """Both models on the held-out sessions: means per model and the difference with a 95% interval.

    Returns ``{"sessions", "cases", "ks", "before": {metric: mean}, "after": {...},
    "difference": {metric: {"mean", "low", "high"}}}``.
    """
    if not ks or min(ks) < 1:
        raise EvaluationError(f"--k: cut-offs must be positive integers, got {list(ks)}")
    sessions = session_histories(held_out, catalog)
    cases = _cases(sessions, min_likes)
    if not cases:
        raise EvaluationError(
            f"no held-out feedback session has {min_likes} or more liked items ({len(sessions)} held-out "
            "session(s)); judge more items or hold out more sessions (--holdout)")
    sess = np.array([s for s, _, _ in cases])
    used = np.unique(sess)
    remap = np.searchsorted(used, sess)
    n = len(used)
    per: dict[str, dict[str, np.ndarray]] = {}
    for name, model in (("before", before), ("after", after)):
        per[name] = {k: _per_session(v, remap, n) for k, v in _metrics(ranks(model, cases), ks).items()}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(bootstrap, n))
    out: dict[str, Any] = {"sessions": int(n), "cases": len(cases), "ks": sorted(set(ks)),
                           "before": {}, "after": {}, "difference": {}}
    for metric in per["before"]:
        b, a = per["before"][metric], per["after"][metric]
        d = a - b
        boot = d[draws].mean(axis=1)
        out["before"][metric] = round(float(b.mean()), 4)
        out["after"][metric] = round(float(a.mean()), 4)
        out["difference"][metric] = {"mean": round(float(d.mean()), 4),
                                     "low": round(float(np.percentile(boot, 2.5)), 4),
                                     "high": round(float(np.percentile(boot, 97.5)), 4)}
    return out
