"""The recommender interface and the machinery every scorer shares.

A recommender is fitted on :class:`~workbench.interactions.Interactions` and
turns a user's *history* (``item_id -> value``: positive liked, negative
disliked; or a plain sequence of liked ids) into :class:`~workbench.scored.ScoredItems`
whose ``sources`` hold each source's score ("popularity", "knn", "cf",
"content"). Scorers work on a user x item matrix internally
(:meth:`MatrixScorer.score_matrix`), so that offline evaluation scores every
user in one call and ``recommend`` is the one-row case.

It knows item ids, matrices and the catalogue (for filters); it does not know
FAISS, text, gradio or where the interactions came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from workbench import manifest
from workbench.catalog import Catalog, Vocabulary
from workbench.errors import RecommenderError
from workbench.filters import ItemFilter
from workbench.interactions import Interactions
from workbench.manifest import MANIFEST, write_manifest
from workbench.scored import ScoredItems

#: A user's history: ``item_id -> value`` (positive liked, negative disliked) or liked ids.
History = Mapping[str, float] | Sequence[str]

#: Version of the saved-model layout (``meta.json`` + ``arrays.npz``); bump on change.
SCHEMA_VERSION = 1
ARRAYS = "arrays.npz"
#: What to do about a saved model that does not load.
REFIT = "refit and save the model"

#: Largest ``k`` a caller may ask for (a named limit so errors can quote it).
MAX_K = 1000


@runtime_checkable
class Recommender(Protocol):
    """What the dialogue engine and the app rely on."""

    def fit(self, interactions: Interactions) -> Recommender: ...

    def recommend(
        self,
        history: History,
        k: int = 10,
        *,
        exclude: Collection[str] = (),
        filters: ItemFilter | None = None,
    ) -> ScoredItems: ...


# ---------------------------------------------------------------------------
# histories and matrices


def normalize_history(history: History | None) -> dict[str, float]:
    """``item_id -> value`` from a mapping or a sequence of liked ids (value 1.0).

    Raises :class:`RecommenderError` for a bare string (a common slip: ``"123"``
    would otherwise read as three ids) or a non-numeric value.
    """
    if history is None:
        return {}
    if isinstance(history, (str, bytes)):
        raise RecommenderError(
            f"history must be a mapping item_id -> value or a list of ids, got the string {history!r}"
        )
    if isinstance(history, Mapping):
        out: dict[str, float] = {}
        for key, value in history.items():
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise RecommenderError(
                    f"history: value for item {key!r} must be a number, got {value!r}"
                ) from None
            if not np.isfinite(v):
                raise RecommenderError(f"history: value for item {key!r} is not finite ({value!r})")
            out[str(key)] = v
        return out
    return {str(item_id): 1.0 for item_id in history}


def history_matrix(
    histories: Sequence[Mapping[str, float]],
    vocabulary: Vocabulary,
    *,
    binary: bool = True,
    value_scale: float = 1.0,
) -> sp.csr_matrix:
    """A users x items CSR matrix of histories over ``vocabulary`` (unknown ids are skipped).

    With ``binary`` a liked item counts 1 and a disliked item -1 (the sign of its value);
    otherwise an entry is ``value / value_scale`` clipped to [-1, 1].
    """
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, hist in enumerate(histories):
        for item_id, value in hist.items():
            if item_id in vocabulary and value != 0:
                rows.append(r)
                cols.append(vocabulary.number(item_id))
                if binary:
                    vals.append(float(np.sign(value)))
                else:
                    vals.append(float(np.clip(value / value_scale, -1.0, 1.0)))
    return sp.csr_matrix(
        (np.asarray(vals, dtype=np.float32), (rows, cols)),
        shape=(len(histories), len(vocabulary)),
        dtype=np.float32,
    )


#: How interactions become matrix entries: 1 per positive interaction, or its value scaled to (0, 1].
WEIGHTINGS = ("binary", "value")


def value_scale(interactions: Interactions, threshold: float = 0.0) -> float:
    """The largest positive value (what "value" weighting divides by); 1.0 when there is none."""
    values = interactions.positives(threshold)["value"]
    return float(values.max()) if len(values) else 1.0


def interaction_matrix(
    interactions: Interactions,
    *,
    catalog: Catalog | None = None,
    threshold: float = 0.0,
    item_ids: Sequence[str] | None = None,
    weighting: str = "binary",
) -> tuple[sp.csr_matrix, list[str], Vocabulary]:
    """Users x items matrix of the positive interactions (``value > threshold``).

    ``weighting="binary"``: 1 per (user, item); ``"value"``: the largest value the user gave
    the item divided by :func:`value_scale` (a 4-star rating is 0.8, a suggestion 0.5).

    Returns the matrix, the user ids (row order) and the item vocabulary (column
    order: ``item_ids`` when given, else the positively interacted items, sorted).
    Alias ids are mapped to canonical ids when ``catalog`` is given.
    """
    frame = interactions.positives(threshold)
    items = frame["item_id"].astype(str)
    if catalog is not None:
        items = items.map(lambda i: catalog.canonical_id(i) if i in catalog else i)
    users = frame["user"].astype(str)
    vocab = Vocabulary(item_ids if item_ids is not None else sorted(set(items)))
    user_ids = sorted(set(users))
    user_row = {u: r for r, u in enumerate(user_ids)}
    if weighting not in WEIGHTINGS:
        raise RecommenderError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    keep = items.isin(set(vocab.ids)).to_numpy()
    rows = users[keep].map(user_row).to_numpy()
    cols = np.fromiter((vocab.number(i) for i in items[keep]), dtype=np.int64, count=int(keep.sum()))
    if weighting == "value":
        values = frame["value"].to_numpy(dtype=np.float32)[keep] / value_scale(interactions, threshold)
    else:
        values = np.ones(len(rows), dtype=np.float32)
    # Several signals for one (user, item) still mean one interaction: keep the strongest.
    coo = sp.coo_matrix((values, (rows, cols)), shape=(len(user_ids), len(vocab)), dtype=np.float32)
    order = np.lexsort((-coo.data, coo.col, coo.row))
    r, c, v = coo.row[order], coo.col[order], coo.data[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    X = sp.csr_matrix((v[first], (r[first], c[first])), shape=coo.shape, dtype=np.float32)
    return X, user_ids, vocab


def interactions_hash(interactions: Interactions) -> str:
    """A sha256 over the (user, item_id, value) rows, independent of row order."""
    import pandas as pd

    frame = interactions.frame[["user", "item_id", "value"]].astype(
        {"user": str, "item_id": str, "value": float}
    )
    frame = frame.sort_values(["user", "item_id", "value"], kind="mergesort")
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def row_zscore(S: np.ndarray) -> np.ndarray:
    """Per-row standardisation (rows with no spread become 0), so sources can be blended."""
    mean = S.mean(axis=1, keepdims=True)
    std = S.std(axis=1, keepdims=True)
    out = np.zeros_like(S)
    ok = (std > 1e-12).ravel()
    out[ok] = (S[ok] - mean[ok]) / std[ok]
    return out


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best finite scores of a 1-D array, best first (ties by index)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if k <= 0 or finite.size == 0:
        return np.zeros(0, dtype=np.int64)
    if finite.size > k:
        part = np.argpartition(-scores[finite], k - 1)[:k]
        finite = finite[part]
    order = np.lexsort((finite, -scores[finite]))
    return finite[order]


# ---------------------------------------------------------------------------
# the shared base class


class MatrixScorer:
    """Base for scorers that score a users x items matrix over their own item vocabulary.

    Subclasses set :attr:`kind` and :attr:`source`, implement :meth:`_fit_matrix`
    and :meth:`score_matrix`, and list what they save in :meth:`_params` /
    :meth:`_arrays` / :meth:`_restore`.
    """

    kind: ClassVar[str] = "base"
    source: ClassVar[str] = "score"
    #: The score of an item this scorer has never seen, when that is known (popularity: 0);
    #: ``None`` means "no opinion", and the hybrid treats the item as average for this source.
    missing_score: ClassVar[float | None] = None

    def __init__(self, catalog: Catalog | None = None, weighting: str = "binary"):
        if weighting not in WEIGHTINGS:
            raise RecommenderError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        self.catalog = catalog
        self.weighting = weighting
        self.value_scale = 1.0
        self.vocabulary: Vocabulary | None = None
        self.data_hash: str = ""

    # fitting ----------------------------------------------------------------
    def fit(self, interactions: Interactions) -> MatrixScorer:
        """Fit on the positive interactions; returns ``self``."""
        if not isinstance(interactions, Interactions):
            raise RecommenderError(
                f"{type(self).__name__}.fit expects Interactions, got {type(interactions).__name__}"
            )
        X, _, vocab = interaction_matrix(interactions, catalog=self.catalog, weighting=self.weighting)
        if X.shape[1] == 0:
            raise RecommenderError(
                f"{type(self).__name__}.fit: no positive interactions (value > 0) to fit on"
            )
        self.value_scale = value_scale(interactions) if self.weighting == "value" else 1.0
        self.vocabulary = vocab
        self.data_hash = interactions_hash(interactions)
        self._fit_matrix(X)
        return self

    def _fit_matrix(self, X: sp.csr_matrix) -> None:
        raise NotImplementedError

    def fit_matrix(self, X: sp.csr_matrix, item_ids: Sequence[str], data_hash: str = "",
                   value_scale: float = 1.0) -> MatrixScorer:
        """Fit on a prepared users x items matrix whose columns are ``item_ids``.

        Entries are 1 (binary weighting) or values already divided by ``value_scale``.
        """
        if X.shape[1] != len(item_ids):
            raise RecommenderError(f"fit_matrix: {X.shape[1]} columns but {len(item_ids)} item ids")
        self.vocabulary = Vocabulary(item_ids)
        self.data_hash = data_hash
        self.value_scale = float(value_scale)
        self._fit_matrix(sp.csr_matrix(X, dtype=np.float32))
        return self

    @property
    def item_ids(self) -> tuple[str, ...]:
        return self._vocab().ids

    def _vocab(self) -> Vocabulary:
        if self.vocabulary is None:
            raise RecommenderError(f"{type(self).__name__} is not fitted; call fit(interactions) first")
        return self.vocabulary

    # scoring ----------------------------------------------------------------
    def score_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        """Scores (users x items, over :attr:`item_ids`) for histories ``X`` over the same items."""
        raise NotImplementedError

    def score(self, history: History) -> np.ndarray:
        """One history's scores over :attr:`item_ids`."""
        hist = self._canonical_history(normalize_history(history))
        return np.asarray(self.score_matrix(self.history_matrix([hist])))[0]

    def history_matrix(self, histories: Sequence[Mapping[str, float]]) -> sp.csr_matrix:
        """Histories as this scorer's input rows (binary, or values over :attr:`value_scale`)."""
        return history_matrix(histories, self._vocab(), binary=self.weighting == "binary",
                              value_scale=self.value_scale)

    def _canonical_history(self, hist: dict[str, float]) -> dict[str, float]:
        if self.catalog is None:
            return hist
        out: dict[str, float] = {}
        for item_id, value in hist.items():
            item = self.catalog.get(item_id)
            out[item.item_id if item is not None else item_id] = value
        return out

    # recommending -------------------------------------------------------------
    def recommend(
        self,
        history: History,
        k: int = 10,
        *,
        exclude: Collection[str] = (),
        filters: ItemFilter | None = None,
        exclude_history: bool = True,
    ) -> ScoredItems:
        """The ``k`` best items for ``history``, best first, with per-source scores.

        Items in the history are excluded unless ``exclude_history`` is false;
        ``exclude`` ids and ``filters`` (resolved through the catalogue) drop more.
        """
        hist = self._canonical_history(normalize_history(history))
        scores, sources = self._scores_with_sources(hist)
        mask = candidate_mask(
            self.item_ids, self.catalog, hist if exclude_history else {}, exclude, filters,
            vocabulary=self._vocab(), in_catalog=self._in_catalog(),
        )
        return to_scored_items(self.item_ids, scores, sources, mask, k)

    def _in_catalog(self) -> np.ndarray | None:
        """Cached :func:`catalog_mask` for the current vocabulary and catalogue."""
        if self.catalog is None:
            return None
        cached = getattr(self, "_in_catalog_cache", None)
        # Holding the objects (not their ids) so a recycled id can never match.
        if cached is None or cached[0] is not self.vocabulary or cached[1] is not self.catalog:
            cached = (self.vocabulary, self.catalog, catalog_mask(self.item_ids, self.catalog))
            self._in_catalog_cache = cached
        return cached[2]

    def _scores_with_sources(self, hist: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        scores = self.score_matrix(self.history_matrix([hist]))[0]
        return scores, {self.source: scores}

    # persistence --------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return {}

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _restore(self, params: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        raise NotImplementedError

    def save(self, directory: str | Path) -> Path:
        """Write ``meta.json`` + ``arrays.npz`` (no pickle) into ``directory``."""
        vocab = self._vocab()
        arrays = dict(self._arrays())
        arrays["item_ids"] = np.asarray(vocab.ids, dtype=str)
        params = {**self._params(), "weighting": self.weighting, "value_scale": self.value_scale}
        return write_model(directory, self.kind, params, len(vocab), self.data_hash, arrays)

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        catalog: Catalog | None = None,
        interactions: Interactions | None = None,
    ) -> MatrixScorer:
        """Load a model saved by :meth:`save`, checking its manifest.

        With ``interactions`` the saved data hash must match them (else the model
        was fitted on other data and must be refitted).
        """
        meta, arrays = read_model(directory, cls.kind, interactions)
        obj = cls.__new__(cls)
        MatrixScorer.__init__(obj, catalog)
        obj.vocabulary = Vocabulary(arrays["item_ids"].tolist())
        obj.data_hash = meta["data_hash"]
        obj.weighting = meta["params"].get("weighting", "binary")
        obj.value_scale = float(meta["params"].get("value_scale", 1.0))
        obj._restore(meta["params"], arrays)
        return obj


def candidate_mask(
    item_ids: Sequence[str],
    catalog: Catalog | None,
    history: Mapping[str, float],
    exclude: Collection[str],
    filters: ItemFilter | None,
    *,
    vocabulary: Vocabulary | None = None,
    in_catalog: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask over ``item_ids`` of the items that may be recommended.

    ``vocabulary`` (over ``item_ids``) and ``in_catalog`` (which of them the catalogue
    holds) are optional precomputed helpers that make repeated calls cheap.
    """
    if isinstance(exclude, (str, bytes)):
        raise RecommenderError(f"exclude must be a collection of ids, got the string {exclude!r}")
    if filters is not None and not filters.is_empty and catalog is None:
        raise RecommenderError("filters need a catalogue: construct the recommender with catalog=...")
    if catalog is not None:
        mask = (catalog_mask(item_ids, catalog) if in_catalog is None else in_catalog).copy()
    else:
        mask = np.ones(len(item_ids), dtype=bool)
    drop = set(history) | {str(i) for i in exclude}
    if catalog is not None:
        drop |= {catalog.canonical_id(i) for i in drop if i in catalog}
        if filters is not None and not filters.is_empty:
            allowed = filters.allowed_ids(catalog)
            # never recommend what the catalogue does not hold, nor what the filters reject
            mask &= np.fromiter(
                ((item := catalog.get(i)) is not None and item.item_id in allowed for i in item_ids),
                dtype=bool, count=len(item_ids),
            )
    elif filters is not None:
        drop |= set(filters.exclude_ids)
    if drop:
        vocab = vocabulary if vocabulary is not None else Vocabulary(item_ids)
        rows = vocab.numbers(drop, missing="drop")
        mask[rows] = False
    return mask


def catalog_mask(item_ids: Sequence[str], catalog: Catalog) -> np.ndarray:
    """Which of ``item_ids`` the catalogue holds (by id or alias)."""
    return np.fromiter((i in catalog for i in item_ids), dtype=bool, count=len(item_ids))


def to_scored_items(
    item_ids: Sequence[str],
    scores: np.ndarray,
    sources: Mapping[str, np.ndarray],
    mask: np.ndarray,
    k: int,
) -> ScoredItems:
    """The top ``k`` of ``scores`` where ``mask`` is true, with each source's score per item.

    A source's score is left out for an item it cannot score (NaN).
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= MAX_K:
        raise RecommenderError(f"k must be an integer 0-{MAX_K}, got {k!r}")
    masked = np.where(mask, scores, -np.inf)
    top = top_k_indices(masked, int(k))
    srcs = []
    for row in top:
        srcs.append({name: float(vals[row]) for name, vals in sources.items() if np.isfinite(vals[row])})
    return ScoredItems(
        tuple(item_ids[row] for row in top),
        tuple(float(scores[row]) for row in top),
        tuple(srcs),
    )


# ---------------------------------------------------------------------------
# persistence


def write_model(
    directory: str | Path,
    kind: str,
    params: Mapping[str, Any],
    item_count: int,
    data_hash: str,
    arrays: Mapping[str, np.ndarray],
) -> Path:
    """Write ``arrays.npz`` then ``meta.json`` (the manifest last, so a half-written model never loads)."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / (ARRAYS + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    tmp.replace(path / ARRAYS)
    meta = {
        "kind": kind,
        "schema_version": SCHEMA_VERSION,
        "params": dict(params),
        "item_count": int(item_count),
        "data_hash": data_hash,
        "arrays": sorted(arrays),
    }
    write_manifest(path, meta, sort_keys=True)
    return path


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a saved model, with the fields every scorer's manifest has."""
    return manifest.read_manifest(
        directory, error=RecommenderError, fix=REFIT, what="saved model",
        required=("kind", "schema_version", "params", "item_count", "data_hash"),
    )


def load_by_kind(
    directory: str | Path,
    classes: Mapping[str, type[MatrixScorer]],
    *,
    catalog: Catalog | None = None,
    interactions: Interactions | None = None,
) -> MatrixScorer:
    """Load the model in ``directory`` with the class of ``classes`` its manifest's ``kind`` names."""
    kind = read_manifest(directory)["kind"]
    if kind not in classes:
        raise RecommenderError(
            f"{manifest.manifest_path(directory)}: unknown model kind {kind!r}; known: {sorted(classes)}"
        )
    return classes[kind].load(directory, catalog=catalog, interactions=interactions)


def read_model(
    directory: str | Path, kind: str, interactions: Interactions | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a saved model: kind, schema version, item count and (optionally) data hash."""
    directory = Path(directory)
    meta = read_manifest(directory)
    where = directory / MANIFEST
    if meta["kind"] != kind:
        raise RecommenderError(f"{where}: holds a {meta['kind']!r} model, not {kind!r}")
    if meta["schema_version"] != SCHEMA_VERSION:
        raise RecommenderError(
            f"{where}: schema version {meta['schema_version']} but this code reads {SCHEMA_VERSION}; "
            f"{REFIT}"
        )
    if interactions is not None:
        expected = interactions_hash(interactions)
        if meta["data_hash"] != expected:
            raise RecommenderError(
                f"{where}: fitted on other interactions (data hash {meta['data_hash'][:12]}..., "
                f"these are {expected[:12]}...); refit on the current interactions and save again"
            )
    npz_path = directory / ARRAYS
    if not npz_path.exists():
        raise RecommenderError(f"{npz_path}: missing; the saved model is incomplete, save it again")
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError) as exc:
        raise RecommenderError(f"{npz_path}: unreadable ({exc}); save the model again") from None
    if "item_ids" in arrays and len(arrays["item_ids"]) != meta["item_count"]:
        raise RecommenderError(
            f"{where}: item_count {meta['item_count']} but {ARRAYS} holds {len(arrays['item_ids'])} items"
        )
    return meta, arrays
