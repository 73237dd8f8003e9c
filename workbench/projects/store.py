"""Project stores: tasks, claims and answers of annotation projects, atomic across processes.

:class:`ProjectStore` is the protocol; :class:`SQLiteProjectStore` is the embedded default (one
database file, WAL mode, every change in a ``BEGIN IMMEDIATE`` transaction with a busy timeout, so
threads and processes sharing the data directory serialise their claims and submissions). The
protocol speaks in plain values (JSON-ready dicts, ids, seconds) so that a PostgreSQL store can
follow with ``SELECT ... FOR UPDATE`` in place of ``BEGIN IMMEDIATE``.

Assignment rule (:meth:`ProjectStore.claim_next`): a task the annotator has not answered, whose
submissions plus live claims are still under the overlap, the one closest to completion first
(then by position); an annotator holds at most one live claim and gets the same task back while
it lives. A claim expires after its lease and the task is handed out again.

Submission is the commit point: :meth:`ProjectStore.answer` checks the claim, numbers the answer
(``version``), asks the caller to ``build`` the record for that version *inside* the transaction
(an exception there writes nothing) and stores the record's payload with the answer, flagged
unwritten. The caller then appends it to the feedback store and calls
:meth:`ProjectStore.mark_written`; :meth:`ProjectStore.unwritten` lists what a killed process
left, to be appended again under the same record id.

It knows SQL, claims and counts; it does not know the engine, feedback records or gradio.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from workbench.errors import ProjectError
from workbench.projects.disk import storage_error
from workbench.projects.quality_settings import QualitySettings
from workbench.projects.review_store import SQLiteReviewTables, migrate_sqlite
from workbench.projects.sqlite_quality import SQLiteQualityMixin, extend_schema

#: How long a claimed task stays reserved for its annotator (seconds).
DEFAULT_LEASE_S = 15 * 60
#: How long a writer waits for another one's transaction before failing (milliseconds).
BUSY_TIMEOUT_MS = 30_000
#: Bump when the tables change meaning.
STORE_SCHEMA_VERSION = 1

ANSWER_STATUSES = ("submitted", "skipped", "discarded")
PROJECT_STATES = ("creating", "ready", "closed")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY,
    guidelines TEXT NOT NULL DEFAULT '',
    overlap INTEGER NOT NULL CHECK (overlap >= 1),
    state TEXT NOT NULL DEFAULT 'creating',       -- creating | ready | closed
    created_at TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}'               -- JSON: source, generator, index id ...
);
CREATE TABLE IF NOT EXISTS tasks (
    project TEXT NOT NULL REFERENCES projects(name),
    task_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    messages TEXT NOT NULL,                       -- JSON [{role, content}], ends with a user turn
    metadata TEXT NOT NULL DEFAULT '{}',
    answer TEXT,                                  -- JSON: the engine's stored reply and slate, NULL until answered
    PRIMARY KEY (project, task_id)
);
CREATE TABLE IF NOT EXISTS claims (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    kind TEXT NOT NULL,                           -- new (a first answer) | edit (after back)
    expires_at REAL NOT NULL,
    PRIMARY KEY (project, task_id, annotator)
);
CREATE INDEX IF NOT EXISTS claims_by_annotator ON claims (project, annotator);
CREATE TABLE IF NOT EXISTS answers (              -- the latest answer of each annotator to each task
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,                         -- submitted | skipped | discarded
    record_id TEXT,
    first_seq INTEGER NOT NULL,                   -- order of first answers, for back
    PRIMARY KEY (project, task_id, annotator)
);
CREATE INDEX IF NOT EXISTS answers_by_task ON answers (project, task_id, status);
CREATE INDEX IF NOT EXISTS answers_by_annotator ON answers (project, annotator, first_seq);
CREATE TABLE IF NOT EXISTS history (              -- every answer ever given, never updated
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    record_id TEXT UNIQUE,                        -- the FeedbackRecord id (NULL for skips and discards)
    payload TEXT,                                 -- JSON: the FeedbackRecord's dict form
    written INTEGER NOT NULL DEFAULT 1,           -- 0 until the record is in the feedback store
    created_at TEXT NOT NULL,
    UNIQUE (project, task_id, annotator, version)
);
CREATE INDEX IF NOT EXISTS history_unwritten ON history (written) WHERE written = 0;
"""


@dataclass(frozen=True)
class ProjectInfo:
    """A project's settings and state."""

    name: str
    guidelines: str
    overlap: int
    state: str
    created_at: str
    meta: Mapping[str, Any]
    tasks: int = 0


@dataclass(frozen=True)
class StoredTask:
    """A task as stored: its context and the engine's answer (``None`` until answered)."""

    task_id: str
    position: int
    messages: list[dict[str, str]]
    metadata: dict[str, Any]
    answer: dict[str, Any] | None


@dataclass(frozen=True)
class Claim:
    """A live (or lapsed) reservation of a task for an annotator."""

    task_id: str
    kind: str  # new | edit
    expires_at: float


@dataclass(frozen=True)
class Answer:
    """One saved answer: what :meth:`ProjectStore.answer` committed."""

    task_id: str
    annotator: str
    version: int
    status: str
    record_id: str | None
    payload: dict[str, Any] | None
    reason: str = ""
    created_at: str = ""
    guidelines_version: int = 1  # the guidelines version it was made under
    seconds: float | None = None  # from the claim to this answer (None: not recorded)


class ProjectStore(Protocol):
    """Where projects live. Every method is one atomic step, safe across threads and processes."""

    def create_project(self, name: str, guidelines: str, overlap: int, meta: Mapping[str, Any],
                       tasks: Sequence[Mapping[str, Any]]) -> ProjectInfo: ...
    def set_answer(self, project: str, task_id: str, answer: Mapping[str, Any]) -> None: ...
    def set_state(self, project: str, state: str) -> None: ...
    def project(self, name: str) -> ProjectInfo: ...
    def projects(self) -> list[ProjectInfo]: ...
    def task(self, project: str, task_id: str) -> StoredTask: ...
    def unanswered(self, project: str) -> list[StoredTask]: ...
    def claim_next(self, project: str, annotator: str, lease_s: float = DEFAULT_LEASE_S) -> str | None: ...
    def claim_previous(self, project: str, annotator: str, lease_s: float = DEFAULT_LEASE_S) -> str | None: ...
    def latest(self, project: str, task_id: str, annotator: str) -> Answer | None: ...
    def answer(self, project: str, task_id: str, annotator: str, status: str, *, reason: str = "",
               build: Callable[[int], tuple[str, dict[str, Any]]] | None = None,
               suggestion: Mapping[str, Any] | None = None) -> Answer: ...
    def mark_written(self, record_id: str) -> None: ...
    def unwritten(self) -> list[Answer]: ...
    def progress(self, project: str) -> dict[str, Any]: ...
    def submissions(self, project: str) -> list[Answer]: ...
    # gold tasks, quality settings, guidelines versions (workbench.projects.sqlite_quality)
    def set_gold(self, project: str, task_id: str, answer: Mapping[str, Any], source: str) -> None: ...
    def remove_gold(self, project: str, task_id: str) -> bool: ...
    def gold(self, project: str) -> dict[str, dict[str, Any]]: ...
    def quality_settings(self, project: str) -> QualitySettings: ...
    def set_quality_settings(self, project: str, settings: QualitySettings) -> None: ...
    def add_guidelines(self, project: str, text: str) -> int: ...
    def guidelines_versions(self, project: str) -> list[dict[str, Any]]: ...
    def requeue(self, project: str, before_version: int) -> list[dict[str, Any]]: ...


def refuse_unclaimed_answer(project: str, task_id: str, annotator: str, claim: Mapping[str, Any] | None,
                            previous: Mapping[str, Any] | None) -> None:
    """The answering rule both stores apply (:class:`ProjectError` when it is broken): an answer
    needs ``annotator``'s claim on the task, and a claim for a *new* task (not one reopened with
    back) cannot overwrite an answer they already gave."""
    if claim is None or (claim["kind"] == "new" and previous is not None):
        if previous is not None:
            raise ProjectError(
                f"project {project!r}: task {task_id!r} was already {previous['status']} by "
                f"{annotator!r}; go back to it to change the answer")
        raise ProjectError(f"project {project!r}: task {task_id!r} is not claimed by {annotator!r}; "
                           "ask for the next task first")


def progress_dict(project: str, tasks: int, overlap: int, complete: int,
                  rows: Sequence[tuple[str, str, Any, int]]) -> dict[str, Any]:
    """The progress dict from ``(annotator, status, counted, n)`` rows (``counted``: not a gold task)."""
    per: dict[str, dict[str, int]] = {}
    totals = {"submitted": 0, "skipped": 0}
    for annotator, status, counted, n in rows:
        key = "submitted" if status == "submitted" else "skipped"
        per.setdefault(annotator, {"submitted": 0, "skipped": 0})[key] += n
        totals[key] += n if counted else 0
    return {"project": project, "tasks": tasks, "overlap": overlap, "complete": complete,
            "submissions": totals["submitted"], "skipped": totals["skipped"], "per_annotator": per}


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class SQLiteProjectStore(SQLiteReviewTables, SQLiteQualityMixin):
    """:class:`ProjectStore` in one SQLite file (WAL, ``BEGIN IMMEDIATE``, busy timeout).

    One connection per thread and process (opened on first use, reopened after a fork).
    ``clock`` gives the time for leases (inject one in tests instead of sleeping).
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"SQLiteProjectStore({str(self.path)!r})"

    # connections ------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            return self._open()
        except (sqlite3.OperationalError, OSError) as exc:  # a full or failing disk: say where, not a traceback
            raise storage_error(self.path, exc, "open the project store", opening=True) from exc

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=True)
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # an acknowledged submission survives a power cut
        conn.execute("PRAGMA foreign_keys = ON")
        if not self._schema_ready:
            with self._transaction(conn):  # executescript would commit: run the statements one by one
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                extend_schema(conn)
                migrate_sqlite(conn)  # the review tables and later nullable columns (additive)
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(STORE_SCHEMA_VERSION),))
                elif int(row[0]) > STORE_SCHEMA_VERSION:
                    raise ProjectError(f"{self.path}: project store schema {row[0]} is newer than this "
                                       f"workbench understands ({STORE_SCHEMA_VERSION}); upgrade the workbench")
            self._schema_ready = True

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlocks between readers
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (a full disk does)
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            with self._transaction(conn) as tx:
                yield tx
        except sqlite3.OperationalError as exc:  # disk full, I/O error, locked past the busy timeout
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the connection is beyond saving; the error below is what matters
            raise storage_error(self.path, exc, "save to the project store") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # projects ---------------------------------------------------------
    def create_project(self, name: str, guidelines: str, overlap: int, meta: Mapping[str, Any],
                       tasks: Sequence[Mapping[str, Any]]) -> ProjectInfo:
        """Create ``name`` with ``tasks`` (``{"id", "messages", "metadata"}``), or resume its creation.

        Resuming (the project exists and is still ``creating``) needs the same overlap and task ids.

        Raises:
            ProjectError: the project exists and is ready, or a resume does not match.
        """
        with self._write() as conn:
            row = conn.execute("SELECT * FROM projects WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO projects (name, guidelines, overlap, state, created_at, meta) "
                             "VALUES (?, ?, ?, 'creating', ?, ?)",
                             (name, guidelines, overlap, _utc_now(), json.dumps(dict(meta))))
                conn.executemany(
                    "INSERT INTO tasks (project, task_id, position, messages, metadata) VALUES (?, ?, ?, ?, ?)",
                    [(name, t["id"], i, json.dumps(t["messages"]), json.dumps(t.get("metadata") or {}))
                     for i, t in enumerate(tasks)],
                )
            else:
                if row["state"] != "creating":
                    raise ProjectError(f"project {name!r} already exists ({row['state']})")
                if row["overlap"] != overlap:
                    raise ProjectError(f"project {name!r}: resuming with overlap {overlap}, "
                                       f"but it was started with {row['overlap']}")
                stored = [r[0] for r in conn.execute(
                    "SELECT task_id FROM tasks WHERE project = ? ORDER BY position", (name,))]
                if stored != [t["id"] for t in tasks]:
                    raise ProjectError(f"project {name!r}: resuming with other tasks than it was started "
                                       f"with ({len(tasks)} given, {len(stored)} stored); use another name")
                conn.execute("UPDATE projects SET guidelines = ? WHERE name = ?", (guidelines, name))
        return self.project(name)

    def set_answer(self, project: str, task_id: str, answer: Mapping[str, Any]) -> None:
        with self._write() as conn:
            conn.execute("UPDATE tasks SET answer = ? WHERE project = ? AND task_id = ?",
                         (json.dumps(dict(answer)), project, task_id))

    def set_state(self, project: str, state: str) -> None:
        if state not in PROJECT_STATES:
            raise ProjectError(f"project state must be one of {', '.join(PROJECT_STATES)}, got {state!r}")
        with self._write() as conn:
            self._project_row(conn, project)
            conn.execute("UPDATE projects SET state = ? WHERE name = ?", (state, project))

    def _project_row(self, conn: sqlite3.Connection, name: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM projects WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = [r[0] for r in conn.execute("SELECT name FROM projects ORDER BY name")]
            raise ProjectError(f"unknown project {name!r} (projects: {', '.join(known) or 'none'})")
        return row

    @staticmethod
    def _info(row: sqlite3.Row, tasks: int) -> ProjectInfo:
        return ProjectInfo(row["name"], row["guidelines"], row["overlap"], row["state"], row["created_at"],
                           json.loads(row["meta"]), tasks)

    def project(self, name: str) -> ProjectInfo:
        conn = self._conn()
        row = self._project_row(conn, name)
        count = conn.execute("SELECT COUNT(*) FROM tasks WHERE project = ?", (name,)).fetchone()[0]
        return self._info(row, count)

    def projects(self) -> list[ProjectInfo]:
        rows = self._conn().execute(
            "SELECT p.*, (SELECT COUNT(*) FROM tasks t WHERE t.project = p.name) AS n "
            "FROM projects p ORDER BY p.name").fetchall()
        return [self._info(r, r["n"]) for r in rows]

    # tasks ------------------------------------------------------------
    @staticmethod
    def _task(row: sqlite3.Row) -> StoredTask:
        return StoredTask(row["task_id"], row["position"], json.loads(row["messages"]), json.loads(row["metadata"]),
                          json.loads(row["answer"]) if row["answer"] is not None else None)

    def task(self, project: str, task_id: str) -> StoredTask:
        conn = self._conn()
        self._project_row(conn, project)
        row = conn.execute("SELECT * FROM tasks WHERE project = ? AND task_id = ?", (project, task_id)).fetchone()
        if row is None:
            raise ProjectError(f"project {project!r}: unknown task {task_id!r}")
        return self._task(row)

    def unanswered(self, project: str) -> list[StoredTask]:
        rows = self._conn().execute(
            "SELECT * FROM tasks WHERE project = ? AND answer IS NULL ORDER BY position", (project,)).fetchall()
        return [self._task(r) for r in rows]

    # claims -----------------------------------------------------------
    @staticmethod
    def _ready(row: sqlite3.Row) -> None:
        if row["state"] == "creating":
            raise ProjectError(f"project {row['name']!r} is still being created; run `project create` again "
                               "to finish it")
        if row["state"] == "closed":
            raise ProjectError(f"project {row['name']!r} is closed")

    def claim_next(self, project: str, annotator: str, lease_s: float = DEFAULT_LEASE_S) -> str | None:
        """Reserve the next task for ``annotator`` (see the module docstring); ``None`` when none is left."""
        now = self.clock()
        with self._write() as conn:
            proj = self._project_row(conn, project)
            self._ready(proj)
            held = conn.execute(
                "SELECT task_id FROM claims WHERE project = ? AND annotator = ? AND kind = 'new' "
                "AND expires_at > ?", (project, annotator, now)).fetchone()
            if held is not None:
                task_id = held[0]
            else:
                task_id = self._gold_candidate(conn, project, annotator, due_only=True)
                row = None if task_id is not None else conn.execute(
                    """
                    SELECT task_id, done + held AS taken FROM (
                        SELECT t.task_id, t.position,
                          (SELECT COUNT(*) FROM answers a WHERE a.project = t.project AND a.task_id = t.task_id
                             AND a.status = 'submitted') AS done,
                          (SELECT COUNT(*) FROM claims c WHERE c.project = t.project AND c.task_id = t.task_id
                             AND c.kind = 'new' AND c.expires_at > :now) AS held
                        FROM tasks t
                        WHERE t.project = :project
                          AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.project = t.project
                                          AND a.task_id = t.task_id AND a.annotator = :annotator)
                          AND NOT EXISTS (SELECT 1 FROM gold g WHERE g.project = t.project AND g.task_id = t.task_id)
                    ) WHERE done + held < :overlap
                    ORDER BY taken DESC, position LIMIT 1
                    """,
                    {"project": project, "annotator": annotator, "now": now, "overlap": proj["overlap"]},
                ).fetchone()
                if row is not None:
                    task_id = row[0]
                elif task_id is None:  # no ordinary task left: the gold tasks this annotator has not met
                    task_id = self._gold_candidate(conn, project, annotator, due_only=False)
                if task_id is None:
                    return None
                conn.execute("DELETE FROM claims WHERE project = ? AND annotator = ? AND kind = 'new'",
                             (project, annotator))
            # a claim taken again while it lives keeps the time it was first taken (claim-to-submit time)
            conn.execute("INSERT INTO claims (project, task_id, annotator, kind, expires_at, claimed_at) "
                         "VALUES (?, ?, ?, 'new', ?, ?) ON CONFLICT (project, task_id, annotator) DO UPDATE SET "
                         "expires_at = excluded.expires_at, claimed_at = CASE WHEN claims.kind = 'new' "
                         "THEN COALESCE(claims.claimed_at, excluded.claimed_at) ELSE excluded.claimed_at END, "
                         "kind = 'new'", (project, task_id, annotator, now + lease_s, now))
            return task_id

    def claim_previous(self, project: str, annotator: str, lease_s: float = DEFAULT_LEASE_S) -> str | None:
        """Reserve the task ``annotator`` answered before the one they are editing (or their last
        answered task) for a changed answer; ``None`` when there is nothing further back."""
        now = self.clock()
        with self._write() as conn:
            self._ready(self._project_row(conn, project))
            editing = conn.execute(
                "SELECT a.first_seq FROM claims c JOIN answers a USING (project, task_id, annotator) "
                "WHERE c.project = ? AND c.annotator = ? AND c.kind = 'edit'", (project, annotator)).fetchone()
            before = editing[0] if editing is not None else None
            row = conn.execute(
                "SELECT task_id FROM answers WHERE project = ? AND annotator = ? AND (? IS NULL OR first_seq < ?) "
                "ORDER BY first_seq DESC LIMIT 1", (project, annotator, before, before)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM claims WHERE project = ? AND annotator = ? AND kind = 'edit'",
                         (project, annotator))
            conn.execute("INSERT OR REPLACE INTO claims (project, task_id, annotator, kind, expires_at, claimed_at) "
                         "VALUES (?, ?, ?, 'edit', ?, ?)", (project, row[0], annotator, now + lease_s, now))
            return row[0]

    def claim(self, project: str, task_id: str, annotator: str) -> Claim | None:
        row = self._conn().execute(
            "SELECT task_id, kind, expires_at FROM claims WHERE project = ? AND task_id = ? AND annotator = ?",
            (project, task_id, annotator)).fetchone()
        return Claim(row[0], row[1], row[2]) if row is not None else None

    # answers ----------------------------------------------------------
    def latest(self, project: str, task_id: str, annotator: str) -> Answer | None:
        row = self._conn().execute(
            "SELECT h.* FROM answers a JOIN history h USING (project, task_id, annotator, version) "
            "WHERE a.project = ? AND a.task_id = ? AND a.annotator = ?", (project, task_id, annotator)).fetchone()
        return self._answer(row) if row is not None else None

    @staticmethod
    def _answer(row: sqlite3.Row) -> Answer:
        return Answer(row["task_id"], row["annotator"], row["version"], row["status"], row["record_id"],
                      json.loads(row["payload"]) if row["payload"] else None, row["reason"], row["created_at"],
                      row["guidelines_version"] or 1, row["seconds"])

    def answer(self, project: str, task_id: str, annotator: str, status: str, *, reason: str = "",
               build: Callable[[int], tuple[str, dict[str, Any]]] | None = None,
               suggestion: Mapping[str, Any] | None = None) -> Answer:
        """Commit ``annotator``'s answer to ``task_id`` (the commit point of a submission or skip).

        ``build(version)`` returns ``(record_id, payload)`` of the feedback record for a submission;
        it runs inside the transaction, so an error it raises writes nothing. ``suggestion`` (what
        the annotator was suggested and kept, :mod:`workbench.projects.suggestions`) is stored with it.

        Raises:
            ProjectError: unknown project or task, the task is not claimed by ``annotator``, it was
                already answered by them (and not reopened with back), or the lease lapsed and
                other annotators have taken the task since.
        """
        if status not in ANSWER_STATUSES:
            raise ProjectError(f"answer status must be one of {', '.join(ANSWER_STATUSES)}, got {status!r}")
        now = self.clock()
        with self._write() as conn:
            proj = self._project_row(conn, project)
            self._ready(proj)
            if conn.execute("SELECT 1 FROM tasks WHERE project = ? AND task_id = ?",
                            (project, task_id)).fetchone() is None:
                raise ProjectError(f"project {project!r}: unknown task {task_id!r}")
            claim = conn.execute("SELECT kind, expires_at, claimed_at FROM claims WHERE project = ? AND task_id = ? "
                                 "AND annotator = ?", (project, task_id, annotator)).fetchone()
            previous = conn.execute("SELECT version, status FROM answers WHERE project = ? AND task_id = ? "
                                    "AND annotator = ?", (project, task_id, annotator)).fetchone()
            refuse_unclaimed_answer(project, task_id, annotator, claim, previous)
            if (claim["kind"] == "new" and claim["expires_at"] <= now and status == "submitted"
                    and not self._is_gold(conn, project, task_id)):  # every annotator meets a gold task
                taken = conn.execute(
                    "SELECT (SELECT COUNT(*) FROM answers WHERE project = :p AND task_id = :t AND status = 'submitted')"
                    " + (SELECT COUNT(*) FROM claims WHERE project = :p AND task_id = :t AND kind = 'new' "
                    "    AND expires_at > :now AND annotator != :a)",
                    {"p": project, "t": task_id, "now": now, "a": annotator}).fetchone()[0]
                if taken >= proj["overlap"]:
                    raise ProjectError(f"project {project!r}: the claim of {annotator!r} on task {task_id!r} "
                                       "expired and other annotators have taken it; ask for the next task")
            version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM history WHERE project = ? AND "
                                   "task_id = ? AND annotator = ?", (project, task_id, annotator)).fetchone()[0]
            record_id, payload = build(version) if build is not None and status == "submitted" else (None, None)
            created = _utc_now()
            guidelines = self._guidelines_version(conn, project)
            seconds = now - claim["claimed_at"] if claim["claimed_at"] is not None else None
            cur = conn.execute(
                "INSERT INTO history (project, task_id, annotator, version, status, reason, record_id, payload, "
                "written, created_at, guidelines_version, seconds, suggestion) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (project, task_id, annotator, version, status, reason, record_id,
                 json.dumps(payload) if payload is not None else None, 0 if payload is not None else 1, created,
                 guidelines, seconds,
                 json.dumps(dict(suggestion)) if suggestion is not None and payload is not None else None))
            conn.execute(
                "INSERT INTO answers (project, task_id, annotator, version, status, record_id, first_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, task_id, annotator) DO UPDATE SET "
                "version = excluded.version, status = excluded.status, record_id = excluded.record_id",
                (project, task_id, annotator, version, status, record_id, cur.lastrowid))
            conn.execute("DELETE FROM claims WHERE project = ? AND task_id = ? AND annotator = ?",
                         (project, task_id, annotator))
        return Answer(task_id, annotator, version, status, record_id, payload, reason, created, guidelines, seconds)

    def mark_written(self, record_id: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE history SET written = 1 WHERE record_id = ?", (record_id,))

    def unwritten(self) -> list[Answer]:
        rows = self._conn().execute("SELECT * FROM history WHERE written = 0 ORDER BY seq").fetchall()
        return [self._answer(r) for r in rows]

    # reading ----------------------------------------------------------
    def progress(self, project: str) -> dict[str, Any]:
        """Counts in the shape of ``project progress --json`` (discards count as skipped).

        Gold tasks count neither as tasks nor toward completion, submissions or skips; each
        annotator's own counts (``per_annotator``) include them, so their task count moves on
        with every task they answer and a gold task looks like any other.
        """
        conn = self._conn()
        proj = self._project_row(conn, project)
        ordinary = "task_id NOT IN (SELECT task_id FROM gold WHERE project = :p)"
        tasks = conn.execute(f"SELECT COUNT(*) FROM tasks WHERE project = :p AND {ordinary}",
                             {"p": project}).fetchone()[0]
        complete = conn.execute(
            f"SELECT COUNT(*) FROM (SELECT task_id FROM answers WHERE project = :p AND status = 'submitted' "
            f"AND {ordinary} GROUP BY task_id HAVING COUNT(*) >= :o)", {"p": project, "o": proj["overlap"]}).fetchone()[0]
        rows = conn.execute(f"SELECT annotator, status, {ordinary} AS counted, COUNT(*) FROM answers "
                            f"WHERE project = :p GROUP BY annotator, status, counted ORDER BY annotator",
                            {"p": project}).fetchall()
        return progress_dict(project, tasks, proj["overlap"], complete, [tuple(r) for r in rows])

    def submissions(self, project: str) -> list[Answer]:
        """Every annotator's latest submitted answer, in task order."""
        conn = self._conn()
        self._project_row(conn, project)
        rows = conn.execute(
            "SELECT h.* FROM answers a JOIN history h USING (project, task_id, annotator, version) "
            "JOIN tasks t USING (project, task_id) WHERE a.project = ? AND a.status = 'submitted' "
            "ORDER BY t.position, a.annotator", (project,)).fetchall()
        return [self._answer(r) for r in rows]

    def history(self, project: str) -> list[Answer]:
        """Every answer ever given in ``project``, oldest first (changed answers included)."""
        rows = self._conn().execute("SELECT * FROM history WHERE project = ? ORDER BY seq", (project,)).fetchall()
        return [self._answer(r) for r in rows]
