"""The Annotate tab's handlers as plain functions, over a seeded project and the real stores.

Guards: the name is required before the first task (a clear message, nothing claimed); ``?project=``
selects an existing project and names a missing one; the tab lists projects created after the
demo was built; widget values become ``/feedback``-style judgements and the record lands with the
stored reply and slate; Skip passes the task on; Back reopens the previous answer filled in; an
empty project shows "done"; the progress line reads "task N of M · you: K submitted · project: P%
complete"; stored texts are escaped; the demo has the tab, its stable ids and the shortcuts script.
"""

from __future__ import annotations

import gradio as gr
import pytest
from projects_support import SLATE_IDS, seed_project
from ui_support import make_services

from workbench.errors import ProjectError, WorkbenchError
from workbench.limits import MAX_SLATE
from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore
from workbench.projects.summary import progress_line
from workbench.ui import annotate_tab as at
from workbench.ui import build_demo, launch_options


@pytest.fixture
def services(tiny_catalog, tmp_path):
    s = make_services(tiny_catalog, tmp_path / "feedback")
    s.projects = ProjectService(SQLiteProjectStore(projects_path(tmp_path / "feedback")), s.store)
    seed_project(s.projects.store, "p", tasks=3, overlap=2)
    return s


def cards(values_by_slot: dict[int, tuple]) -> list:
    flat = [None] * (MAX_SLATE * at.FIELDS_PER_CARD)
    for slot, (verdict, rating) in values_by_slot.items():
        flat[slot * 2], flat[slot * 2 + 1] = verdict, rating
    return flat


def test_a_name_is_required_before_the_first_task(services):
    with pytest.raises(ProjectError, match="enter your name"):
        at.annotator_of("   ", None)
    assert at.annotator_of(" ann  lee ", None) == "ann lee"
    assert at.annotator_of("typed", {"preferred_username": "hf-user"}) == "hf-user"  # the login wins
    assert services.projects.progress("p")["per_annotator"] == {}


def test_query_parameter_selects_a_project_and_names_a_missing_one(services):
    assert at.pick_project(services, "p") == (["p"], "p")
    assert at.pick_project(services, "") == (["p"], None)
    with pytest.raises(ProjectError, match="unknown project 'nope' in the address \\(projects: p\\)"):
        at.pick_project(services, "nope")


def test_projects_created_while_the_app_runs_are_listed(services):
    build_demo(services)
    seed_project(services.projects.store, "later", tasks=1, overlap=1)
    assert at.pick_project(services, "later") == (["later", "p"], "later")


def test_open_submit_and_the_record_carries_the_stored_answer(services):
    current, view = at.open_next_task(services, "p", "ann")
    assert current == {"project": "p", "task_id": view["task_id"], "annotator": "ann", "items": list(SLATE_IDS)}
    out = at.render_task(current, view, "ann")
    assert out[0] == current and out[1] == "task 1 of 3 · you: 0 submitted · project: 0% complete"
    assert out[2][-1] == {"role": "assistant", "content": view["reply"]}
    first_card = out[7:11]
    assert first_card[0]["visible"] and 'data-item-id="1"' in first_card[1]
    assert out[7 + 4 * len(SLATE_IDS)]["visible"] is False  # spare slots hidden
    saved = at.submit_task(services, current, "like", " good ", cards({1: ("like", "4")}))
    assert saved["saved"] and saved["progress"]["per_annotator"] == {"ann": {"submitted": 1, "skipped": 0}}
    (record,) = services.store.read()
    assert (record.project, record.task_id, record.annotator) == ("p", view["task_id"], "ann")
    assert record.reply == view["reply"] and record.reply_label == "like" and record.comment == "good"
    assert [(j.item_id, j.label, j.rating) for j in record.slate] == [
        ("1", None, None), ("3", "like", 4), ("8", None, None)]
    nxt, view2 = at.open_next_task(services, "p", "ann")
    assert nxt["task_id"] != current["task_id"]
    assert at.render_task(nxt, view2, "ann")[1].startswith("task 2 of 3 · you: 1 submitted")


def test_bad_values_name_the_value_and_write_nothing(services):
    current, _ = at.open_next_task(services, "p", "ann")
    with pytest.raises(WorkbenchError, match="card 1 \\(1\\): rating must be 1-5, got 'x'"):
        at.submit_task(services, current, "", "", cards({0: (None, "x")}))
    with pytest.raises(WorkbenchError, match="cannot be rated"):
        at.submit_task(services, current, "", "", cards({0: ("not_seen", "3")}))
    with pytest.raises(WorkbenchError, match="no task is open"):
        at.submit_task(services, None, "like", "", cards({}))
    with pytest.raises(WorkbenchError, match="pick a project first"):
        at.open_next_task(services, None, "ann")
    assert len(services.store.read()) == 0


def test_skip_passes_the_task_on_and_back_reopens_the_answer(services):
    current, view = at.open_next_task(services, "p", "ann")
    at.submit_task(services, current, "dislike", "meh", cards({2: ("dislike", "2")}))
    second, _ = at.open_next_task(services, "p", "ann")
    skipped = at.skip_task(services, second, "off-topic")
    assert skipped["skipped"] and skipped["progress"]["per_annotator"]["ann"] == {"submitted": 1, "skipped": 1}
    back, back_view = at.back_task(services, "p", "ann")
    assert back["task_id"] == second["task_id"]  # the skip first
    back, back_view = at.back_task(services, "p", "ann")
    assert back["task_id"] == current["task_id"]
    out = at.render_task(back, back_view, "ann")
    assert out[4]["value"] == "dislike" and out[5]["value"] == "meh" and "changing your earlier answer" in out[1]
    assert out[7 + 2 * 4 + 2:7 + 2 * 4 + 4] == ["dislike", "2"]  # card 3's verdict and rating
    at.submit_task(services, back, "like", "", cards({2: ("like", "5")}))
    assert services.projects.progress("p")["submissions"] == 1  # changed, not counted twice
    with pytest.raises(ProjectError, match="nothing to go back to"):
        at.back_task(services, "p", "newcomer")


def test_done_when_nothing_is_left(services):
    seed_project(services.projects.store, "one", tasks=1, overlap=1)
    current, view = at.open_next_task(services, "one", "ann")
    at.submit_task(services, current, "like", "", cards({}))
    current, view = at.open_next_task(services, "one", "ann")
    assert current is None and view["done"]
    out = at.render_task(current, view, "ann")
    assert out[3]["value"] == at.DONE and out[3]["visible"]
    assert out[1] == "1 of 1 tasks answered · you: 1 submitted · project: 100% complete"


def test_progress_line_formats():
    progress = {"tasks": 40, "complete": 12, "per_annotator": {"ann": {"submitted": 9, "skipped": 2}}}
    assert progress_line(progress, "ann") == "task 12 of 40 · you: 9 submitted, 2 skipped · project: 30% complete"
    assert progress_line(progress, "bob") == "task 1 of 40 · you: 0 submitted · project: 30% complete"
    assert progress_line(progress) == "40 tasks · project: 30% complete"


def test_stored_texts_are_escaped():
    html = at.item_card_html({"item_id": "1", "title": "<img src=x onerror=alert(1)>", "rank": 1, "score": 0.5,
                              "sources": {"content": 0.5}, "reason": "<b>r</b>"})
    assert "<img" not in html and "&lt;img" in html and "&lt;b&gt;" in html
    msgs = at.conversation({"messages": [{"role": "user", "content": "<script>x</script>"}], "reply": "ok"})
    assert msgs[0]["content"] == "&lt;script&gt;x&lt;/script&gt;"


def test_no_project_store_is_a_clear_message(tiny_catalog, tmp_path):
    bare = make_services(tiny_catalog, tmp_path / "fb")
    assert at.pick_project(bare, "") == ([], None)
    with pytest.raises(ProjectError, match="not available on this server"):
        at.open_next_task(bare, "p", "ann")


def test_the_demo_has_the_tab_stable_ids_and_the_shortcuts(services):
    demo = build_demo(services)
    ids = {b.elem_id for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    assert {"wb-ann-tab", "wb-ann-project", "wb-ann-annotator", "wb-ann-submit", "wb-ann-skip", "wb-ann-back",
            "wb-ann-card-0", "wb-ann-rating-0", "wb-ann-verdict-0", "wb-ann-guidelines"} <= ids
    assert [t.label for t in demo.blocks.values() if isinstance(t, gr.Tab)] == ["Chat", "Annotate", "Dashboard", "Arena",
                                                                                     "Review"]
    assert all(c.sanitize_html for c in demo.blocks.values() if isinstance(c, gr.Chatbot))
    head = launch_options()["head"]
    assert "wb-ann-submit" in head and "beforeunload" in head
    for key in ("J", "K", "1", "L", "D", "Enter", "S"):
        assert f"**{key}" in at.SHORTCUTS


def test_with_sign_in_on_project_tasks_belong_to_the_signed_in_user(tiny_catalog, tmp_path):
    """Issue 19 item 3 for projects: with auth on, the tab and the endpoints judge as the signed-in user."""
    from types import SimpleNamespace

    from workbench.ui.projects_api import next_task_api, submit_task_api

    s = make_services(tiny_catalog, tmp_path / "feedback", auth="ann:pw")
    s.projects = ProjectService(SQLiteProjectStore(projects_path(tmp_path / "feedback")), s.store)
    seed_project(s.projects.store, "p", tasks=2, overlap=1)
    ann = SimpleNamespace(username="ann")
    assert at.annotator_of("mallory", None, services=s, request=ann) == "ann"  # the typed name is ignored
    with pytest.raises(WorkbenchError, match="sign in first"):
        at.annotator_of("ann", None, services=s, request=SimpleNamespace(username=None))
    with pytest.raises(WorkbenchError, match="'mallory' is not the signed-in user 'ann'"):
        next_task_api(s, "p", "mallory", request=ann)
    task = next_task_api(s, "p", "", request=ann)
    saved = submit_task_api(s, "p", task["task_id"], "", {SLATE_IDS[0]: {"label": "like"}}, request=ann)
    (record,) = [r for r in s.store.read().records if r.record_id == saved["record_id"]]
    assert record.annotator == "ann" and record.project == "p"
