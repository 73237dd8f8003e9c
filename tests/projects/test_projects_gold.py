"""Gold tasks, claim-to-submit times and versioned guidelines through the project store contract.

Every check runs on every store (SQLite and PostgreSQL). Guards issue 28: every annotator meets
every gold task exactly once (also with annotators in threads and in processes), gold tasks are
mixed in at the project's rate, look like any other task and do not count toward completion;
a lapsed claim on a gold task still takes the answer; the time from claim to submit is recorded
(a claim taken again keeps its start); each answer records its guidelines version; re-queueing
answers under older guidelines hands their tasks out again without losing or duplicating any
answer or feedback record; a database made before these tables gains them; bad input is refused
naming the value.
"""

from __future__ import annotations

import collections
import multiprocessing
import sqlite3
import threading

import pytest
from projects_support import STORES, annotate_all, feedback, process_worker, seed_project, service, use_kind
from quality_support import Clock

from workbench.errors import ProjectError
from workbench.projects.gold import set_gold_answer
from workbench.projects.service import projects_path


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


def gold_project(svc, tasks: int = 12, overlap: int = 2, gold: tuple[str, ...] = ("t00", "t05", "t11"),
                 rate: float = 0.25) -> None:
    seed_project(svc.store, tasks=tasks, overlap=overlap)
    for t in gold:
        set_gold_answer(svc.store, "p", t, {"judgements": {"1": {"label": "like"}}, "reply_label": "like"})
    svc.store.set_quality_settings("p", svc.store.quality_settings("p").replace(gold_rate=rate))


def _check(svc, kind, data_dir, annotators, gold=("t00", "t05", "t11"), tasks=12, overlap=2) -> None:
    subs = svc.store.submissions("p")
    by_task = collections.defaultdict(list)
    for s in subs:
        by_task[s.task_id].append(s.annotator)
    for t in gold:  # every annotator met every gold task exactly once
        assert sorted(by_task[t]) == sorted(annotators), (t, by_task[t])
    ordinary = {t: who for t, who in by_task.items() if t not in gold}
    assert len(ordinary) == tasks - len(gold)
    assert all(len(who) == overlap == len(set(who)) for who in ordinary.values()), ordinary
    history = collections.Counter((a.task_id, a.annotator) for a in svc.store.history("p"))
    assert set(history.values()) == {1}
    progress = svc.progress("p")  # gold tasks do not count toward completion
    assert (progress["tasks"], progress["complete"], progress["submissions"]) == (
        tasks - len(gold), tasks - len(gold), (tasks - len(gold)) * overlap)
    records = feedback(kind, data_dir).read()
    assert len(records) == len(subs) and records.duplicates == 0


def test_every_annotator_meets_every_gold_task_once_in_threads(kind, tmp_path):
    svc = service(kind, tmp_path)
    gold_project(svc)
    results: dict[str, list[str]] = {}
    threads = [threading.Thread(target=lambda a=a: results.__setitem__(a, annotate_all(svc, "p", a)))
               for a in ("ann", "bob", "cy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(len(v) == len(set(v)) for v in results.values())
    _check(svc, kind, tmp_path, ["ann", "bob", "cy"])


def test_every_annotator_meets_every_gold_task_once_in_processes(kind, tmp_path):
    gold_project(service(kind, tmp_path))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        done = pool.starmap(process_worker, [(kind, str(tmp_path), "p", a) for a in ("ann", "bob", "cy")])
    assert all(len(v) == len(set(v)) for v in done)
    _check(service(kind, tmp_path), kind, tmp_path, ["ann", "bob", "cy"])


def test_gold_tasks_are_mixed_in_at_the_rate_and_look_like_any_task(kind, tmp_path):
    svc = service(kind, tmp_path)
    gold = tuple(f"t{i:02d}" for i in range(30, 40))
    gold_project(svc, tasks=40, overlap=1, gold=gold, rate=0.2)
    order, views = [], []
    while not (task := svc.next_task("p", "ann")).get("done"):
        views.append(task)
        order.append(task["task_id"])
        svc.submit_task("p", task["task_id"], "ann", {"1": {"label": "like"}})
    assert sorted(order) == sorted(f"t{i:02d}" for i in range(40))
    first_25 = order[:25]  # 30 ordinary tasks: while they last, about one task in five is gold
    assert 4 <= sum(t in gold for t in first_25) <= 6, first_25
    assert {frozenset(v) for v in views} == {frozenset({"task_id", "messages", "reply", "items", "progress"})}
    assert all(len(v["items"]) == 3 for v in views)


def test_a_gold_rate_of_zero_serves_no_gold_task_until_it_is_raised(kind, tmp_path):
    svc = service(kind, tmp_path)
    gold_project(svc, tasks=4, overlap=1, gold=("t00",), rate=0.0)
    seen = []
    while not (task := svc.next_task("p", "ann")).get("done"):
        seen.append(task["task_id"])
        svc.submit_task("p", task["task_id"], "ann", {"1": {"label": "like"}})
    assert "t00" not in seen and len(seen) == 3
    svc.store.set_quality_settings("p", svc.store.quality_settings("p").replace(gold_rate=0.5))
    assert svc.next_task("p", "ann")["task_id"] == "t00"  # nothing else is left: the gold task they missed


def test_a_lapsed_claim_on_a_gold_task_still_takes_the_answer(kind, tmp_path):
    clock = Clock()
    svc = service(kind, tmp_path, clock, lease_s=60)
    gold_project(svc, tasks=2, overlap=1, gold=("t00",), rate=1.0)
    assert svc.next_task("p", "ann")["task_id"] == "t00" == svc.next_task("p", "bob")["task_id"]
    svc.submit_task("p", "t00", "bob", {"1": {"label": "like"}})
    clock.now += 3600
    assert svc.submit_task("p", "t00", "ann", {"1": {"label": "dislike"}})["saved"] is True


def test_claim_to_submit_seconds_are_recorded_and_a_held_claim_keeps_its_start(kind, tmp_path):
    clock = Clock()
    svc = service(kind, tmp_path, clock)
    seed_project(svc.store, tasks=2, overlap=1)
    t = svc.next_task("p", "ann")["task_id"]
    clock.now += 30
    assert svc.next_task("p", "ann")["task_id"] == t  # a reload: the same claim, the same start
    clock.now += 12.5
    svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    (sub,) = svc.store.submissions("p")
    assert sub.seconds == pytest.approx(42.5) and sub.guidelines_version == 1


def test_guidelines_versions_are_recorded_and_old_answers_requeued(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=3, overlap=1)
    for _ in range(2):
        t = svc.next_task("p", "ann")["task_id"]
        svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    assert [v["version"] for v in svc.store.guidelines_versions("p")] == [1]
    assert svc.store.add_guidelines("p", "# v2: not seen means never watched") == 2
    assert svc.guidelines("p") == "# v2: not seen means never watched"
    versions = svc.store.guidelines_versions("p")
    assert [(v["version"], v["text"]) for v in versions] == [(1, "# Rate the slate"),
                                                              (2, "# v2: not seen means never watched")]
    last = svc.next_task("p", "ann")["task_id"]
    svc.submit_task("p", last, "ann", {"1": {"label": "dislike"}})
    assert sorted(s.guidelines_version for s in svc.store.submissions("p")) == [1, 1, 2]
    assert svc.progress("p")["complete"] == 3

    moved = svc.store.requeue("p", 2)
    assert sorted(m["task_id"] for m in moved) == sorted({"t00", "t01", "t02"} - {last})
    assert svc.progress("p")["complete"] == 1  # the old answers no longer count...
    assert len(svc.store.history("p")) == 3 and len(feedback(kind, tmp_path).read()) == 3  # ...but are kept
    again = []
    while not (task := svc.next_task("p", "ann")).get("done"):
        again.append(task["task_id"])
        svc.submit_task("p", task["task_id"], "ann", {"1": {"label": "not_seen"}})
    assert sorted(again) == sorted(m["task_id"] for m in moved)
    subs = svc.store.submissions("p")
    assert [s.guidelines_version for s in subs] == [2, 2, 2] and svc.progress("p")["complete"] == 3
    assert sorted(s.version for s in subs) == [1, 2, 2]  # the re-answers are new versions, not overwrites
    records = feedback(kind, tmp_path).read()
    assert len(records) == 5 and records.duplicates == 0
    assert svc.store.requeue("p", 2) == []  # nothing left under version 1


@pytest.mark.parametrize(("before", "message"), [
    (1, r"--before-version: must be a guidelines version of project 'p' after the first \(2-2\), got 1"),
    (3, r"\(2-2\), got 3"),
    ("2", r"got '2'"),
])
def test_requeue_refuses_a_version_that_does_not_exist(kind, tmp_path, before, message):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=1, overlap=1)
    svc.store.add_guidelines("p", "v2")
    with pytest.raises(ProjectError, match=message):
        svc.store.requeue("p", before)


def test_requeue_without_a_second_version_says_how_to_add_one(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=1, overlap=1)
    with pytest.raises(ProjectError, match=r"\(2-1\), got 2; add one with `project guidelines NAME --file F`"):
        svc.store.requeue("p", 2)


@pytest.mark.parametrize(("answer", "message"), [
    ({"judgements": {"42": {"label": "like"}}}, r"item '42' is neither an id nor a title on the task's slate"),
    ({"judgements": {"1": {"label": "love"}}}, r"label: must be one of like, dislike, not_seen, got 'love'"),
    ({"judgements": {"1": {"rating": 9}}}, r"rating: expected an integer 1-5, got 9"),
    ({"reply_label": "meh"}, r"reply_label must be one of like, dislike or left out, got 'meh'"),
    ({"label": "like"}, r"unknown key 'label' in the gold answer"),
    ({}, r"the gold answer expects nothing"),
    (["like"], r"a gold answer must be an object"),
    ({"judgements": {"Film 1": {"label": "like"}, "1": {"label": "dislike"}}}, r"item '1' is given twice"),
])
def test_bad_gold_answers_are_refused_naming_the_value(kind, tmp_path, answer, message):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=1, overlap=1)
    with pytest.raises(ProjectError, match=message):
        set_gold_answer(svc.store, "p", "t00", answer)
    assert svc.store.gold("p") == {}


def test_gold_items_may_be_named_by_title_and_a_gold_task_can_be_removed(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=2, overlap=1)
    stored = set_gold_answer(svc.store, "p", "t01", {"judgements": {"film 3": {"label": "dislike", "rating": 2}}})
    assert stored == {"judgements": {"3": {"label": "dislike", "rating": 2}}}
    assert svc.store.gold("p") == {"t01": stored} and svc.progress("p")["tasks"] == 1
    with pytest.raises(ProjectError, match="unknown task 't09'"):
        set_gold_answer(svc.store, "p", "t09", {"reply_label": "like"})
    assert svc.store.remove_gold("p", "t01") is True and svc.store.remove_gold("p", "t01") is False
    assert svc.progress("p")["tasks"] == 2


def test_quality_settings_are_checked_and_kept(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=1, overlap=1)
    with pytest.raises(ProjectError, match=r"--gold-rate: must be a number 0-1 .*got 1.5"):
        svc.store.quality_settings("p").replace(gold_rate=1.5)
    with pytest.raises(ProjectError, match=r"--min-gold-tasks: must be an integer 1-10000 .*got 2.5"):
        svc.store.quality_settings("p").replace(min_gold_tasks=2.5)
    changed = svc.store.quality_settings("p").replace(gold_rate=0.1, min_gold_accuracy=0.8)
    svc.store.set_quality_settings("p", changed)
    assert STORES[kind](tmp_path).quality_settings("p") == changed  # another store object reads it back


def test_a_sqlite_database_made_before_gold_tasks_gains_the_new_tables(tmp_path):
    """An existing projects.sqlite (schema 1, without the new columns) opens, keeps its answers, and
    reads them as guidelines version 1 with no recorded time."""
    from workbench.projects.store import SCHEMA

    path = projects_path(tmp_path)
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO projects VALUES ('p', '', 1, 'ready', '2026-01-01T00:00:00+00:00', '{}')")
    conn.execute("""INSERT INTO tasks VALUES ('p', 't0', 0, '[{"role": "user", "content": "hi"}]', '{}', '{}')""")
    conn.execute("INSERT INTO answers VALUES ('p', 't0', 'ann', 1, 'skipped', NULL, 1)")
    conn.execute("INSERT INTO history (project, task_id, annotator, version, status, created_at) "
                 "VALUES ('p', 't0', 'ann', 1, 'skipped', '2026-01-01T00:00:00+00:00')")
    conn.commit()
    conn.close()
    store = STORES["sqlite"](tmp_path)
    (old,) = store.history("p")
    assert (old.status, old.guidelines_version, old.seconds) == ("skipped", 1, None)
    assert store.gold("p") == {} and store.quality_settings("p").gold_rate == 0.0
    assert store.add_guidelines("p", "v2") == 2


def test_requeue_while_annotators_work_loses_and_duplicates_nothing(kind, tmp_path):
    """New guidelines and a requeue in the middle of three annotator threads: in the end every task has
    its overlap of answers, all under the new guidelines, and every answer ever given is in the history
    and the feedback store exactly once."""
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=12, overlap=2)
    started = threading.Event()
    results: dict[str, list[str]] = {}

    def work(who: str) -> None:
        started.set()
        results[who] = annotate_all(svc, "p", who)

    threads = [threading.Thread(target=work, args=(a,)) for a in ("ann", "bob", "cy")]
    for t in threads:
        t.start()
    started.wait(10)
    while svc.progress("p")["submissions"] < 4:
        threading.Event().wait(0.01)
    svc.store.add_guidelines("p", "v2")
    moved = svc.store.requeue("p", 2)
    for t in threads:
        t.join(120)
    for who in ("ann", "bob", "cy"):  # whoever finished before the requeue comes back for the re-queued tasks
        annotate_all(svc, "p", who)
    assert moved  # some answers were made under version 1
    subs = svc.store.submissions("p")
    assert {s.guidelines_version for s in subs} == {2}
    by_task = collections.Counter(s.task_id for s in subs)
    assert len(by_task) == 12 and set(by_task.values()) == {2}
    history = svc.store.history("p")
    assert len({(a.task_id, a.annotator, a.version) for a in history}) == len(history)
    records = feedback(kind, tmp_path).read()
    assert records.duplicates == 0 and {r.record_id for r in records} == {a.record_id for a in history}


def test_the_export_says_which_rows_answer_gold_tasks_and_under_which_guidelines(kind, tmp_path):
    from workbench.projects.export import export_rows

    svc = service(kind, tmp_path)
    gold_project(svc, tasks=3, overlap=1, gold=("t01",), rate=0.5)
    while not (task := svc.next_task("p", "ann")).get("done"):
        svc.submit_task("p", task["task_id"], "ann", {"1": {"label": "like"}})
    rows = {r["task_id"]: r for r in export_rows(svc.store, "p")}
    assert {t: r["gold"] for t, r in rows.items()} == {"t00": False, "t01": True, "t02": False}
    assert {r["guidelines_version"] for r in rows.values()} == {1}


def test_gold_tasks_never_enter_the_review_queue(kind, tmp_path):
    """Annotators disagree on gold tasks by design (that is what gold finds out); they have their
    expected answer already, so the review queue passes them over."""
    from workbench.projects.review_service import next_review, set_reviewers

    svc = service(kind, tmp_path)
    gold_project(svc, tasks=2, overlap=2, gold=("t00",), rate=0.5)
    set_reviewers(svc.store, "p", "rita")
    for who, label in (("ann", "like"), ("bob", "dislike")):
        while not (task := svc.next_task("p", who)).get("done"):
            svc.submit_task("p", task["task_id"], who, {"1": {"label": label}})
    assert next_review(svc, "p", "rita")["task_id"] == "t01"  # t00 is split the same way, but gold
