"""A full disk under the project store: clear words, nothing acknowledged, nothing lost or doubled.

Guards issue 28 ("Also"): ``python app.py`` on a nearly full feedback folder died with a raw
``sqlite3.OperationalError: disk I/O error`` traceback from the project store's recovery; it now
refuses in words naming the folder and its free space. While running, a write the disk cannot take
fails as a feedback write does ("...; nothing was acknowledged") for project submissions and
reviews, writes nothing, and the same submission succeeds once there is room again.

Two ways in: the OSError injected at each store's write boundary (SQLite's transaction, PostgreSQL's
``DiskFull``), run on every store; and, where this process may mount one (root), a real 1 MB tmpfs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from projects_support import STORES, feedback, seed_project, service, use_kind

from tests.conftest import PROJECT_ROOT
from workbench.errors import WorkbenchError
from workbench.projects.review_service import next_review, set_reviewers, submit_review
from workbench.projects.service import open_project_service, projects_path
from workbench.projects.store import SQLiteProjectStore


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


@contextmanager
def disk_full(kind: str, store, monkeypatch):
    """Every write transaction of ``store`` fails as a full disk makes it fail, until the block ends."""
    with monkeypatch.context() as m:
        if kind == "sqlite":
            import sqlite3

            real = SQLiteProjectStore._transaction

            @contextmanager
            def failing(conn):
                with real(conn) as tx:
                    yield tx
                    raise sqlite3.OperationalError("database or disk is full")

            m.setattr(SQLiteProjectStore, "_transaction", staticmethod(failing))
        else:
            from psycopg.errors import DiskFull

            real_tx = store.db.transaction

            @contextmanager
            def failing_tx():
                with real_tx() as conn:
                    yield conn
                    raise DiskFull("could not extend file: No space left on device")

            m.setattr(store.db, "transaction", failing_tx)
        yield


def test_submissions_and_reviews_fail_clearly_and_write_nothing_on_a_full_disk(kind, tmp_path, monkeypatch):
    svc = service(kind, tmp_path)
    seed_project(svc.store, "p", tasks=2, overlap=2)
    set_reviewers(svc.store, "p", "rita")
    for who, label in (("ann", "like"), ("bob", "dislike")):
        t = svc.next_task("p", who)["task_id"]
        svc.submit_task("p", t, who, {"1": {"label": label}}, "", "")
    pending = svc.next_task("p", "ann")["task_id"]
    task = next_review(svc, "p", "rita")["task_id"]
    before = (len(svc.store.history("p")), len(feedback(kind, tmp_path).read()))
    with disk_full(kind, svc.store, monkeypatch):
        with pytest.raises(WorkbenchError, match=r"could not save to the project (store|database) .*(full|No space left).*"
                                                 r"nothing was acknowledged"):
            svc.submit_task("p", pending, "ann", {"1": {"label": "like"}}, "", "")
        with pytest.raises(WorkbenchError, match=r"could not save.*nothing was acknowledged"):
            submit_review(svc, "p", task, "rita", {"1": {"label": "like"}}, "", "")
    assert (len(svc.store.history("p")), len(feedback(kind, tmp_path).read())) == before
    assert svc.store.reviews("p") == []
    # room again: the same submission and review go through, once each
    svc.submit_task("p", pending, "ann", {"1": {"label": "like"}}, "", "")
    submit_review(svc, "p", task, "rita", {"1": {"label": "like"}}, "", "")
    records = feedback(kind, tmp_path).read()
    assert len(records) == before[1] + 2 and records.duplicates == 0


# ---------------------------------------------------------------------------
# a real full disk


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB tmpfs (root only; skipped where mounting is not allowed), unmounted afterwards."""
    mnt = tmp_path / f"tiny-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder: Path) -> Path:
    """Fill ``folder``'s disk to the last byte; returns the filler file (delete it to free the room)."""
    path = folder / "filler"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"x" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return path


def test_a_full_tmpfs_fails_clearly_while_running_and_refuses_at_start(tiny_disk):
    data = tiny_disk / "feedback"
    svc = open_project_service(data)
    seed_project(svc.store, "p", tasks=3, overlap=1)
    t = svc.next_task("p", "ann")["task_id"]
    svc.submit_task("p", t, "ann", {"1": {"label": "like"}}, "", "")
    t = svc.next_task("p", "ann")["task_id"]
    filler = fill(tiny_disk)
    with pytest.raises(WorkbenchError, match="nothing was acknowledged"):
        svc.submit_task("p", t, "ann", {"1": {"label": "like"}}, "", "")
    filler.unlink()
    svc.submit_task("p", t, "ann", {"1": {"label": "like"}}, "", "")  # room again: the same claim saves, once
    svc.store.close()
    filler = fill(tiny_disk)
    with pytest.raises(WorkbenchError, match=rf"{data / 'projects'}.*could not open the project store.*"
                                             rf"0 bytes free in {data / 'projects'}"):
        open_project_service(data)  # a restart on the full disk: words, not a traceback
    filler.unlink()
    svc = open_project_service(data)
    assert [s.task_id for s in svc.store.submissions("p")] == ["t00", "t01"]
    records = svc.feedback.read()
    assert len(records) == 2 and records.duplicates == 0


@pytest.mark.slow
def test_app_on_a_full_feedback_disk_refuses_in_words(tiny_disk):
    """The reported failure: ``python app.py`` printed a sqlite3 traceback from the recovery."""
    data = tiny_disk / "feedback"
    store = SQLiteProjectStore(projects_path(data))
    seed_project(store, "p", tasks=2, overlap=1)
    store.close()
    fill(tiny_disk)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"HF_HUB_OFFLINE": "1", "WORKBENCH_FEEDBACK_DIR": str(data), "WORKBENCH_GENERATOR": "template"})
    result = subprocess.run([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert f"error: {data / 'projects' / 'projects.sqlite'}: could not open the project store" in result.stderr
    assert "0 bytes free" in result.stderr and "WORKBENCH_FEEDBACK_DIR" in result.stderr
