"""A simulated annotation team for the quality tests and ``bench/annotator_quality.py``.

Every task has a hidden true answer (a label and rating per slate item, a reply label); careful
annotators give it with a little noise, a ``random`` one answers at random, a ``straight`` one
likes every card with rating 5. Gold tasks expect the true answer. Time moves on an injected
clock: careful annotators take 20-60 s per task, the others 2-5 s. Everything is seeded.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from workbench.feedback.record import ITEM_LABELS, REPLY_LABELS

SLATE = ("1", "3", "8")


class Clock:
    """A clock the tests move by hand (no sleeping)."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def slate_answer(n: int) -> dict[str, Any]:
    """A stored engine answer with a three-item slate (titles 'Film 1', 'Film 3', 'Film 8')."""
    return {"reply": f"Try these, number {n}.", "generator": "template", "index_id": "test@0", "catalog_hash": "h",
            "intent": "recommend", "notes": [],
            "items": [{"item_id": i, "title": f"Film {i}", "rank": r, "score": 1.0 / r, "sources": {"content": 0.5},
                       "reason": "", "year": 2000, "genres": [], "directors": [], "cast": []}
                      for r, i in enumerate(SLATE, start=1)]}


def truth_of(rng: random.Random) -> dict[str, Any]:
    """A hidden true answer: ``{"judgements": {item: {"label", "rating"}}, "reply_label"}``."""
    judgements = {}
    for item in SLATE:
        label = rng.choices(ITEM_LABELS, weights=(5, 3, 2))[0]
        marks: dict[str, Any] = {"label": label}
        if label != "not_seen":
            marks["rating"] = rng.choice((4, 5)) if label == "like" else rng.choice((1, 2))
        judgements[item] = marks
    return {"judgements": judgements, "reply_label": rng.choice(REPLY_LABELS)}


def seed_team_project(store: Any, name: str = "team", *, tasks: int = 40, gold: int = 8, overlap: int = 3,
                      gold_rate: float = 0.2, seed: int = 7) -> dict[str, dict[str, Any]]:
    """A ready project of ``tasks`` tasks, the first ``gold`` of them gold tasks; returns the truths."""
    from workbench.projects.gold import set_gold_answer

    rng = random.Random(seed)
    rows = [{"id": f"t{i:03d}", "messages": [{"role": "user", "content": f"something like film {i}"}]}
            for i in range(tasks)]
    store.create_project(name, "# Rate the slate", overlap, {}, rows)
    truths = {}
    for i, row in enumerate(rows):
        store.set_answer(name, row["id"], slate_answer(i))
        truths[row["id"]] = truth_of(rng)
    for row in rows[:gold]:
        set_gold_answer(store, name, row["id"], truths[row["id"]])
    store.set_quality_settings(name, store.quality_settings(name).replace(gold_rate=gold_rate))
    store.set_state(name, "ready")
    return truths


def answer_as(kind: str, truth: Mapping[str, Any], rng: random.Random) -> tuple[dict[str, Any], str]:
    """``(judgements, reply_label)`` of an annotator of ``kind``: careful, random or straight."""
    if kind == "random":
        labels = {i: rng.choice(ITEM_LABELS) for i in SLATE}
        return ({i: {"label": label, **({"rating": rng.randint(1, 5)} if label != "not_seen" else {})}
                 for i, label in labels.items()}, rng.choice(REPLY_LABELS))
    if kind == "straight":
        return {i: {"label": "like", "rating": 5} for i in SLATE}, "like"
    judgements = {}
    for item, marks in truth["judgements"].items():
        label, rating = marks["label"], marks.get("rating")
        if rng.random() < 0.1:  # a careful annotator still slips now and then
            label = rng.choice(ITEM_LABELS)
        if rating is not None and rng.random() < 0.15:
            rating = min(5, max(1, rating + rng.choice((-1, 1))))
        rated = rating is not None and label != "not_seen"  # an unseen film cannot be rated
        judgements[item] = {"label": label, **({"rating": rating} if rated else {})}
    reply = truth["reply_label"] if rng.random() > 0.1 else rng.choice(REPLY_LABELS)
    return judgements, reply


def simulate_team(service: Any, project: str, truths: Mapping[str, Mapping[str, Any]], team: Mapping[str, str],
                  clock: Clock, *, seed: int = 11) -> dict[str, int]:
    """Let ``team`` (``name -> kind``) take turns until nobody has a task left; tasks answered per name."""
    rng = random.Random(seed)
    done: dict[str, int] = {name: 0 for name in team}
    active = list(team)
    while active:
        for name in list(active):
            task = service.next_task(project, name)
            if task.get("done"):
                active.remove(name)
                continue
            kind = team[name]
            clock.now += rng.uniform(20, 60) if kind == "careful" else rng.uniform(2, 5)
            judgements, reply = answer_as(kind, truths[task["task_id"]], rng)
            service.submit_task(project, task["task_id"], name, judgements, reply)
            done[name] += 1
    return done
