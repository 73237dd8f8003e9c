"""Inter-annotator agreement: Krippendorff's alpha per question, per annotator, and the split units.

A *judgement* is one annotator's answer to one question about one unit. Questions: ``item_label``
(nominal: like / dislike / not seen), ``item_rating`` (ordinal, 1-5) and ``reply_label`` (nominal).
Units: ``(task, item)`` for item questions and ``task`` for the reply question in a project;
outside projects a turn ``(session_id, turn_index)`` takes the task's place. Only the latest
answer of an annotator to a unit counts.

Alpha is computed with the ``krippendorff`` package over the units judged by at least two
annotators; with fewer than :data:`MIN_UNITS` such units it is ``None`` ("not enough overlap"),
and with no variation at all (every value the same) it is ``None`` too (alpha is undefined).

It knows judgements and the ``krippendorff`` package; it does not know stores or gradio.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.feedback.record import ITEM_LABELS, RATING_MAX, RATING_MIN, REPLY_LABELS, FeedbackRecord

#: question -> (level of measurement, value domain in order).
QUESTIONS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "item_label": ("nominal", ITEM_LABELS),
    "item_rating": ("ordinal", tuple(range(RATING_MIN, RATING_MAX + 1))),
    "reply_label": ("nominal", REPLY_LABELS),
}
#: Fewer units judged by two or more annotators than this: "not enough overlap", no alpha.
MIN_UNITS = 2
#: How many split units :func:`agreement` lists by default.
DISAGREEMENTS_SHOWN = 20


@dataclass(frozen=True)
class Judgement:
    """One annotator's answer to one question about one unit.

    ``task`` names the task (a project's task id, or ``session_id#turn`` outside projects);
    ``item`` is the item id for item questions and ``""`` for the reply question.
    """

    question: str
    task: str
    item: str
    annotator: str
    value: Any


@dataclass(frozen=True)
class QuestionAgreement:
    """Alpha of one question, over ``units`` units with at least two judgements (``note`` says why None)."""

    question: str
    alpha: float | None
    units: int
    note: str = ""


@dataclass(frozen=True)
class Agreement:
    """What :func:`agreement` reports; :meth:`to_dict` is the CLI's JSON."""

    questions: dict[str, QuestionAgreement]
    per_annotator: dict[str, dict[str, Any]]
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, project: str = "", *, disagreements: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "project": project,
            "alpha": {q: a.alpha for q, a in self.questions.items()},
            "units": {q: a.units for q, a in self.questions.items()},
            "per_annotator": self.per_annotator,
        }
        if disagreements:
            out["disagreements"] = self.disagreements
        return out


# ---------------------------------------------------------------------------
# judgements from records and project payloads


def judgements_of(record: Mapping[str, Any], task: str) -> list[Judgement]:
    """The judgements in one record's dict form (``FeedbackRecord.to_dict`` / a project payload)."""
    who = str(record["annotator"])
    out = []
    for item in record.get("slate") or []:
        if item.get("label") is not None:
            out.append(Judgement("item_label", task, str(item["item_id"]), who, item["label"]))
        if item.get("rating") is not None:
            out.append(Judgement("item_rating", task, str(item["item_id"]), who, int(item["rating"])))
    if record.get("reply_label"):
        out.append(Judgement("reply_label", task, "", who, record["reply_label"]))
    return out


def unit_task(record: FeedbackRecord) -> str:
    """The task a record judges: its project task id, or ``session_id#turn_index`` outside projects."""
    return record.task_id if record.project else f"{record.session_id}#{record.turn_index}"


def judgements_from_records(records: Iterable[FeedbackRecord], project: str | None = None) -> list[Judgement]:
    """Judgements of the latest record of each annotator on each task.

    Args:
        records: feedback records in any order (the newest ``created_at`` per annotator and task wins).
        project: keep only this project's records; ``None``: the records outside any project.
    """
    latest: dict[tuple[str, str], FeedbackRecord] = {}
    for r in records:
        if (r.project or None) != project:
            continue
        key = (r.annotator, unit_task(r))
        kept = latest.get(key)
        if kept is None or (r.created_at, r.record_id) > (kept.created_at, kept.record_id):
            latest[key] = r
    return [j for (_, task), r in latest.items() for j in judgements_of(r.to_dict(), task)]


def judgements_from_project(store: Any, project: str, guidelines_version: int | None = None) -> list[Judgement]:
    """Judgements of every annotator's latest submitted answer to each task of ``project``.

    Reads the project store's answers (an answer changed after ``back`` counts once, in its
    latest version; a submission later turned into a skip does not count). With
    ``guidelines_version``, only the answers made under that version of the guidelines.
    """
    return [j for a in store.submissions(project) if a.payload
            and (guidelines_version is None or a.guidelines_version == guidelines_version)
            for j in judgements_of(a.payload, a.task_id)]


# ---------------------------------------------------------------------------
# the numbers


def _tables(judgements: Iterable[Judgement]) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """question -> unit -> annotator -> value (the last judgement given wins)."""
    tables: dict[str, dict[tuple[str, str], dict[str, Any]]] = {q: defaultdict(dict) for q in QUESTIONS}
    for j in judgements:
        tables[j.question][(j.task, j.item)][j.annotator] = j.value
    return tables


def krippendorff_alpha(units: Mapping[Any, Mapping[str, Any]], level: str,
                       domain: Sequence[Any]) -> tuple[float | None, int, str]:
    """Alpha over ``units`` (unit -> annotator -> value); only units with two or more values count.

    Args:
        level: ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"`` (the package's words).
        domain: every possible value, in order (ordinal distances depend on it).

    Returns:
        ``(alpha, units, note)``: alpha is ``None`` with fewer than :data:`MIN_UNITS` pairable
        units (note ``"not enough overlap"``) or when every value is the same (alpha undefined).
    """
    import krippendorff
    import numpy as np

    shared = [v for v in units.values() if len(v) >= 2]
    if len(shared) < MIN_UNITS:
        return None, len(shared), "not enough overlap"
    if len({x for v in shared for x in v.values()}) < 2:
        return None, len(shared), "no variation: every judgement is the same"
    annotators = sorted({a for v in shared for a in v})
    row = {a: i for i, a in enumerate(annotators)}
    code = {value: i for i, value in enumerate(domain)}
    data = np.full((len(annotators), len(shared)), np.nan)
    for col, values in enumerate(shared):
        for who, value in values.items():
            data[row[who], col] = code[value]
    value = krippendorff.alpha(reliability_data=data, level_of_measurement=level,
                               value_domain=list(range(len(domain))))
    return float(value), len(shared), ""


def question_agreement(units: Mapping[Any, Mapping[str, Any]], question: str) -> QuestionAgreement:
    """:func:`krippendorff_alpha` of one of :data:`QUESTIONS`."""
    level, domain = QUESTIONS[question]
    return QuestionAgreement(question, *krippendorff_alpha(units, level, domain))


def _modes(values: Sequence[Any]) -> set[Any]:
    counts = Counter(values)
    top = max(counts.values())
    return {v for v, n in counts.items() if n == top}


def per_annotator(tables: Mapping[str, Mapping[tuple[str, str], Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """``{annotator: {"units", "agreement_with_majority"}}`` over every question.

    ``units``: how many (question, unit) judgements they gave. ``agreement_with_majority``: of
    those that someone else judged too, the share where their value is the most common value
    among the others (any of them on a tie); ``None`` when nobody else judged their units.
    """
    judged: Counter[str] = Counter()
    shared: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    for units in tables.values():
        for values in units.values():
            for who, value in values.items():
                judged[who] += 1
                others = [v for a, v in values.items() if a != who]
                if others:
                    shared[who] += 1
                    agreed[who] += value in _modes(others)
    return {who: {"units": judged[who],
                  "agreement_with_majority": agreed[who] / shared[who] if shared[who] else None}
            for who in sorted(judged)}


def disagreements(tables: Mapping[str, Mapping[tuple[str, str], Mapping[str, Any]]],
                  limit: int = DISAGREEMENTS_SHOWN) -> list[dict[str, Any]]:
    """The most split units first: ``{"question", "task_id", "item_id", "split", "judgements"}``.

    ``split`` is the share of judgements that differ from the unit's most common value (0 is
    unanimous; only units with a split above 0 are listed). Ties: more judgements first, then by task.
    """
    rows = []
    for question, units in tables.items():
        for (task, item), values in units.items():
            if len(values) < 2:
                continue
            top = Counter(values.values()).most_common(1)[0][1]
            split = 1 - top / len(values)
            if split > 0:
                rows.append({"question": question, "task_id": task, "item_id": item, "split": round(split, 4),
                             "judgements": dict(sorted(values.items()))})
    rows.sort(key=lambda r: (-r["split"], -len(r["judgements"]), r["task_id"], r["item_id"], r["question"]))
    return rows[:limit]


def agreement(judgements: Iterable[Judgement], *, limit: int = DISAGREEMENTS_SHOWN) -> Agreement:
    """Alpha per question, per-annotator agreement and the split units of ``judgements``."""
    tables = _tables(judgements)
    return Agreement({q: question_agreement(units, q) for q, units in tables.items()},
                     per_annotator(tables), disagreements(tables, limit))


def project_agreement(store: Any, project: str, *, limit: int = DISAGREEMENTS_SHOWN,
                      guidelines_version: int | None = None) -> Agreement:
    """:func:`agreement` of a project's latest submissions (``store``: a ProjectStore), optionally
    only those made under one ``guidelines_version``."""
    return agreement(judgements_from_project(store, project, guidelines_version), limit=limit)
