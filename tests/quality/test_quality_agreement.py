"""Agreement (Krippendorff's alpha per question, per-annotator majority agreement, split units) and
``python -m workbench project agreement``.

Alpha is checked against the ``krippendorff`` package and against Krippendorff's published worked
examples, so a change in how units, codes or the value domain are built shows up as a wrong number.
"""

from __future__ import annotations

import dataclasses
import json

import krippendorff
import numpy as np
import pytest
from projects_support import seed_project, service

from workbench.cli import main
from workbench.feedback.record import make_record
from workbench.quality.agreement import (
    Judgement,
    agreement,
    judgements_from_records,
    krippendorff_alpha,
    per_annotator,
    project_agreement,
)

N = None
#: Krippendorff (2011), "Computing Krippendorff's alpha-reliability", C: 4 observers x 12 units, nominal.
PAPER = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
         "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
         "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
         "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N]}
#: The ``krippendorff`` package's README example: 3 coders x 15 units.
README = {"a": [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
          "b": [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
          "c": [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4]}


def units_of(table: dict[str, list]) -> dict[int, dict[str, int]]:
    width = len(next(iter(table.values())))
    return {u: {who: row[u] for who, row in table.items() if row[u] is not None} for u in range(width)}


def package_alpha(table: dict[str, list], level: str) -> float:
    data = np.array([[np.nan if v is None else v for v in row] for row in table.values()], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def test_published_nominal_example_gives_0_743():
    alpha, units, note = krippendorff_alpha(units_of(PAPER), "nominal", [1, 2, 3, 4, 5])
    assert alpha == pytest.approx(0.743, abs=5e-4) and alpha == pytest.approx(package_alpha(PAPER, "nominal"))
    assert units == 11 and note == ""  # unit 12 has one value: not pairable


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_readme_example_matches_the_package(level):
    alpha, _, _ = krippendorff_alpha(units_of(README), level, [1, 2, 3, 4])
    assert alpha == pytest.approx(package_alpha(README, level))
    if level == "nominal":
        assert alpha == pytest.approx(0.691358, abs=1e-6)


def test_perfect_agreement_is_1():
    table = {"a": [1, 2, 3, 1], "b": [1, 2, 3, 1], "c": [1, 2, N, 1]}
    assert krippendorff_alpha(units_of(table), "nominal", [1, 2, 3])[0] == pytest.approx(1.0)


def test_not_enough_overlap_gives_no_alpha():
    """Free-chat turns: two annotators rarely share a turn; one shared unit is no basis for alpha."""
    js = [Judgement("reply_label", f"s{i}#0", "", f"u{i}", "like") for i in range(5)]
    js += [Judgement("reply_label", "s0#0", "", "u9", "dislike")]
    result = agreement(js).questions["reply_label"]
    assert result.alpha is None and result.units == 1 and result.note == "not enough overlap"
    assert agreement([]).questions["item_rating"].alpha is None


def test_no_variation_gives_no_alpha_rather_than_an_error():
    js = [Judgement("reply_label", t, "", a, "like") for t in ("t1", "t2") for a in ("a", "b")]
    assert agreement(js).questions["reply_label"].note.startswith("no variation")


def test_per_annotator_agreement_with_the_majority_of_the_others():
    tables = {"item_label": {
        ("t1", "1"): {"a": "like", "b": "like", "c": "like"},
        ("t1", "3"): {"a": "like", "b": "like", "c": "dislike"},
        ("t2", "1"): {"a": "dislike", "b": "like", "c": "like"},
        ("t3", "1"): {"c": "not_seen"},
    }}
    rows = per_annotator(tables)
    assert rows["a"] == {"units": 3, "agreement_with_majority": pytest.approx(2 / 3)}
    # c on (t1, 3): others are like, like -> disagree; on (t2, 1): others tie dislike/like -> agree.
    assert rows["c"] == {"units": 4, "agreement_with_majority": pytest.approx(2 / 3)}
    assert rows["b"]["agreement_with_majority"] == pytest.approx(1.0)


def _record(annotator: str, session: str, turn: int, reply_label: str, created_at: str, **kw):
    rec = make_record(annotator=annotator, session_id=session, turn_index=turn, conversation=[],
                      user_message="hi", reply="Try Film 1.", generator_backend="template", generator_model="",
                      slate=[{"item_id": "1", "title": "Film 1", "rank": 1, "score": 1.0}],
                      judgements={}, reply_label=reply_label, **kw)
    return dataclasses.replace(rec, created_at=created_at)


def test_latest_record_per_annotator_and_task_counts():
    old = _record("a", "p:x", 0, "dislike", "2024-01-01T00:00:00+00:00", project="x", task_id="t1")
    new = _record("a", "p:x", 0, "like", "2024-01-02T00:00:00+00:00", project="x", task_id="t1")
    free = _record("a", "s1", 0, "like", "2024-01-01T00:00:00+00:00")
    js = judgements_from_records([new, old, free], project="x")
    assert [(j.task, j.value) for j in js] == [("t1", "like")]
    assert [j.task for j in judgements_from_records([new, old, free])] == ["s1#0"]


def _annotate(svc, project: str, annotator: str, judge) -> None:
    while not (task := svc.next_task(project, annotator)).get("done"):
        marks, reply = judge(task["task_id"])
        svc.submit_task(project, task["task_id"], annotator, marks, reply)


def seeded_project(tmp_path):
    """Three tasks, overlap 2: a and b agree on labels of t00/t01, split on t02 and on every rating."""
    svc = service("sqlite", tmp_path)
    seed_project(svc.store, "p", tasks=3, overlap=2)
    _annotate(svc, "p", "a", lambda t: ({"1": {"label": "like", "rating": 4}, "3": {"label": "dislike"}}, "like"))
    _annotate(svc, "p", "b", lambda t: ({"1": {"label": "dislike" if t == "t02" else "like", "rating": 2},
                                         "3": {"label": "dislike"}}, "dislike" if t == "t02" else "like"))
    return svc


def test_project_agreement_counts_units_and_lists_split_tasks(tmp_path):
    svc = seeded_project(tmp_path)
    result = project_agreement(svc.store, "p")
    assert {q: a.units for q, a in result.questions.items()} == {"item_label": 6, "item_rating": 3, "reply_label": 3}
    assert result.questions["item_label"].alpha is not None
    assert result.questions["item_rating"].note.startswith("no variation") is False
    assert result.per_annotator["a"]["units"] == 12
    split = {(d["question"], d["task_id"], d["item_id"]) for d in result.disagreements}
    assert ("item_label", "t02", "1") in split and ("reply_label", "t02", "") in split
    assert ("item_label", "t00", "1") not in split


def test_cli_agreement_json_shape(tmp_path, capsys):
    seeded_project(tmp_path)
    assert main(["project", "agreement", "p", "--json", "--data-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"project", "alpha", "units", "per_annotator"} and out["project"] == "p"
    assert set(out["alpha"]) == set(out["units"]) == {"item_label", "item_rating", "reply_label"}
    assert all(v is None or isinstance(v, float) for v in out["alpha"].values())
    assert out["units"] == {"item_label": 6, "item_rating": 3, "reply_label": 3}
    assert set(out["per_annotator"]) == {"a", "b"}
    assert set(out["per_annotator"]["a"]) == {"units", "agreement_with_majority"}
    assert main(["project", "agreement", "p", "--data-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "item_label:" in text and "task t02" in text
    assert main(["project", "agreement", "nope", "--data-dir", str(tmp_path)]) == 2
