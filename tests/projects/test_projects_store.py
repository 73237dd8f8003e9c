"""Project store contract: every store implementation through the same behavioural checks.

Guards the assignment rules of issue 11: with 3 annotators and overlap 2 over 12 tasks (threads,
and 3 processes at once) every task ends with exactly 2 submissions from 2 different annotators
and nobody gets a task twice; a task is never handed to more annotators at once than it still
needs; leases expire (an injected clock, no sleeping) and the task is handed out again; a
SIGKILLed process loses no acknowledged submission and a crash between the commit and the
feedback append is recovered without a duplicate.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from projects_support import STORES, annotate_all, feedback, process_worker, seed_project, service, use_kind

HERE = Path(__file__).resolve().parents[1]  # tests/


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _check_overlap(kind, svc, data_dir: Path, project: str = "p", tasks: int = 12, overlap: int = 2) -> None:
    subs = svc.store.submissions(project)
    by_task = collections.defaultdict(list)
    for s in subs:
        by_task[s.task_id].append(s.annotator)
    assert len(by_task) == tasks
    assert all(len(who) == overlap and len(set(who)) == overlap for who in by_task.values()), by_task
    history = collections.Counter((a.task_id, a.annotator) for a in svc.store.history(project))
    assert set(history.values()) == {1}  # nobody answered a task twice
    progress = svc.progress(project)
    assert progress["complete"] == tasks and progress["submissions"] == tasks * overlap
    records = feedback(kind, data_dir).read()
    assert len(records) == tasks * overlap and records.duplicates == 0
    assert {r.record_id for r in records} == {s.record_id for s in subs}


def test_three_annotator_threads_fill_overlap_two_exactly(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store)
    results: dict[str, list[str]] = {}
    threads = [threading.Thread(target=lambda a=a: results.__setitem__(a, annotate_all(svc, "p", a)))
               for a in ("ann", "bob", "cy")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(len(v) for v in results.values()) == 24
    assert all(len(v) == len(set(v)) for v in results.values())
    _check_overlap(kind, svc, tmp_path)


def test_three_annotator_processes_fill_overlap_two_exactly(kind, tmp_path):
    seed_project(service(kind, tmp_path).store)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        done = pool.starmap(process_worker, [(kind, str(tmp_path), "p", a) for a in ("ann", "bob", "cy")])
    assert sum(len(v) for v in done) == 24 and all(len(v) == len(set(v)) for v in done)
    _check_overlap(kind, service(kind, tmp_path), tmp_path)


def test_a_task_is_never_held_by_more_annotators_than_it_needs(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=3, overlap=2)
    first = [svc.next_task("p", a)["task_id"] for a in ("ann", "bob", "cy")]
    assert first[0] == first[1] != first[2]  # two share the task closest to completion, the third waits
    assert svc.next_task("p", "ann")["task_id"] == first[0]  # the same task again while the claim lives


def test_expired_lease_hands_the_task_out_again(kind, tmp_path):
    clock = Clock()
    svc = service(kind, tmp_path, clock, lease_s=60)
    seed_project(svc.store, tasks=2, overlap=1)
    t_ann = svc.next_task("p", "ann")["task_id"]
    t_bob = svc.next_task("p", "bob")["task_id"]
    assert t_ann != t_bob
    assert svc.next_task("p", "cy") == {"done": True, "progress": svc.progress("p")}
    clock.now += 61  # ann walked away
    assert svc.next_task("p", "cy")["task_id"] == t_ann
    with pytest.raises(Exception, match="expired and other annotators have taken it"):
        svc.submit_task("p", t_ann, "ann", {"1": {"label": "like"}})
    svc.submit_task("p", t_ann, "cy", {"1": {"label": "like"}})
    assert svc.progress("p")["submissions"] == 1


def test_a_late_submission_still_counts_when_nobody_took_the_task(kind, tmp_path):
    clock = Clock()
    svc = service(kind, tmp_path, clock, lease_s=60)
    seed_project(svc.store, tasks=1, overlap=1)
    t = svc.next_task("p", "ann")["task_id"]
    clock.now += 3600
    assert svc.submit_task("p", t, "ann", {"3": {"rating": 5}})["saved"] is True


def test_sigkilled_process_loses_no_acknowledged_submission(kind, tmp_path):
    seed_project(service(kind, tmp_path).store, tasks=300, overlap=1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    proc = subprocess.Popen([sys.executable, str(HERE / "projects_support.py"), kind, str(tmp_path), "p", "ann"],
                            stdout=subprocess.PIPE, text=True, env=env)
    acknowledged = []
    assert proc.stdout is not None
    for line in proc.stdout:
        acknowledged.append(line.split())
        if len(acknowledged) == 15:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(30)
    acknowledged += [line.split() for line in proc.stdout.read().splitlines() if line.strip()]
    assert proc.returncode == -signal.SIGKILL and len(acknowledged) >= 15
    svc = service(kind, tmp_path)
    svc.recover(grace_s=0)
    stored = {s.task_id: s.record_id for s in svc.store.submissions("p")}
    records = feedback(kind, tmp_path).read()
    assert all(stored.get(t) == rid for t, rid in acknowledged)
    assert {r.record_id for r in records} == set(stored.values())  # committed ones written, none twice
    assert len({r.record_id for r in records}) == len(records)
    assert len(annotate_all(svc, "p", "ann")) == 300 - len(stored)  # the rest is still there to do


def test_crash_between_commit_and_feedback_append_is_recovered_once(kind, tmp_path):
    svc = service(kind, tmp_path)
    seed_project(svc.store, tasks=2, overlap=1)
    t = svc.next_task("p", "ann")["task_id"]
    real_append = svc.feedback.append
    svc.feedback.append = lambda record: (_ for _ in ()).throw(OSError("killed"))  # type: ignore[method-assign]
    with pytest.raises(OSError):
        svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    svc.feedback.append = real_append  # type: ignore[method-assign]
    assert len(feedback(kind, tmp_path).read()) == 0 and len(svc.store.unwritten()) == 1
    with pytest.raises(Exception, match="already submitted"):  # a blind retry is refused, not doubled
        svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    fresh = service(kind, tmp_path)
    assert fresh.recover() == 0  # too young: it may belong to a live process
    assert fresh.recover(grace_s=0) == 1 and fresh.recover(grace_s=0) == 0
    (record,) = feedback(kind, tmp_path).read()
    assert record.record_id == fresh.store.submissions("p")[0].record_id
