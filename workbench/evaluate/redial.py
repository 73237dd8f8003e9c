"""The ReDial conversational recommendation protocol, run through the chat engine's ranker.

For every recommender message that mentions a movie, the understander reads all earlier messages
of the conversation (seeker messages as user turns, recommender messages as assistant turns) and
the :class:`~workbench.dialogue.ranker.Ranker` ranks the catalogue (:meth:`Ranker.gather` +
:meth:`Ranker.combine`, the code path of every app turn; no generator). Each movie that message
mentions and that was not mentioned earlier is one sample; Recall@1/10/50 is the share of samples
found in the top 1/10/50. Already-mentioned movies are never ranked.

Everything the evaluated ranker learns comes from the training dialogues: the co-mention
interactions CF and kNN are fitted on, the popularity prior, the name-resolution popularity and
the merge weights (tuned on a validation split carved from the training dialogues). The
catalogue's ``mentions`` counts were computed over all of ReDial, test included, and are never
used here.

``mentions="gold"`` keeps ReDial's ``@movieId`` markers (linked items, the setting of published
baselines); ``mentions="text"`` replaces each marker with the movie's title and lets the
understander link it.

It knows dialogues, the ranker, the understander and metrics; it does not know generators or gradio.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.catalog import Catalog
from workbench.dialogue.ranker import Candidates, EngineWeights, Ranker
from workbench.dialogue.replay import observe
from workbench.dialogue.state import ConversationState
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.understand import Understander, Understanding
from workbench.errors import EvaluationError
from workbench.interactions import Interactions
from workbench.limits import MAX_MESSAGE_CHARS
from workbench.recommend import ItemKNNScorer
from workbench.recommend.base import interaction_matrix, interactions_hash
from workbench.recommend.factory import RECOMMENDER_WEIGHTS, build_recommender
from workbench.text import split_title_year

#: Published results on ReDial (Recall@1 / @10 / @50), for reference only.
PUBLISHED_ANCHORS: tuple[tuple[str, float, float, float], ...] = (
    ("KBRD (published)", 0.028, 0.169, 0.366),
    ("KGSF (published)", 0.037, 0.179, 0.362),
    ("UniCRS (published)", 0.050, 0.215, 0.413),
)
KS = (1, 10, 50)
MENTION_MODES = ("gold", "text")
_ID_RE = re.compile(r"@(\d+)")


@dataclass(frozen=True)
class Sample:
    """One evaluation point: the conversation before a recommender message, and one movie it names."""

    conversation: str
    prefix: tuple[tuple[str, str], ...]  # (role, text) of every earlier message
    target: str  # canonical item id
    position: int  # index of the recommender message


@dataclass
class SystemResult:
    system: str
    recall: dict[int, float] = field(default_factory=dict)
    n: int = 0
    weights: dict[str, Any] = field(default_factory=dict)
    published: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"system": self.system}
        for k in KS:
            d[f"recall@{k}"] = round(self.recall.get(k, 0.0), 4)
        if self.published:
            d["published"] = True
        else:
            d["n"] = self.n
        if self.weights:
            d["weights"] = self.weights
        return d


def load_dialogues(path: str | Path) -> list[dict[str, Any]]:
    """Read a ReDial JSONL file; errors name the file, line and field."""
    path = Path(path)
    if not path.exists():
        raise EvaluationError(f"{path}: ReDial file not found")
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                conv = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"{path}: line {lineno}: invalid JSON ({exc.msg})") from None
            for key in ("messages", "initiatorWorkerId"):
                if key not in conv:
                    raise EvaluationError(f"{path}: line {lineno}: field {key!r} is missing")
            if not isinstance(conv["messages"], list):
                raise EvaluationError(f"{path}: line {lineno}: field 'messages' must be a list")
            for j, msg in enumerate(conv["messages"]):
                if not isinstance(msg, dict) or "text" not in msg or "senderWorkerId" not in msg:
                    raise EvaluationError(
                        f"{path}: line {lineno}: messages[{j}] needs 'text' and 'senderWorkerId'"
                    )
            conv.setdefault("conversationId", str(lineno))
            out.append(conv)
    if not out:
        raise EvaluationError(f"{path}: no dialogues")
    return out


def mention_ids(text: str) -> list[str]:
    """The ReDial movie ids a message names with ``@movieId`` markers, in order."""
    return _ID_RE.findall(text)


def _canonical(catalog: Catalog, movie_id: str) -> str | None:
    item = catalog.get(movie_id)
    return item.item_id if item is not None else None


def message_text(text: str, conv: Mapping[str, Any], catalog: Catalog, mentions: str) -> str:
    """The message as the engine sees it: ``@id`` kept (gold) or replaced by the title (text)."""
    if mentions == "gold":
        return text

    def title(m: re.Match[str]) -> str:
        item = catalog.get(m.group(1))
        if item is not None:
            return item.title
        name = (conv.get("movieMentions") or {}).get(m.group(1)) or ""
        return split_title_year(name)[0] or "that movie"

    return _ID_RE.sub(title, text)


def seeker_texts(conv: Mapping[str, Any], catalog: Catalog) -> Iterator[str]:
    """The seeker's messages of one conversation as a user would type them (titles for ``@id``
    markers, cut to :data:`~workbench.limits.MAX_MESSAGE_CHARS`), empty ones left out."""
    for msg in conv["messages"]:
        if msg["senderWorkerId"] != conv["initiatorWorkerId"]:
            continue
        text = message_text(msg["text"], conv, catalog, "text")[:MAX_MESSAGE_CHARS].strip()
        if text:
            yield text


def samples(dialogues: Iterable[Mapping[str, Any]], catalog: Catalog, mentions: str = "gold") -> list[Sample]:
    """Every (prefix, new movie) pair of the protocol."""
    if mentions not in MENTION_MODES:
        raise EvaluationError(f"mentions must be one of {MENTION_MODES}, got {mentions!r}")
    out: list[Sample] = []
    for conv in dialogues:
        seeker = conv["initiatorWorkerId"]
        prefix: list[tuple[str, str]] = []
        seen: set[str] = set()
        for pos, msg in enumerate(conv["messages"]):
            role = "user" if msg["senderWorkerId"] == seeker else "assistant"
            ids = [c for c in (_canonical(catalog, i) for i in mention_ids(msg["text"])) if c]
            if role == "assistant" and prefix:
                for target in dict.fromkeys(ids):
                    if target not in seen:
                        out.append(Sample(str(conv["conversationId"]), tuple(prefix), target, pos))
            seen.update(ids)
            prefix.append((role, message_text(msg["text"], conv, catalog, mentions)))
    return out


def train_interactions(dialogues: Iterable[Mapping[str, Any]], catalog: Catalog) -> Interactions:
    """Co-mentions: every movie a training conversation names is a positive for that conversation."""
    rows = []
    for conv in dialogues:
        ids = {c for c in (_canonical(catalog, i) for m in conv["messages"] for i in mention_ids(m["text"]))
               if c}
        for item_id in sorted(ids):
            rows.append((f"redial:{conv['conversationId']}", item_id, "mentioned", 1.0))
    if not rows:
        raise EvaluationError("training dialogues mention no catalogue movie")
    return Interactions.from_rows(rows)


def train_popularity(dialogues: Iterable[Mapping[str, Any]], catalog: Catalog) -> dict[str, float]:
    """How often training recommenders suggested each movie, plus half its seeker mentions."""
    counts: Counter[str] = Counter()
    for conv in dialogues:
        seeker = conv["initiatorWorkerId"]
        for msg in conv["messages"]:
            weight = 0.5 if msg["senderWorkerId"] == seeker else 1.0
            for i in set(mention_ids(msg["text"])):
                c = _canonical(catalog, i)
                if c:
                    counts[c] += weight
    return dict(counts)


# ---------------------------------------------------------------------------
# running


def replay(ranker: Ranker, sample_list: Sequence[Sample]
           ) -> Iterator[tuple[Sample, ConversationState, Understanding | None]]:
    """Each sample with its conversation's state after its context and the understanding of the
    last user message in it: every conversation is replayed once, in order (the ranker's
    understander reads the messages). The state is the live one: copy it to keep it."""
    conv: str | None = None
    state = ConversationState(session_id="")
    done = 0
    last_user: Understanding | None = None
    for s in sample_list:
        if s.conversation != conv or len(s.prefix) < done:
            conv, state, done, last_user = s.conversation, ConversationState(f"redial:{s.conversation}"), 0, None
        for role, text in s.prefix[done:]:
            u = observe(ranker.understander, state, role, text)
            if role == "user":
                last_user = u
        done = len(s.prefix)
        yield s, state, last_user


def gather_all(ranker: Ranker, sample_list: Sequence[Sample], *,
               progress: Callable[[int, int], None] | None = None) -> list[Candidates]:
    """The ranker's candidates for every sample (:func:`replay`; samples of one turn share them)."""
    out: list[Candidates] = []
    key: tuple[str, int] | None = None
    cands: Candidates | None = None
    for n, (s, state, last_user) in enumerate(replay(ranker, sample_list)):
        if cands is None or key != (s.conversation, s.position):
            key = (s.conversation, s.position)
            cands = ranker.gather(state, last_user)
        out.append(cands)
        if progress is not None:
            progress(n + 1, len(sample_list))
    return out


def recall_of(ranker: Ranker, cands: Sequence[Candidates], sample_list: Sequence[Sample],
              weights: EngineWeights | None = None) -> dict[int, float]:
    hits = {k: 0 for k in KS}
    kmax = max(KS)
    for c, s in zip(cands, sample_list, strict=True):
        ranked = ranker.combine(c, kmax, weights).ids
        for k in KS:
            if s.target in ranked[:k]:
                hits[k] += 1
    n = max(len(sample_list), 1)
    return {k: hits[k] / n for k in KS}


#: Buckets of :func:`breakdown`: how often the training dialogues mention the target (a count
#: weighs a seeker's mention 0.5, see :func:`train_popularity`), each up to its bound.
TRAIN_BUCKETS: tuple[tuple[str, float], ...] = (("never", 0.0), ("1-2", 2.0), ("3-9", 9.5), ("10+", float("inf")))


def positions(ranker: Ranker, cands: Sequence[Candidates], sample_list: Sequence[Sample],
              weights: EngineWeights | None = None) -> list[int]:
    """0-based place of each sample's target in its ranking, through :meth:`Ranker.position_of`
    (the order of ``combine`` without building slates); samples sharing candidates share one pass."""
    if len(cands) != len(sample_list):
        raise EvaluationError(f"{len(cands)} candidate sets for {len(sample_list)} samples")
    groups: dict[int, tuple[Candidates, list[int]]] = {}
    for j, c in enumerate(cands):
        groups.setdefault(id(c), (c, []))[1].append(j)
    places = [0] * len(sample_list)
    for c, js in groups.values():
        for j, place in zip(js, ranker.position_of(c, [sample_list[j].target for j in js], weights), strict=True):
            places[j] = place
    return places


def breakdown(ranker: Ranker, cands: Sequence[Candidates], sample_list: Sequence[Sample],
              train_counts: Mapping[str, float], weights: EngineWeights | None = None) -> dict[str, dict[str, float]]:
    """Recall@1/10/50 per bucket of how often the training dialogues mention each target.

    ``train_counts`` is :func:`train_popularity`. Shows where a system's misses are: a target the
    training dialogues never mention can only be found from item knowledge and the text.
    """
    places = positions(ranker, cands, sample_list, weights)
    members: dict[str, list[int]] = {name: [] for name, _ in TRAIN_BUCKETS}
    for j, s in enumerate(sample_list):
        count = train_counts.get(s.target, 0.0)
        members[next(name for name, bound in TRAIN_BUCKETS if count <= bound)].append(j)
    n = max(len(sample_list), 1)
    out: dict[str, dict[str, float]] = {}
    for name, js in members.items():
        row: dict[str, float] = {"share": round(len(js) / n, 4), "n": len(js)}
        for k in KS:
            row[f"recall@{k}"] = round(sum(places[j] < k for j in js) / len(js), 4) if js else 0.0
        out[name] = row
    return out


def fast_recall(ranker: Ranker, cands: Sequence[Candidates], sample_list: Sequence[Sample],
                weights: EngineWeights | None = None) -> dict[int, float]:
    """:func:`recall_of` through :func:`positions` (no slates built): what tuning compares weights with."""
    places = positions(ranker, cands, sample_list, weights)
    n = max(len(sample_list), 1)
    return {k: sum(place < k for place in places) / n for k in KS}


def _objective(r: Mapping[int, float]) -> float:
    return 2 * r[1] + r[10] + r[50]


def tune_weights(ranker: Ranker, cands: Sequence[Candidates], sample_list: Sequence[Sample],
                 grid: Mapping[str, Sequence[Any]], base: EngineWeights, *, method: str = "grid", rounds: int = 2
                 ) -> tuple[EngineWeights, dict[int, float]]:
    """Search ranker weights maximising R@10 + R@50 + 2 R@1 on validation samples.

    ``method="grid"`` tries every combination; ``"coordinate"`` (for many sources) starts at
    ``base`` and sets one weight at a time to its best grid value, ``rounds`` passes over all.
    """
    if method == "coordinate":
        best = base
        best_recall = fast_recall(ranker, cands, sample_list, best)
        best_score = _objective(best_recall)
        for _ in range(rounds):
            improved = False
            for name in grid:
                for value in grid[name]:
                    w = replace(best, **{name: value})
                    r = fast_recall(ranker, cands, sample_list, w)
                    if _objective(r) > best_score + 1e-9:
                        best, best_score, best_recall, improved = w, _objective(r), r, True
            if not improved:
                break
        return best, best_recall
    if method != "grid":
        raise EvaluationError(f"tuning method must be 'grid' or 'coordinate', got {method!r}")
    best, best_score, best_recall = base, -1.0, {}
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        w = replace(base, **dict(zip(names, values, strict=True)))
        r = fast_recall(ranker, cands, sample_list, w)
        score = _objective(r)
        if score > best_score:
            best, best_score, best_recall = w, score, r
    return best, best_recall


@dataclass(frozen=True)
class SystemSpec:
    """One evaluated configuration: which recommender the ranker uses and which weights it tunes."""

    name: str
    recommender: str  # "none", "knn" or "hybrid"
    base: dict[str, Any]
    grid: dict[str, tuple[Any, ...]]
    method: str = "grid"  # or "coordinate" (see tune_weights)


SYSTEMS: tuple[SystemSpec, ...] = (
    SystemSpec("popularity (train)", "none",
               {"recommender": 0.0, "dense": 0.0, "lexical": 0.0, "attribute": 0.0, "facts": 0.0, "prior": 1.0,
                "history_dense": 0.0},
               {}),
    SystemSpec("co-mention kNN + popularity", "knn",
               {"dense": 0.0, "lexical": 0.0, "attribute": 0.0, "facts": 0.0, "history_dense": 0.0},
               {"prior": (0.1, 0.25, 0.5, 1.0, 2.0)}),
    SystemSpec("+ content (catalogue facts, embeddings)", "hybrid",
               {"dense": 0.0, "lexical": 0.0, "attribute": 0.0, "history_dense": 0.0},
               {"prior": (0.1, 0.25, 0.5, 1.0, 2.0), "facts": (0.0, 0.5, 1.0, 2.0)}),
    SystemSpec("full engine (+ stated genres/people/years, semantic search)", "hybrid",
               {"hard_constraints": False, "history_dense": 0.0, "recent": 0.0, "suggested": 0.0},
               {"recommender": (0.25, 0.5, 1.0), "prior": (0.25, 0.5, 1.0), "attribute": (0.5, 1.0, 2.0),
                "facts": (0.0, 0.5, 1.0, 2.0), "dense": (0.0, 0.2), "lexical": (0.0, 0.1)}),
    SystemSpec("+ recency, item embeddings, earlier suggestions", "hybrid",
               {"hard_constraints": False, "recommender": 0.5, "prior": 1.0, "attribute": 0.5, "facts": 1.0,
                "dense": 0.2, "lexical": 0.1, "history_dense": 0.5, "recent": 0.25, "suggested": 0.25},
               {name: (0.0, 0.1, 0.25, 0.5, 1.0, 2.0) for name in (
                   "history_dense", "recent", "suggested", "recommender", "facts", "prior", "attribute", "dense",
                   "lexical")},
               method="coordinate"),
)


def split_validation(dialogues: Sequence[Mapping[str, Any]], fraction: float = 0.2, seed: int = 0
                     ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    order = list(range(len(dialogues)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(len(order) * fraction))
    val = set(order[:n_val])
    return [d for i, d in enumerate(dialogues) if i not in val], [d for i, d in enumerate(dialogues) if i in val]


def validation_folds(dialogues: Sequence[Mapping[str, Any]], folds: int = 1, seed: int = 0
                     ) -> list[tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]]:
    """``(fit, validation)`` pairs carved from the training dialogues: one 80/20 split for
    ``folds=1``, else ``folds`` disjoint validation parts covering every training dialogue once."""
    if folds < 1:
        raise EvaluationError(f"folds must be >= 1, got {folds}")
    if folds == 1:
        return [split_validation(dialogues, seed=seed)]
    order = list(range(len(dialogues)))
    random.Random(seed).shuffle(order)
    out = []
    for f in range(folds):
        val = set(order[f::folds])
        out.append(([d for i, d in enumerate(dialogues) if i not in val],
                    [d for i, d in enumerate(dialogues) if i in val]))
    return out


def build_eval_ranker(catalog: Catalog, retriever: Any, item_vectors: Any, train: Sequence[Mapping[str, Any]],
                      recommender: str, *, search: bool = True, titles: TitleIndex | None = None) -> Ranker:
    """A ranker (and its understander) whose every learned part comes from ``train`` (no catalogue
    mention counts).

    ``recommender`` is ``"none"``, ``"knn"`` (co-mention item kNN) or ``"hybrid"``
    (:func:`~workbench.recommend.factory.build_recommender`). ``search=False`` skips the retriever
    when gathering (for systems that give it no weight). ``titles``: the catalogue's title index,
    shared across rankers (built when absent).
    """
    interactions = train_interactions(train, catalog)
    pop = train_popularity(train, catalog)
    rec: Any = None
    if recommender == "knn":
        X, _, _ = interaction_matrix(interactions, catalog=catalog, item_ids=list(catalog.ids))
        rec = ItemKNNScorer(100, catalog=catalog).fit_matrix(X, list(catalog.ids), interactions_hash(interactions))
    elif recommender == "hybrid":
        rec = build_recommender(catalog, interactions, item_vectors, weights=RECOMMENDER_WEIGHTS)
    # every source on when gathering (combine weighs them); search only for systems that use it
    weights = EngineWeights(facts=1.0, history_dense=1.0, recent=1.0, suggested=1.0)
    if not search:
        weights = replace(weights, dense=0.0, lexical=0.0)
    return Ranker(catalog, retriever, rec, understander=Understander(catalog, pop, titles=titles), weights=weights, popularity=pop)


def evaluate(
    catalog: Catalog,
    retriever: Any,
    item_vectors: Any,
    train: Sequence[Mapping[str, Any]],
    test: Sequence[Mapping[str, Any]],
    *,
    mentions: str = "gold",
    systems: Sequence[SystemSpec] = SYSTEMS,
    tune: bool = True,
    folds: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every system; returns the JSON report (``dataset``, ``mentions``, ``n``, ``results``).

    Weights are tuned on validation samples from ``folds`` splits of ``train`` (see
    :func:`validation_folds`); each split's ranker learns only from that split's fit part.
    """
    test_samples = samples(test, catalog, mentions)
    if not test_samples:
        raise EvaluationError("the evaluation dialogues hold no recommender message with a new movie")
    splits = validation_folds(train, folds)
    val_samples: list[Sample] = []
    for _, val_part in splits:
        val_samples += samples(val_part, catalog, mentions)
    titles = TitleIndex(catalog)  # one per catalogue, shared by every ranker's understander
    results: list[SystemResult] = []
    rankers: dict[tuple[str, bool], tuple[Ranker, list[Candidates]]] = {}
    tested: dict[tuple[str, bool], tuple[Ranker, list[Candidates]]] = {}
    for spec in systems:
        t0 = time.perf_counter()
        base = replace(EngineWeights(), **spec.base)
        weights = base
        search = any(v for name in ("dense", "lexical")
                     for v in (getattr(base, name), *spec.grid.get(name, ())))
        key = (spec.recommender, search)
        if tune and spec.grid and val_samples:
            if key not in rankers:
                val_cands: list[Candidates] = []
                for fit_part, val_part in splits:
                    val_ranker = build_eval_ranker(catalog, retriever, item_vectors, fit_part, spec.recommender,
                                                   search=search, titles=titles)
                    val_cands += gather_all(val_ranker, samples(val_part, catalog, mentions))
                rankers[key] = (val_ranker, val_cands)
            val_ranker, val_cands = rankers[key]
            weights, val_recall = tune_weights(val_ranker, val_cands, val_samples, spec.grid, base,
                                               method=spec.method)
            log(f"{spec.name}: tuned on {len(val_samples)} validation samples -> "
                f"R@1/10/50 {val_recall[1]:.3f}/{val_recall[10]:.3f}/{val_recall[50]:.3f}")
        if key not in tested:
            ranker = build_eval_ranker(catalog, retriever, item_vectors, train, spec.recommender, search=search,
                                       titles=titles)
            tested[key] = (ranker, gather_all(ranker, test_samples))
        ranker, cands = tested[key]
        recall = recall_of(ranker, cands, test_samples, weights)
        results.append(SystemResult(spec.name, recall, len(test_samples), weights.to_dict()))
        last = (ranker, cands, weights)
        log(f"{spec.name}: R@1 {recall[1]:.3f}  R@10 {recall[10]:.3f}  R@50 {recall[50]:.3f} "
            f"({time.perf_counter() - t0:.0f} s)")
    by_train = None
    if results:  # the last (fullest) system's misses, by how often train mentions the target
        ranker, cands, weights = last
        by_train = {"system": results[-1].system,
                    "buckets": breakdown(ranker, cands, test_samples, train_popularity(train, catalog), weights)}
    anchors = [SystemResult(name, {1: r1, 10: r10, 50: r50}, published=True)
               for name, r1, r10, r50 in PUBLISHED_ANCHORS]
    return {
        "dataset": "redial",
        "mentions": mentions,
        "n": len(test_samples),
        "results": [r.to_dict() for r in results],
        "published": [a.to_dict() for a in anchors],
        "by_train_mentions": by_train,
        "train_dialogues": len(train),
        "validation_dialogues": sum(len(v) for _, v in splits),
        "validation_folds": folds,
        "test_dialogues": len(test),
    }


def format_table(report: Mapping[str, Any]) -> str:
    """A plain-text table of the report, published anchors last and labelled."""
    rows = [*report["results"], *report.get("published", [])]
    width = max(len(r["system"]) for r in rows)
    lines = [f"ReDial, mentions={report['mentions']}, n={report['n']} samples",
             f"{'system':<{width}}  R@1    R@10   R@50"]
    for r in rows:
        lines.append(f"{r['system']:<{width}}  {r['recall@1']:.3f}  {r['recall@10']:.3f}  {r['recall@50']:.3f}")
    split = report.get("by_train_mentions")
    if split:
        lines.append(f"{split['system']}, by how often the training dialogues mention the target:")
        lines.append(f"{'  train mentions':<{width}}  share  R@1    R@10   R@50")
        for name, b in split["buckets"].items():
            lines.append(f"{'  ' + name:<{width}}  {b['share']:.3f}  {b['recall@1']:.3f}  {b['recall@10']:.3f}  "
                         f"{b['recall@50']:.3f}")
    return "\n".join(lines)


__all__ = [
    "KS", "PUBLISHED_ANCHORS", "SYSTEMS", "TRAIN_BUCKETS", "Sample", "SystemSpec", "breakdown", "build_eval_ranker",
    "evaluate", "fast_recall", "format_table", "gather_all", "load_dialogues", "mention_ids", "positions", "recall_of",
    "samples", "train_interactions", "train_popularity", "tune_weights",
]
