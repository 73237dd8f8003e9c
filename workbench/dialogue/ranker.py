"""Ranking the catalogue for one conversation turn: candidate sources merged into :class:`ScoredItems`.

:class:`Ranker` gathers per-source scores over the whole catalogue (:meth:`Ranker.gather`): the
recommender (CF / content / popularity from the user's liked items), the retriever (semantic and
lexical search of what the user wrote), the requested attributes, catalogue facts shared with the
history, embedding similarity to the history, and a popularity prior. :meth:`Ranker.combine`
merges them with :class:`EngineWeights`, filters by the constraints and by everything already
shown, mentioned or disliked, and keeps the best ``k``; :meth:`Ranker.position_of` gives the same
order without building it (what the ReDial evaluation tunes with).

The catalogue-wide arrays live in :class:`CatalogFeatures`, built once and shared by every
weighting (:meth:`Ranker.with_weights`). The ranker holds no per-user data: every call gets the
conversation state it ranks for.

It knows the catalogue, a recommender, a retriever and item vectors; it does not know replies,
generators, grounding or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from workbench.catalog import Catalog
from workbench.dialogue.state import ConversationState
from workbench.dialogue.understand import Understander, Understanding
from workbench.errors import DialogueError
from workbench.filters import ItemFilter, has_topic, item_excluded_keys, item_genre_keys
from workbench.scored import ScoredItems
from workbench.text import COMMON_WORDS, STOPWORDS, fold, norm_person

#: Candidates taken from the recommender before merging.
CANDIDATE_POOL = 100
#: Candidates taken from the retriever (semantic + lexical search) before merging.
SEARCH_POOL = 50
#: Earlier messages of these intents say nothing the search should read (greetings, small talk, thanks).
_TALK_INTENTS = frozenset({"greeting", "chitchat", "thanks_bye", "capabilities", "other"})
#: Per-scorer parts of the recommender's score kept with each ranked item.
_RECOMMENDER_PARTS = ("cf", "knn", "content", "popularity")
#: A topic ruled out ("no boxing") also rules out the films whose embedding sits nearest the topic's
#: own, because the catalogue's tags miss most topics (Rocky's tags say only "sports drama"): at most
#: this many films per topic,
TOPIC_NEIGHBOURS = 20
#: and only those at least this close (cosine, bundled all-MiniLM: "boxing" puts Rocky at 0.51 and
#: Kickboxer at 0.40; the 99th percentile of the catalogue is about 0.28 for such single words).
TOPIC_SIMILARITY = 0.40


class Retriever(Protocol):
    def search(self, query: str, k: int = 10, filters: ItemFilter | None = None,
               exclude: Collection[str] = ()) -> ScoredItems: ...


class RecommenderLike(Protocol):
    def recommend(self, history: Mapping[str, float], k: int = 10, *, exclude: Collection[str] = (),
                  filters: ItemFilter | None = None) -> ScoredItems: ...


@dataclass(frozen=True)
class EngineWeights:
    """How the ranker merges its candidate sources (each scaled to 0-1 first).

    Attributes:
        recommender: the recommender's blended score (CF / kNN / content / popularity).
        dense: semantic similarity of what the user wrote to the item text.
        lexical: BM25 match of what the user wrote (titles, people, tags).
        attribute: share of the requested genres / people / years an item has.
        topic: whether an item is about a topic the message asks for ("something with dogs"): its
            title or tags name it, or its embedding is among the nearest the topic's.
        facts: catalogue facts shared with the liked / mentioned items (directors, cast, genres).
        prior: the popularity prior.
        history_dense: embedding similarity, over the whole catalogue, to the mentioned / liked
            items (newest weigh most, see ``recency``); needs item vectors.
        recent: the recommender's scores from the ``recent_items`` newest history items only.
        suggested: the recommender's scores from the assistant's newest suggestions only (what a
            recommender suggested before predicts what it suggests next).
        hard_constraints: constraints filter items out (True) or only weigh in via ``attribute``.
        history_items: most recent mentioned/liked items the recommender reads (0: all).
        query_turns: user messages (the newest included) semantic search reads.
        recency: weight factor per step back in the history for ``history_dense`` (1: all equal).
        recent_items: history items the ``recent`` source reads.
        suggested_items: assistant suggestions the ``suggested`` source reads.
    """

    recommender: float = 1.0
    dense: float = 0.4
    lexical: float = 0.1
    attribute: float = 0.6
    topic: float = 0.6
    facts: float = 0.5
    prior: float = 0.15
    hard_constraints: bool = True
    history_items: int = 0
    query_turns: int = 2
    history_dense: float = 0.5
    recent: float = 0.0
    suggested: float = 0.0
    recency: float = 0.6
    recent_items: int = 2
    suggested_items: int = 3

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Candidates:
    """Per-source scores over the catalogue (0-1, rows in catalogue order) for one turn."""

    sources: dict[str, np.ndarray]
    allowed: np.ndarray  # bool mask: passes every constraint and exclusion
    soft_allowed: np.ndarray  # bool mask: passes exclusions and ruled-out genres only
    raw: dict[str, dict[str, float]] = field(default_factory=dict)  # source -> item -> raw score


def catalog_popularity(catalog: Catalog) -> dict[str, float]:
    """The catalogue's own ``mentions`` counts: the default prior and name-resolution popularity."""
    return {item.item_id: float(item.mentions) for item in catalog}


class CatalogFeatures:
    """Read-only catalogue-wide arrays the ranker scores with, built once per catalogue.

    Args:
        catalog: the items (rows are catalogue order).
        popularity: item id -> count for the prior.
        item_vectors: ``len(catalog) x dim`` item embeddings in catalogue order, or ``None``
            (the ``history_dense`` source is then left out).
    """

    def __init__(self, catalog: Catalog, popularity: Mapping[str, float], item_vectors: Any = None):
        self.catalog = catalog
        #: item id -> count the prior was built from (a ranker over another index reuses it)
        self.popularity = dict(popularity)
        self.ids = list(catalog.ids)
        self.row = {item_id: r for r, item_id in enumerate(self.ids)}
        pop = np.array([popularity.get(i, 0.0) for i in self.ids], dtype=np.float64)
        pop = np.log1p(np.maximum(pop, 0.0))
        self.prior = pop / pop.max() if pop.max() > 0 else pop
        self.genres = [item_genre_keys(item) for item in catalog]
        #: what an exclusion checks per item (genres and those its tags name; None: nothing known)
        self.excluded_keys = [item_excluded_keys(item) for item in catalog]
        self.people = [frozenset(norm_person(p) for p in (*item.directors, *item.cast)) for item in catalog]
        self.years = np.array([item.year or 0 for item in catalog], dtype=np.int64)
        self.facts = _facts_matrix(catalog, self.genres)
        self.vectors = _unit_rows(item_vectors)
        if self.vectors is not None and self.vectors.shape[0] != len(self.ids):
            raise DialogueError(f"ranker: item_vectors has {self.vectors.shape[0]} rows; the catalogue has "
                                f"{len(self.ids)} items (one row per item, in catalogue order)")
        self.filter_mask = lru_cache(maxsize=256)(self._filter_mask)
        self.attribute = lru_cache(maxsize=256)(self._attribute)

    def row_of(self, item_id: str) -> int:
        """The catalogue row of ``item_id`` (aliases resolve to their canonical item)."""
        return self.row[self.catalog.canonical_id(item_id)]

    def _filter_mask(self, flt: ItemFilter) -> np.ndarray:
        if flt.is_empty:
            return np.ones(len(self.ids), dtype=bool)
        return np.fromiter((flt.matches(item) for item in self.catalog), dtype=bool, count=len(self.ids))

    def _attribute(self, flt: ItemFilter) -> np.ndarray:
        """Share of the requested attribute groups (genres, people, years) each item has."""
        n = len(self.ids)
        parts: list[np.ndarray] = []
        if flt.genres:  # the share of the asked genres: a romantic comedy above a plain comedy for "romcom"
            want = len(flt.genres)
            parts.append(np.fromiter((len(g & flt.genres) / want for g in self.genres), dtype=float, count=n))
        if flt.people:
            parts.append(np.fromiter((bool(p & flt.people) for p in self.people), dtype=float, count=n))
        if flt.year_min is not None or flt.year_max is not None:
            lo = flt.year_min if flt.year_min is not None else -1
            hi = flt.year_max if flt.year_max is not None else 10**6
            parts.append(((self.years >= lo) & (self.years <= hi) & (self.years > 0)).astype(float))
        if flt.exclude_genres:
            parts.append(np.fromiter((g is not None and not (g & flt.exclude_genres) for g in self.excluded_keys),
                                     dtype=float, count=n))
        if not parts:
            return np.zeros(n)
        return np.mean(parts, axis=0)


class Ranker:
    """Candidate sources over one catalogue, merged with :class:`EngineWeights`.

    Args:
        catalog: the items.
        retriever: free-text search (``search(query, k, filters, exclude)``); ``None`` to skip.
        recommender: history-based scorer (``recommend(history, k, exclude=, filters=)``); ``None``
            to skip. May be replaced later (the app fits it in the background).
        understander: reads earlier user messages for the search query (:meth:`query_text`);
            default: one over ``catalog`` and ``popularity``.
        weights: how sources are merged.
        popularity: item id -> count for the prior. Defaults to the catalogue's ``mentions``;
            an evaluation passes counts from its training split.
        item_vectors: ``len(catalog) x dim`` item embeddings in catalogue order for the
            ``history_dense`` source; by default read from ``retriever.index`` when it has
            ``vectors_for`` (``None`` there leaves the source out).
        features: precomputed :class:`CatalogFeatures` to share (then ``popularity`` and
            ``item_vectors`` are not read).
    """

    def __init__(
        self,
        catalog: Catalog,
        retriever: Retriever | None,
        recommender: RecommenderLike | None,
        *,
        understander: Understander | None = None,
        weights: EngineWeights | None = None,
        popularity: Mapping[str, float] | None = None,
        item_vectors: Any = None,
        features: CatalogFeatures | None = None,
    ):
        self.catalog = catalog
        self.retriever = retriever
        self.recommender = recommender
        self.weights = weights or EngineWeights()
        if features is None:
            popularity = catalog_popularity(catalog) if popularity is None else popularity
            vectors = item_vectors if item_vectors is not None else _index_vectors(retriever, catalog.ids)
            features = CatalogFeatures(catalog, popularity, vectors)
        self.features = features
        self._topic_cache: dict[str, np.ndarray] = {}
        self.understander = understander or Understander(
            catalog, dict(popularity) if popularity is not None else catalog_popularity(catalog))

    def with_weights(self, weights: EngineWeights) -> Ranker:
        """A ranker that merges the same sources with other weights (shares the catalogue features)."""
        return Ranker(self.catalog, self.retriever, self.recommender, understander=self.understander,
                      weights=weights, features=self.features)

    # ------------------------------------------------------------------ one verb
    def rank(self, state: ConversationState, u: Understanding | None = None, *, k: int = 10,
             filters: ItemFilter | None = None) -> ScoredItems:
        """The merged, filtered top ``k`` for the state (what a slate is cut from)."""
        return self.combine(self.gather(state, u, filters=filters), k)

    # ------------------------------------------------------------------ sources
    def query_text(self, state: ConversationState, u: Understanding | None) -> str:
        """What semantic search reads: the newest user messages, linked titles removed."""
        parts: list[str] = []
        if u is not None and u.query.strip():
            parts.append(u.query)
        previous = state.user_turns
        if u is not None and previous and previous[-1] == u.text:
            previous = previous[:-1]  # the message being answered is already in ``u``
        n_prev = max(self.weights.query_turns - (1 if u is not None else 0), 0)
        if n_prev:
            for text in reversed(previous[-n_prev:]):
                earlier = self.understander.understand(text, second_opinion=False)
                if earlier.intent in _TALK_INTENTS:
                    continue  # "im sad today" is no search: its "sad" would bring "Sad Movie" to an uplifting request
                if earlier.query.strip():
                    parts.append(earlier.query)
        return " ".join(" ".join(parts).split())

    def gather(self, state: ConversationState, u: Understanding | None = None, *,
               filters: ItemFilter | None = None, pool: int = CANDIDATE_POOL,
               query: str | None = None) -> Candidates:
        """Every source's scores for this turn. ``state`` already holds the turn's understanding."""
        w, f = self.weights, self.features
        recommender = self.recommender  # read once: the app may swap it in from another thread
        constraints = state.constraints if filters is None else state.constraints.merge(filters)
        soft, allowed = self._masks(state, constraints)
        sources: dict[str, np.ndarray] = {}
        raw: dict[str, dict[str, float]] = {}
        history = self._history(state, u)
        if recommender is not None and history and (w.recommender or w.recent):
            # exclusions are applied by the mask in combine(); passing them here costs a per-item scan.
            # Disliked items go in as negative history (-1): CF and content scorers push their
            # neighbours down (recommend/base.py: "positive liked, negative disliked").
            negatives = {i: -1.0 for i in state.disliked if i not in history}
            rec = recommender.recommend({**history, **negatives}, pool)
            sources["recommender"], raw["recommender"] = self._scatter(rec)
            for name in _RECOMMENDER_PARTS:
                vals = {i: s[name] for i, s in zip(rec.ids, rec.sources, strict=True) if name in s}
                if vals:
                    raw[name] = vals
        if history and w.facts:
            rows = [f.row_of(i) for i in history if i in self.catalog]
            if rows:
                vec = f.facts @ np.asarray(f.facts[rows].sum(axis=0)).ravel()
                if vec.max() > 0:
                    sources["facts"] = vec / vec.max()
        self._history_sources(state, history, recommender, sources, raw)
        self._search_sources(state, u, query, pool, sources, raw)
        attr_flt = ItemFilter(constraints.genres, frozenset(), constraints.year_min, constraints.year_max,
                              constraints.people)
        if not attr_flt.is_empty:
            sources["attribute"] = f.attribute(attr_flt)
        if u is not None and u.topics and w.topic:
            sources["topic"] = np.max([self._about(t) for t in u.topics], axis=0).astype(float)
        sources["prior"] = f.prior
        return Candidates(sources, allowed, soft, raw)

    def _masks(self, state: ConversationState, constraints: ItemFilter) -> tuple[np.ndarray, np.ndarray]:
        """``(soft, allowed)``: what passes the exclusions and ruled-out genres, and also every constraint."""
        f = self.features
        soft = np.ones(len(f.ids), dtype=bool)
        soft[[f.row_of(i) for i in state.excluded() if i in self.catalog]] = False
        # what the user ruled out is always a filter; what they asked for is one too unless the
        # weights say constraints only weigh in (as the "attribute" source)
        for i in constraints.exclude_ids:
            if i in self.catalog:
                soft[f.row_of(i)] = False
        ruled_out = ItemFilter(exclude_genres=constraints.exclude_genres, exclude_people=constraints.exclude_people,
                               exclude_topics=constraints.exclude_topics)
        if not ruled_out.is_empty:
            soft &= f.filter_mask(ruled_out)
        for topic in sorted(constraints.exclude_topics):
            soft &= ~self._topic_neighbours(topic)
        hard_flt = replace(constraints, exclude_ids=frozenset())
        allowed = soft & f.filter_mask(hard_flt) if not hard_flt.is_empty else soft.copy()
        return soft, allowed

    def _about(self, topic: str) -> np.ndarray:
        """The films about ``topic``: its title or tags name it, or its embedding is among the nearest."""
        key = "about:" + topic
        cached = self._topic_cache.get(key)
        if cached is None:
            named = np.fromiter((has_topic(item, topic) for item in self.catalog), dtype=bool, count=len(self.features.ids))
            cached = named | self._topic_neighbours(topic)
            if len(self._topic_cache) < 256:
                self._topic_cache[key] = cached
        return cached

    def _topic_neighbours(self, topic: str) -> np.ndarray:
        """The films nearest ``topic`` in the retriever's embedding space (see :data:`TOPIC_NEIGHBOURS`);
        none when the ranker has no embedder or no item vectors."""
        cached = self._topic_cache.get(topic)
        if cached is not None:
            return cached
        f = self.features
        near = np.zeros(len(f.ids), dtype=bool)
        embedder = getattr(self.retriever, "embedder", None)
        if embedder is not None and f.vectors is not None:
            q = np.asarray(embedder.encode([topic]), dtype=np.float32).ravel()
            sims = f.vectors @ (q / max(float(np.linalg.norm(q)), 1e-9))  # item rows are unit length
            top = np.argsort(-sims)[:TOPIC_NEIGHBOURS]
            near[top[sims[top] >= TOPIC_SIMILARITY]] = True
        if len(self._topic_cache) < 256:
            self._topic_cache[topic] = near
        return near

    def _history(self, state: ConversationState, u: Understanding | None) -> dict[str, float]:
        """What the history sources read: liked items first; "more like X" reads X alone."""
        w = self.weights
        history = state.history()
        if w.history_items:
            recent = [i for i in state.mentioned if i in history][-w.history_items:]
            history = {i: history[i] for i in (*recent, *state.liked[-w.history_items:])}
        if u is not None and u.intent == "more_like" and u.target:
            history = {u.target: 1.0}
        return history

    def _history_sources(self, state: ConversationState, history: Mapping[str, float],
                         recommender: RecommenderLike | None, sources: dict[str, np.ndarray],
                         raw: dict[str, dict[str, float]]) -> None:
        """The ``history_dense``, ``recent`` and ``suggested`` sources (each only when weighted)."""
        w, f = self.weights, self.features
        order = [i for i in state.mentioned if i in history]
        listed = set(order)
        order += [i for i in history if i not in listed]  # liked through feedback only
        if w.history_dense and f.vectors is not None and order:
            rows, vals = [], []
            for age, item_id in enumerate(reversed(order)):
                if item_id in self.catalog:
                    rows.append(f.row_of(item_id))
                    vals.append(history[item_id] * w.recency ** age)
            if rows:
                profile = np.asarray(vals, dtype=np.float32) @ f.vectors[rows]
                sources["history_dense"] = _spread(f.vectors @ profile)
        if recommender is None:
            return
        if w.recent and w.recent_items and len(order) > w.recent_items:
            recent = {i: history[i] for i in order[-w.recent_items:]}
            sources["recent"], raw["recent"] = self._scatter(recommender.recommend(recent, CANDIDATE_POOL))
        elif w.recent and "recommender" in sources:  # a short history is all recent
            sources["recent"], raw["recent"] = sources["recommender"], raw["recommender"]
        suggested = [i for i in state.recommended if i not in state.disliked][-w.suggested_items:]
        if w.suggested and suggested:
            rec = recommender.recommend(dict.fromkeys(suggested, 1.0), CANDIDATE_POOL)
            sources["suggested"], raw["suggested"] = self._scatter(rec)

    def _search_sources(self, state: ConversationState, u: Understanding | None, query: str | None, pool: int,
                        sources: dict[str, np.ndarray], raw: dict[str, dict[str, float]]) -> None:
        """The ``dense`` and ``lexical`` sources: search only when the newest message describes something
        ("ok thanks" does not)."""
        w = self.weights
        q = self.query_text(state, u) if query is None else query
        newest = u.query if u is not None else q
        if self.retriever is None or not (w.dense or w.lexical) or len(q.split()) < 2 or not _descriptive(newest):
            return
        found = self.retriever.search(q, min(pool, SEARCH_POOL))
        dense = ScoredItems.from_scores(found.ids, [s.get("dense", 0.0) for s in found.sources], found.sources)
        lexical = ScoredItems.from_scores(found.ids, [s.get("lexical", 0.0) for s in found.sources],
                                          found.sources)
        sources["dense"], raw["dense"] = self._scatter(dense)
        if max(lexical.scores, default=0.0) > 0:
            sources["lexical"], raw["lexical"] = self._scatter(lexical)

    def _scatter(self, scored: ScoredItems) -> tuple[np.ndarray, dict[str, float]]:
        """Min-max scale ``scored`` to 0-1 over its items; absent items get 0."""
        vec = np.zeros(len(self.features.ids))
        raw: dict[str, float] = {}
        if not len(scored):
            return vec, raw
        vals = np.array(scored.scores, dtype=np.float64)
        lo, hi = float(vals.min()), float(vals.max())
        span = hi - lo
        for item_id, s in zip(scored.ids, vals, strict=True):
            item = self.catalog.get(item_id)
            if item is None:
                continue
            vec[self.features.row[item.item_id]] = (s - lo) / span if span > 0 else 1.0
            raw[item.item_id] = float(s)
        return vec, raw

    # ------------------------------------------------------------------ merging
    def combine(self, cands: Candidates, k: int, weights: EngineWeights | None = None) -> ScoredItems:
        """Merge the sources with ``weights`` and keep the best ``k`` allowed items."""
        w = weights or self.weights
        total = self._total(cands, w)
        mask = cands.allowed if w.hard_constraints else cands.soft_allowed
        if not mask.any():
            return ScoredItems()
        scores = np.where(mask, total, -np.inf)
        k = min(k, int(mask.sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]
        ids, vals, srcs = [], [], []
        for row in top:
            item_id = self.features.ids[row]
            ids.append(item_id)
            vals.append(float(total[row]))
            per = {name: float(vec[row]) for name, vec in cands.sources.items() if vec[row] > 0}
            for name, values in cands.raw.items():
                if name in _RECOMMENDER_PARTS and item_id in values:
                    per[name] = float(values[item_id])
            srcs.append(per)
        return ScoredItems(tuple(ids), tuple(vals), tuple(srcs))

    def _total(self, cands: Candidates, w: EngineWeights) -> np.ndarray:
        total = np.zeros(len(self.features.ids))
        for name, vec in cands.sources.items():
            weight = getattr(w, name, 0.0)
            if weight:
                total += weight * vec
        return total

    def position_of(self, cands: Candidates, item_ids: Sequence[str], weights: EngineWeights | None = None
                    ) -> list[int]:
        """0-based place of each item in ``combine(cands, len(catalog), weights)`` without building
        it (``len(catalog)`` for an item the masks leave out): the same order, ties by catalogue row."""
        w = weights or self.weights
        n = len(self.features.ids)
        mask = cands.allowed if w.hard_constraints else cands.soft_allowed
        scores = np.where(mask, self._total(cands, w), -np.inf)
        out = []
        for item_id in item_ids:
            row = self.features.row.get(self.catalog.canonical_id(item_id)) if item_id in self.catalog else None
            if row is None or not mask[row]:
                out.append(n)
                continue
            s = scores[row]
            out.append(int((scores > s).sum() + (scores[:row] == s).sum()))
        return out


# ---------------------------------------------------------------------------
# catalogue-wide arrays


def _facts_matrix(catalog: Catalog, genres: Sequence[frozenset[str]]) -> Any:
    """Items x facts (director, cast member, genre), IDF-weighted and L2-normalised rows."""
    import scipy.sparse as sp

    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, item in enumerate(catalog):
        feats = [("d:" + d, 3.0) for d in item.directors] + [("c:" + c, 2.0) for c in item.cast[:5]] + \
            [("g:" + g, 1.0) for g in genres[r]]
        for name, weight in feats:
            rows.append(r)
            cols.append(vocab.setdefault(name, len(vocab)))
            vals.append(weight)
    m = sp.csr_matrix((vals, (rows, cols)), shape=(len(catalog), max(len(vocab), 1)), dtype=np.float32)
    df = np.asarray((m > 0).sum(axis=0)).ravel()
    idf = np.log((1 + len(catalog)) / (1 + df)).astype(np.float32)
    m = sp.csr_matrix(m.multiply(idf[None, :]))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)


def _index_vectors(retriever: Any, ids: Sequence[str]) -> np.ndarray | None:
    """The retriever's item vectors in ``ids`` order, or ``None`` when it has none to give."""
    index = getattr(retriever, "index", None)
    if index is None or not hasattr(index, "vectors_for"):
        return None
    try:
        return np.asarray(index.vectors_for(list(ids)), dtype=np.float32)
    except Exception:  # an index without stored vectors (e.g. a compressed one): the source is off
        return None


def _unit_rows(vectors: Any) -> np.ndarray | None:
    if vectors is None:
        return None
    V = np.array(vectors, dtype=np.float32)
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    return V / np.where(norms > 0, norms, 1.0)


def _spread(vec: np.ndarray) -> np.ndarray:
    """Scale to 0-1 from the median (0) to the maximum (1): only the better half scores."""
    lo, hi = float(np.median(vec)), float(vec.max())
    if hi <= lo:
        return np.zeros(len(vec))
    return np.clip((vec - lo) / (hi - lo), 0.0, 1.0)


def _descriptive(text: str) -> bool:
    """Whether ``text`` holds a content word (not a stopword or everyday chat word)."""
    for word in re.findall(r"[a-z0-9]+", fold(text)):
        if len(word) >= 3 and word not in STOPWORDS and word not in COMMON_WORDS:
            return True
    return False
