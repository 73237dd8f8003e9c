"""Project use cases (the functions the Annotate tab and the API call): errors, skip, back, close.

Guards: each bad request (unknown project or task, not claimed, a second submission, an item not
on the slate, bad labels and ratings) fails with a message naming the value and writes nothing;
a skip is recorded with its reason and the task goes to someone else; back reopens the previous
answer, a changed answer replaces it (history kept, one submission counted); a closed project
takes no more answers; the record carries the stored reply and slate; the progress shape.
"""

from __future__ import annotations

import pytest
from projects_support import STORES, feedback, seed_project, service, use_kind

from workbench.errors import ProjectError, WorkbenchError
from workbench.feedback import SCHEMA_VERSION
from workbench.projects.export import export_rows
from workbench.projects.service import parse_judgements, record_id_for

PROGRESS_KEYS = {"project", "tasks", "overlap", "complete", "submissions", "skipped", "per_annotator"}


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


@pytest.fixture
def svc(kind, tmp_path):
    s = service(kind, tmp_path)
    seed_project(s.store, tasks=4, overlap=2)
    return s


def _written(svc) -> tuple[int, int]:
    return len(svc.store.history("p")), len(svc.feedback.read())


def test_next_task_shape_and_the_saved_record(svc, kind, tmp_path):
    task = svc.next_task("p", " ann ")
    assert set(task) == {"task_id", "messages", "reply", "items", "progress"}
    assert task["messages"] == [{"role": "user", "content": "something like film 0"}]
    assert [i["item_id"] for i in task["items"]] == ["1", "3", "8"] and "sources" in task["items"][0]
    saved = svc.submit_task("p", task["task_id"], "ann", {"3": {"label": "dislike", "rating": 2.0}}, "like", "ok")
    assert saved["saved"] is True and saved["record_id"] == record_id_for("p", task["task_id"], "ann", 1)
    assert set(saved["progress"]) == PROGRESS_KEYS
    assert saved["progress"]["per_annotator"] == {"ann": {"submitted": 1, "skipped": 0}}
    (record,) = feedback(kind, tmp_path).read()
    assert record.reply == task["reply"] and record.user_message == "something like film 0"
    assert record.generator_backend == "template" and record.index_id == "test@0"
    assert [(j.item_id, j.label, j.rating) for j in record.slate] == [
        ("1", None, None), ("3", "dislike", 2), ("8", None, None)]
    assert record.slate[0].sources == {"content": 0.5, "popularity": 0.25}
    assert (record.project, record.task_id, record.schema_version) == ("p", task["task_id"], SCHEMA_VERSION)


@pytest.mark.parametrize(("call", "message"), [
    (lambda s, t: s.submit_task("nope", t, "ann", {"1": {"label": "like"}}), "unknown project 'nope'"),
    (lambda s, t: s.submit_task("p", "t99", "ann", {"1": {"label": "like"}}), "unknown task 't99'"),
    (lambda s, t: s.submit_task("p", t, "bob", {"1": {"label": "like"}}), "not claimed by 'bob'"),
    (lambda s, t: s.submit_task("p", t, "ann", {"42": {"label": "like"}}), "item '42' is not on this task's slate"),
    (lambda s, t: s.submit_task("p", t, "ann", {"1": {"label": "love"}}), "must be one of like, dislike, not_seen, got 'love'"),
    (lambda s, t: s.submit_task("p", t, "ann", {"1": {"rating": 6}}), "rating: expected an integer 1-5, got 6"),
    (lambda s, t: s.submit_task("p", t, "ann", {"1": {"stars": 3}}), "unknown key 'stars'"),
    (lambda s, t: s.submit_task("p", t, "ann", {}, "meh"), "reply_label must be one of like, dislike or empty, got 'meh'"),
    (lambda s, t: s.submit_task("p", t, "ann", {}), "nothing to save"),
    (lambda s, t: s.submit_task("p", t, "ann", {"1": {"label": "not_seen", "rating": 3}}), "cannot be rated"),
    (lambda s, t: s.submit_task("p", t, "", {"1": {"label": "like"}}), "annotator: must not be empty"),
    (lambda s, t: s.next_task("nope", "ann"), "unknown project 'nope' \\(projects: p\\)"),
    (lambda s, t: s.skip_task("p", "t99", "ann"), "unknown task 't99'"),
])
def test_bad_requests_name_the_value_and_write_nothing(svc, call, message):
    t = svc.next_task("p", "ann")["task_id"]
    with pytest.raises(WorkbenchError, match=message):
        call(svc, t)
    assert _written(svc) == (0, 0)
    assert svc.submit_task("p", t, "ann", {"1": {"label": "like"}})["saved"]  # the claim is intact


def test_second_submission_without_back_is_refused(svc):
    t = svc.next_task("p", "ann")["task_id"]
    svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    with pytest.raises(ProjectError, match=f"task '{t}' was already submitted by 'ann'; go back"):
        svc.submit_task("p", t, "ann", {"1": {"label": "dislike"}})
    assert _written(svc) == (1, 1)


def test_skip_is_recorded_and_the_task_goes_to_others(svc):
    t = svc.next_task("p", "ann")["task_id"]
    assert svc.skip_task("p", t, "ann", "  not a movie question ")["skipped"] is True
    assert svc.next_task("p", "ann")["task_id"] != t
    assert svc.next_task("p", "bob")["task_id"] != t  # bob joins the task ann now holds (closest to done)
    assert svc.next_task("p", "cy")["task_id"] == t
    (skip,) = svc.store.history("p")
    assert (skip.status, skip.reason, skip.record_id) == ("skipped", "not a movie question", None)
    p = svc.progress("p")
    assert p["skipped"] == 1 and p["per_annotator"]["ann"] == {"submitted": 0, "skipped": 1}


def test_discard_counts_as_skipped_in_the_progress(svc):
    t = svc.next_task("p", "ann")["task_id"]
    assert svc.discard_task("p", t, "ann", "broken")["discarded"] is True
    assert svc.store.history("p")[0].status == "discarded" and svc.progress("p")["skipped"] == 1


def test_back_reopens_the_previous_answer_and_the_latest_counts(svc):
    t1 = svc.next_task("p", "ann")["task_id"]
    svc.submit_task("p", t1, "ann", {"1": {"label": "like", "rating": 4}}, "like", "first")
    t2 = svc.next_task("p", "ann")["task_id"]
    svc.skip_task("p", t2, "ann")
    t3 = svc.next_task("p", "ann")["task_id"]
    back = svc.back("p", "ann")
    assert back["task_id"] == t2 and back["previous"]["skipped"] is True
    back = svc.back("p", "ann")  # one step further
    assert back["task_id"] == t1
    assert back["previous"] == {"judgements": {"1": {"label": "like", "rating": 4}}, "reply_label": "like",
                                "comment": "first", "version": 1}
    saved = svc.submit_task("p", t1, "ann", {"8": {"label": "dislike"}}, "", "changed")
    assert saved["record_id"] == record_id_for("p", t1, "ann", 2)
    assert svc.back("p", "ann")["task_id"] == t2  # back again starts from the latest answered task
    assert svc.next_task("p", "ann")["task_id"] == t3  # the claim on t3 survived the detour
    (row,) = export_rows(svc.store, "p")
    assert row["comment"] == "changed" and [j["label"] for j in row["slate"]] == [None, None, "dislike"]
    assert [a.version for a in svc.store.history("p") if a.task_id == t1] == [1, 2]
    assert svc.progress("p")["submissions"] == 1 and len(svc.feedback.read()) == 2  # both kept in the shards


def test_back_with_nothing_answered_is_done(svc):
    assert svc.back("p", "ann") == {"done": True, "progress": svc.progress("p")}


def test_closed_project_takes_no_more_answers(svc):
    t = svc.next_task("p", "ann")["task_id"]
    svc.close_project("p")
    with pytest.raises(ProjectError, match="project 'p' is closed"):
        svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    with pytest.raises(ProjectError, match="closed"):
        svc.next_task("p", "ann")
    assert [p["state"] for p in svc.list_projects()] == ["closed"]


def test_done_when_every_task_has_its_overlap(svc):
    for who in ("ann", "bob"):
        while not (task := svc.next_task("p", who)).get("done"):
            svc.submit_task("p", task["task_id"], who, {"1": {"label": "like"}})
    assert svc.next_task("p", "cy")["done"] is True
    p = svc.progress("p")
    assert (p["tasks"], p["overlap"], p["complete"], p["submissions"]) == (4, 2, 4, 8)


def test_parse_judgements_accepts_the_feedback_endpoint_format():
    ids = ["1", "2"]
    assert parse_judgements({"1": {"label": "like", "rating": 5}, "2": {"label": "", "rating": None}}, ids, "x") == {
        "1": {"label": "like", "rating": 5}}
    for bad in (0, float("nan"), float("inf"), 1e400, 2.5):  # refused like /feedback does, never dropped or a crash
        with pytest.raises(ProjectError, match=r"x: judgements\['1'\].rating: expected an integer 1-5, got"):
            parse_judgements({"1": {"label": "like", "rating": bad}}, ids, "x")
    with pytest.raises(ProjectError, match="x: judgements\\['1'\\].rating: expected an integer 1-5, got True"):
        parse_judgements({"1": {"rating": True}}, ids, "x")
