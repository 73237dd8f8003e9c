"""Review queue contract: every project store (SQLite and PostgreSQL) through the same checks.

Guards issue 28 part 2: a task enters the queue only when its annotators all submitted and
disagree (a split label, ratings the threshold apart, a split reply label); agreeing tasks and
tasks still short of the overlap stay out; two reviewers never hold one queued task; a reviewer
gets the same task back while they hold it; any task can be pulled; a review is written once
(a repeat is refused, a killed process's review is recovered without a duplicate, reviewers in
threads and processes at once save every review exactly once); the final answer is the latest
review, else the majority, else the single answer; bad input names the value and writes nothing.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from projects_support import STORES, feedback, seed_project, service, use_kind

from workbench.errors import FeedbackError, ProjectError
from workbench.projects.review import disagreements, majority
from workbench.projects.review_service import (
    final_for_task,
    next_review,
    pull_review,
    set_reviewers,
    submit_review,
)


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


def answer(svc, project: str, annotator: str, judgements: dict, reply_label: str = "") -> str:
    task = svc.next_task(project, annotator)
    svc.submit_task(project, task["task_id"], annotator, judgements, reply_label, "")
    return task["task_id"]


def disputed_project(svc, name: str = "p", tasks: int = 3, threshold: int = 2) -> dict[str, str]:
    """Tasks t00 (labels split), t01 (all agree), t02 (ratings 1 and 4), answered by ann and bob."""
    seed_project(svc.store, name, tasks=tasks, overlap=2)
    set_reviewers(svc.store, name, "rita,rob", threshold)
    plan = {"ann": [{"1": {"label": "like"}}, {"1": {"label": "like", "rating": 4}}, {"3": {"rating": 1}}],
            "bob": [{"1": {"label": "dislike"}}, {"1": {"label": "like", "rating": 4}}, {"3": {"rating": 4}}]}
    done = {}
    for who, marks in plan.items():
        for m in marks:
            done.setdefault(who, []).append(answer(svc, name, who, m))
    return done


def test_only_disputed_complete_tasks_enter_the_queue(kind, tmp_path):
    svc = service(kind, tmp_path)
    disputed_project(svc)
    first = next_review(svc, "p", "rita")
    assert set(first) == {"task_id", "messages", "items", "answers"} and first["task_id"] == "t00"
    assert [a["annotator"] for a in first["answers"]] == ["ann", "bob"]
    assert first["answers"][0] == {"annotator": "ann", "judgements": {"1": {"label": "like", "rating": None}},
                                   "reply_label": "", "comment": ""}
    assert first["messages"][-1]["role"] == "assistant"  # the reply under review closes the conversation
    assert next_review(svc, "p", "rita")["task_id"] == "t00"  # held: the same again
    assert next_review(svc, "p", "rob")["task_id"] == "t02"  # another reviewer never gets a held task
    assert next_review(svc, "p", "rob")["task_id"] == "t02"
    submit_review(svc, "p", "t00", "rita", {"1": {"label": "like"}}, "", "ann is right")
    assert next_review(svc, "p", "rita") == {"done": True}  # t01 agrees; t02 is rob's


def test_the_threshold_decides_for_ratings(kind, tmp_path):
    svc = service(kind, tmp_path)
    disputed_project(svc, threshold=4)  # ratings 1 and 4 are only 3 apart
    assert next_review(svc, "p", "rita")["task_id"] == "t00"
    submit_review(svc, "p", "t00", "rita", {}, "", "both fine")
    assert next_review(svc, "p", "rita") == {"done": True}


def test_a_task_short_of_its_overlap_waits(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, "p", tasks=1, overlap=3)
    set_reviewers(svc.store, "p", "rita")
    answer(svc, "p", "ann", {"1": {"label": "like"}})
    answer(svc, "p", "bob", {"1": {"label": "dislike"}})
    assert next_review(svc, "p", "rita") == {"done": True}
    answer(svc, "p", "cy", {"1": {"label": "dislike"}})
    assert next_review(svc, "p", "rita")["task_id"] == "t00"


def test_final_answer_is_review_else_majority_else_single(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, "p", tasks=3, overlap=3)
    set_reviewers(svc.store, "p", "rita")
    for who, label, rating in (("ann", "like", 5), ("bob", "like", 2), ("cy", "dislike", 3)):
        answer(svc, "p", who, {"1": {"label": label, "rating": rating}}, "like")
    answer(svc, "p", "ann", {"3": {"label": "not_seen"}})
    assert final_for_task(svc.store, "p", "t00") == {
        "judgements": {"1": {"label": "like", "rating": 3}}, "reply_label": "like", "source": "majority"}
    assert final_for_task(svc.store, "p", "t01")["source"] == "single"
    assert final_for_task(svc.store, "p", "t02") is None
    saved = submit_review(svc, "p", "t00", "rita", {"1": {"label": "dislike", "rating": 2}}, "dislike", "read it")
    final = final_for_task(svc.store, "p", "t00")
    assert final == {"judgements": {"1": {"label": "dislike", "rating": 2}}, "reply_label": "dislike",
                     "source": "review"}
    review = svc.store.final_answer("p", "t00")
    assert (review.reviewer, review.note, review.record_id, review.version) == ("rita", "read it",
                                                                                 saved["record_id"], 1)
    (record,) = [r for r in feedback(kind, tmp_path).read() if r.record_id == saved["record_id"]]
    assert (record.annotator, record.comment, record.session_id) == ("rita", "read it", "review:p:t00")


def test_a_repeated_review_is_refused_and_a_pull_changes_the_final_answer(kind, tmp_path):
    svc = service(kind, tmp_path)
    disputed_project(svc)
    next_review(svc, "p", "rita")
    submit_review(svc, "p", "t00", "rita", {"1": {"label": "like"}}, "", "")
    with pytest.raises(ProjectError, match="already reviewed by 'rita'"):
        submit_review(svc, "p", "t00", "rita", {"1": {"label": "like"}}, "", "")
    pulled = pull_review(svc, "p", "t00", "rita")
    assert pulled["task_id"] == "t00"
    submit_review(svc, "p", "t00", "rita", {"1": {"label": "dislike"}}, "", "changed my mind")
    assert [r.version for r in svc.store.reviews("p")] == [1, 2]
    assert svc.store.final_answer("p", "t00").judgements == {"1": {"label": "dislike", "rating": None}}
    # any task can be pulled, even one that agrees; one held by another reviewer cannot
    assert pull_review(svc, "p", "t01", "rob")["task_id"] == "t01"
    with pytest.raises(ProjectError, match="being reviewed by 'rob'"):
        pull_review(svc, "p", "t01", "rita")
    with pytest.raises(ProjectError, match="being reviewed by 'rob'"):
        submit_review(svc, "p", "t01", "rita", {}, "", "")


@pytest.mark.parametrize(("args", "message"), [
    (("nope", "t00", "rita", {}, "", ""), "unknown project 'nope'"),
    (("p", "t99", "rita", {}, "", ""), "unknown task 't99'"),
    (("p", "t00", "mallory", {}, "", ""), "'mallory' is not a reviewer of project 'p' \\(reviewers: rita, rob\\)"),
    (("p", "t00", "", {}, "", ""), "annotator: must not be empty"),
    (("p", "t00", "rita", {"42": {"label": "like"}}, "", ""), "item '42' is not on this task's slate"),
    (("p", "t00", "rita", {"1": {"label": "love"}}, "", ""), "got 'love'"),
    (("p", "t00", "rita", {"1": {"rating": 9}}, "", ""), "rating: expected an integer 1-5, got 9"),
    (("p", "t00", "rita", {}, "meh", ""), "reply_label must be one of like, dislike or empty, got 'meh'"),
    (("p", "t00", "rita", {}, "", "x" * 5000), "note has 5000 characters"),
])
def test_bad_reviews_name_the_value_and_write_nothing(kind, tmp_path, args, message):
    svc = service(kind, tmp_path)
    disputed_project(svc)
    next_review(svc, "p", "rita")
    before = len(feedback(kind, tmp_path).read())
    with pytest.raises((ProjectError, FeedbackError), match=message):
        submit_review(svc, *args)
    assert svc.store.reviews("p") == [] and len(feedback(kind, tmp_path).read()) == before


def test_a_project_without_reviewers_says_how_to_name_them(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, "p", tasks=1, overlap=1)
    with pytest.raises(ProjectError, match="has no reviewers; create it with --reviewers"):
        next_review(svc, "p", "rita")
    with pytest.raises(ProjectError, match="--review-threshold: must be an integer 1-4"):
        set_reviewers(svc.store, "p", "rita", 0)
    with pytest.raises(ProjectError, match="reviewer 'rita' is named twice"):
        set_reviewers(svc.store, "p", "rita,rita")


def test_crash_between_review_commit_and_feedback_append_is_recovered_once(kind, tmp_path):
    svc = service(kind, tmp_path)
    disputed_project(svc)
    next_review(svc, "p", "rita")
    real_append = svc.feedback.append
    svc.feedback.append = lambda record: (_ for _ in ()).throw(OSError("killed"))  # type: ignore[method-assign]
    with pytest.raises(OSError):
        submit_review(svc, "p", "t00", "rita", {"1": {"label": "like"}}, "", "")
    svc.feedback.append = real_append  # type: ignore[method-assign]
    assert len(svc.store.unwritten_reviews()) == 1
    with pytest.raises(ProjectError, match="already reviewed"):  # a blind retry is refused, not doubled
        submit_review(svc, "p", "t00", "rita", {"1": {"label": "like"}}, "", "")
    assert service(kind, tmp_path).recover(grace_s=0) == 1
    assert service(kind, tmp_path).recover(grace_s=0) == 0
    rid = svc.store.final_answer("p", "t00").record_id
    assert [r.record_id for r in feedback(kind, tmp_path).read()].count(rid) == 1


def _review_all(kind: str, data_dir: str, reviewer: str) -> list[str]:
    from pathlib import Path

    svc = service(kind, Path(data_dir))
    done = []
    while True:
        task = next_review(svc, "q", reviewer)
        if task.get("done"):
            return done
        submit_review(svc, "q", task["task_id"], reviewer, {"1": {"label": "like"}}, "", reviewer)
        done.append(task["task_id"])


def _disputed_many(svc, tasks: int = 10) -> None:
    seed_project(svc.store, "q", tasks=tasks, overlap=2)
    set_reviewers(svc.store, "q", "r1,r2,r3")
    for who, label in (("ann", "like"), ("bob", "dislike")):
        for _ in range(tasks):
            answer(svc, "q", who, {"1": {"label": label}})


def _check_once(kind, tmp_path, done: list[list[str]], tasks: int = 10) -> None:
    flat = [t for d in done for t in d]
    assert sorted(flat) == [f"t{i:02d}" for i in range(tasks)]  # every task reviewed exactly once
    svc = service(kind, tmp_path)
    assert len(svc.store.reviews("q")) == tasks
    ids = [r.record_id for r in feedback(kind, tmp_path).read() if r.session_id.startswith("review:")]
    assert len(ids) == len(set(ids)) == tasks


def test_reviewer_threads_review_each_task_once(kind, tmp_path):
    svc = service(kind, tmp_path)
    _disputed_many(svc)
    done: dict[str, list[str]] = {}
    threads = [threading.Thread(target=lambda r=r: done.__setitem__(r, _review_all(kind, str(tmp_path), r)))
               for r in ("r1", "r2", "r3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    _check_once(kind, tmp_path, list(done.values()))


def test_reviewer_processes_review_each_task_once(kind, tmp_path):
    _disputed_many(service(kind, tmp_path))
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        done = pool.starmap(_review_all, [(kind, str(tmp_path), r) for r in ("r1", "r2", "r3")])
    _check_once(kind, tmp_path, done)


def test_disagreement_and_majority_rules():
    like, dislike = {"slate": [{"item_id": "1", "label": "like"}]}, {"slate": [{"item_id": "1", "label": "dislike"}]}
    assert disagreements([like, like]) == [] and disagreements([like, dislike]) == ["label:1"]
    assert disagreements([like]) == []  # one answer cannot disagree
    r = lambda v: {"slate": [{"item_id": "2", "rating": v}]}  # noqa: E731
    assert disagreements([r(3), r(4)]) == [] and disagreements([r(3), r(5)]) == ["rating:2"]
    assert disagreements([r(3), r(5)], threshold=3) == []
    assert disagreements([{"reply_label": "like"}, {"reply_label": "dislike"}]) == ["reply_label"]
    assert majority([like, dislike])["judgements"] == {}  # a tied vote decides nothing
    assert majority([like, like, dislike])["judgements"] == {"1": {"label": "like", "rating": None}}
    assert majority([r(1), r(2), r(5), r(5)])["judgements"] == {"2": {"label": None, "rating": 2}}


def test_export_rows_carry_raw_answers_and_the_final_answer(kind, tmp_path):
    import json

    from workbench.projects.export import export_project

    svc = service(kind, tmp_path)
    disputed_project(svc)
    submit_review(svc, "p", "t00", "rita", {"1": {"label": "dislike"}}, "dislike", "bob is right")
    out, n = export_project(svc.store, "p", "jsonl", tmp_path / "out.jsonl")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert n == len(rows) == 6
    by_task = {}
    for row in rows:
        by_task.setdefault(row["task_id"], []).append(row)
    assert [r["slate"][0]["label"] for r in by_task["t00"]] == ["like", "dislike"]  # raw answers kept
    assert all(r["final"] == {"judgements": {"1": {"label": "dislike", "rating": None}}, "reply_label": "dislike",
                              "source": "review"} for r in by_task["t00"])
    assert by_task["t01"][0]["final"] == {"judgements": {"1": {"label": "like", "rating": 4}}, "reply_label": "",
                                          "source": "majority"}
    assert by_task["t02"][0]["final"]["judgements"] == {"3": {"label": None, "rating": 1}}  # median_low of 1, 4
    if kind == "sqlite":  # the Arrow formats hold the same final answer, judgements as a list
        import datasets

        path, _ = export_project(svc.store, "p", "hf", tmp_path / "out-hf")
        ds = datasets.load_from_disk(str(path))
        assert ds[0]["final"] == {"judgements": [{"item_id": "1", "label": "dislike", "rating": None}],
                                  "reply_label": "dislike", "source": "review"}


def test_the_hub_dataset_card_says_how_reviews_and_final_answers_are_stored():
    from workbench.feedback.hub import dataset_card
    from workbench.projects.review import FINAL_SOURCES, REVIEW_SESSION_PREFIX

    card = dataset_card("me/feedback")
    assert f"`session_id` starts with `{REVIEW_SESSION_PREFIX}`" in card
    assert "under `final`" in card
    assert all(source in card for source in FINAL_SOURCES)


def test_a_lapsed_review_claim_gives_way_to_the_reviewer_who_took_the_task(kind, tmp_path):
    class Clock:
        now = 1_000_000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    svc = service(kind, tmp_path, clock, lease_s=60)
    disputed_project(svc)
    assert next_review(svc, "p", "rita")["task_id"] == "t00"
    clock.now += 61  # rita walked away
    assert next_review(svc, "p", "rob")["task_id"] == "t00"
    with pytest.raises(ProjectError, match="being reviewed by 'rob'"):
        submit_review(svc, "p", "t00", "rita", {"1": {"label": "like"}}, "", "")
    submit_review(svc, "p", "t00", "rob", {"1": {"label": "like"}}, "", "")
    assert [r.reviewer for r in svc.store.reviews("p")] == ["rob"]


def test_a_reviewed_final_answer_becomes_a_gold_answer_and_quality_reports_suggestions(kind, tmp_path):
    """The seams with q-gold's parts: ``gold --from-review`` reads ``store.final_answer``; ``project
    quality`` carries the suggestions report under ``suggestions``."""
    from workbench.projects.gold import gold_from_review
    from workbench.quality.annotators import project_quality

    svc = service(kind, tmp_path)
    disputed_project(svc)
    with pytest.raises(ProjectError, match="task 't00' has no review"):
        gold_from_review(svc.store, "p", "t00")
    submit_review(svc, "p", "t00", "rita", {"1": {"label": "dislike", "rating": 2}}, "like", "")
    assert gold_from_review(svc.store, "p", "t00") == {"judgements": {"1": {"label": "dislike", "rating": 2}},
                                                       "reply_label": "like"}
    assert "t00" in svc.store.gold("p")
    report = project_quality(svc.store, "p")
    assert report["suggestions"]["share"] == 0.0 and set(report["suggestions"]) == {"share", "suggested", "control"}
