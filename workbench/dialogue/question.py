"""Asking the question that helps most: expected information gain over the candidates' facts.

The ranker's merged scores for one turn are read as a belief over which film the user is after
(a softmax over the best :data:`POOL` candidates). Each question the engine can ask ("What genre?",
"Which decade?", "A director you like?", "An actor?", "What should it be about?") would be answered
with one value of that attribute of the film the user has in mind; :meth:`QuestionPolicy.choose`
picks the question whose answer is expected to shrink the uncertainty about that film the most,
the mutual information between the film and the answer, in bits::

    gain(a) = H(answer_a) - sum_i p_i H(answer_a | film i)

where film ``i`` answers uniformly one of its values of ``a`` (one of its genres, its decade, one
of its directors, one of its two lead actors, one of its first tags), or "no idea" when the
catalogue knows none. Asking costs the user a round, so it is weighed against recommending now:
the engine asks only when the gain, discounted by the chance that the slate it shows already holds
the film (``(1 - slate mass) * gain``, the slate mass being the softmax share of its films times
:data:`IN_POOL`, the chance the film is in the pool at all), is at least :data:`MIN_GAIN_BITS`. A
vague message ("anything good?") leaves the belief flat and the gain high, so the engine asks; a
precise one concentrates the belief on a few films, and since the gain never exceeds the belief's
entropy, it does not. An attribute the user
already constrained (a genre, a year range, a person) or was asked about before is not asked again.

It knows catalogue facts and scored candidates; it does not know understanding, replies, generators
or gradio.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.catalog import Catalog, Item
from workbench.errors import DialogueError
from workbench.filters import ItemFilter, item_genre_keys
from workbench.scored import ScoredItems

#: The attributes a question can be about, in the order ties are broken.
ATTRIBUTES: tuple[str, ...] = ("genre", "decade", "director", "actor", "tag")
#: What the engine says for each (after the slate). The simulated user reads these as a person
#: would, so keep each recognisably about its attribute.
QUESTIONS: Mapping[str, str] = {
    "genre": "What genre are you in the mood for?",
    "decade": "Are you in the mood for something recent or a classic? Which decade?",
    "director": "Is there a director whose films you would like?",
    "actor": "Which actor or actress would you like to see?",
    "tag": "What would you like the film to be about?",
}
#: Candidates (best first) the belief is spread over.
POOL = 100
#: Softmax temperature over merged scores, in units of the pool's own spread (their standard
#: deviation): scores are weighted sums of 0-1 sources whose scale changes with the weights and the
#: turn, so a fixed temperature would be too sharp for one engine and too flat for another.
TEMPERATURE = 1.0
#: Share of the belief the pool holds: the film wanted is often not among the ranker's best
#: :data:`POOL` at all (on ReDial the static protocol finds it in the top 50 a third of the time), so
#: a slate's share of the softmax over the pool overstates its chance by about this factor.
IN_POOL = 0.5
#: Least discounted gain, in bits, worth a question.
MIN_GAIN_BITS = 0.5
#: Recommend without asking when the slate shown already holds this much of the belief. Off (1.0)
#: by default: a sure ranker is already kept from asking by the gain, which never exceeds the
#: belief's entropy; a cap on the slate's share only stopped questions after large slates (k=50),
#: where the film is still missed two times in three.
MAX_SLATE_MASS = 1.0
#: Lead actors and tags a film can answer with.
LEAD_ACTORS = 2
LEAD_TAGS = 3
_UNKNOWN = "\x00unknown"


@dataclass(frozen=True)
class Question:
    """The question chosen for a turn: its attribute, its text and its expected gain in bits."""

    attribute: str
    text: str
    gain: float  # expected information gain over the candidates, bits
    slate_mass: float = 0.0  # share of the belief on the slate shown with it

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "text": self.text, "gain": self.gain, "slate_mass": self.slate_mass}


def item_facts(item: Item) -> dict[str, tuple[str, ...]]:
    """What ``item`` could answer to each attribute (empty: the catalogue does not know)."""
    return {
        "genre": tuple(sorted(item_genre_keys(item))),
        "decade": (f"{item.year // 10 * 10}s",) if item.year else (),
        "director": tuple(dict.fromkeys(d.lower() for d in item.directors[:2])),
        "actor": tuple(dict.fromkeys(c.lower() for c in item.cast[:LEAD_ACTORS])),
        "tag": tuple(dict.fromkeys(t.lower() for t in item.tags[:LEAD_TAGS])),
    }


def entropy(probs: Sequence[float]) -> float:
    """Shannon entropy in bits of a distribution (zeros ignored)."""
    return -sum(p * math.log2(p) for p in probs if p > 0)


def belief(scores: Sequence[float], temperature: float = TEMPERATURE) -> list[float]:
    """A softmax of merged scores (temperature relative to their spread): the probability that each
    candidate is the film wanted, given that it is one of them."""
    if not scores:
        return []
    top = max(scores)
    mean = sum(scores) / len(scores)
    spread = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores)) or 1.0
    weights = [math.exp((s - top) / (temperature * spread)) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


def expected_gain(probs: Sequence[float], answers: Sequence[Sequence[str]]) -> float:
    """Mutual information (bits) between the film and its answer; ``answers[i]`` are the values
    film ``i`` answers with, uniformly (none: "no idea")."""
    marginal: dict[str, float] = defaultdict(float)
    conditional = 0.0
    for p, values in zip(probs, answers, strict=True):
        if p <= 0:
            continue
        values = values or (_UNKNOWN,)
        share = p / len(values)
        for v in values:
            marginal[v] += share
        conditional += p * math.log2(len(values))
    return max(entropy(list(marginal.values())) - conditional, 0.0)


class QuestionPolicy:
    """Chooses the turn's question, if any. Built once per catalogue; read-only afterwards.

    Args:
        catalog: the items whose facts answer questions.
        attributes: which attributes may be asked about (a subset of :data:`ATTRIBUTES`).
        pool, temperature, min_gain, max_slate_mass, in_pool: see the module constants.
    """

    def __init__(self, catalog: Catalog, *, attributes: Sequence[str] = ATTRIBUTES, pool: int = POOL,
                 temperature: float = TEMPERATURE, min_gain: float = MIN_GAIN_BITS,
                 max_slate_mass: float = MAX_SLATE_MASS, in_pool: float = IN_POOL):
        unknown = [a for a in attributes if a not in ATTRIBUTES]
        if unknown:
            raise DialogueError(f"question policy: unknown attribute {unknown[0]!r}; known: {', '.join(ATTRIBUTES)}")
        if pool < 2 or temperature <= 0 or not 0 < in_pool <= 1:
            raise DialogueError(f"question policy: pool must be >= 2, temperature > 0 and in_pool in (0, 1], "
                                f"got {pool}, {temperature}, {in_pool}")
        self.catalog = catalog
        self.attributes = tuple(attributes)
        self.pool = pool
        self.temperature = temperature
        self.min_gain = min_gain
        self.max_slate_mass = max_slate_mass
        self.in_pool = in_pool
        self._facts: dict[str, dict[str, tuple[str, ...]]] = {}

    def facts(self, item_id: str) -> dict[str, tuple[str, ...]]:
        """:func:`item_facts` of one item, computed once."""
        facts = self._facts.get(item_id)
        if facts is None:
            facts = self._facts[item_id] = item_facts(self.catalog[item_id])
        return facts

    def gains(self, candidates: ScoredItems, skip: Collection[str] = ()) -> dict[str, float]:
        """Expected gain in bits of every askable attribute over ``candidates`` (best first)."""
        pool = candidates.top(self.pool)
        probs = belief(pool.scores, self.temperature)
        facts = [self.facts(i) for i in pool.ids]
        return {a: expected_gain(probs, [f[a] for f in facts]) for a in self.attributes if a not in skip}

    def choose(self, candidates: ScoredItems, slate_size: int, skip: Collection[str] = ()) -> Question | None:
        """The question worth asking after a slate of the best ``slate_size`` candidates, or ``None``.

        ``skip``: attributes not to ask about (already stated or asked).
        """
        pool = candidates.top(self.pool)
        if len(pool) < 2:
            return None
        probs = belief(pool.scores, self.temperature)
        mass = self.in_pool * sum(probs[:slate_size])
        if mass >= self.max_slate_mass:
            return None
        gains = self.gains(pool, skip)
        if not gains:
            return None
        best = max(gains, key=lambda a: (gains[a], -self.attributes.index(a)))
        if (1 - mass) * gains[best] < self.min_gain:
            return None
        return Question(best, QUESTIONS[best], gains[best], mass)


#: The constraint an answer to each question sets (tags have none: they go to semantic search).
ANSWER_FIELDS: Mapping[str, str] = {"genre": "genres", "decade": "years", "director": "people", "actor": "people"}


def answered_filter(constraints: ItemFilter, asked: Collection[str]) -> ItemFilter:
    """The part of ``constraints`` that answers questions the engine asked (``asked``: attributes).

    What a user says in reply to "Which decade?" is a requirement, not a hint: the engine filters by
    it even where its weights only let stated constraints weigh in (the ReDial-tuned ranker), so a
    film outside what the user just told it is not shown.
    """
    fields = {ANSWER_FIELDS[a] for a in asked if a in ANSWER_FIELDS}
    return ItemFilter(
        constraints.genres if "genres" in fields else frozenset(),
        year_min=constraints.year_min if "years" in fields else None,
        year_max=constraints.year_max if "years" in fields else None,
        people=constraints.people if "people" in fields else frozenset(),
    )


def asked_attributes(constraint_fields: Collection[str], asked: Collection[str]) -> frozenset[str]:
    """Attributes not to ask about: those the user's constraints already fix, and those asked before.

    ``constraint_fields`` are the active constraint kinds ("genres", "years", "people").
    """
    skip = set(asked)
    if "genres" in constraint_fields:
        skip.add("genre")
    if "years" in constraint_fields:
        skip.add("decade")
    if "people" in constraint_fields:
        skip |= {"director", "actor"}
    return frozenset(skip)


__all__ = [
    "ANSWER_FIELDS", "ATTRIBUTES", "IN_POOL", "MAX_SLATE_MASS", "MIN_GAIN_BITS", "POOL", "QUESTIONS", "TEMPERATURE", "Question",
    "QuestionPolicy", "answered_filter", "asked_attributes", "belief", "entropy", "expected_gain", "item_facts",
]
