"""Measuring understanding against a labelled set of user messages (``tests/data/understanding``).

Each example is one user message with the context it needs (the previous slate as item ids and the
earlier user messages) and its gold reading: the intent, the liked / disliked films and people, the
people named (with their role), the genres and tags to include and to exclude, the years, what the
message points at (``refs``) and what a question asks about (``attribute``). The format is
documented in ``tests/data/understanding/README.md`` and declared once here (:data:`GOLD_KEYS`).

Two passes share one replay of the context (:func:`replay`): the engine's reading of the message
is compared field by field with the gold (precision / recall / F1 per field, intent accuracy and a
confusion table), and, end to end, the turn is answered by :meth:`ChatEngine.respond` and its slate
is checked against every constraint the message states (an excluded genre, an included genre, a
year range, a person asked for, a film or person the user dislikes); the answer to a question about
a film is checked against the catalogue's facts.

It knows the engine's public turn API, the catalogue and the label vocabulary; it does not know how
understanding works inside, the CLI or gradio.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.catalog import Catalog, Item
from workbench.dialogue.engine import ChatEngine
from workbench.dialogue.state import ConversationState
from workbench.dialogue.understand import Understanding
from workbench.errors import EvaluationError
from workbench.filters import CANONICAL_GENRES, has_topic, item_genre_keys
from workbench.text import norm_person

#: The splits a labelled set has; ``all`` is both.
SPLITS = ("heldout", "dev")
#: Every intent a gold reading may carry.
GOLD_INTENTS = ("recommend", "more_like", "refine", "why", "ask_fact", "compare", "seen", "not_seen",
                "feedback", "greeting", "thanks_bye", "capabilities", "chitchat", "other")
#: The ``attribute`` vocabulary of questions (the catalogue has no running times, so no "longest").
ATTRIBUTES = ("director", "cast", "year", "genre", "about", "newest", "oldest", "has_person", "has_genre")
#: Person roles.
ROLES = ("director", "actor")
#: Gold keys and their empty value (an omitted key means empty / none).
GOLD_KEYS: dict[str, Any] = {
    "intent": None, "liked": [], "disliked": [], "liked_people": [], "disliked_people": [], "people": [],
    "genres_include": [], "genres_exclude": [], "tags_include": [], "tags_exclude": [],
    "year_min": None, "year_max": None, "refs": [], "attribute": None,
}
#: Intents whose message points at films (``refs`` is scored on these only: elsewhere a named film
#: is a like or a dislike, not a reference).
REF_INTENTS = frozenset({"more_like", "why", "ask_fact", "compare", "seen", "not_seen", "feedback"})
#: Intents whose turn brings a slate that must honour what the message states.
SLATE_INTENTS = frozenset({"recommend", "refine", "more_like"})
#: Intents whose reply answers a question about films.
ANSWER_INTENTS = frozenset({"ask_fact", "compare"})
#: Set-valued fields, scored by precision / recall / F1 of their members.
SET_FIELDS = ("liked", "disliked", "liked_people", "disliked_people", "people", "genres_include",
              "genres_exclude", "tags_include", "tags_exclude", "years", "refs", "attribute", "exclusions")


@dataclass(frozen=True)
class Example:
    """One labelled message: its text, context and gold reading (every key of :data:`GOLD_KEYS`)."""

    id: str
    text: str
    slate: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    gold: Mapping[str, Any] = field(default_factory=dict)
    split: str = "dev"

    @property
    def intent(self) -> str:
        return self.gold["intent"]


# ---------------------------------------------------------------------------- loading


def load_examples(data_dir: str | Path, split: str = "heldout", catalog: Catalog | None = None) -> list[Example]:
    """The examples of ``split`` (``heldout``, ``dev`` or ``all``) under ``data_dir``, validated
    (against ``catalog``'s ids when given)."""
    if split not in (*SPLITS, "all"):
        raise EvaluationError(f"understanding: split must be heldout, dev or all, got {split!r}")
    root = Path(data_dir)
    out: list[Example] = []
    for name in SPLITS if split == "all" else (split,):
        path = root / f"{name}.jsonl"
        if not path.is_file():
            raise EvaluationError(f"understanding: {path} not found (a labelled set has dev.jsonl and heldout.jsonl)")
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append(parse_example(line, f"{path}:{line_no}", name, catalog))
    ids = Counter(ex.id for ex in out)
    if dup := [i for i, n in ids.items() if n > 1]:
        raise EvaluationError(f"understanding: {root}: duplicate ids {dup[:5]}")
    return out


#: Intent-only examples written after the rules were tuned: training data for the intent model
#: (:mod:`workbench.dialogue.intent_model`) and its untuned check; never scored by ``evaluate``.
INTENTS_TRAIN = "intents_train.jsonl"


def load_intent_training(data_dir: str | Path, catalog: Catalog | None = None) -> tuple[list[Example], list[Example]]:
    """(the ``dev`` split, the intent-only examples of :data:`INTENTS_TRAIN`) under ``data_dir``:
    what ``refit intents`` fits on. The held-out split is never read here."""
    dev = load_examples(data_dir, "dev", catalog)
    path = Path(data_dir) / INTENTS_TRAIN
    if not path.is_file():
        raise EvaluationError(f"understanding: {path} not found (the intent model's training examples)")
    extra = [parse_example(line, f"{path}:{n}", "train", catalog)
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    return dev, extra


def parse_example(line: str, where: str, split: str = "dev", catalog: Catalog | None = None) -> Example:
    """One JSONL line as an :class:`Example`; ``where`` ("path:line") names it in errors."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvaluationError(f"{where}: not JSON ({exc})") from None
    if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("text"), str):
        raise EvaluationError(f"{where}: an example needs a string id and text")
    context = row.get("context") or {}
    raw_gold = row.get("gold")
    if not isinstance(raw_gold, dict):
        raise EvaluationError(f"{where}: gold must be an object, got {raw_gold!r}")
    if unknown := set(raw_gold) - set(GOLD_KEYS):
        raise EvaluationError(f"{where}: unknown gold keys {sorted(unknown)}")
    gold = {key: raw_gold.get(key, empty) for key, empty in GOLD_KEYS.items()}
    _check_gold(gold, where, catalog)
    slate = tuple(context.get("slate") or ())
    if catalog is not None and (missing := [i for i in slate if i not in catalog]):
        raise EvaluationError(f"{where}: slate ids not in the catalogue: {missing}")
    return Example(row["id"], row["text"], slate, tuple(context.get("history") or ()), gold, split)


def _check_gold(gold: Mapping[str, Any], where: str, catalog: Catalog | None) -> None:
    if gold["intent"] not in GOLD_INTENTS:
        raise EvaluationError(f"{where}: intent must be one of {', '.join(GOLD_INTENTS)}, got {gold['intent']!r}")
    if gold["attribute"] is not None and gold["attribute"] not in ATTRIBUTES:
        raise EvaluationError(f"{where}: attribute must be one of {', '.join(ATTRIBUTES)}, got {gold['attribute']!r}")
    for key in ("genres_include", "genres_exclude"):
        if bad := [g for g in gold[key] if g not in CANONICAL_GENRES]:
            raise EvaluationError(f"{where}: {key} has non-canonical genres {bad}")
    for person in gold["people"]:
        if not isinstance(person, dict) or "name" not in person or person.get("role") not in (*ROLES, None):
            raise EvaluationError(f"{where}: people entries are {{name, role: director|actor|null}}, got {person!r}")
    for key in ("year_min", "year_max"):
        if gold[key] is not None and not isinstance(gold[key], int):
            raise EvaluationError(f"{where}: {key} must be an integer or null, got {gold[key]!r}")
    if catalog is not None:
        for key in ("liked", "disliked", "refs"):
            if missing := [i for i in gold[key] if i not in catalog]:
                raise EvaluationError(f"{where}: {key} ids not in the catalogue: {missing}")


# ---------------------------------------------------------------------------- reading


def replay(engine: ChatEngine, ex: Example) -> ConversationState:
    """A conversation state holding ``ex``'s context: its earlier messages observed, its slate shown."""
    state = engine.new_state(f"understanding-{ex.id}")
    for text in ex.history:
        engine.observe(state, "user", text)
    if ex.slate:
        state.record_slate(ex.slate)
    return state


def reading_of(u: Understanding, catalog: Catalog) -> dict[str, Any]:
    """The engine's reading of one message in the gold's shape (see :data:`GOLD_KEYS`)."""
    c = u.constraints
    people = [{"name": p.name, "role": {"cast": "actor", "director": "director"}.get(p.role)} for p in u.people]
    refs = list(u.refs) or ([u.target] if u.target else [])
    liked = [*u.liked, *([u.target] if u.intent == "feedback" and u.target_stance == "liked" else [])]
    disliked = [*u.disliked, *([u.target] if u.intent == "feedback" and u.target_stance == "disliked" else [])]
    return {
        "intent": u.intent,
        "liked": sorted({catalog.canonical_id(i) for i in liked if i in catalog}),
        "disliked": sorted({catalog.canonical_id(i) for i in disliked if i in catalog}),
        "liked_people": list(u.liked_people),
        "disliked_people": list(u.disliked_people),
        "people": people,
        "genres_include": sorted(c.genres),
        "genres_exclude": sorted(c.exclude_genres),
        "tags_include": [],
        "tags_exclude": sorted(c.exclude_topics),
        "year_min": c.year_min,
        "year_max": c.year_max,
        "refs": [catalog.canonical_id(i) for i in refs if i in catalog],
        "attribute": u.attribute,
    }


# ---------------------------------------------------------------------------- scoring


def members(reading: Mapping[str, Any], name: str) -> set:
    """The members of field ``name`` of a gold or predicted reading (what P/R/F1 count)."""
    if name == "years":
        return {f"{k}:{reading[k]}" for k in ("year_min", "year_max") if reading.get(k) is not None}
    if name == "attribute":
        return {reading["attribute"]} if reading.get("attribute") else set()
    if name == "exclusions":
        return {f"g:{g}" for g in reading.get("genres_exclude", ())} | {f"t:{t}" for t in reading.get("tags_exclude", ())}
    if name in ("liked_people", "disliked_people"):
        return {norm_person(p) for p in reading.get(name, ())}
    if name == "people":
        return {norm_person(p["name"]) for p in reading.get("people", ())}
    return set(reading.get(name, ()))


@dataclass
class Tally:
    """True positives, false positives and false negatives of one field."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set, pred: set) -> None:
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    def scores(self) -> dict[str, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}


def _people_tally(tally: Tally, gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any]]) -> None:
    """People count as found when the name matches and the role does too (a gold role of null takes any)."""
    want = {norm_person(p["name"]): p.get("role") for p in gold}
    got = {norm_person(p["name"]): p.get("role") for p in pred}
    hit = {n for n, role in want.items() if n in got and (role is None or got[n] == role)}
    tally.tp += len(hit)
    tally.fn += len(want) - len(hit)
    tally.fp += len(got) - len(hit)


def score_readings(pairs: Iterable[tuple[Example, Mapping[str, Any]]]) -> dict[str, Any]:
    """Intent accuracy, the confusion counts and per-field P/R/F1 of (example, predicted reading) pairs.

    ``refs`` is counted on :data:`REF_INTENTS` examples only; ``people`` matches name and role.
    """
    tallies = {name: Tally() for name in SET_FIELDS}
    confusion: Counter[tuple[str, str]] = Counter()
    n = correct = 0
    for ex, pred in pairs:
        n += 1
        confusion[(ex.intent, pred["intent"])] += 1
        correct += ex.intent == pred["intent"]
        for name in SET_FIELDS:
            if name == "refs" and ex.intent not in REF_INTENTS:
                continue
            if name == "people":
                _people_tally(tallies[name], ex.gold["people"], pred["people"])
            else:
                tallies[name].add(members(ex.gold, name), members(pred, name))
    return {"n": n, "intent_accuracy": round(correct / n, 4) if n else 0.0,
            "fields": {name: t.scores() for name, t in tallies.items()},
            "confusion": {f"{g}->{p}": k for (g, p), k in sorted(confusion.items())}}


# ---------------------------------------------------------------------------- end to end


def constraint_violations(items: Sequence[Item], gold: Mapping[str, Any]) -> list[str]:
    """What a slate breaks of the constraints a gold reading states (empty: it honours all of them).

    An empty slate honours nothing. Included genres are met by any one of them (the filter's
    semantics); people asked for (named, neither liked nor disliked) must each be in every item.
    """
    if not items:
        return ["empty slate"]
    out = []
    include, exclude = set(gold["genres_include"]), set(gold["genres_exclude"])
    disliked_people = {norm_person(p) for p in gold["disliked_people"]}
    stance_people = disliked_people | {norm_person(p) for p in gold["liked_people"]}
    asked = {norm_person(p["name"]) for p in gold["people"]} - stance_people
    for item in items:
        keys = item_genre_keys(item)
        names = {norm_person(p) for p in (*item.directors, *item.cast)}
        if keys & exclude:
            out.append(f"{item.item_id} has excluded {sorted(keys & exclude)}")
        if include and not keys & include:
            out.append(f"{item.item_id} has none of {sorted(include)}")
        if gold["year_min"] is not None and (item.year is None or item.year < gold["year_min"]):
            out.append(f"{item.item_id} year {item.year} < {gold['year_min']}")
        if gold["year_max"] is not None and (item.year is None or item.year > gold["year_max"]):
            out.append(f"{item.item_id} year {item.year} > {gold['year_max']}")
        if asked - names:
            out.append(f"{item.item_id} lacks {sorted(asked - names)}")
        if names & disliked_people:
            out.append(f"{item.item_id} has disliked {sorted(names & disliked_people)}")
        if item.item_id in gold["disliked"]:
            out.append(f"{item.item_id} is disliked")
        for topic in gold["tags_exclude"]:
            if has_topic(item, topic):
                out.append(f"{item.item_id} is about excluded {topic!r}")
    return out


def states_constraints(gold: Mapping[str, Any]) -> bool:
    """Whether a gold reading of a slate turn states any constraint the slate can be checked against."""
    return gold["intent"] in SLATE_INTENTS and bool(
        gold["genres_include"] or gold["genres_exclude"] or gold["tags_exclude"] or gold["year_min"] is not None
        or gold["year_max"] is not None or gold["disliked"] or gold["disliked_people"]
        or {p["name"] for p in gold["people"]} - set(gold["liked_people"]) - set(gold["disliked_people"]))


def expected_answers(gold: Mapping[str, Any], catalog: Catalog) -> list[str]:
    """Strings of which the reply to a question must contain one (empty: not checkable)."""
    items = [catalog[i] for i in gold["refs"] if i in catalog]
    attribute = gold["attribute"]
    if not items or attribute is None:
        return []
    first = items[0]
    if attribute == "director":
        return list(first.directors)
    if attribute == "cast":
        return list(first.cast[:3])
    if attribute == "year":
        return [str(first.year)] if first.year else []
    if attribute in ("genre", "about"):
        return [*first.genres, *sorted(item_genre_keys(first))] + (list(first.tags[:3]) if attribute == "about" else [])
    dated = [it for it in items if it.year]
    if attribute in ("newest", "oldest") and dated:
        pick = max if attribute == "newest" else min
        best = pick(it.year for it in dated)
        return [it.title for it in dated if it.year == best]
    if attribute == "has_person":
        wanted = {norm_person(p["name"]) for p in gold["people"]}
        return [it.title for it in items if wanted & {norm_person(p) for p in (*it.directors, *it.cast)}]
    if attribute == "has_genre":
        wanted = set(gold["genres_include"])
        return [it.title for it in items if item_genre_keys(it) & wanted]
    return []


def answer_is_right(reply: str, expected: Sequence[str]) -> bool:
    low = reply.lower()
    return any(e.lower() in low for e in expected if e)


# ---------------------------------------------------------------------------- the evaluation


def evaluate(engine: ChatEngine, examples: Sequence[Example], *, split: str = "heldout",
             end_to_end: bool = True, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Score ``engine``'s understanding on ``examples``; with ``end_to_end`` also its slates and answers.

    Returns ``{"n", "split", "intent_accuracy", "fields": {name: {precision, recall, f1}},
    "constraint_satisfaction"}`` plus ``details`` (confusion counts, per-turn failures) that the
    CLI prints and leaves out of its JSON. ``fields["answers"]``: precision over the turns the
    engine read as a question, recall over the gold questions.
    """
    pairs = []
    for ex in examples:
        state = replay(engine, ex)
        pairs.append((ex, reading_of(engine.understand(state, ex.text), engine.catalog)))
    report = score_readings(pairs)
    satisfied = checked = answered = right = asked = 0
    failures: list[dict[str, Any]] = []
    if end_to_end:
        for ex, pred in pairs:
            constrained = states_constraints(ex.gold)
            expected = expected_answers(ex.gold, engine.catalog) if ex.intent in ANSWER_INTENTS else []
            if not constrained and not expected and pred["intent"] not in ANSWER_INTENTS:
                continue
            result = engine.respond(replay(engine, ex), ex.text)
            if constrained:
                checked += 1
                broken = constraint_violations([r.item for r in result.recommendations], ex.gold)
                satisfied += not broken
                if broken:
                    failures.append({"id": ex.id, "text": ex.text, "broken": broken[:3]})
            if pred["intent"] in ANSWER_INTENTS:
                answered += 1
            if expected:
                asked += 1
                ok = answer_is_right(result.reply, expected)
                right += ok
                if ok and pred["intent"] not in ANSWER_INTENTS:
                    answered += 1  # a right answer under another intent still answered
        if log:
            log(f"end to end: {checked} constrained turns, {asked} questions")
    p = right / answered if answered else (1.0 if not asked else 0.0)
    r = right / asked if asked else 1.0
    report["fields"]["answers"] = {"precision": round(p, 4), "recall": round(r, 4),
                                   "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}
    return {
        "n": report["n"],
        "split": split,
        "intent_accuracy": report["intent_accuracy"],
        "fields": report["fields"],
        "constraint_satisfaction": round(satisfied / checked, 4) if checked else 1.0,
        "details": {"confusion": report["confusion"], "constrained_turns": checked, "questions": asked,
                    "failures": failures},
    }


def public_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report's JSON keys (others' checks read exactly these)."""
    return {key: report[key] for key in ("n", "split", "intent_accuracy", "fields", "constraint_satisfaction")}


def format_table(report: Mapping[str, Any]) -> str:
    """Per-field scores, intent accuracy, the intent confusion table and constraint satisfaction as text."""
    lines = [f"understanding: {report['n']} messages ({report['split']})",
             f"intent accuracy        {report['intent_accuracy']:.3f}",
             f"constraint satisfaction {report['constraint_satisfaction']:.3f} "
             f"({report['details']['constrained_turns']} constrained turns)", "",
             f"{'field':<18}{'precision':>10}{'recall':>8}{'f1':>8}"]
    for name, s in report["fields"].items():
        lines.append(f"{name:<18}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}")
    counts: Counter[tuple[str, str]] = Counter()
    for key, k in report["details"]["confusion"].items():
        g, p = key.split("->")
        counts[(g, p)] = k
    predicted = sorted({p for _, p in counts})
    lines += ["", "intent confusion (rows: gold, columns: predicted)",
              f"{'':<13}" + "".join(f"{p[:7]:>8}" for p in predicted)]
    for g in GOLD_INTENTS:
        if any(gg == g for gg, _ in counts):
            lines.append(f"{g:<13}" + "".join(f"{counts.get((g, p), 0) or '.':>8}" for p in predicted))
    return "\n".join(lines)
