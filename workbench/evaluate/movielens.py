"""The MovieLens-100K offline evaluation, against the Chat-Rec paper's published rows.

Split: the official five folds (train ``uN.base``, test ``uN.test``, 80/20 of
each user's ratings at random). Every system is trained on all training
ratings as implicit feedback and ranks every item the user has not rated in
training. Two relevance protocols are always reported: ``all`` (every test
item is relevant) and ``rating>=4`` (only test items rated 4 or 5). Metrics are
averaged over users with at least one relevant test item, then over folds.

The files are read by :mod:`workbench.evaluate.movielens_data`; nothing derived
from them row by row is written anywhere (only aggregate metrics).

It knows files, systems and metrics; it does not know gradio.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from workbench.errors import EvaluationError
from workbench.evaluate.movielens_data import TrainTest, count_users, item_texts, read_fold, read_items
from workbench.metrics import METRICS, ranking_metrics, top_k_matrix
from workbench.recommend.base import MatrixScorer

SPLIT = (
    "official MovieLens-100K folds u1..u5 (train uN.base, test uN.test; 80/20 of each user's "
    "ratings); rank every item not rated in training; mean over users with >= 1 relevant test "
    "item, then over folds"
)

#: Chat-Rec (Gao et al. 2023, arXiv 2303.14524), Table 2, top-5 on ML-100K. Published, not ours;
#: the paper does not state its split.
PUBLISHED = (
    {"system": "LightFM", "precision": 0.2830, "recall": 0.1410, "ndcg": 0.2846},
    {"system": "LightGCN", "precision": 0.3030, "recall": 0.1455, "ndcg": 0.3425},
    {"system": "Chat-Rec (gpt-3.5-turbo)", "precision": 0.3103, "recall": 0.1279, "ndcg": 0.3696},
    {"system": "Chat-Rec (text-davinci-003)", "precision": 0.3240, "recall": 0.1404, "ndcg": 0.3802},
)
PUBLISHED_SOURCE = "published: Chat-Rec paper (Gao et al. 2023, arXiv 2303.14524), Table 2, top-5, split not stated"




# ---------------------------------------------------------------------------
# systems


SystemFactory = Callable[[], MatrixScorer]


@dataclass(frozen=True)
class Tuned:
    """A system whose hyperparameters are chosen in each fold on validation data.

    ``build(chosen)`` makes a fresh unfitted scorer from the fold's chosen values
    (see :func:`tune_fold`); ``keys`` names the values it reads, for the report. Without a
    tuner (``chosen`` empty) ``build`` falls back on the module defaults below.
    """

    build: Callable[[Mapping[str, Any]], MatrixScorer]
    keys: tuple[str, ...] = ()


#: The issue's fixed reference: EASE with lambda 500 (never tuned, the anchor of the bar).
EASE_LAMBDA = 500.0
#: Grids searched in every fold on a validation split of that fold's training ratings.
EASE_LAMBDA_GRID = (100.0, 250.0, 500.0, 1000.0)
ALS_GRID = tuple(
    {"factors": f, "regularization": r, "alpha": 1.0} for f in (24, 64) for r in (1.0, 5.0, 20.0)
)
#: 5 and regularization 20 were added when validation (not test) picked the grid's edge (10; 5).
CONTENT_NEIGHBORS_GRID = (5, 10, 20, 50)
#: Share of each user's training ratings held out for choosing hyperparameters, and its seed.
VALIDATION_FRACTION = 0.2
VALIDATION_SEED = 0
#: Fallbacks used only when no tuner runs (e.g. the default-catalogue evaluation). They were
#: picked during development from MovieLens five-fold *test* results, so the MovieLens
#: evaluation never uses them: it chooses per fold on validation data (see tune_fold).
CONTENT_NEIGHBORS = 20
WEIGHTED_EASE_LAMBDA = 250.0
ALS_PARAMS = {"factors": 24, "regularization": 5.0, "alpha": 1.0}
TUNING_METHOD = (
    f"per fold, on a validation split of that fold's training ratings only ({VALIDATION_FRACTION:.0%} of "
    f"each user's training ratings held out, users with >= 3, seed {VALIDATION_SEED}): each candidate is "
    "fitted on the rest and scored by NDCG@{k} on the held-out ratings (mean of protocols 'all' and "
    "'rating>=4'); the best is refitted on the whole training fold. Grids: EASE lambda "
    f"{[int(x) for x in EASE_LAMBDA_GRID]} (binary and value-weighted), ALS "
    f"factors x regularization {sorted({(p['factors'], p['regularization']) for p in ALS_GRID})} (alpha 1, "
    f"15 iterations), content neighbours {list(CONTENT_NEIGHBORS_GRID)}. The hybrid uses the fold's "
    "value-weighted EASE lambda and content neighbours and learns its blend weights on its own "
    "validation splits of the training fold. Fixed: EASE (lambda=500) reference, ItemKNN k=100."
)
#: Validation splits of the training data the hybrid averages when learning its weights.
VALIDATION_ROUNDS = 2


class ContentVariants:
    """Content scorers over the same item vectors with different ``neighbors``, built once each.

    ``role`` keeps separate instances for separate systems (the hybrid sets its sources'
    weighting, which must not leak into the content-only system).
    """

    def __init__(self, base: MatrixScorer):
        self.base = base
        self._cache: dict[tuple[int, str], MatrixScorer] = {}

    def get(self, neighbors: int, role: str = "content") -> MatrixScorer:
        from workbench.recommend.content import ContentScorer

        key = (int(neighbors), role)
        if key not in self._cache:
            base = self.base
            self._cache[key] = ContentScorer(list(base.item_ids), base.vectors, neighbors=int(neighbors),
                                             catalog=base.catalog)
        return self._cache[key]


def _als(params: Mapping[str, Any]) -> MatrixScorer:
    from workbench.recommend.als import ALSScorer

    return ALSScorer(factors=params["factors"], regularization=params["regularization"],
                     alpha=params["alpha"], iterations=15, random_state=0, num_threads=1)


def default_systems(content: MatrixScorer | ContentVariants | None, content_label: str = "MiniLM",
                    tune_k: int = 5, ablation: bool = False) -> dict[str, SystemFactory | Tuned]:
    """The systems compared by default, name -> factory of a fresh unfitted scorer.

    Every hyperparameter except the reference EASE's lambda and ItemKNN's 100 neighbours is
    :class:`Tuned`: chosen per fold on validation data (:func:`tune_fold`).
    """
    from workbench.recommend.als import implicit_version
    from workbench.recommend.ease import EASEScorer
    from workbench.recommend.hybrid import HybridScorer
    from workbench.recommend.knn import ItemKNNScorer
    from workbench.recommend.popularity import PopularityScorer

    if content is None or isinstance(content, ContentVariants):
        variants = content
    else:
        variants = ContentVariants(content)

    def value_lambda(c: Mapping[str, Any]) -> float:
        return float(c.get("ease_value_lambda", WEIGHTED_EASE_LAMBDA))

    def neighbors(c: Mapping[str, Any]) -> int:
        return int(c.get("content_neighbors", CONTENT_NEIGHBORS))

    def hybrid(c: Mapping[str, Any], with_content: bool) -> MatrixScorer:
        return HybridScorer(
            cf=EASEScorer(lambda_=value_lambda(c)),
            content=variants.get(neighbors(c), "hybrid") if with_content and variants else None,
            tune_k=tune_k, validation_rounds=VALIDATION_ROUNDS, weighting="value",
        )

    systems: dict[str, SystemFactory | Tuned] = {
        "Popularity": PopularityScorer,
        "ItemKNN (cosine, k=100)": lambda: ItemKNNScorer(neighbors=100),
        f"ALS (implicit {implicit_version()}, outside, tuned)": Tuned(
            lambda c: _als(c.get("als", ALS_PARAMS)), ("als",)),
        "EASE (lambda=500)": lambda: EASEScorer(lambda_=EASE_LAMBDA),
        "EASE (lambda tuned)": Tuned(
            lambda c: EASEScorer(lambda_=float(c.get("ease_lambda", EASE_LAMBDA))), ("ease_lambda",)),
        "EASE (value-weighted, lambda tuned)": Tuned(
            lambda c: EASEScorer(lambda_=value_lambda(c), weighting="value"), ("ease_value_lambda",)),
    }
    if content is not None and ablation:
        systems["Hybrid without content (value-weighted EASE + popularity, tuned)"] = Tuned(
            lambda c: hybrid(c, False), ("ease_value_lambda",))
    if content is not None:
        systems[f"Content ({content_label}, neighbours tuned)"] = Tuned(
            lambda c: variants.get(neighbors(c), "content"), ("content_neighbors",))
        systems["Hybrid (value-weighted EASE + content + popularity, tuned)"] = Tuned(
            lambda c: hybrid(c, True), ("ease_value_lambda", "content_neighbors"))
    else:
        systems["Hybrid (value-weighted EASE + popularity, tuned)"] = Tuned(
            lambda c: hybrid(c, False), ("ease_value_lambda",))
    return systems


def validation_split(split: TrainTest, fraction: float = VALIDATION_FRACTION, seed: int = VALIDATION_SEED,
                     min_items: int = 3) -> tuple[sp.csr_matrix, sp.csr_matrix, dict[str, sp.csr_matrix]]:
    """Carve validation data out of the *training* ratings only.

    Returns ``(kept, held, relevant)``: the kept and held-out training values (each user with
    ``min_items`` or more loses ``fraction`` of them at random, seeded) and the held-out items
    relevant under each protocol ("all"; when the split has it, "rating>=4" from the values
    times ``value_scale``).
    """
    from workbench.recommend.tuning import holdout_split

    kept, held = holdout_split(split.values, fraction, min_items, seed)
    relevant = {"all": sp.csr_matrix(held > 0)}
    if "rating>=4" in split.relevant:  # MovieLens ratings; other data has no rating scale
        relevant["rating>=4"] = sp.csr_matrix(held * split.value_scale >= 4 - 1e-3)
    return kept, held, relevant


def tune_fold(split: TrainTest, item_ids: Sequence[str], *, k: int = 10,
              content: ContentVariants | None = None, als: bool = True,
              lambdas: Sequence[float] = EASE_LAMBDA_GRID,
              als_grid: Sequence[Mapping[str, Any]] = ALS_GRID,
              neighbors_grid: Sequence[int] = CONTENT_NEIGHBORS_GRID,
              needs: Collection[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Choose each tuned hyperparameter on a validation split of this fold's training data.

    Each candidate is fitted on the kept training ratings and scored by NDCG@k on the
    held-out ones (mean of the two relevance protocols); the test ratings are never looked at.

    Returns ``(chosen, validation)``: ``{"ease_lambda", "ease_value_lambda", "als",
    "content_neighbors"}`` (only those in ``needs``, when given) and each candidate's
    validation NDCG.
    """
    from workbench.recommend.tuning import ease_path, pick_best, validation_ndcg

    kept, held, relevant = validation_split(split)
    users = np.flatnonzero(np.diff(held.indptr) > 0)
    kept_bin = kept.copy()
    kept_bin.data[:] = 1.0
    exclude = kept_bin[users]
    rel = {name: m[users] for name, m in relevant.items()}

    def ndcg(scores: np.ndarray) -> float:
        return round(validation_ndcg(scores, exclude, rel, k), 6)

    chosen: dict[str, Any] = {}
    validation: dict[str, Any] = {}
    def wanted(key: str) -> bool:
        return needs is None or key in needs

    for key, X in (("ease_lambda", kept_bin), ("ease_value_lambda", kept)):
        if not wanted(key):
            continue
        scores = {lam: ndcg(np.asarray(X[users] @ B)) for lam, B in ease_path(X, lambdas)}
        chosen[key] = pick_best(scores)
        validation[key] = {f"{lam:g}": v for lam, v in scores.items()}
    if als and wanted("als"):
        scores = {}
        for i, params in enumerate(als_grid):
            model = _als(params).fit_matrix(kept_bin, item_ids)
            scores[i] = ndcg(model.score_matrix(kept_bin[users]))
        chosen["als"] = dict(als_grid[pick_best(scores)])
        validation["als"] = {_als_label(als_grid[i]): v for i, v in scores.items()}
    if content is not None and wanted("content_neighbors"):
        scores = {n: ndcg(content.get(n).score_matrix(kept_bin[users])) for n in neighbors_grid}
        chosen["content_neighbors"] = pick_best(scores)
        validation["content_neighbors"] = {str(n): v for n, v in scores.items()}
    return chosen, validation


def _als_label(params: Mapping[str, Any]) -> str:
    return f"factors={params['factors']},reg={params['regularization']:g},alpha={params['alpha']:g}"


# ---------------------------------------------------------------------------
# running


@dataclass
class EvalReport:
    """Results of one evaluation run: rows as in the JSON ``results`` list, plus notes.

    ``tuning`` holds, per fold, the hyperparameters chosen on validation data and each
    candidate's validation score (empty when nothing was tuned).
    """

    dataset: str
    folds: list[int]
    ks: list[int]
    results: list[dict[str, Any]]
    split: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    fit_seconds: dict[str, float] = field(default_factory=dict)
    tuning: list[dict[str, Any]] = field(default_factory=list)
    tuning_method: str = ""

    def to_json(self) -> dict[str, Any]:
        """The issue's format (dataset, folds, results), plus ``tuning`` when anything was tuned."""
        out: dict[str, Any] = {"dataset": self.dataset, "folds": list(self.folds), "results": self.results}
        if self.tuning:
            out["tuning"] = {"method": self.tuning_method, "per_fold": self.tuning}
        return out

    def systems(self) -> list[str]:
        return list(dict.fromkeys(r["system"] for r in self.results))

    def get(self, system: str, relevance: str, k: int) -> dict[str, Any]:
        for r in self.results:
            if r["system"] == system and r["relevance"] == relevance and r["k"] == k:
                return r
        raise KeyError((system, relevance, k))


FoldTuner = Callable[[TrainTest, Sequence[str]], tuple[dict[str, Any], dict[str, Any]]]


def evaluate_systems(
    systems: Mapping[str, SystemFactory | Tuned],
    folds: Sequence[TrainTest],
    item_ids: Sequence[str],
    ks: Sequence[int],
    progress: Callable[[str], None] | None = None,
    *,
    tuner: FoldTuner | None = None,
    fold_names: Sequence[int] | None = None,
    tuning: list[dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Fit each system on each fold's training matrix and average the metrics over folds.

    Args:
        systems: name -> factory of a fresh scorer, or a :class:`Tuned` built from the fold's
            chosen hyperparameters.
        folds: the splits.
        item_ids: column ids of the matrices.
        ks: cut-offs.
        tuner: chooses hyperparameters per fold from the fold's training data only.
        fold_names: fold numbers for the tuning records (default 1, 2, ...).
        tuning: when given, one record per fold is appended: chosen values, validation
            scores and the hybrid's learned blend weights.

    Returns:
        Result rows (system, relevance, k, metrics) and seconds spent per system
        (a fold's tuning time is counted under "tuning").
    """
    ks = sorted(set(int(k) for k in ks))
    kmax = max(ks)
    per: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    seconds: dict[str, float] = {}
    relevances: list[str] = []
    for f_index, split in enumerate(folds):
        fold_name = fold_names[f_index] if fold_names is not None else f_index + 1
        chosen: dict[str, Any] = {}
        record: dict[str, Any] = {"fold": fold_name}
        if tuner is not None:
            start = time.perf_counter()
            chosen, validation = tuner(split, item_ids)
            seconds["tuning"] = seconds.get("tuning", 0.0) + time.perf_counter() - start
            record.update(chosen=chosen, validation_ndcg=validation)
            if progress:
                progress(f"fold {fold_name}: tuned on validation {time.perf_counter() - start:.1f}s "
                         f"{json.dumps(chosen)}")
        record["systems"] = {}
        for name, factory in systems.items():
            start = time.perf_counter()
            model = factory.build(chosen) if isinstance(factory, Tuned) else factory()
            if isinstance(factory, Tuned) and tuner is not None:
                record["systems"][name] = {key: chosen[key] for key in factory.keys if key in chosen}
            if model.weighting == "value":
                X, scale = split.values, split.value_scale
            else:
                X, scale = split.train, 1.0
            model.fit_matrix(X, item_ids, value_scale=scale)
            if isinstance(getattr(model, "weights", None), dict):  # a tuned blend
                record["systems"].setdefault(name, {})["blend_weights"] = {
                    n: round(float(w), 4) for n, w in model.weights.items()}
            scores = model.score_matrix(X)
            top = top_k_matrix(scores, kmax, exclude=split.train)
            for relevance, rel in split.relevant.items():
                if relevance not in relevances:
                    relevances.append(relevance)
                metrics = ranking_metrics(top, rel, ks, n_items=len(item_ids))
                for k in ks:
                    per.setdefault((name, relevance, k), []).append(metrics[k])
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            if progress:
                extra = f" [{model.describe()}]" if hasattr(model, "describe") else ""
                progress(f"fold {fold_name}: {name} {time.perf_counter() - start:.1f}s{extra}")
        if tuning is not None and (tuner is not None or record["systems"]):
            tuning.append(record)
    results = []
    for name in systems:
        for relevance in relevances:
            for k in ks:
                rows = per[(name, relevance, k)]
                entry: dict[str, Any] = {"system": name, "relevance": relevance, "k": k}
                for metric in METRICS:
                    entry[metric] = round(float(np.mean([r[metric] for r in rows])), 6)
                results.append(entry)
    return results, seconds


def build_content_scorer(items: Sequence[Mapping[str, Any]], content: str, wiki_dir: str | Path | None,
                         cache_dir: str | None, notes: list[str]) -> MatrixScorer | None:
    """The content scorer for ``--content`` (``minilm``, ``hash`` or ``none``)."""
    if content == "none":
        return None
    from workbench.recommend.content import ContentScorer
    from workbench.retrieval.embed import HashEmbedder, load_embedder

    texts, enriched = item_texts(items, wiki_dir)
    notes.append(
        f"content text: u.item decade and genres (no titles); {enriched}/{len(items)} items enriched with "
        "Wikipedia genres and cast" + ("" if wiki_dir else " (enrichment off)")
    )
    if content == "hash":
        embedder = HashEmbedder(dimension=256)
    elif content == "minilm":
        embedder = load_embedder("all-MiniLM-L6-v2", device="cpu", cache_dir=cache_dir)
    else:
        raise EvaluationError(f"--content must be minilm, hash or none, got {content!r}")
    # No neighbour graph here: each fold builds the one for its chosen neighbours (ContentVariants).
    return ContentScorer.from_texts([i["item_id"] for i in items], texts, embedder, neighbors=None)


def evaluate_movielens(
    data_dir: str | Path,
    folds: Sequence[int] = (1, 2, 3, 4, 5),
    ks: Sequence[int] = (5, 10),
    *,
    content: str = "minilm",
    wiki_dir: str | Path | None = None,
    cache_dir: str | None = None,
    systems: Mapping[str, SystemFactory | Tuned] | None = None,
    ablation: bool = False,
    tune: bool = True,
    blas_threads: int | None = 1,
    progress: Callable[[str], None] | None = None,
) -> EvalReport:
    """Run every system on the official folds under both relevance protocols.

    ``ablation`` adds the hybrid without its content source, to measure what content adds.
    With ``tune`` (the default) the :class:`Tuned` systems' hyperparameters are chosen in
    each fold on a validation split of that fold's training ratings (:func:`tune_fold`),
    then the systems are refitted on the whole training fold and scored on its test fold.
    ``blas_threads`` caps BLAS threads during the run (``None``: no cap): measured on the
    shared 2-core machine, one thread ran EASE about twice as fast as two while other
    processes were busy (spinning BLAS threads), and little slower when idle.
    """
    with _blas_threads(blas_threads):
        return _evaluate_movielens(data_dir, folds, ks, content=content, wiki_dir=wiki_dir,
                                   cache_dir=cache_dir, systems=systems, ablation=ablation, tune=tune,
                                   progress=progress)


def _blas_threads(n: int | None):
    """A context capping BLAS/OpenMP threads (threadpoolctl comes with implicit); a no-op without it."""
    import contextlib

    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with implicit
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n))


def _evaluate_movielens(data_dir, folds, ks, *, content, wiki_dir, cache_dir, systems, ablation, tune,
                        progress) -> EvalReport:
    start = time.perf_counter()
    data_dir = Path(data_dir)
    for f in folds:
        if f not in (1, 2, 3, 4, 5):
            raise EvaluationError(f"--folds: fold {f} does not exist; the official folds are 1-5")
    if not ks or min(ks) < 1:
        raise EvaluationError(f"--k: cut-offs must be positive integers, got {list(ks)}")
    items = read_items(data_dir)
    item_ids = [i["item_id"] for i in items]
    n_users = count_users(data_dir)
    notes: list[str] = []
    variants = None
    if systems is None:
        content_scorer = build_content_scorer(items, content, wiki_dir, cache_dir, notes)
        variants = ContentVariants(content_scorer) if content_scorer is not None else None
        label = {"minilm": "MiniLM", "hash": "hash embedder"}.get(content, content)
        systems = default_systems(variants, label, tune_k=max(ks), ablation=ablation)
    needs = {key for f in systems.values() if isinstance(f, Tuned) for key in f.keys}
    tuner = None
    if tune and needs:
        def tuner(split: TrainTest, ids: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
            return tune_fold(split, ids, k=max(ks), content=variants, needs=needs)
    fold_data = [read_fold(data_dir, f, n_users, item_ids).split() for f in folds]
    tuning: list[dict[str, Any]] = []
    results, seconds = evaluate_systems(systems, fold_data, item_ids, ks, progress, tuner=tuner,
                                        fold_names=list(folds), tuning=tuning)
    return EvalReport("ml-100k", list(folds), sorted(set(ks)), results, SPLIT, notes,
                      time.perf_counter() - start, seconds, tuning if tuner else [],
                      TUNING_METHOD.format(k=max(ks)) if tuner else "")


# ---------------------------------------------------------------------------
# output


def format_table(report: EvalReport, published: Sequence[Mapping[str, Any]] = PUBLISHED) -> str:
    """One table per (relevance, k), one row per system; published rows beside k=5, labelled."""
    lines = [f"dataset: {report.dataset}   folds: {report.folds}", f"split: {report.split}"]
    lines += [f"note: {n}" for n in report.notes]
    width = max([len(s) for s in report.systems()] + [len(p["system"]) + 12 for p in published] + [10])
    header = f"{'system':<{width}}  " + "  ".join(f"{m:>9}" for m in METRICS)
    relevances = list(dict.fromkeys(r["relevance"] for r in report.results))
    for relevance in relevances:
        for k in report.ks:
            lines += ["", f"relevance={relevance}  k={k}", header, "-" * len(header)]
            for system in report.systems():
                r = report.get(system, relevance, k)
                lines.append(f"{system:<{width}}  " + "  ".join(f"{r[m]:>9.4f}" for m in METRICS))
            if k == 5 and published:
                lines.append(f"-- {PUBLISHED_SOURCE}; not our runs --")
                for p in published:
                    cells = [f"{p[m]:>9.4f}" if m in p else f"{'-':>9}" for m in METRICS]
                    lines.append(f"{'[published] ' + p['system']:<{width}}  " + "  ".join(cells))
    if report.tuning:
        lines += ["", "hyperparameters chosen per fold on validation data (never the test fold):",
                  f"  method: {report.tuning_method}"]
        lines += ["  " + describe_tuning(record) for record in report.tuning]
    return "\n".join(lines)


def describe_tuning(record: Mapping[str, Any]) -> str:
    """One line per fold: the chosen values and the hybrids' learned blend weights."""
    chosen = record.get("chosen", {})
    parts = []
    if "ease_lambda" in chosen:
        parts.append(f"EASE lambda={chosen['ease_lambda']:g}")
    if "ease_value_lambda" in chosen:
        parts.append(f"value-weighted EASE lambda={chosen['ease_value_lambda']:g}")
    if "als" in chosen:
        parts.append(f"ALS {_als_label(chosen['als'])}")
    if "content_neighbors" in chosen:
        parts.append(f"content neighbours={chosen['content_neighbors']}")
    for name, info in record.get("systems", {}).items():
        if "blend_weights" in info:
            weights = ", ".join(f"{n}={w:g}" for n, w in info["blend_weights"].items())
            parts.append(f"{name.split(' (')[0]} blend [{weights}]")
    return f"fold {record['fold']}: " + "; ".join(parts)


def write_json(report: EvalReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return path


def plot_ndcg(report: EvalReport, path: str | Path, published: Sequence[Mapping[str, Any]] = PUBLISHED,
              title: str = "") -> Path:
    """A bar chart of NDCG@k per system: one panel per k, one bar per relevance protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = report.systems()
    relevances = list(dict.fromkeys(r["relevance"] for r in report.results))
    fig, axes = plt.subplots(1, len(report.ks), figsize=(7 * len(report.ks), 6.5), squeeze=False)
    width = 0.8 / max(len(relevances), 1)
    x = np.arange(len(systems))
    for ax, k in zip(axes[0], report.ks, strict=True):
        for j, relevance in enumerate(relevances):
            vals = [report.get(s, relevance, k)["ndcg"] for s in systems]
            bars = ax.bar(x + (j - (len(relevances) - 1) / 2) * width, vals, width, label=f"relevance {relevance}")
            ax.bar_label(bars, fmt="%.3f", fontsize=7, rotation=90, padding=2)
        if k == 5 and published:
            best = max(published, key=lambda p: p["ndcg"])
            ax.axhline(best["ndcg"], color="grey", linestyle="--", linewidth=1)
            ax.text(-0.5, best["ndcg"] + 0.005, f"published best: {best['system']} {best['ndcg']:.4f}",
                    ha="left", va="bottom", fontsize=7, color="dimgrey",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        ax.set_xticks(x)
        ax.set_xticklabels([textwrap.fill(s, 22) for s in systems], rotation=35, ha="right", fontsize=7)
        ax.set_ylabel(f"NDCG@{k}")
        ax.set_title(f"NDCG@{k}, mean over folds {report.folds}", fontsize=9)
        ax.set_ylim(0, max(0.6, max(r["ndcg"] for r in report.results) * 1.2))
        ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(title or f"{report.dataset}: NDCG@k per system", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
