"""``/next_task``, ``/submit_task`` and ``/skip_task`` through ``gradio_client`` against a live server.

Guards the exact names and shapes of the project endpoints (the issue's checks call them), that a
submission lands in the feedback store in ``/feedback``'s judgement format, that a skip passes the
task on, and that every bad request (unknown project or task, not claimed, a second submission,
an item not on the slate, bad labels) comes back as a message naming the value and writes nothing.
"""

from __future__ import annotations

import pytest
from gradio_client.exceptions import AppError
from projects_support import SLATE_IDS, seed_project
from ui_support import make_services, serve_client

from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore

PROGRESS_KEYS = {"project", "tasks", "overlap", "complete", "submissions", "skipped", "per_annotator"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    feedback = tmp_path_factory.mktemp("feedback")
    services = make_services(Catalog(TINY_ITEMS, source="tiny"), feedback)
    services.projects = ProjectService(SQLiteProjectStore(projects_path(feedback)), services.store)
    seed_project(services.projects.store, "p", tasks=4, overlap=2)
    with serve_client(services) as client:
        yield services, client


def written(services) -> tuple[int, int]:
    return len(services.projects.store.history("p")), len(services.store.read())


def test_next_submit_skip_round_trip(live):
    services, client = live
    task = client.predict("p", "alice", api_name="/next_task")
    assert set(task) == {"task_id", "messages", "reply", "items", "progress"}
    assert task["messages"][-1]["role"] == "user" and [i["item_id"] for i in task["items"]] == list(SLATE_IDS)
    assert set(task["progress"]) == PROGRESS_KEYS
    again = client.predict("p", "alice", api_name="/next_task")
    assert again["task_id"] == task["task_id"]  # the claim holds
    saved = client.predict("p", task["task_id"], "alice", {"3": {"label": "like", "rating": 5}}, "like", "nice",
                           api_name="/submit_task")
    assert saved["saved"] is True and isinstance(saved["record_id"], str)
    assert saved["progress"]["per_annotator"]["alice"] == {"submitted": 1, "skipped": 0}
    (record,) = [r for r in services.store.read() if r.record_id == saved["record_id"]]
    assert (record.project, record.task_id, record.annotator, record.reply_label, record.comment) == (
        "p", task["task_id"], "alice", "like", "nice")
    assert [(j.label, j.rating) for j in record.slate if j.item_id == "3"] == [("like", 5)]

    nxt = client.predict("p", "alice", api_name="/next_task")
    assert nxt["task_id"] != task["task_id"]
    skipped = client.predict("p", nxt["task_id"], "alice", "not about films", api_name="/skip_task")
    assert skipped["skipped"] is True and skipped["progress"]["per_annotator"]["alice"]["skipped"] == 1


def test_done_when_nothing_is_left(live):
    services, client = live
    seed_project(services.projects.store, "solo", tasks=1, overlap=1)
    t = client.predict("solo", "carol", api_name="/next_task")
    client.predict("solo", t["task_id"], "carol", {"1": {"label": "dislike"}}, "", "", api_name="/submit_task")
    done = client.predict("solo", "carol", api_name="/next_task")
    assert done["done"] is True and done["progress"]["complete"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (("nope", "{t}", "bob", {"1": {"label": "like"}}, "", ""), "unknown project 'nope'"),
    (("p", "t99", "bob", {"1": {"label": "like"}}, "", ""), "unknown task 't99'"),
    (("p", "{t}", "mallory", {"1": {"label": "like"}}, "", ""), "not claimed by 'mallory'"),
    (("p", "{t}", "bob", {"42": {"label": "like"}}, "", ""), "item '42' is not on this task's slate"),
    (("p", "{t}", "bob", {"1": {"label": "love"}}, "", ""), "got 'love'"),
    (("p", "{t}", "bob", {"1": {"rating": 9}}, "", ""), "rating: expected an integer 1-5, got 9"),
    (("p", "{t}", "bob", {"1": {"label": "like"}}, "meh", ""), "reply_label must be one of like, dislike or empty, got 'meh'"),
    (("p", "{t}", "", {"1": {"label": "like"}}, "", ""), "annotator: must not be empty"),
])
def test_bad_submissions_name_the_value_and_write_nothing(live, args, message):
    services, client = live
    t = client.predict("p", "bob", api_name="/next_task")["task_id"]
    before = written(services)
    with pytest.raises(AppError, match=message):
        client.predict(*[a.format(t=t) if isinstance(a, str) else a for a in args], api_name="/submit_task")
    assert written(services) == before


def test_second_submission_and_unknown_project_on_next_and_skip(live):
    services, client = live
    t = client.predict("p", "dave", api_name="/next_task")["task_id"]
    client.predict("p", t, "dave", {"1": {"label": "like"}}, "", "", api_name="/submit_task")
    before = written(services)
    with pytest.raises(AppError, match=f"task '{t}' was already submitted by 'dave'"):
        client.predict("p", t, "dave", {"1": {"label": "dislike"}}, "", "", api_name="/submit_task")
    with pytest.raises(AppError, match="unknown project 'nope'"):
        client.predict("nope", "dave", api_name="/next_task")
    with pytest.raises(AppError, match="unknown task 't99'"):
        client.predict("p", "t99", "dave", "", api_name="/skip_task")
    assert written(services) == before


def test_readme_project_snippet(live):
    """docs/annotation-projects.md's /next_task loop, verbatim apart from the URL and the project name."""
    services, client = live
    seed_project(services.projects.store, "films-1", tasks=2, overlap=1)
    task = client.predict("films-1", "alice", api_name="/next_task")
    while not task.get("done"):
        first = task["items"][0]["item_id"]
        client.predict("films-1", task["task_id"], "alice", {first: {"label": "like", "rating": 4}}, "like", "",
                       api_name="/submit_task")
        task = client.predict("films-1", "alice", api_name="/next_task")
    assert task["progress"]["complete"] == 2 and task["progress"]["per_annotator"]["alice"]["submitted"] == 2
