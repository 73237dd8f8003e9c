"""Per-annotator quality of a project: gold accuracy, agreement with the others, speed, habits.

:func:`project_quality` is the one report ``project quality --json``, the Dashboard and
``/metrics`` read. Per annotator, over their latest submission of each task:

* ``submitted``: ordinary (not gold) tasks submitted; ``gold_seen``: gold tasks submitted;
* ``gold_accuracy``: the share of the gold tasks' expected judgements they matched (every item
  label, item rating and reply label the gold answer gives counts once; a blank is a miss), with
  its 95% Wilson interval ``gold_interval``;
* ``agreement``: Krippendorff's alpha of everyone minus alpha without them (``alpha_all -
  alpha_without``), averaged over the questions (item label, item rating, reply label), weighted
  by their judgements on units someone else judged too. This "alpha if annotator deleted" is the
  coder analogue of the standard "alpha if item deleted" diagnostic: it is on the scale of the
  project's own alpha, needs no pseudo-annotator (comparing one person with a pooled "others" or a
  majority inflates agreement when the others disagree among themselves), and it answers the lead's
  question directly: would the data be more reliable without this person? Near 0 is ordinary;
  clearly negative means the project agrees more without them. ``None`` when alpha is undefined
  with or without them (too little overlap);
* ``median_seconds``: median time from claiming a task to submitting it (recorded by the store);
* ``labels`` and ``not_seen_share``: how often they chose each item label, and "haven't seen it";
* ``straight_run``: the most tasks in a row where every card got the same answer (the same one
  each time);
* ``flagged`` and ``reasons``: gold accuracy under ``min_gold_accuracy`` after ``min_gold_tasks``
  gold tasks, an agreement drop beyond ``max_agreement_drop``, or a straight run of
  ``straight_run`` tasks (the project's :class:`~workbench.projects.quality_settings.QualitySettings`).
  A flag is a report, not a filter: nothing is dropped.

It knows judgements, gold answers and the project store's read verbs; it does not know gradio.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from workbench.feedback.record import ITEM_LABELS
from workbench.projects.gold import score_gold, wilson_interval
from workbench.quality.agreement import QUESTIONS, Judgement, judgements_of, question_agreement
from workbench.quality.suggestions import suggestion_report

#: Figures in the report are rounded to this many decimals (the raw ones mean nothing finer).
DIGITS = 4


def _r(value: float | None, digits: int = DIGITS) -> float | None:
    return None if value is None else round(float(value), digits)


def _tables(judgements: Iterable[Judgement]) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    tables: dict[str, dict[tuple[str, str], dict[str, Any]]] = {q: defaultdict(dict) for q in QUESTIONS}
    for j in judgements:
        tables[j.question][(j.task, j.item)][j.annotator] = j.value
    return tables


def leave_one_out(judgements: Sequence[Judgement]) -> dict[str, dict[str, Any]]:
    """``annotator -> {"agreement", "by_question"}``: alpha of all minus alpha without them.

    ``by_question`` maps each question to ``{"alpha_all", "alpha_without", "delta", "units"}``
    (``units``: their judgements on units judged by someone else too, the weight of the question).
    """
    tables = _tables(judgements)
    everyone = sorted({j.annotator for j in judgements})
    alpha_all = {q: question_agreement(units, q).alpha for q, units in tables.items()}
    out: dict[str, dict[str, Any]] = {}
    for who in everyone:
        by_question: dict[str, Any] = {}
        weighted, weight = 0.0, 0
        for q, units in tables.items():
            shared = sum(1 for values in units.values() if who in values and len(values) >= 2)
            without = {u: {a: v for a, v in values.items() if a != who} for u, values in units.items()}
            alpha_wo = question_agreement(without, q).alpha if shared else None
            delta = alpha_all[q] - alpha_wo if alpha_all[q] is not None and alpha_wo is not None else None
            by_question[q] = {"alpha_all": _r(alpha_all[q]), "alpha_without": _r(alpha_wo), "delta": _r(delta),
                              "units": shared}
            if delta is not None:
                weighted, weight = weighted + delta * shared, weight + shared
        out[who] = {"agreement": _r(weighted / weight) if weight else None, "by_question": by_question}
    return out


def card_answer(payload: Mapping[str, Any]) -> tuple[Any, Any] | None:
    """The one ``(label, rating)`` every card of a submission got, or ``None`` when they differ
    (or nothing was judged, or the slate has a single card)."""
    cards = [(c.get("label"), c.get("rating")) for c in payload.get("slate") or []]
    if len(cards) < 2 or len(set(cards)) != 1 or cards[0] == (None, None):
        return None
    return cards[0]


def longest_straight_run(payloads: Sequence[Mapping[str, Any]]) -> int:
    """The most consecutive submissions (in order) whose cards all got one and the same answer."""
    best = run = 0
    last: tuple[Any, Any] | None = None
    for payload in payloads:
        answer = card_answer(payload)
        run = 0 if answer is None else (run + 1 if answer == last else 1)
        last = answer
        best = max(best, run)
    return best


def label_counts(payloads: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many cards got each item label (every label listed, zeros included)."""
    counts = Counter(c["label"] for p in payloads for c in p.get("slate") or [] if c.get("label") is not None)
    return {label: counts.get(label, 0) for label in ITEM_LABELS}


def _reasons(row: Mapping[str, Any], settings: Any) -> list[str]:
    reasons = []
    acc = row["gold_accuracy"]
    if acc is not None and row["gold_seen"] >= settings.min_gold_tasks and acc < settings.min_gold_accuracy:
        reasons.append(f"gold accuracy {acc:.2f} below {settings.min_gold_accuracy:.2f} after "
                       f"{row['gold_seen']} gold tasks")
    agreement = row["agreement"]
    if agreement is not None and agreement < -settings.max_agreement_drop:
        reasons.append(f"the project's alpha is {-agreement:.2f} higher without them "
                       f"(limit {settings.max_agreement_drop:.2f})")
    if row["straight_run"] >= settings.straight_run:
        reasons.append(f"straight-lining: the same answer on every card of {row['straight_run']} tasks in a row")
    return reasons


def project_quality(store: Any, project: str, *, guidelines_version: int | None = None) -> dict[str, Any]:
    """The quality report of ``project`` (``store``: a ProjectStore); see the module docstring.

    Args:
        guidelines_version: only the submissions made under this version of the guidelines.

    Returns:
        ``{"project", "annotators": {name: {"submitted", "gold_seen", "gold_accuracy",
        "agreement", "median_seconds", "flagged", "reasons", ...}}, "alpha", "settings",
        "guidelines_version", "versions", "suggestions"}``; ``suggestions`` is
        :func:`workbench.quality.suggestions.suggestion_report` (acceptance and agreement of the
        items with and without the engine's suggestions).
    """
    settings = store.quality_settings(project)
    gold = store.gold(project)
    every = store.submissions(project)
    versions = _versions(every)
    subs = [s for s in every if s.payload and (guidelines_version is None
                                                or s.guidelines_version == guidelines_version)]
    judgements = [j for s in subs for j in judgements_of(s.payload, s.task_id)]
    loo = leave_one_out(judgements)
    by_annotator: dict[str, list[Any]] = defaultdict(list)
    for s in sorted(subs, key=lambda s: (s.created_at, s.task_id)):
        by_annotator[s.annotator].append(s)
    annotators = {}
    for who in sorted(by_annotator):
        mine = by_annotator[who]
        matched = expected = seen = 0
        for s in mine:
            if s.task_id in gold:
                m, n = score_gold(gold[s.task_id], s.payload)
                matched, expected, seen = matched + m, expected + n, seen + 1
        interval = wilson_interval(matched, expected)
        seconds = [s.seconds for s in mine if s.seconds is not None]
        labels = label_counts(s.payload for s in mine)
        labelled = sum(labels.values())
        row: dict[str, Any] = {
            "submitted": sum(1 for s in mine if s.task_id not in gold),
            "gold_seen": seen,
            "gold_accuracy": _r(matched / expected) if expected else None,
            "agreement": loo.get(who, {}).get("agreement"),
            "median_seconds": _r(statistics.median(seconds), 1) if seconds else None,
            "flagged": False,
            "reasons": [],
            "gold_interval": [_r(interval[0]), _r(interval[1])] if interval else None,
            "gold_judgements": expected,
            "agreement_by_question": loo.get(who, {}).get("by_question", {}),
            "labels": labels,
            "not_seen_share": _r(labels["not_seen"] / labelled) if labelled else None,
            "straight_run": longest_straight_run([s.payload for s in mine]),
        }
        row["reasons"] = _reasons(row, settings)
        row["flagged"] = bool(row["reasons"])
        annotators[who] = row
    # Further sections of the report are added below, each under its own top-level key.
    return {
        "project": project,
        "annotators": annotators,
        "alpha": {q: _r(question_agreement(units, q).alpha) for q, units in _tables(judgements).items()},
        "settings": settings.to_dict(),
        "guidelines_version": guidelines_version,
        "versions": versions,
        "suggestions": suggestion_report(store, project),  # acceptance and agreement with and without them
    }


def _versions(subs: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """``{version: {"submissions", "alpha"}}``: agreement split by the guidelines version."""
    grouped: dict[int, list[Judgement]] = defaultdict(list)
    counts: Counter[int] = Counter()
    for s in subs:
        counts[s.guidelines_version] += 1
        grouped[s.guidelines_version] += judgements_of(s.payload or {}, s.task_id) if s.payload else []
    return {str(v): {"submissions": counts[v],
                     "alpha": {q: _r(question_agreement(units, q).alpha) for q, units in _tables(grouped[v]).items()}}
            for v in sorted(counts)}


def every_project_quality(service: Any) -> list[dict[str, Any]]:
    """:func:`project_quality` of every project of ``service`` (a ProjectService; ``None``: none),
    for ``/metrics``."""
    if service is None:
        return []
    return [project_quality(service.store, p.name) for p in service.store.projects()]
