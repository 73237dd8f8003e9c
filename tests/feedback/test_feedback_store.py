"""Feedback stores: durable appends, torn lines, duplicates, concurrent writers, a killed writer, Hub wiring.

The contract tests (those taking ``location``) run on every store behind
:class:`~workbench.feedback.store.RecordStore`: the JSONL shards and PostgreSQL (issue 18);
the others check what only the shards have (files, torn lines, Hub sync).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from workbench.config import Settings
from workbench.database import is_database_url
from workbench.errors import FeedbackError
from workbench.feedback.backends import store_at
from workbench.feedback.record import SCHEMA_VERSION, make_record
from workbench.feedback.store import JsonlFeedbackStore, encode_line, open_store

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Builds the same record in a worker process and here, so that fields can be compared exactly.
RECORD_CODE = '''
def build_record(writer, i):
    from workbench.feedback.record import make_record
    return make_record(
        annotator=f"annotator-{writer}",
        session_id=f"session-{writer}-{i // 10}",
        turn_index=i,
        conversation=[{"role": "user", "text": f"hello {i} ✨"}, {"role": "assistant", "text": "Hi — what now?"}],
        user_message=f"film n°{i} from writer {writer} 🎬",
        reply=f"Try Heat (1995), reply {i}.",
        generator_backend="template",
        generator_model="",
        slate=[
            {"item_id": "3", "title": "Heat (1995)", "rank": 1, "score": i / 7, "sources": {"cf": i / 3}},
            {"item_id": "5", "title": "Collateral (2004)", "rank": 2, "score": 0.5, "sources": {}},
        ],
        judgements={"3": {"label": "like", "rating": 1 + i % 5}, "5": {"label": "dislike"}},
        reply_label=("like", "dislike", None)[i % 3],
        comment=("Ünïcödé comment " * (i % 4)).strip(),
    )
'''
namespace: dict = {}
exec(RECORD_CODE, namespace)
build_record = namespace["build_record"]

WRITER_CODE = RECORD_CODE + '''
import os, sys, time
from workbench.feedback.backends import store_at
location, writer, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = store_at(location)
while go and not os.path.exists(go):
    time.sleep(0.005)
for i in range(count):
    record_id = store.append(build_record(writer, i))
    # acknowledged: only now may the id be reported
    sys.stdout.write(f"{i} {record_id}\\n")
    sys.stdout.flush()
'''


@pytest.fixture(params=["jsonl", "postgres"])
def location(request, tmp_path) -> str:
    """Where a store of each kind keeps its records: a shard folder, or a fresh database's URL."""
    return request.getfixturevalue("pg_url") if request.param == "postgres" else str(tmp_path / "fb")


def _jsonl(location: str) -> bool:
    return not is_database_url(location)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["HF_HUB_OFFLINE"] = "1"
    return env


def _same_content(record, expected) -> bool:
    a, b = record.to_dict(), expected.to_dict()
    for key in ("record_id", "created_at"):
        a.pop(key), b.pop(key)
    return a == b


# ---------------------------------------------------------------------------
# basics


def test_append_then_read_returns_the_record(location):
    """Guards the basic contract: append returns the id; read returns an equal record once."""
    store = store_at(location)
    assert len(store) == 0 and len(store.read()) == 0  # reading a missing folder / empty table is fine
    record = build_record(0, 1)
    assert store.append(record) == record.record_id
    result = store.read()
    assert result.records == (record,)
    assert (result.torn_lines, result.invalid_lines, result.duplicates) == ((), (), 0)
    assert len(store) == 1 and len(store_at(location)) == 1


def test_an_append_is_one_line_in_this_process_shard(tmp_path):
    """Guards the shard layout: one shard per process, named with the pid, holding the encoded line."""
    store = JsonlFeedbackStore(tmp_path / "fb")
    assert store.read().shards == 0
    record = build_record(0, 1)
    store.append(record)
    assert store.read().shards == 1
    shard = store.shard_path
    assert shard.name.startswith("shard-") and f"-{os.getpid()}-" in shard.name
    assert shard.read_bytes() == encode_line(record)


def test_store_creates_nothing_until_the_first_append(tmp_path):
    """Guards that constructing a store (at app start-up) has no file side effects."""
    JsonlFeedbackStore(tmp_path / "fb")
    assert not (tmp_path / "fb").exists()


def test_invalid_record_writes_nothing(location, tmp_path, tiny_catalog):
    """Guards validation at the store boundary: a bad record (or a bad one in a batch) writes no byte."""
    store = store_at(location, catalog=tiny_catalog)
    good = build_record(0, 0)
    bad_item = make_record(
        annotator="a", session_id="s", turn_index=0, conversation=[], user_message="m", reply="r",
        generator_backend="template", generator_model="",
        slate=[{"item_id": "nope", "title": "Nope", "rank": 1, "score": 0.0}], judgements={"nope": {"label": "like"}},
    )
    with pytest.raises(FeedbackError, match="item 'nope' is not in the catalogue tiny; nothing was saved"):
        store.append(bad_item)
    with pytest.raises(FeedbackError, match="record 2 of 2: .*nothing was saved"):
        store.append_many([good, bad_item])
    assert len(store) == 0 and (not _jsonl(location) or not Path(location).exists())
    batch = [good, build_record(0, 1)]
    assert store.append_many(batch) == [r.record_id for r in batch]
    assert len(store.read().records) == 2


def test_records_come_back_in_time_order_across_shards(location):
    """Guards the stable order: sorted by created_at then id, whatever shard (or store object) wrote them."""
    a, b = store_at(location), store_at(location)
    written = []
    for i in range(6):
        record = build_record(1, i)
        (a if i % 2 else b).append(record)
        written.append(record)
    if _jsonl(location):
        assert a.shard_path != b.shard_path
    assert store_at(location).read().records == tuple(written)


def test_threads_sharing_one_store_do_not_interleave_lines(location):
    """Guards the in-process lock (pool): concurrent UI handler threads never corrupt or lose a record."""
    store = store_at(location)
    records = [build_record(t, i) for t in range(4) for i in range(50)]

    def work(chunk):
        for r in chunk:
            store.append(r)

    threads = [threading.Thread(target=work, args=(records[t::4],)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = store_at(location).read()
    assert result.problems == () and result.shards == (1 if _jsonl(location) else 0)
    assert {r.record_id for r in result.records} == {r.record_id for r in records}


# ---------------------------------------------------------------------------
# damage and duplicates


def test_torn_last_line_is_reported_and_complete_records_kept(tmp_path):
    """Guards crash tolerance: a write cut short is reported, not fatal, and drops no complete record."""
    records = [build_record(2, i) for i in range(3)]
    shard = tmp_path / "shard-host-1-abc.jsonl"
    torn = encode_line(build_record(2, 3))[:57]
    shard.write_bytes(b"".join(encode_line(r) for r in records) + torn)
    result = JsonlFeedbackStore(tmp_path).read()
    assert result.records == tuple(records)
    assert len(result.torn_lines) == 1
    assert result.torn_lines[0].line == 4 and "torn line (57 bytes" in str(result.torn_lines[0])
    assert str(shard) in str(result.torn_lines[0])


def test_appending_after_a_crash_never_glues_onto_the_torn_line(tmp_path):
    """Guards resume: a new store writes a new shard, so the torn line stays the only casualty."""
    shard = tmp_path / "shard-host-1-abc.jsonl"
    shard.write_bytes(encode_line(build_record(2, 0)) + encode_line(build_record(2, 1))[:30])
    store = JsonlFeedbackStore(tmp_path)
    new = build_record(2, 2)
    store.append(new)
    assert store.shard_path != shard
    result = store.read()
    assert [r.turn_index for r in result.records] == [0, 2]
    assert len(result.torn_lines) == 1 and result.invalid_lines == ()


def test_complete_record_missing_only_its_newline_is_kept(tmp_path):
    """Guards 'never drop a complete record': a tail that parses is a record, not a torn line."""
    record = build_record(3, 0)
    (tmp_path / "shard-x.jsonl").write_bytes(encode_line(record)[:-1])
    result = JsonlFeedbackStore(tmp_path).read()
    assert result.records == (record,) and result.torn_lines == ()


def test_damaged_middle_line_is_reported_and_the_rest_read(tmp_path):
    """Guards readability of a damaged shard: a bad line in the middle names file and line."""
    good = [build_record(4, i) for i in range(2)]
    (tmp_path / "shard-x.jsonl").write_bytes(encode_line(good[0]) + b'{"record_id": \n' + encode_line(good[1]))
    result = JsonlFeedbackStore(tmp_path).read()
    assert result.records == tuple(good)
    assert [b.line for b in result.invalid_lines] == [2]
    assert "invalid JSON" in result.invalid_lines[0].reason


def test_same_record_in_two_shards_is_returned_once(tmp_path):
    """Guards dedupe by record_id: a shard re-downloaded from the Hub beside the original adds nothing."""
    store = JsonlFeedbackStore(tmp_path)
    records = [build_record(5, i) for i in range(4)]
    store.append_many(records)
    hub_copy = tmp_path / "hub" / "data"
    hub_copy.mkdir(parents=True)
    (hub_copy / store.shard_path.name).write_bytes(store.shard_path.read_bytes())
    (tmp_path / ".cache").mkdir()  # hidden folders (huggingface download metadata) are skipped
    (tmp_path / ".cache" / "shard-x.jsonl").write_bytes(b"garbage\n")
    (tmp_path / "export.jsonl").write_bytes(b"an export saved next to the shards is not a shard\n")
    result = JsonlFeedbackStore(tmp_path).read()
    assert result.records == tuple(records)
    assert result.duplicates == 4 and result.shards == 2 and result.problems == ()


def test_retrying_an_append_does_not_duplicate(location):
    """Guards idempotent retries: appending the same record twice (also in a batch) reads back once."""
    store = store_at(location)
    record, other = build_record(6, 0), build_record(6, 1)
    store.append(record)
    store.append(record)
    store_at(location).append_many([other, record])
    result = store.read()
    assert result.records == (record, other)
    # the shards keep the retried lines and skip them when reading; the database never stores them
    assert result.duplicates == (2 if _jsonl(location) else 0)


def test_failed_write_abandons_the_shard(tmp_path, monkeypatch):
    """Guards the failure path: a short write raises, is not acknowledged, and the next
    append goes to a fresh shard instead of continuing the torn one."""
    store = JsonlFeedbackStore(tmp_path)
    first = build_record(7, 0)
    store.append(first)
    torn_shard = store.shard_path
    real_write = os.write

    def short_write(fd, data):
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(os, "write", short_write)
    with pytest.raises(FeedbackError, match="could not save feedback .*short write.*nothing was acknowledged"):
        store.append(build_record(7, 1))
    monkeypatch.setattr(os, "write", real_write)
    third = build_record(7, 2)
    store.append(third)
    assert store.shard_path != torn_shard
    result = store.read()
    assert result.records == (first, third)
    assert len(result.torn_lines) == 1 and result.torn_lines[0].path == str(torn_shard)


def test_shard_rotates_past_its_size_limit(tmp_path, monkeypatch):
    """Guards rotation: shards stay small (Hub sync re-uploads a changed file whole) and nothing is lost."""
    from workbench.feedback import store as store_module

    monkeypatch.setattr(store_module, "MAX_SHARD_BYTES", 3000)
    store = JsonlFeedbackStore(tmp_path)
    records = [build_record(8, i) for i in range(10)]
    for r in records:
        store.append(r)
    shards = store.shards()
    assert len(shards) > 2
    assert all(p.stat().st_size <= 3000 for p in shards)
    assert store.read().records == tuple(records)


def test_read_sees_appends_from_another_store(location):
    """Guards the incremental read cache: new lines of a known shard are picked up, old ones not re-added."""
    reader, writer = store_at(location), store_at(location)
    writer.append(build_record(9, 0))
    assert len(reader) == 1
    writer.append(build_record(9, 1))
    writer.append(build_record(9, 2))
    result = reader.read()
    assert [r.turn_index for r in result.records] == [0, 1, 2] and result.duplicates == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_writes_its_own_shard(tmp_path):
    """Guards one-shard-per-process: a forked worker must not write into its parent's shard."""
    store = JsonlFeedbackStore(tmp_path)
    store.append(build_record(10, 0))
    pid = os.fork()
    if pid == 0:  # child
        try:
            store.append(build_record(10, 1))
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    store.append(build_record(10, 2))
    assert len(store.shards()) == 2
    assert [r.turn_index for r in store.read().records] == [0, 1, 2]


# ---------------------------------------------------------------------------
# processes


def test_eight_processes_append_concurrently_each_record_once(location, tmp_path):
    """Guards the core promise under concurrent annotators: 8 x 500 appends at once ->
    exactly 4,000 records, each once, every field intact, and the export holds them all."""
    from workbench.feedback.export import export

    data_dir, go = location, tmp_path / "go"
    writers, count = 8, 500
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER_CODE, str(data_dir), str(w), str(count), str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        for w in range(writers)
    ]
    time.sleep(0.5)
    go.touch()
    acked = {}
    for w, p in enumerate(procs):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        for line in out.splitlines():
            i, record_id = line.split()
            acked[record_id] = (w, int(i))
    assert len(acked) == writers * count
    result = store_at(data_dir).read()
    assert result.problems == () and result.duplicates == 0 and result.shards == (writers if _jsonl(location) else 0)
    assert len(result.records) == writers * count
    by_id = {r.record_id: r for r in result.records}
    assert set(by_id) == set(acked)
    for record_id, (w, i) in acked.items():
        assert _same_content(by_id[record_id], build_record(w, i)), (w, i)

    out = tmp_path / "export.jsonl"
    assert export(result.records, "jsonl", out).rows == 4000
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(d["record_id"] for d in lines) == sorted(acked)
    assert lines == [r.to_dict() for r in result.records]


def test_writer_killed_at_a_random_moment_loses_no_acknowledged_record(location):
    """Guards durability: SIGKILL a writer mid-stream; every id it acknowledged is there,
    the store stays readable, and appending resumes (in a fresh shard)."""
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng = random.Random(seed)
    data_dir = location
    proc = subprocess.Popen([sys.executable, "-c", WRITER_CODE, str(data_dir), "11", "100000", ""],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    acked = []
    wanted = rng.randrange(20, 400)
    while len(acked) < wanted:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        acked.append(line.split()[1])
    time.sleep(rng.random() * 0.05)  # land somewhere inside the following appends
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # ids printed after the last one we read were acknowledged too
    acked += [line.split()[1] for line in proc.stdout.read().splitlines() if len(line.split()) == 2]
    proc.stdout.close()
    proc.stderr.close()

    store = store_at(data_dir)
    result = store.read()
    ids = {r.record_id for r in result.records}
    assert set(acked) <= ids, f"seed {seed}: lost {len(set(acked) - ids)} acknowledged records"
    assert len(ids) - len(acked) <= 1, f"seed {seed}"  # at most the one in flight when killed
    assert result.invalid_lines == () and len(result.torn_lines) <= 1
    resumed = build_record(11, 10**6)
    store.append(resumed)
    again = store_at(data_dir).read()
    assert len(again.records) == len(result.records) + 1 and resumed in again.records
    assert again.torn_lines == result.torn_lines


# ---------------------------------------------------------------------------
# Hub sync wiring (no network)


class FakeScheduler:
    """Records how CommitScheduler would be built; offers the lock the store must take."""

    instances: list[FakeScheduler] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.repo_id = kwargs["repo_id"]
        self.lock = threading.Lock()
        self.triggered = self.stopped = False
        FakeScheduler.instances.append(self)

    def trigger(self):
        self.triggered = True

        class Done:
            def result(self):
                return None

        return Done()

    def stop(self):
        self.stopped = True


def test_no_scheduler_without_a_hub_repo(tmp_path, monkeypatch):
    """Guards 'without the setting nothing touches the network': no scheduler, huggingface_hub not needed."""
    import builtins

    real_import = builtins.__import__

    def no_hub(name, *args, **kwargs):
        if name.startswith("huggingface_hub"):
            raise AssertionError("huggingface_hub imported without FEEDBACK_HUB_REPO")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)
    FakeScheduler.instances.clear()
    store = open_store(Settings(feedback_dir=str(tmp_path)), scheduler_cls=FakeScheduler)
    assert store.hub_sync is None and FakeScheduler.instances == []
    assert store.data_dir == tmp_path
    store.append(build_record(12, 0))


def test_scheduler_built_with_folder_repo_and_token_when_configured(tmp_path, tiny_catalog):
    """Guards the Hub wiring: a dataset-repo CommitScheduler over the data folder, appends under its lock."""
    FakeScheduler.instances.clear()
    settings = Settings(feedback_dir=str(tmp_path / "fb"), feedback_hub_repo="org/feedback", hf_token="hf_x")
    store = open_store(settings, tiny_catalog, scheduler_cls=FakeScheduler)
    (scheduler,) = FakeScheduler.instances
    assert store.hub_sync is scheduler and store.catalog is tiny_catalog
    kw = scheduler.kwargs
    assert kw["repo_id"] == "org/feedback" and kw["repo_type"] == "dataset"
    assert Path(kw["folder_path"]) == tmp_path / "fb" and kw["token"] == "hf_x"
    assert kw["path_in_repo"] == "data" and kw["allow_patterns"] == ["shard-*.jsonl"]

    # While an upload snapshots files (holding the lock) an append waits: no half line is uploaded.
    scheduler.lock.acquire()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (store.append(build_record(12, 1)), done.set()))
    worker.start()
    assert not done.wait(0.3)
    scheduler.lock.release()
    assert done.wait(10)
    worker.join()
    store.close()
    assert scheduler.triggered and scheduler.stopped


def test_hub_sync_failure_is_a_clear_error(tmp_path):
    """Guards start-up with a bad repo or no network: a FeedbackError that says what to do."""

    def broken(**kwargs):
        raise OSError("offline")

    with pytest.raises(FeedbackError, match="'org/x': cannot start Hub sync .*unset FEEDBACK_HUB_REPO"):
        JsonlFeedbackStore(tmp_path).start_hub_sync("org/x", scheduler_cls=broken)


class FakeApi:
    def __init__(self, has_readme=False, fail=False):
        self.has_readme, self.fail, self.uploads = has_readme, fail, []

    def file_exists(self, repo_id, filename, repo_type=None):
        if self.fail:
            raise OSError("offline")
        assert (filename, repo_type) == ("README.md", "dataset")
        return self.has_readme

    def upload_file(self, **kwargs):
        self.uploads.append(kwargs)


def test_hub_sync_writes_the_dataset_card_once(tmp_path):
    """Guards the typed Hub dataset: a new repo gets the card; an existing README is left alone;
    a failing card upload does not stop syncing."""
    for api, uploads in ((FakeApi(), 1), (FakeApi(has_readme=True), 0), (FakeApi(fail=True), 0)):
        with_api = type("WithApi", (FakeScheduler,), {"api": api})
        store = JsonlFeedbackStore(tmp_path)
        assert store.start_hub_sync("org/feedback", scheduler_cls=with_api) is store.hub_sync
        assert len(api.uploads) == uploads
        if uploads:
            (upload,) = api.uploads
            assert (upload["path_in_repo"], upload["repo_id"], upload["repo_type"]) == (
                "README.md", "org/feedback", "dataset")
            assert b"path: data/**/*.jsonl" in upload["path_or_fileobj"]


def test_dataset_card_makes_datasets_read_the_declared_features(tmp_path):
    """Guards what the card is for, with datasets' own loader on a local copy of the repo layout:
    shards whose optional columns are all empty still load with FEEDBACK_FEATURES."""
    import datasets

    from workbench.feedback.hub import dataset_card
    from workbench.feedback.record import FEEDBACK_FEATURES

    records = [make_record(
        annotator="a", session_id="s", turn_index=i, conversation=[], user_message="m", reply="r",
        generator_backend="template", generator_model="", slate=[], judgements={}, comment="only a comment",
    ) for i in range(3)]
    (tmp_path / "repo" / "data").mkdir(parents=True)
    (tmp_path / "repo" / "data" / "shard-a.jsonl").write_bytes(b"".join(encode_line(r) for r in records))
    (tmp_path / "repo" / "README.md").write_text(dataset_card("org/feedback"), encoding="utf-8")
    ds = datasets.load_dataset(str(tmp_path / "repo"), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.features == FEEDBACK_FEATURES
    assert ds.to_list() == [r.to_dict() for r in records]


def test_open_store_refuses_an_unusable_feedback_dir(tmp_path):
    """Guards start-up: a feedback_dir under a file fails with the setting's name, before any Save."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(FeedbackError, match="setting 'feedback_dir': .* is not writable .*not a folder"):
        open_store(Settings(feedback_dir=str(tmp_path / "file" / "fb")))


def test_same_id_with_different_content_is_reported(tmp_path):
    """Guards silent divergence: a hand-edited copy of a record is flagged, not merged quietly."""
    record = build_record(13, 0)
    edited = record.to_dict() | {"comment": "edited"}
    (tmp_path / "shard-a.jsonl").write_bytes(encode_line(record))
    (tmp_path / "shard-b.jsonl").write_text(json.dumps(edited) + "\n", encoding="utf-8")
    result = JsonlFeedbackStore(tmp_path).read()
    assert result.records == (record,) and result.conflicts == (record.record_id,)


def test_shard_deleted_while_running_does_not_swallow_later_appends(tmp_path):
    """Guards against acknowledged-but-invisible records: after someone deletes (or moves) the
    open shard, the next append goes to a new shard instead of the unlinked file."""
    store = JsonlFeedbackStore(tmp_path)
    store.append(build_record(14, 0))
    store.shard_path.unlink()
    later = build_record(14, 1)
    store.append(later)
    assert JsonlFeedbackStore(tmp_path).read().records == (later,)
    store.shard_path.rename(tmp_path / "elsewhere.txt")
    last = build_record(14, 2)
    store.append(last)
    assert JsonlFeedbackStore(tmp_path).read().records == (last,)


def test_a_schema_v1_shard_reads_beside_current_ones(tmp_path):
    """Guards old data after the schema-2 bump: a shard written before project/task_id existed
    reads without problems next to a current shard, its records keeping version 1."""
    old = build_record(1, 0).to_dict()
    del old["project"], old["task_id"]
    old["schema_version"] = 1
    (tmp_path / "shard-old-1-abc.jsonl").write_text(json.dumps(old, ensure_ascii=False) + "\n", encoding="utf-8")
    store = JsonlFeedbackStore(tmp_path)
    store.append(build_record(2, 0))
    result = store.read()
    assert result.problems == () and result.shards == 2
    versions = {r.record_id: (r.schema_version, r.project, r.task_id) for r in result}
    assert versions[old["record_id"]] == (1, "", "")
    assert sorted(v[0] for v in versions.values()) == [1, SCHEMA_VERSION]


def test_idempotent_record_ids_are_stored_once_across_store_objects(location):
    """Issue 19: a /feedback retry after a lost reply duplicated the record; with a key it is stored once,
    also by a fresh store on the same directory (a restarted server)."""
    import dataclasses

    from workbench.feedback.store import idempotent_record_id

    rid = idempotent_record_id("key-1", "session", "ann")
    assert rid == idempotent_record_id("key-1", "session", "ann") != idempotent_record_id("key-1", "other", "ann")
    with pytest.raises(FeedbackError, match="idempotency_key"):
        idempotent_record_id("\x1b[2J", "session", "ann")
    store = store_at(location)
    record = dataclasses.replace(_idem_record(), record_id=rid)
    assert store.append_once(record) == (rid, True)
    assert store.append_once(record) == (rid, False)
    assert store_at(location).append_once(record) == (rid, False)
    assert store.read().records == (record,) and store.read().duplicates == 0
    if _jsonl(location):
        assert sum(p.read_text().count("\n") for p in store.shards()) == 1


def _idem_record():
    return make_record(annotator="ann", session_id="s", turn_index=0, conversation=[], user_message="hi",
                       reply="hello", generator_backend="template", generator_model="", slate=[],
                       judgements={}, reply_label="like")


def test_arena_votes_are_records_like_any_other_on_every_store(location):
    """Arena votes (issue 12) are schema-3 records with system and pair fields: each store keeps
    them whole, so the leaderboard reads the same votes from the shards and from PostgreSQL."""
    from dataclasses import replace

    from workbench.arena.votes import read_votes

    store = store_at(location)
    sides = []
    for side, system in (("a", "default@1234"), ("b", "baseline@abcd")):
        base = build_record(0, 1 if side == "a" else 2)
        sides.append(replace(base, system_id=system, system_hash=system.split("@")[1], arena_pair="pair-1",
                             arena_side=side, arena_vote="a", annotator="alice"))
    store.append_many(sides)
    store.append_many(sides)  # a retried write: still one vote
    (vote,) = read_votes(store_at(location).read())
    assert (vote.pair_id, vote.annotator, vote.a, vote.b, vote.vote) == (
        "pair-1", "alice", "default@1234", "baseline@abcd", "a")
    assert {r.arena_side for r in store.read()} == {"a", "b"}
