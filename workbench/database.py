"""PostgreSQL for a team: one connection pool per process and the schema's versioned migrations.

``WORKBENCH_DATABASE_URL=postgresql://...`` moves feedback records and annotation projects from
the embedded stores (JSONL shards, one SQLite file) into one PostgreSQL database that several app
processes share, together with the ``/chat`` API sessions (:mod:`workbench.chat.shared_sessions`). :class:`Database` owns a ``psycopg_pool.ConnectionPool`` (reopened after a
fork: a pool's connections must never be shared between processes) and, when opened, brings the
schema up to date: :data:`MIGRATIONS` are applied in order, each in its own transaction, under an
advisory lock so that replicas starting together migrate once; the ``workbench_migrations``
table records which versions are in. A database migrated by a newer workbench (a version this
code does not know) is refused with both versions in the message, before anything is written.

It knows connections and the schema; the stores (:mod:`workbench.projects.pg_store`,
:mod:`workbench.feedback.pg_store`) know the queries. It does not know gradio or the engine.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from workbench.errors import ConfigError

#: Connections one process keeps at most (UI workers, API threads and background writers share them).
POOL_MAX_SIZE = 16
#: Seconds to wait for the first connection (start-up) or a free one (a request) before failing.
CONNECT_TIMEOUT_S = 15.0
#: Any constant both replicas agree on: the advisory lock held while migrating.
MIGRATION_LOCK_ID = 0x5EB_18

#: (version, name, statements): append only; never edit a migration that has shipped.
#: JSON columns are ``json``, not ``jsonb``: ``json`` keeps the text as written (key order included),
#: so a record or task reads back exactly as the embedded stores return it and exports match byte for byte.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "feedback records and annotation projects", """
CREATE TABLE feedback_records (
    record_id TEXT PRIMARY KEY,                   -- idempotency: a retried write never duplicates
    created_at TEXT NOT NULL,                     -- the record's own timestamp (ISO 8601)
    payload JSON NOT NULL,                       -- FeedbackRecord.to_dict()
    inserted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX feedback_records_order ON feedback_records (created_at, record_id);
CREATE TABLE projects (
    name TEXT PRIMARY KEY,
    guidelines TEXT NOT NULL DEFAULT '',
    overlap INTEGER NOT NULL CHECK (overlap >= 1),
    state TEXT NOT NULL DEFAULT 'creating',
    created_at TEXT NOT NULL,
    meta JSON NOT NULL DEFAULT '{}'
);
CREATE TABLE tasks (
    project TEXT NOT NULL REFERENCES projects(name),
    task_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    messages JSON NOT NULL,
    metadata JSON NOT NULL DEFAULT '{}',
    answer JSON,
    PRIMARY KEY (project, task_id)
);
CREATE TABLE claims (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    kind TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project, task_id, annotator)
);
CREATE INDEX claims_by_annotator ON claims (project, annotator);
CREATE TABLE answers (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    record_id TEXT,
    first_seq BIGINT NOT NULL,
    PRIMARY KEY (project, task_id, annotator)
);
CREATE INDEX answers_by_task ON answers (project, task_id, status);
CREATE INDEX answers_by_annotator ON answers (project, annotator, first_seq);
CREATE TABLE history (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    record_id TEXT UNIQUE,
    payload JSON,
    written BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    UNIQUE (project, task_id, annotator, version)
);
CREATE INDEX history_unwritten ON history (written) WHERE NOT written;
"""),
    (2, "API sessions shared by replicas", """
CREATE TABLE api_sessions (
    session_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    version INTEGER NOT NULL,                     -- optimistic concurrency between replicas
    state JSON NOT NULL,                          -- workbench.chat.shared_sessions.session_to_dict
    updated_at DOUBLE PRECISION NOT NULL          -- unix time of the last change
);
CREATE INDEX api_sessions_by_age ON api_sessions (updated_at);
"""),
    (3, "gold tasks, quality settings, guidelines versions, answer timings", """
CREATE TABLE gold (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    answer JSON NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (project, task_id)
);
CREATE TABLE quality_settings (
    project TEXT PRIMARY KEY,
    gold_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
    min_gold_accuracy DOUBLE PRECISION,
    min_gold_tasks INTEGER,
    max_agreement_drop DOUBLE PRECISION,
    straight_run INTEGER
);
CREATE TABLE guidelines (
    project TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project, version)
);
CREATE TABLE requeues (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,
    guidelines_version INTEGER NOT NULL,
    before_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE claims ADD COLUMN claimed_at DOUBLE PRECISION;
ALTER TABLE history ADD COLUMN guidelines_version INTEGER;
ALTER TABLE history ADD COLUMN seconds DOUBLE PRECISION;
"""),
    (4, "project reviews and suggestions", """
CREATE TABLE reviews (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    version INTEGER NOT NULL,
    judgements JSON NOT NULL,
    reply_label TEXT,
    note TEXT NOT NULL DEFAULT '',
    record_id TEXT NOT NULL UNIQUE,
    payload JSON,
    written BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    UNIQUE (project, task_id, version)
);
CREATE INDEX reviews_unwritten ON reviews (written) WHERE NOT written;
CREATE TABLE review_claims (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project, task_id, reviewer)
);
ALTER TABLE history ADD COLUMN suggestion JSON;
"""),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Every database whose pool is open in this process (for :func:`close_all`).
_OPEN: weakref.WeakSet[Database] = weakref.WeakSet()


def is_database_url(value: str) -> bool:
    """Whether ``value`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return value.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}://{userinfo}{at}{hostport}{slash}{tail}"


class Database:
    """A pool of connections to one PostgreSQL database, migrated on :meth:`open`.

    Creating it connects to nothing; :meth:`open` (or the first :meth:`transaction`) opens the
    pool, waits for a first connection and migrates. ``with db.transaction() as conn:`` is one
    transaction: committed when the block ends, rolled back if it raises.
    """

    def __init__(self, url: str, *, max_size: int = POOL_MAX_SIZE):
        if not is_database_url(url):
            raise ConfigError(f"database url must start with postgresql://, got {redact(url)!r}")
        self.url = url
        self.max_size = max_size
        self._pool: Any = None
        self._pid = -1
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Database({redact(self.url)!r})"

    @property
    def location(self) -> str:
        """The database's URL without its password."""
        return redact(self.url)

    def open(self) -> Database:
        """Open the pool (once per process) and bring the schema up to date.

        Raises:
            ConfigError: the server cannot be reached, or its schema is newer than this code.
        """
        self._get_pool()
        return self

    def _get_pool(self) -> Any:
        if self._pool is not None and self._pid == os.getpid():
            return self._pool
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                return self._pool
            from psycopg_pool import ConnectionPool, PoolTimeout

            # A forked child must not close the parent's sockets: drop the inherited pool unclosed.
            pool = ConnectionPool(self.url, min_size=1, max_size=self.max_size, open=False,
                                  timeout=CONNECT_TIMEOUT_S, name="workbench")
            try:
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            except PoolTimeout as exc:
                pool.close()
                raise ConfigError(
                    f"setting 'database_url' (WORKBENCH_DATABASE_URL): cannot connect to {self.location} "
                    f"within {CONNECT_TIMEOUT_S:.0f} s; is the server running and the URL right?"
                ) from exc
            try:
                with pool.connection() as conn:
                    migrate(conn, self.location)
            except BaseException:
                pool.close()
                raise
            self._pool, self._pid = pool, os.getpid()
            _OPEN.add(self)
            return pool

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One transaction on a pooled connection (committed on success, rolled back on error)."""
        with self._get_pool().connection() as conn:
            yield conn

    def close(self) -> None:
        """Close this process's pool (a later transaction opens a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
            _OPEN.discard(self)
            if pool is not None and self._pid == os.getpid():
                pool.close()


def close_all() -> int:
    """Close every pool this process has open (shutdown; tests before dropping their database)."""
    dbs = list(_OPEN)
    for db in dbs:
        db.close()
    return len(dbs)


def migrate(conn: Any, where: str = "the database") -> int:
    """Apply the :data:`MIGRATIONS` ``conn``'s database lacks; return how many were applied.

    Raises:
        ConfigError: the database was migrated by a newer workbench.
    """
    applied = 0
    with conn.transaction():
        # Two replicas starting at once: the second waits here, then finds the work done.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        conn.execute("CREATE TABLE IF NOT EXISTS workbench_migrations (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM workbench_migrations").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise ConfigError(
                f"{where}: the database schema is at version {current}, newer than this workbench knows "
                f"(version {SCHEMA_VERSION}); upgrade the workbench before starting it on this database"
            )
        for version, name, sql in MIGRATIONS:
            if version <= current:
                continue
            for statement in sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO workbench_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied += 1
    return applied


def schema_version(conn: Any) -> int:
    """The newest migration applied to ``conn``'s database (0 before the first)."""
    row = conn.execute("SELECT to_regclass('workbench_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM workbench_migrations").fetchone()[0]
