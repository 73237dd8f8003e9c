"""The chat engine: one user message in, grounded reply text and a slate out.

:class:`ChatEngine` reads a message (:mod:`workbench.dialogue.understand`), folds it into the
session's :class:`~workbench.dialogue.state.ConversationState`, gathers candidates from the
recommender (CF / content / popularity from the user's liked items), the retriever (semantic and
lexical search of what the user wrote), the requested attributes and a popularity prior, merges
them with :class:`EngineWeights`, filters by the constraints and by everything already shown,
mentioned or disliked, and writes a reason per item from catalogue facts. A generator then writes
the reply around that slate; :class:`~workbench.dialogue.grounding.Grounder` releases only text
whose titles are on the slate. An LLM that fails or times out is replaced by the template
generator and the reply says so. The slate is always the recommender's, never parsed from text.

The engine holds no per-user data: every call gets the state it works on, and the state is
changed only when a turn completes. One engine serves many sessions concurrently.

It knows the catalogue, scorers, a retriever and generators; it does not know gradio.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from workbench.catalog import Catalog, Item
from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.dialogue.state import ConversationState, TurnLog
from workbench.dialogue.types import Recommendation, Turn, TurnResult  # noqa: F401 (re-exported)
from workbench.dialogue.understand import Understander, Understanding
from workbench.errors import DialogueError
from workbench.filters import ItemFilter, _norm_person, genre_keys, item_genre_keys
from workbench.limits import MAX_MESSAGE_CHARS
from workbench.scored import ScoredItems

#: Candidates taken from the recommender before merging.
CANDIDATE_POOL = 100
#: Candidates taken from the retriever (semantic + lexical search) before merging.
SEARCH_POOL = 50
#: Intents that produce a new slate.
SLATE_INTENTS = frozenset({"recommend", "more_like", "refine", "feedback"})
#: Said (and recorded) when the LLM failed and the template generator answered instead.
FALLBACK_NOTICE = "(The language model did not answer in time, so this is the quick template reply.)"


class Retriever(Protocol):
    def search(self, query: str, k: int = 10, filters: ItemFilter | None = None,
               exclude: Collection[str] = ()) -> ScoredItems: ...


class RecommenderLike(Protocol):
    def recommend(self, history: Mapping[str, float], k: int = 10, *, exclude: Collection[str] = (),
                  filters: ItemFilter | None = None) -> ScoredItems: ...


@dataclass(frozen=True)
class EngineWeights:
    """How the engine merges its candidate sources (each scaled to 0-1 first).

    Attributes:
        recommender: the recommender's blended score (CF / kNN / content / popularity).
        dense: semantic similarity of what the user wrote to the item text.
        lexical: BM25 match of what the user wrote (titles, people, tags).
        attribute: share of the requested genres / people / years an item has.
        facts: catalogue facts shared with the liked / mentioned items (directors, cast, genres).
        prior: the engine's popularity prior.
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


class ChatEngine:
    """Grounded conversational recommendations over one catalogue.

    Args:
        catalog: the items.
        retriever: free-text search (``search(query, k, filters, exclude)``); ``None`` to skip.
        recommender: history-based scorer (``recommend(history, k, exclude=, filters=)``); ``None``
            to skip.
        generator: the default reply writer; ``None`` means the template generator.
        k: slate size.
        fallback: the generator class (or instance) used when an LLM fails.
        popularity: item id -> count for the prior and for resolving ambiguous names. Defaults to
            the catalogue's ``mentions``; an evaluation passes counts from its training split.
        weights: how sources are merged.
        timeout_s: seconds an LLM reply may take before the fallback answers.
        item_vectors: ``len(catalog) x dim`` item embeddings in catalogue order for the
            ``history_dense`` source; by default read from ``retriever.index`` when it has
            ``vectors_for`` (``None`` there leaves the source out).
    """

    def __init__(
        self,
        catalog: Catalog,
        retriever: Retriever | None,
        recommender: RecommenderLike | None,
        generator: Generator | None = None,
        *,
        k: int = 5,
        fallback: Any = None,
        popularity: Mapping[str, float] | None = None,
        weights: EngineWeights | None = None,
        timeout_s: float = 30.0,
        understander: Understander | None = None,
        item_vectors: Any = None,
    ):
        if not 1 <= k <= 50:
            raise DialogueError(f"engine: k must be 1-50, got {k}")
        self.catalog = catalog
        self.retriever = retriever
        self.recommender = recommender
        self.k = k
        self.weights = weights or EngineWeights()
        self.timeout_s = timeout_s
        if popularity is None:
            popularity = {item.item_id: float(item.mentions) for item in catalog}
        self.popularity = dict(popularity)
        self.understander = understander or Understander(catalog, self.popularity)
        if fallback is None:
            from workbench.dialogue.generators.template import TemplateGenerator

            fallback = TemplateGenerator
        self.fallback: Generator = fallback() if isinstance(fallback, type) else fallback
        self.generator: Generator = generator if generator is not None else self.fallback
        from workbench.dialogue.grounding import Grounder

        self.grounder = Grounder(catalog)
        # catalogue-wide arrays, read-only after construction
        self._ids = list(catalog.ids)
        self._row = {item_id: r for r, item_id in enumerate(self._ids)}
        pop = np.array([self.popularity.get(i, 0.0) for i in self._ids], dtype=np.float64)
        pop = np.log1p(np.maximum(pop, 0.0))
        self._prior = pop / pop.max() if pop.max() > 0 else pop
        self._genres = [item_genre_keys(item) for item in catalog]
        self._people = [frozenset(_norm_person(p) for p in (*item.directors, *item.cast)) for item in catalog]
        self._years = np.array([item.year or 0 for item in catalog], dtype=np.int64)
        self._facts = _facts_matrix(catalog, self._genres)
        self._vectors = _unit_rows(item_vectors if item_vectors is not None else _index_vectors(retriever, self._ids))
        if self._vectors is not None and self._vectors.shape[0] != len(self._ids):
            raise DialogueError(f"engine: item_vectors has {self._vectors.shape[0]} rows; the catalogue has "
                                f"{len(self._ids)} items (one row per item, in catalogue order)")
        self._filter_mask = lru_cache(maxsize=256)(self._filter_mask_uncached)
        self._attribute = lru_cache(maxsize=256)(self._attribute_uncached)

    # ------------------------------------------------------------------ state
    def new_state(self, session_id: str) -> ConversationState:
        """A fresh conversation for ``session_id``."""
        return ConversationState(session_id=session_id)

    def with_weights(self, weights: EngineWeights) -> ChatEngine:
        """A copy that merges sources with other weights (shares every read-only structure)."""
        new = object.__new__(ChatEngine)
        new.__dict__.update(self.__dict__)
        new.weights = weights
        return new

    # ------------------------------------------------------------------ understanding
    def check_message(self, message: str) -> str:
        if not isinstance(message, str):
            raise DialogueError(f"message must be text, got {type(message).__name__}")
        if len(message) > MAX_MESSAGE_CHARS:
            raise DialogueError(
                f"message has {len(message)} characters; the limit (MAX_MESSAGE_CHARS) is {MAX_MESSAGE_CHARS}"
            )
        if not message.strip():
            raise DialogueError("message is empty")
        return message

    def understand(self, state: ConversationState, message: str, linked: Sequence[str] = ()) -> Understanding:
        return self.understander.understand(message, last_slate=state.last_slate, linked=linked)

    def observe(self, state: ConversationState, role: str, text: str, *, linked: Sequence[str] = ()) -> Understanding:
        """Fold a message into ``state`` without replying (replaying a logged conversation).

        A user message updates preferences and constraints; an assistant message's items count as
        mentioned and already recommended.
        """
        u = self.understander.understand(text, last_slate=state.last_slate, linked=linked)
        if role == "user":
            state.apply(u)
        else:
            ids = [m.item_id for m in u.mentions]
            for item_id in ids:
                if item_id not in state.mentioned:
                    state.mentioned.append(item_id)
            state.record_slate(ids)
        state.add_turn(role, text)
        return u

    # ------------------------------------------------------------------ candidates
    def _filter_mask_uncached(self, flt: ItemFilter) -> np.ndarray:
        if flt.is_empty:
            return np.ones(len(self._ids), dtype=bool)
        return np.fromiter((flt.matches(item) for item in self.catalog), dtype=bool, count=len(self._ids))

    def _attribute_uncached(self, flt: ItemFilter) -> np.ndarray:
        """Share of the requested attribute groups (genres, people, years) each item has."""
        parts: list[np.ndarray] = []
        if flt.genres:
            parts.append(np.fromiter((bool(g & flt.genres) for g in self._genres), dtype=float,
                                     count=len(self._ids)))
        if flt.people:
            parts.append(np.fromiter((bool(p & flt.people) for p in self._people), dtype=float,
                                     count=len(self._ids)))
        if flt.year_min is not None or flt.year_max is not None:
            lo = flt.year_min if flt.year_min is not None else -1
            hi = flt.year_max if flt.year_max is not None else 10**6
            parts.append(((self._years >= lo) & (self._years <= hi) & (self._years > 0)).astype(float))
        if flt.exclude_genres:
            parts.append(np.fromiter((not (g & flt.exclude_genres) for g in self._genres), dtype=float,
                                     count=len(self._ids)))
        if not parts:
            return np.zeros(len(self._ids))
        return np.mean(parts, axis=0)

    def _scatter(self, scored: ScoredItems) -> tuple[np.ndarray, dict[str, float]]:
        """Min-max scale ``scored`` to 0-1 over its items; absent items get 0."""
        vec = np.zeros(len(self._ids))
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
            row = self._row[item.item_id]
            vec[row] = (s - lo) / span if span > 0 else 1.0
            raw[item.item_id] = float(s)
        return vec, raw

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
                q = self.understander.understand(text).query
                if q.strip():
                    parts.append(q)
        return " ".join(" ".join(parts).split())

    def gather(self, state: ConversationState, u: Understanding | None = None, *,
               filters: ItemFilter | None = None, pool: int = CANDIDATE_POOL,
               query: str | None = None) -> Candidates:
        """Every source's scores for this turn. ``state`` already holds the turn's understanding."""
        w = self.weights
        constraints = state.constraints
        if filters is not None:
            constraints = constraints.merge(filters)
        excluded = state.excluded()
        excluded_rows = [self._row[self.catalog.canonical_id(i)] for i in excluded if i in self.catalog]
        soft = np.ones(len(self._ids), dtype=bool)
        soft[excluded_rows] = False
        hard_flt = replace(constraints, exclude_ids=frozenset())
        # what the user ruled out is always a filter; what they asked for is one too unless the
        # weights say constraints only weigh in (as the "attribute" source)
        ruled_out = ItemFilter(exclude_genres=constraints.exclude_genres)
        for i in constraints.exclude_ids:
            if i in self.catalog:
                soft[self._row[self.catalog.canonical_id(i)]] = False
        if not ruled_out.is_empty:
            soft &= self._filter_mask(ruled_out)
        allowed = soft & self._filter_mask(hard_flt) if not hard_flt.is_empty else soft.copy()
        sources: dict[str, np.ndarray] = {}
        raw: dict[str, dict[str, float]] = {}
        # history: liked items first; "more like X" puts X in front
        history = state.history()
        if w.history_items:
            recent = [i for i in state.mentioned if i in history][-w.history_items:]
            history = {i: history[i] for i in (*recent, *state.liked[-w.history_items:])}
        if u is not None and u.intent == "more_like" and u.target:
            history = {u.target: 1.0}
        if self.recommender is not None and history and (w.recommender or w.recent):
            # exclusions are applied by the mask in combine(); passing them here costs a per-item scan
            rec = self.recommender.recommend(history, pool)
            sources["recommender"], raw["recommender"] = self._scatter(rec)
            for name in ("cf", "knn", "content", "popularity"):
                vals = {i: s[name] for i, s in zip(rec.ids, rec.sources, strict=True) if name in s}
                if vals:
                    raw[name] = vals
        if history and w.facts:
            rows = [self._row[self.catalog.canonical_id(i)] for i in history if i in self.catalog]
            if rows:
                prof = np.asarray(self._facts[rows].sum(axis=0)).ravel()
                vec = self._facts @ prof
                if vec.max() > 0:
                    sources["facts"] = vec / vec.max()
        self._history_sources(state, history, w, sources, raw)
        q = self.query_text(state, u) if query is None else query
        # search only when the newest message describes something ("ok thanks" does not)
        newest = u.query if u is not None else q
        if self.retriever is not None and (w.dense or w.lexical) and len(q.split()) >= 2 \
                and _descriptive(newest):
            found = self.retriever.search(q, min(pool, SEARCH_POOL))
            dense = ScoredItems.from_scores(found.ids, [s.get("dense", 0.0) for s in found.sources],
                                            found.sources)
            lexical = ScoredItems.from_scores(found.ids, [s.get("lexical", 0.0) for s in found.sources],
                                              found.sources)
            sources["dense"], raw["dense"] = self._scatter(dense)
            if max(lexical.scores, default=0.0) > 0:
                sources["lexical"], raw["lexical"] = self._scatter(lexical)
        attr_flt = ItemFilter(constraints.genres, frozenset(), constraints.year_min, constraints.year_max,
                              constraints.people)
        if not attr_flt.is_empty:
            sources["attribute"] = self._attribute(attr_flt)
        sources["prior"] = self._prior
        return Candidates(sources, allowed, soft, raw)

    def _history_sources(self, state: ConversationState, history: Mapping[str, float], w: EngineWeights,
                         sources: dict[str, np.ndarray], raw: dict[str, dict[str, float]]) -> None:
        """The ``history_dense``, ``recent`` and ``suggested`` sources (each only when weighted)."""
        order = [i for i in state.mentioned if i in history]
        listed = set(order)
        order += [i for i in history if i not in listed]  # liked through feedback only
        if w.history_dense and self._vectors is not None and order:
            rows, vals = [], []
            for age, item_id in enumerate(reversed(order)):
                if item_id in self.catalog:
                    rows.append(self._row[self.catalog.canonical_id(item_id)])
                    vals.append(history[item_id] * w.recency ** age)
            if rows:
                profile = np.asarray(vals, dtype=np.float32) @ self._vectors[rows]
                sources["history_dense"] = _spread(self._vectors @ profile)
        if self.recommender is None:
            return
        if w.recent and w.recent_items and len(order) > w.recent_items:
            recent = {i: history[i] for i in order[-w.recent_items:]}
            sources["recent"], raw["recent"] = self._scatter(self.recommender.recommend(recent, CANDIDATE_POOL))
        elif w.recent and "recommender" in sources:  # a short history is all recent
            sources["recent"], raw["recent"] = sources["recommender"], raw["recommender"]
        suggested = [i for i in state.recommended if i not in state.disliked][-w.suggested_items:]
        if w.suggested and suggested:
            rec = self.recommender.recommend(dict.fromkeys(suggested, 1.0), CANDIDATE_POOL)
            sources["suggested"], raw["suggested"] = self._scatter(rec)

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
            item_id = self._ids[row]
            ids.append(item_id)
            vals.append(float(total[row]))
            per = {name: float(vec[row]) for name, vec in cands.sources.items() if vec[row] > 0}
            for name, values in cands.raw.items():
                if name in ("cf", "knn", "content", "popularity") and item_id in values:
                    per[name] = float(values[item_id])
            srcs.append(per)
        return ScoredItems(tuple(ids), tuple(vals), tuple(srcs))

    def _total(self, cands: Candidates, w: EngineWeights) -> np.ndarray:
        total = np.zeros(len(self._ids))
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
        mask = cands.allowed if w.hard_constraints else cands.soft_allowed
        scores = np.where(mask, self._total(cands, w), -np.inf)
        out = []
        for item_id in item_ids:
            row = self._row.get(self.catalog.canonical_id(item_id)) if item_id in self.catalog else None
            if row is None or not mask[row]:
                out.append(len(self._ids))
                continue
            s = scores[row]
            out.append(int((scores > s).sum() + (scores[:row] == s).sum()))
        return out

    def rank(self, state: ConversationState, u: Understanding | None = None, *, k: int | None = None,
             filters: ItemFilter | None = None) -> ScoredItems:
        """The merged, filtered top ``k`` for the state (what a slate is cut from)."""
        return self.combine(self.gather(state, u, filters=filters), k or self.k)

    # ------------------------------------------------------------------ reasons
    def reason(self, item: Item, sources: Mapping[str, float], state: ConversationState,
               u: Understanding | None = None) -> str:
        """A short, true explanation from catalogue facts and the sources that scored the item."""
        parts: list[str] = []
        anchors = list(reversed(state.liked))
        if u is not None and u.intent == "more_like" and u.target:
            anchors = [u.target, *[a for a in anchors if a != u.target]]
        best: tuple[float, Item, str] | None = None
        for pos, anchor_id in enumerate(anchors[:6]):
            anchor = self.catalog.get(anchor_id)
            if anchor is None:
                continue
            strength = _shared_strength(anchor, item) - 0.01 * pos  # ties go to the most recent
            if strength > 0 and u is not None and u.intent == "more_like" and anchor_id == u.target:
                strength += 100.0  # "more like X": explain through X whenever it shares anything
            if strength > 0 and (best is None or strength > best[0]):
                best = (strength, anchor, _shared_facts(anchor, item))
        if best is not None:
            anchor = best[1]
            verb = "you asked for more like" if u is not None and u.target == anchor.item_id and \
                u.intent == "more_like" else "you liked"
            parts.append(f"because {verb} {anchor.display_title}: {best[2]}")
        elif state.history() and (sources.get("cf", 0) > 0 or sources.get("knn", 0) > 0):
            # CF scored it from the whole history: say that, not which single film
            parts.append("people who liked the films you mentioned also liked it")
        asked = _asked_facts(item, state.constraints)
        if asked:
            parts.append(asked + ", as you asked")
        if not parts and sources.get("dense", 0) >= 0.5:
            parts.append("close to what you described")
        if not parts:
            genres = _genre_phrase(item_genre_keys(item))
            parts.append(f"a popular {genres} pick" if genres else "a popular pick")
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]

    def recommendations(self, slate: ScoredItems, state: ConversationState,
                        u: Understanding | None = None) -> tuple[Recommendation, ...]:
        out = []
        for rank, entry in enumerate(slate, start=1):
            item = self.catalog[entry.item_id]
            out.append(Recommendation(item, rank, entry.score, dict(entry.sources),
                                      self.reason(item, entry.sources, state, u)))
        return tuple(out)

    # ------------------------------------------------------------------ turns
    def stream(
        self,
        state: ConversationState,
        message: str,
        *,
        k: int | None = None,
        filters: ItemFilter | None = None,
        generator: Generator | None = None,
        linked: Sequence[str] = (),
    ) -> Iterator[str | TurnResult]:
        """Yield grounded reply pieces, then one :class:`TurnResult`.

        ``state`` changes only after the last piece (an abandoned stream leaves it as it was).
        """
        self.check_message(message)
        k = k or self.k
        if not 1 <= k <= 50:
            raise DialogueError(f"k must be 1-50, got {k}")
        work = state.copy()
        work.push_undo()
        u = self.understand(work, message, linked)
        work.apply(u)
        work.add_turn("user", message)
        intent = u.intent
        recs: tuple[Recommendation, ...] = ()
        candidates = ScoredItems()
        notes = list(u.notes)
        if intent in SLATE_INTENTS:
            cands = self.gather(work, u, filters=filters)
            candidates = self.combine(cands, max(k, 20))
            slate = candidates.top(k)
            recs = self.recommendations(slate, work, u)
            if not recs:
                notes.append("No film in the catalogue fits every constraint; try loosening one.")
        elif intent == "why" and u.target:
            recs = self._explain(state, u.target)
        request = GenerationRequest(turns=tuple(work.turns), recommendations=recs, intent=intent,
                                    notes=tuple(notes))
        gen = generator or self.generator
        allowed = [self.catalog[i] for i in (*work.mentioned[-10:], *work.liked[-5:]) if i in self.catalog]
        pieces: list[str] = []
        fixes = 0
        fell_back = False
        used = gen.name
        try:
            inner: dict[str, Any] = {}
            stream = self.grounder.stream(self._timed(gen, request, inner), recs, allowed=allowed)
            for piece in stream:
                pieces.append(piece)
                yield piece
            fixes = stream.fixes
            # A FallbackGenerator (generators/fallback.py) recovers by itself and does not raise:
            # read from its stream whether it fell back, so the turn reports it truthfully.
            if getattr(inner.get("stream"), "fell_back", False):
                fell_back = True
                used = getattr(inner["stream"], "generator", used)
                error = getattr(inner["stream"], "error", "")
                notes.append(f"{gen.name} fell back to the template generator" + (f" ({error})" if error else "") + ".")
            if recs and not stream.names_slate_item:
                summary = self._slate_summary(recs)
                pieces.append(summary)
                yield summary
        except Exception as exc:  # an LLM failure of any kind: the template answers
            if gen is self.fallback:
                raise
            fell_back = True
            used = self.fallback.name
            notice = ("\n\n" if pieces else "") + FALLBACK_NOTICE + " "
            pieces.append(notice)
            yield notice
            fb = self.grounder.stream(self.fallback.stream(request), recs, allowed=allowed)
            for piece in fb:
                pieces.append(piece)
                yield piece
            fixes += fb.fixes
            notes.append(f"{gen.name} failed ({type(exc).__name__}); the template generator answered.")
        reply = "".join(pieces).strip()
        work.add_turn("assistant", reply)
        if intent in SLATE_INTENTS:
            work.record_slate(r.item.item_id for r in recs)
        work.log.append(TurnLog(
            message=message, intent=intent, slate=[r.item.item_id for r in recs],
            candidates=candidates.to_records(), reasons={r.item.item_id: r.reason for r in recs},
            notes=notes, generator=used, fell_back=fell_back, grounding_fixes=fixes,
        ))
        state.commit(work)
        yield TurnResult(reply=reply, recommendations=recs, intent=intent, grounding_fixes=fixes,
                         generator=used, fell_back=fell_back, notes=tuple(notes))

    def respond(self, state: ConversationState, message: str, **kwargs: Any) -> TurnResult:
        """:meth:`stream`, joined: the turn's :class:`TurnResult`."""
        result: TurnResult | None = None
        for piece in self.stream(state, message, **kwargs):
            if isinstance(piece, TurnResult):
                result = piece
        assert result is not None
        return result

    def _explain(self, state: ConversationState, target: str) -> tuple[Recommendation, ...]:
        for entry in reversed(state.log):
            if target in entry.slate:
                item = self.catalog[target]
                cand = next((c for c in entry.candidates if c["item_id"] == target), None)
                return (Recommendation(item, entry.slate.index(target) + 1,
                                       float(cand["score"]) if cand else 0.0,
                                       dict(cand["sources"]) if cand else {},
                                       entry.reasons.get(target, "")),)
        return ()

    def _slate_summary(self, recs: Sequence[Recommendation]) -> str:
        titles = [r.item.display_title for r in recs]
        listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
        return f"\n\nMy picks: {listed}."

    def _timed(
        self, gen: Generator, request: GenerationRequest, inner: dict[str, Any] | None = None
    ) -> Iterator[str]:
        """``gen.stream(request)`` with a deadline; raises TimeoutError when it passes.

        ``inner["stream"]`` receives the generator's own stream object (it may carry
        ``fell_back``/``generator`` attributes).
        """
        inner = {} if inner is None else inner
        if gen is self.fallback:
            inner["stream"] = gen.stream(request)
            yield from inner["stream"]
            return
        q: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def run() -> None:
            try:
                inner["stream"] = gen.stream(request)
                for piece in inner["stream"]:
                    if stop.is_set():
                        break
                    q.put(("piece", piece))
                q.put(("done", None))
            except BaseException as exc:  # handed to the consumer thread
                q.put(("error", exc))

        thread = threading.Thread(target=run, name="generator", daemon=True)
        thread.start()
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{gen.name} took longer than {self.timeout_s:g} s")
                try:
                    kind, value = q.get(timeout=left)
                except queue.Empty:
                    raise TimeoutError(f"{gen.name} took longer than {self.timeout_s:g} s") from None
                if kind == "piece":
                    yield value
                elif kind == "done":
                    return
                else:
                    raise value
        finally:
            stop.set()


# ---------------------------------------------------------------------------
# reasons from facts


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
    from workbench.dialogue.understand import COMMON_WORDS, STOPWORDS, fold

    for word in re.findall(r"[a-z0-9]+", fold(text)):
        if len(word) >= 3 and word not in STOPWORDS and word not in COMMON_WORDS:
            return True
    return False


def _genre_phrase(keys: Collection[str]) -> str:
    order = ["superhero", "animation", "family", "comedy", "romance", "crime", "horror", "science fiction",
             "fantasy", "action", "adventure", "thriller", "mystery", "drama", "war", "western",
             "documentary", "musical", "biography", "history", "sports", "teen"]
    picked = [g for g in order if g in keys][:2]
    picked += sorted(g for g in keys if g not in order)[: max(0, 2 - len(picked))]
    return " ".join(picked)


def _shared_strength(anchor: Item, item: Item) -> float:
    """How much two items share: a director 3, each shared cast member 2, each genre 1."""
    return (3.0 * bool(set(item.directors) & set(anchor.directors))
            + 2.0 * len(set(item.cast) & set(anchor.cast))
            + 1.0 * len(item_genre_keys(item) & item_genre_keys(anchor)))


def _shared_facts(anchor: Item, item: Item) -> str:
    facts: list[str] = []
    directors = [d for d in item.directors if d in anchor.directors]
    if directors:
        facts.append(f"also directed by {directors[0]}")
    cast = [c for c in item.cast if c in anchor.cast]
    if cast:
        facts.append("also starring " + " and ".join(cast[:2]))
    genres = item_genre_keys(item) & item_genre_keys(anchor)
    if genres:
        facts.append(f"also {_article(_genre_phrase(genres))} {_genre_phrase(genres)} film")
    return ", ".join(facts)


def _asked_facts(item: Item, constraints: ItemFilter) -> str:
    facts: list[str] = []
    genres = item_genre_keys(item) & constraints.genres
    if genres:
        facts.append(f"{_article(_genre_phrase(genres))} {_genre_phrase(genres)} film")
    if constraints.people:
        names = [p for p in (*item.directors, *item.cast) if _norm_person(p) in constraints.people]
        if names:
            role = "directed by" if names[0] in item.directors else "with"
            facts.append(f"{role} {names[0]}")
    if (constraints.year_min is not None or constraints.year_max is not None) and item.year:
        facts.append(f"from {item.year}")
    return ", ".join(facts)


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def genre_words(text: str) -> frozenset[str]:
    """Canonical genres in ``text`` (re-exported for callers that phrase constraints)."""
    return genre_keys(text)
