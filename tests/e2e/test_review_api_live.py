"""``/next_review`` and ``/submit_review`` through ``gradio_client`` against a live server.

Guards the exact endpoint names and JSON shapes of issue 28 part 2: a disputed task comes with
every annotator's answer (who said what), the final answer saves and lands in the feedback store
as the reviewer's record with the note, the queue then says ``{"done": true}``; every bad request
(unknown project or task, not a reviewer, an item not on the slate, a bad label, a repeat) comes
back as a message naming the value and writes nothing. The Review tab's plain handlers run here too.
"""

from __future__ import annotations

import pytest
from gradio_client.exceptions import AppError
from projects_support import seed_project
from ui_support import make_services, serve_client

from workbench.projects.review_service import set_reviewers
from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore


def _dispute(svc, project: str, tasks: int = 2) -> None:
    seed_project(svc.store, project, tasks=tasks, overlap=2)
    set_reviewers(svc.store, project, "rita,rob")
    for who, label in (("ann", "like"), ("bob", "dislike")):
        for _ in range(tasks):
            t = svc.next_task(project, who)
            svc.submit_task(project, t["task_id"], who, {"1": {"label": label, "rating": 4}}, label, f"{who} says")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    feedback = tmp_path_factory.mktemp("feedback")
    services = make_services(Catalog(TINY_ITEMS, source="tiny"), feedback)
    services.projects = ProjectService(SQLiteProjectStore(projects_path(feedback)), services.store)
    _dispute(services.projects, "p")
    with serve_client(services) as client:
        yield services, client


def test_next_and_submit_review_round_trip(live):
    services, client = live
    task = client.predict("p", "rita", api_name="/next_review")
    assert set(task) == {"task_id", "messages", "items", "answers"} and task["task_id"] == "t00"
    assert task["answers"] == [
        {"annotator": "ann", "judgements": {"1": {"label": "like", "rating": 4}}, "reply_label": "like",
         "comment": "ann says"},
        {"annotator": "bob", "judgements": {"1": {"label": "dislike", "rating": 4}}, "reply_label": "dislike",
         "comment": "bob says"}]
    assert task["messages"][-1] == {"role": "assistant", "content": "Try these, number 0."}
    saved = client.predict("p", task["task_id"], "rita", {"1": {"label": "like", "rating": 4}}, "like",
                           "the request asked for it", api_name="/submit_review")
    assert set(saved) == {"saved", "record_id"} and saved["saved"] is True
    (record,) = [r for r in services.store.read() if r.record_id == saved["record_id"]]
    assert (record.annotator, record.comment, record.task_id) == ("rita", "the request asked for it", "t00")
    other = client.predict("p", "rob", api_name="/next_review")
    assert other["task_id"] == "t01"
    client.predict("p", "t01", "rob", {"1": {"label": "dislike"}}, "", "", api_name="/submit_review")
    assert client.predict("p", "rita", api_name="/next_review") == {"done": True}


@pytest.mark.parametrize(("args", "message"), [
    (("nope", "t00", "rita", {"1": {"label": "like"}}, "", ""), "unknown project 'nope'"),
    (("q", "t99", "rita", {"1": {"label": "like"}}, "", ""), "unknown task 't99'"),
    (("q", "t00", "mallory", {"1": {"label": "like"}}, "", ""), "'mallory' is not a reviewer of project 'q'"),
    (("q", "t00", "rita", {"42": {"label": "like"}}, "", ""), "item '42' is not on this task's slate"),
    (("q", "t00", "rita", {"1": {"label": "love"}}, "", ""), "got 'love'"),
    (("q", "t00", "rita", {"1": {"label": "like"}}, "meh", ""), "reply_label must be one of like, dislike"),
])
def test_bad_reviews_name_the_value_and_write_nothing(live, args, message):
    services, client = live
    if "q" not in [p.name for p in services.projects.store.projects()]:
        _dispute(services.projects, "q")
    before = (len(services.projects.store.reviews("q")), len(services.store.read()))
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/submit_review")
    assert (len(services.projects.store.reviews("q")), len(services.store.read())) == before


def test_a_repeated_review_and_a_stranger_on_next_review_are_refused(live):
    services, client = live
    _dispute(services.projects, "r", tasks=1)
    t = client.predict("r", "rob", api_name="/next_review")["task_id"]
    client.predict("r", t, "rob", {"1": {"label": "like"}}, "", "", api_name="/submit_review")
    with pytest.raises(AppError, match=f"task '{t}' was already reviewed by 'rob'"):
        client.predict("r", t, "rob", {"1": {"label": "like"}}, "", "", api_name="/submit_review")
    with pytest.raises(AppError, match="'eve' is not a reviewer of project 'r'"):
        client.predict("r", "eve", api_name="/next_review")
    assert len(services.projects.store.reviews("r")) == 1


def test_review_tab_handlers_show_who_said_what_and_save(live):
    from workbench.limits import MAX_SLATE
    from workbench.ui import review_tab

    services, _ = live
    _dispute(services.projects, "s", tasks=1)
    current, view = review_tab.open_review(services, "s", "rita")
    table = review_tab.answers_table(view)
    assert "<th>ann</th><th>bob</th>" in table and "👍 4★" in table and "👎 4★" in table and "bob says" in table
    out = review_tab.render_review(current, view)
    # the controls start from the majority: a 1-1 vote decides nothing, both rated 4 -> 4
    assert out[0] == current and out[5]["value"] is None and out[7 + 2:7 + 4] == [None, "4"]
    values = ["like", "4"] + [None] * (2 * MAX_SLATE - 2)
    saved = review_tab.save_final(services, current, "dislike", "  checked  ", values)
    assert services.projects.store.final_answer("s", "t00").note == "checked" and saved["saved"]
    with pytest.raises(Exception, match="no task is open"):
        review_tab.save_final(services, None, "", "", values)


def test_with_sign_in_on_the_reviewer_is_the_signed_in_user(tiny_catalog, tmp_path):
    """Issue 28: with sign-in on, reviewers are signed-in users; a differing name is refused."""
    from types import SimpleNamespace

    from workbench.errors import WorkbenchError
    from workbench.ui.review_api import next_review_api, submit_review_api

    s = make_services(tiny_catalog, tmp_path / "feedback", auth="rita:pw")
    s.projects = ProjectService(SQLiteProjectStore(projects_path(tmp_path / "feedback")), s.store)
    _dispute(s.projects, "p", tasks=1)
    rita = SimpleNamespace(username="rita")
    with pytest.raises(WorkbenchError, match="'rob' is not the signed-in user 'rita'"):
        next_review_api(s, "p", "rob", request=rita)
    task = next_review_api(s, "p", "", request=rita)
    saved = submit_review_api(s, "p", task["task_id"], "", {"1": {"label": "like"}}, "", "ok", request=rita)
    assert s.projects.store.final_answer("p", "t00").reviewer == "rita" and saved["saved"]
    with pytest.raises(WorkbenchError, match="'ann' is not a reviewer of project 'p'"):
        next_review_api(s, "p", "", request=SimpleNamespace(username="ann"))


def test_next_task_carries_suggestions_on_the_suggested_share_only(live):
    """Issue 28 part 5 on the live API: suggested tasks carry the engine's verdicts, control ones none,
    and the outcome (kept or not) is stored with the submission."""
    from workbench.projects.suggestions import arm_of, suggestion_meta

    services, client = live
    seed_project(services.projects.store, "sug", tasks=6, overlap=1)
    services.projects.store.set_meta("sug", suggestion_meta(0.5))
    arms = {}
    while not (task := client.predict("sug", "ann", api_name="/next_task")).get("done"):
        arms[task["task_id"]] = "suggestions" in task
        marks = {i: {"label": v} for i, v in (task.get("suggestions") or {"1": "dislike"}).items()}
        client.predict("sug", task["task_id"], "ann", marks, "", "", api_name="/submit_task")
    assert arms == {t: arm_of("sug", t, 0.5) == "suggested" for t in arms} and len(set(arms.values())) == 2
    outcomes = {t: o for t, _, o in services.projects.store.suggestion_outcomes("sug")}
    assert all(all(o["kept"].values()) for t, o in outcomes.items() if arms[t])  # kept every suggestion
    assert all(o["arm"] == ("suggested" if arms[t] else "control") for t, o in outcomes.items())
