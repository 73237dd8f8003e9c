"""Two ``python app.py`` replicas on one PostgreSQL, one SIGKILLed mid-load and restarted (issue 18).

Guards the promise of ``WORKBENCH_DATABASE_URL``: annotators spread over two processes share one
project (claims and counts live in the database, so a client whose replica died carries on at the
other one with the same claim), chat clients save feedback through ``/feedback`` meanwhile, and
after a SIGKILL and a restart every acknowledged record is stored exactly once, every task ends
with exactly ``overlap`` submissions from different annotators, and no record is stored twice.

``/chat`` sessions are stored in the database too: the chat clients of the killed replica go on
in the same session on the other one.
"""

from __future__ import annotations

import collections
import threading
import time

import psycopg
import pytest
from projects_support import seed_project
from ui_support import AppProcess

from workbench.projects.pg_store import PostgresProjectStore
from workbench.projects.service import open_project_service

TASKS, OVERLAP, ANNOTATORS, CHATTERS = 30, 2, 8, 4
KILL_AFTER = 20  # acknowledged submissions before replica B is killed


class Replicas:
    """The replicas' URLs as clients should see them: ``None`` while one is down."""

    def __init__(self, urls: list[str]):
        self.urls: list[str | None] = list(urls)
        self.lock = threading.Lock()

    def pick(self, preferred: int) -> str:
        with self.lock:
            live = [u for u in (self.urls[preferred % 2], self.urls[(preferred + 1) % 2]) if u]
        return live[0]


def _call(replicas: Replicas, clients: dict, preferred: int, *args, api_name: str):
    """Call ``api_name`` on the preferred replica, or the other one when that does not answer.

    Application errors (``AppError``: a refused request) are raised; transport errors move on.
    """
    import gradio_client
    from gradio_client.exceptions import AppError

    last: Exception | None = None
    for attempt in range(40):
        url = replicas.pick(preferred + attempt)
        try:
            client = clients.get(url)
            if client is None:
                client = clients[url] = gradio_client.Client(url, verbose=False, analytics_enabled=False,
                                                             download_files=False)
            return client.predict(*args, api_name=api_name)
        except AppError:
            raise
        except Exception as exc:  # the replica died under us (or is still starting): try the other
            clients.pop(url, None)
            last = exc
            time.sleep(0.25)
    raise RuntimeError(f"no replica answered {api_name}: {last!r}")


@pytest.mark.slow
def test_two_replicas_survive_a_sigkill_with_every_acknowledged_record_once(pg_url, tmp_path):
    from gradio_client.exceptions import AppError

    from workbench.catalog import load_catalog
    from workbench.config import Settings

    # the app validates records against its (default) catalogue: slates of items it has
    slate = tuple(load_catalog(Settings().catalog).ids[:3])
    seed_project(PostgresProjectStore(pg_url), "r", tasks=TASKS, overlap=OVERLAP, slate_ids=slate)
    settings = {"generator": "template", "database_url": pg_url, "feedback_dir": str(tmp_path / "unused")}
    a = AppProcess(tmp_path / "a.log", **settings)
    b = AppProcess(tmp_path / "b.log", **settings)
    restarted: AppProcess | None = None
    try:
        a.wait_until_served()
        b.wait_until_served()
        replicas = Replicas([a.url, b.url])
        acked: list[tuple[str, str, str]] = []  # (annotator, task_id, record_id) the server acknowledged
        chat_acked: list[str] = []
        chat_turns: dict[int, list[tuple[str, int, float]]] = {}
        annotators_done = threading.Event()
        chats_started = threading.Event()
        errors: list[str] = []
        lock = threading.Lock()

        def annotator(i: int) -> None:
            who, clients = f"ann{i}", {}
            chats_started.wait(180)  # the chat clients first hold a session each, so the kill lands mid-chat too
            try:
                while True:
                    task = _call(replicas, clients, i, "r", who, api_name="/next_task")
                    if task.get("done"):
                        return
                    try:
                        saved = _call(replicas, clients, i, "r", task["task_id"], who,
                                      {slate[1]: {"label": "like", "rating": 1 + i % 5}}, "like", "",
                                      api_name="/submit_task")
                    except AppError as exc:  # committed by the dead replica, reply lost: not acknowledged
                        if "already submitted" not in str(exc):
                            raise
                        continue
                    with lock:
                        acked.append((who, task["task_id"], saved["record_id"]))
            except Exception as exc:
                errors.append(f"{who}: {exc!r}")

        def chatter(i: int) -> None:
            clients: dict = {}
            session, turns = "", chat_turns.setdefault(i, [])
            try:
                while not annotators_done.is_set() and len(turns) < 400:
                    turn = _call(replicas, clients, i, f"a tense heist film, take {len(turns)}", session, 0,
                                 api_name="/chat")
                    session = turn["session_id"]
                    turns.append((turn["session_id"], turn["turn"], time.monotonic()))
                    item = turn["items"][0]["item_id"]
                    # a retry on the other replica carries the same key: stored once
                    saved = _call(replicas, clients, i, session, turn["turn"], f"chat{i}", {item: {"label": "like"}},
                                  "like", "", f"key-{i}-{turn['turn']}", api_name="/feedback")
                    with lock:
                        chat_acked.append(saved["record_id"])
                    time.sleep(0.3)  # a person reading the reply; keeps the chats going until the end
            except Exception as exc:
                errors.append(f"chat{i}: {exc!r}")

        threads = [threading.Thread(target=annotator, args=(i,)) for i in range(ANNOTATORS)]
        threads += [threading.Thread(target=chatter, args=(i,)) for i in range(CHATTERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 240
        on_b = range(1, CHATTERS, 2)  # the chat clients that start on replica B
        while not all(chat_turns.get(i) for i in range(CHATTERS)) and time.monotonic() < deadline:
            time.sleep(0.05)
        chats_started.set()
        while len(acked) < KILL_AFTER and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        assert len(acked) >= KILL_AFTER and any(t.is_alive() for t in threads[:ANNOTATORS]), errors  # mid-load
        with replicas.lock:
            replicas.urls[1] = None
        b.proc.kill()  # SIGKILL, mid-load
        b.proc.wait(10)
        killed_at = time.monotonic()
        restarted = AppProcess(tmp_path / "b2.log", **settings)
        restarted.wait_until_served()
        with replicas.lock:
            replicas.urls[1] = restarted.url
        for t in threads[:ANNOTATORS]:
            t.join(300)
        annotators_done.set()
        for t in threads[ANNOTATORS:]:
            t.join(120)
        assert errors == [] and not any(t.is_alive() for t in threads)
        # API sessions live in the database: the killed replica's chat clients went on in the same
        # session on the other replica, turn numbers continuing
        for i, turns in chat_turns.items():
            assert len({sid for sid, _, _ in turns}) == 1, (i, turns)
            assert [n for _, n, _ in turns] == sorted({n for _, n, _ in turns}), (i, turns)
        moved = [i for i in on_b if any(t > killed_at for _, _, t in chat_turns[i])
                 and any(t < killed_at for _, _, t in chat_turns[i])]
        assert moved, ("no chat session of the killed replica was continued after the kill",
                       {i: (sum(t < killed_at for _, _, t in v), sum(t > killed_at for _, _, t in v))
                        for i, v in chat_turns.items()})
    finally:
        for proc in (a, b, restarted):
            if proc is not None:
                proc.stop()

    # A record the killed replica committed but had not yet written is appended by recovery.
    svc = open_project_service(pg_url, recover=False)
    svc.recover(grace_s=0)
    subs = svc.store.submissions("r")
    by_task = collections.defaultdict(list)
    for s in subs:
        by_task[s.task_id].append(s.annotator)
    assert len(by_task) == TASKS
    assert all(len(who) == OVERLAP == len(set(who)) for who in by_task.values()), by_task
    assert svc.progress("r")["submissions"] == TASKS * OVERLAP
    with psycopg.connect(pg_url) as conn:
        stored = collections.Counter(r[0] for r in conn.execute("SELECT record_id FROM feedback_records"))
        project_ids = [r[0] for r in conn.execute(
            "SELECT record_id FROM feedback_records WHERE payload->>'project' = 'r'")]
    assert set(stored.values()) == {1}
    assert {rid for _, _, rid in acked} <= set(stored) and set(chat_acked) <= set(stored)
    assert sorted(project_ids) == sorted(s.record_id for s in subs)  # each submission's record once, none lost
    svc.store.close()
