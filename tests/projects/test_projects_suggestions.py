"""Suggestions measured for anchoring, through every project store (SQLite and PostgreSQL).

Guards issue 28 part 5: on the suggested share of a project's tasks ``next_task`` carries the
engine's verdicts and the control share never does (the arm is fixed per task, so every annotator
of a task sees the same); each submission stores the suggestion and whether the annotator kept
it; ``suggestion_report`` gives acceptance and agreement per arm; a bad share names the value.
"""

from __future__ import annotations

import pytest
from projects_support import STORES, seed_project, service, use_kind

from workbench.errors import ProjectError
from workbench.projects.suggestions import arm_of, engine_verdicts, suggestion_meta
from workbench.quality.suggestions import suggestion_report


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


def test_suggested_tasks_show_verdicts_control_tasks_never_do(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, "p", tasks=12, overlap=2)
    svc.store.set_meta("p", suggestion_meta(0.5))
    arms = {f"t{i:02d}": arm_of("p", f"t{i:02d}", 0.5) for i in range(12)}
    assert set(arms.values()) == {"suggested", "control"}  # both arms present in 12 tasks
    seen = {}
    for who in ("ann", "bob"):
        while not (task := svc.next_task("p", who)).get("done"):
            seen.setdefault(task["task_id"], []).append(task.get("suggestions"))
            verdicts = task.get("suggestions") or engine_verdicts(task["items"])
            # ann keeps every verdict (suggested or not); bob flips the first item's
            marks = {i: {"label": v} for i, v in verdicts.items()}
            if who == "bob":
                first = task["items"][0]["item_id"]
                marks[first] = {"label": "dislike" if verdicts[first] == "like" else "like"}
            svc.submit_task("p", task["task_id"], who, marks, "", "")
    for task_id, shown in seen.items():
        if arms[task_id] == "control":
            assert shown == [None, None]
        else:
            assert shown[0] == shown[1] == {"1": "like", "3": "like", "8": "dislike"}  # scores 1, 1/2 (the median), 1/3
    outcomes = {(t, who): o for t, who, o in svc.store.suggestion_outcomes("p")}
    assert len(outcomes) == 24
    some = next(t for t, a in arms.items() if a == "suggested")
    assert outcomes[(some, "ann")] == {"arm": "suggested", "verdicts": {"1": "like", "3": "like", "8": "dislike"},
                                       "kept": {"1": True, "3": True, "8": True}}
    assert outcomes[(some, "bob")]["kept"] == {"1": False, "3": True, "8": True}
    report = suggestion_report(svc.store, "p")
    n_suggested = sum(a == "suggested" for a in arms.values())
    assert report["share"] == 0.5
    assert report["suggested"]["tasks"] == n_suggested and report["control"]["tasks"] == 12 - n_suggested
    for arm in ("suggested", "control"):
        assert report[arm]["acceptance"] == pytest.approx(5 / 6)
        assert report[arm]["alpha_item_label"] is not None and report[arm]["units"] == 3 * report[arm]["tasks"]


def test_projects_without_suggestions_store_no_outcome(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, "p", tasks=1, overlap=1)
    task = svc.next_task("p", "ann")
    assert "suggestions" not in task
    svc.submit_task("p", task["task_id"], "ann", {"1": {"label": "like"}}, "", "")
    assert svc.store.suggestion_outcomes("p") == []
    assert suggestion_report(svc.store, "p")["suggested"]["acceptance"] is None


@pytest.mark.parametrize("share", [-0.1, 1.5, "half", True])
def test_a_bad_share_names_the_value(share):
    with pytest.raises(ProjectError, match=f"--suggestions: must be a share of tasks from 0 to 1.*got {share!r}"):
        suggestion_meta(share)


def test_the_annotate_tab_prefills_suggestions_and_an_earlier_answer_wins():
    from workbench.ui.annotate_tab import render_task

    items = [{"item_id": i, "title": f"Film {i}", "rank": r} for r, i in enumerate(("1", "3"), start=1)]
    current = {"project": "p", "task_id": "t00", "annotator": "ann", "items": ["1", "3"]}
    view = {"task_id": "t00", "messages": [], "reply": "", "items": items,
            "suggestions": {"1": "like", "3": "dislike"}}
    out = render_task(current, view, "ann")
    assert [out[7 + 4 * slot + 2] for slot in range(2)] == ["like", "dislike"]  # each card's verdict radio
    previous = {**view, "previous": {"judgements": {"1": {"label": "dislike", "rating": 2}}, "version": 1}}
    out = render_task(current, previous, "ann")
    assert [out[7 + 4 * slot + 2] for slot in range(2)] == ["dislike", None]
    plain = render_task(current, {k: v for k, v in view.items() if k != "suggestions"}, "ann")
    assert [plain[7 + 4 * slot + 2] for slot in range(2)] == [None, None]  # the control: nothing pre-filled
