"""The PostgreSQL project store: the :class:`~workbench.projects.store.ProjectStore` for several app processes.

Same protocol, rules and answers as :class:`~workbench.projects.store.SQLiteProjectStore` (the
same contract tests run on both); what changes is how concurrent writers are kept apart. SQLite
serialises every write on one file lock; here each method is one transaction on a pooled
connection (:class:`~workbench.database.Database`) and writers meet on row locks:

* :meth:`PostgresProjectStore.claim_next` takes the candidate task with
  ``SELECT ... FOR UPDATE OF t SKIP LOCKED``, so annotators claiming at once each get a different
  row instead of queueing on one; every write to a task's claims and answers happens under that
  task row's lock, so once the lock is held the task's submissions and live claims are counted
  again and a task that filled up meanwhile is passed over. When every candidate is locked by
  someone else the query is repeated waiting for the locks (plain ``FOR UPDATE``): "no task left"
  is only said when it is true. An advisory lock per (project, annotator) keeps two tabs of one
  annotator from taking two claims.
* :meth:`PostgresProjectStore.answer` is the one transaction of a submission: the task row lock,
  the claim check, the version, the history row with the record's payload, the latest answer and
  the claim's removal commit together or not at all. ``history.record_id`` is unique, so a record
  is stored once whatever retries.

It knows SQL, claims and counts; it does not know the engine, feedback records or gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from workbench.database import Database
from workbench.errors import ProjectError
from workbench.projects.disk import database_error
from workbench.projects.pg_quality import PostgresQualityMixin
from workbench.projects.review_pg import PostgresReviewTables
from workbench.projects.store import (
    ANSWER_STATUSES,
    DEFAULT_LEASE_S,
    PROJECT_STATES,
    Answer,
    Claim,
    ProjectInfo,
    StoredTask,
    _utc_now,
    progress_dict,
    refuse_unclaimed_answer,
)

#: How often a claim is tried again after PostgreSQL broke a deadlock between claimers.
CLAIM_ATTEMPTS = 5

_DONE = ("(SELECT COUNT(*) FROM answers a WHERE a.project = t.project AND a.task_id = t.task_id "
         "AND a.status = 'submitted')")
_HELD = ("(SELECT COUNT(*) FROM claims c WHERE c.project = t.project AND c.task_id = t.task_id "
         "AND c.kind = 'new' AND c.expires_at > %(now)s AND c.annotator <> %(annotator)s)")
_CANDIDATE = f"""
    SELECT t.task_id FROM tasks t
    WHERE t.project = %(project)s AND NOT (t.task_id = ANY(%(passed)s))
      AND NOT EXISTS (SELECT 1 FROM gold g WHERE g.project = t.project AND g.task_id = t.task_id)
      AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.project = t.project AND a.task_id = t.task_id
                      AND a.annotator = %(annotator)s)
      AND {_DONE} + {_HELD} < %(overlap)s
    ORDER BY {_DONE} + {_HELD} DESC, t.position
    LIMIT 1 FOR UPDATE OF t
"""


class PostgresProjectStore(PostgresReviewTables, PostgresQualityMixin):
    """:class:`~workbench.projects.store.ProjectStore` in PostgreSQL, shared by every app process.

    Args:
        database: a :class:`~workbench.database.Database` (shared with the feedback store) or its URL.
        clock: time source for leases (tests inject one instead of sleeping).
    """

    def __init__(self, database: Database | str, *, clock: Callable[[], float] = time.time):
        self.db = database if isinstance(database, Database) else Database(database)
        self.clock = clock

    def __repr__(self) -> str:
        return f"PostgresProjectStore({self.db.location!r})"

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        from psycopg.errors import DiskFull, InsufficientResources, IoError
        from psycopg.rows import dict_row

        try:
            with self.db.transaction() as conn:
                yield conn.cursor(row_factory=dict_row)
        except (DiskFull, InsufficientResources, IoError) as exc:  # the server's disk is full (53100) or failing (58030)
            raise database_error(self.db.location, exc) from exc

    def close(self) -> None:
        self.db.close()

    # projects ---------------------------------------------------------
    def create_project(self, name: str, guidelines: str, overlap: int, meta: Mapping[str, Any],
                       tasks: Sequence[Mapping[str, Any]]) -> ProjectInfo:
        """Create ``name`` with ``tasks``, or resume its creation (see the SQLite store)."""
        from psycopg.types.json import Json

        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"project\x1f{name}",))
            row = cur.execute("SELECT * FROM projects WHERE name = %s", (name,)).fetchone()
            if row is None:
                cur.execute("INSERT INTO projects (name, guidelines, overlap, state, created_at, meta) "
                            "VALUES (%s, %s, %s, 'creating', %s, %s)",
                            (name, guidelines, overlap, _utc_now(), Json(dict(meta))))
                cur.executemany(
                    "INSERT INTO tasks (project, task_id, position, messages, metadata) VALUES (%s, %s, %s, %s, %s)",
                    [(name, t["id"], i, Json(t["messages"]), Json(t.get("metadata") or {}))
                     for i, t in enumerate(tasks)],
                )
            else:
                if row["state"] != "creating":
                    raise ProjectError(f"project {name!r} already exists ({row['state']})")
                if row["overlap"] != overlap:
                    raise ProjectError(f"project {name!r}: resuming with overlap {overlap}, "
                                       f"but it was started with {row['overlap']}")
                stored = [r["task_id"] for r in cur.execute(
                    "SELECT task_id FROM tasks WHERE project = %s ORDER BY position", (name,))]
                if stored != [t["id"] for t in tasks]:
                    raise ProjectError(f"project {name!r}: resuming with other tasks than it was started "
                                       f"with ({len(tasks)} given, {len(stored)} stored); use another name")
                cur.execute("UPDATE projects SET guidelines = %s WHERE name = %s", (guidelines, name))
        return self.project(name)

    def set_answer(self, project: str, task_id: str, answer: Mapping[str, Any]) -> None:
        from psycopg.types.json import Json

        with self._tx() as cur:
            cur.execute("UPDATE tasks SET answer = %s WHERE project = %s AND task_id = %s",
                        (Json(dict(answer)), project, task_id))

    def set_state(self, project: str, state: str) -> None:
        if state not in PROJECT_STATES:
            raise ProjectError(f"project state must be one of {', '.join(PROJECT_STATES)}, got {state!r}")
        with self._tx() as cur:
            self._project_row(cur, project)
            cur.execute("UPDATE projects SET state = %s WHERE name = %s", (state, project))

    @staticmethod
    def _project_row(cur: Any, name: str, *, lock: bool = False) -> dict[str, Any]:
        row = cur.execute("SELECT * FROM projects WHERE name = %s" + (" FOR SHARE" if lock else ""),
                          (name,)).fetchone()
        if row is None:
            known = [r["name"] for r in cur.execute("SELECT name FROM projects ORDER BY name")]
            raise ProjectError(f"unknown project {name!r} (projects: {', '.join(known) or 'none'})")
        return row

    @staticmethod
    def _info(row: Mapping[str, Any], tasks: int) -> ProjectInfo:
        return ProjectInfo(row["name"], row["guidelines"], row["overlap"], row["state"], row["created_at"],
                           row["meta"], tasks)

    def project(self, name: str) -> ProjectInfo:
        with self._tx() as cur:
            row = self._project_row(cur, name)
            count = cur.execute("SELECT COUNT(*) AS n FROM tasks WHERE project = %s", (name,)).fetchone()["n"]
        return self._info(row, count)

    def projects(self) -> list[ProjectInfo]:
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT p.*, (SELECT COUNT(*) FROM tasks t WHERE t.project = p.name) AS n "
                "FROM projects p ORDER BY p.name").fetchall()
        return [self._info(r, r["n"]) for r in rows]

    # tasks ------------------------------------------------------------
    @staticmethod
    def _task(row: Mapping[str, Any]) -> StoredTask:
        return StoredTask(row["task_id"], row["position"], row["messages"], row["metadata"], row["answer"])

    def task(self, project: str, task_id: str) -> StoredTask:
        with self._tx() as cur:
            self._project_row(cur, project)
            row = cur.execute("SELECT * FROM tasks WHERE project = %s AND task_id = %s",
                              (project, task_id)).fetchone()
        if row is None:
            raise ProjectError(f"project {project!r}: unknown task {task_id!r}")
        return self._task(row)

    def unanswered(self, project: str) -> list[StoredTask]:
        with self._tx() as cur:
            rows = cur.execute("SELECT * FROM tasks WHERE project = %s AND answer IS NULL ORDER BY position",
                               (project,)).fetchall()
        return [self._task(r) for r in rows]

    # claims -----------------------------------------------------------
    @staticmethod
    def _ready(row: Mapping[str, Any]) -> None:
        if row["state"] == "creating":
            raise ProjectError(f"project {row['name']!r} is still being created; run `project create` again "
                               "to finish it")
        if row["state"] == "closed":
            raise ProjectError(f"project {row['name']!r} is closed")

    @staticmethod
    def _taken(cur: Any, project: str, task_id: str, annotator: str, now: float) -> int:
        """Submissions plus other annotators' live claims on ``task_id`` (call with the task row locked)."""
        return cur.execute(
            f"SELECT {_DONE} + {_HELD} AS taken FROM tasks t WHERE t.project = %(project)s AND t.task_id = %(task)s",
            {"project": project, "task": task_id, "now": now, "annotator": annotator}).fetchone()["taken"]

    def claim_next(self, project: str, annotator: str, lease_s: float = DEFAULT_LEASE_S) -> str | None:
        """Reserve the next task for ``annotator`` (rules in :mod:`workbench.projects.store`).

        Two claimers that each passed over a task the other then waits for can deadlock; PostgreSQL
        aborts one of them, and that one starts again (its transaction wrote nothing).
        """
        from psycopg.errors import DeadlockDetected

        for attempt in range(CLAIM_ATTEMPTS):
            try:
                return self._claim_next(project, annotator, lease_s)
            except DeadlockDetected:
                if attempt == CLAIM_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _claim_next(self, project: str, annotator: str, lease_s: float) -> str | None:
        now = self.clock()
        with self._tx() as cur:
            proj = self._project_row(cur, project, lock=True)
            self._ready(proj)
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        (f"claim\x1f{project}\x1f{annotator}",))
            held = cur.execute(
                "SELECT task_id FROM claims WHERE project = %s AND annotator = %s AND kind = 'new' "
                "AND expires_at > %s", (project, annotator, now)).fetchone()
            if held is not None:
                task_id = held["task_id"]
            else:
                task_id = (self._gold_candidate(cur, project, annotator, due_only=True)
                           or self._lock_candidate(cur, project, annotator, proj["overlap"], now)
                           # no ordinary task left: the gold tasks this annotator has not met
                           or self._gold_candidate(cur, project, annotator, due_only=False))
                if task_id is None:
                    return None
                cur.execute("DELETE FROM claims WHERE project = %s AND annotator = %s AND kind = 'new'",
                            (project, annotator))
            # a claim taken again while it lives keeps the time it was first taken (claim-to-submit time)
            cur.execute("INSERT INTO claims (project, task_id, annotator, kind, expires_at, claimed_at) "
                        "VALUES (%s, %s, %s, 'new', %s, %s) ON CONFLICT (project, task_id, annotator) "
                        "DO UPDATE SET expires_at = excluded.expires_at, claimed_at = CASE WHEN claims.kind = 'new' "
                        "THEN COALESCE(claims.claimed_at, excluded.claimed_at) ELSE excluded.claimed_at END, "
                        "kind = 'new'", (project, task_id, annotator, now + lease_s, now))
            return task_id

    def _lock_candidate(self, cur: Any, project: str, annotator: str, overlap: int, now: float) -> str | None:
        """Lock the best task for ``annotator`` that still needs answers; ``None`` when none does."""
        passed: list[str] = []
        params = {"project": project, "annotator": annotator, "overlap": overlap, "now": now, "passed": passed}
        while True:
            row = cur.execute(_CANDIDATE + " SKIP LOCKED", params).fetchone()
            if row is None:  # all left are locked by other claimers, or none is left: wait and see
                row = cur.execute(_CANDIDATE, params).fetchone()
                if row is None:
                    return None
            task_id = row["task_id"]
            # The lock is ours: count again with what committed while the query ran.
            if self._taken(cur, project, task_id, annotator, now) < overlap:
                return task_id
            passed.append(task_id)

    def claim_previous(self, project: str, annotator: str, lease_s: float = DEFAULT_LEASE_S) -> str | None:
        """Reserve the task ``annotator`` answered before the one they are editing (or their last one)."""
        now = self.clock()
        with self._tx() as cur:
            self._ready(self._project_row(cur, project, lock=True))
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        (f"claim\x1f{project}\x1f{annotator}",))
            editing = cur.execute(
                "SELECT a.first_seq FROM claims c JOIN answers a USING (project, task_id, annotator) "
                "WHERE c.project = %s AND c.annotator = %s AND c.kind = 'edit'", (project, annotator)).fetchone()
            before = editing["first_seq"] if editing is not None else None
            row = cur.execute(
                "SELECT task_id FROM answers WHERE project = %(p)s AND annotator = %(a)s "
                "AND (%(b)s::bigint IS NULL OR first_seq < %(b)s::bigint) ORDER BY first_seq DESC LIMIT 1",
                {"p": project, "a": annotator, "b": before}).fetchone()
            if row is None:
                return None
            cur.execute("DELETE FROM claims WHERE project = %s AND annotator = %s AND kind = 'edit'",
                        (project, annotator))
            cur.execute("INSERT INTO claims (project, task_id, annotator, kind, expires_at, claimed_at) "
                        "VALUES (%s, %s, %s, 'edit', %s, %s) ON CONFLICT (project, task_id, annotator) "
                        "DO UPDATE SET kind = 'edit', expires_at = excluded.expires_at, claimed_at = excluded.claimed_at",
                        (project, row["task_id"], annotator, now + lease_s, now))
            return row["task_id"]

    def claim(self, project: str, task_id: str, annotator: str) -> Claim | None:
        with self._tx() as cur:
            row = cur.execute("SELECT task_id, kind, expires_at FROM claims WHERE project = %s AND task_id = %s "
                              "AND annotator = %s", (project, task_id, annotator)).fetchone()
        return Claim(row["task_id"], row["kind"], row["expires_at"]) if row is not None else None

    # answers ----------------------------------------------------------
    @staticmethod
    def _answer(row: Mapping[str, Any]) -> Answer:
        return Answer(row["task_id"], row["annotator"], row["version"], row["status"], row["record_id"],
                      row["payload"] or None, row["reason"], row["created_at"], row["guidelines_version"] or 1,
                      row["seconds"])

    def latest(self, project: str, task_id: str, annotator: str) -> Answer | None:
        with self._tx() as cur:
            row = cur.execute(
                "SELECT h.* FROM answers a JOIN history h USING (project, task_id, annotator, version) "
                "WHERE a.project = %s AND a.task_id = %s AND a.annotator = %s",
                (project, task_id, annotator)).fetchone()
        return self._answer(row) if row is not None else None

    def answer(self, project: str, task_id: str, annotator: str, status: str, *, reason: str = "",
               build: Callable[[int], tuple[str, dict[str, Any]]] | None = None,
               suggestion: Mapping[str, Any] | None = None) -> Answer:
        """Commit ``annotator``'s answer to ``task_id``: one transaction (see the module docstring).

        Raises:
            ProjectError: as :meth:`SQLiteProjectStore.answer <workbench.projects.store.SQLiteProjectStore.answer>`.
        """
        from psycopg.types.json import Json

        if status not in ANSWER_STATUSES:
            raise ProjectError(f"answer status must be one of {', '.join(ANSWER_STATUSES)}, got {status!r}")
        now = self.clock()
        with self._tx() as cur:
            proj = self._project_row(cur, project, lock=True)
            self._ready(proj)
            if cur.execute("SELECT 1 FROM tasks WHERE project = %s AND task_id = %s FOR UPDATE",
                           (project, task_id)).fetchone() is None:
                raise ProjectError(f"project {project!r}: unknown task {task_id!r}")
            claim = cur.execute("SELECT kind, expires_at, claimed_at FROM claims WHERE project = %s AND task_id = %s "
                                "AND annotator = %s", (project, task_id, annotator)).fetchone()
            previous = cur.execute("SELECT version, status FROM answers WHERE project = %s AND task_id = %s "
                                   "AND annotator = %s", (project, task_id, annotator)).fetchone()
            refuse_unclaimed_answer(project, task_id, annotator, claim, previous)
            if (claim["kind"] == "new" and claim["expires_at"] <= now and status == "submitted"
                    and not self._is_gold(cur, project, task_id)  # every annotator meets a gold task
                    and self._taken(cur, project, task_id, annotator, now) >= proj["overlap"]):
                raise ProjectError(f"project {project!r}: the claim of {annotator!r} on task {task_id!r} "
                                   "expired and other annotators have taken it; ask for the next task")
            version = cur.execute("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM history WHERE project = %s "
                                  "AND task_id = %s AND annotator = %s", (project, task_id, annotator)).fetchone()["v"]
            record_id, payload = build(version) if build is not None and status == "submitted" else (None, None)
            created = _utc_now()
            guidelines = self._guidelines_version(cur, project)
            seconds = now - claim["claimed_at"] if claim["claimed_at"] is not None else None
            seq = cur.execute(
                "INSERT INTO history (project, task_id, annotator, version, status, reason, record_id, payload, "
                "written, created_at, guidelines_version, seconds, suggestion) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING seq",
                (project, task_id, annotator, version, status, reason, record_id,
                 Json(payload) if payload is not None else None, payload is None, created, guidelines,
                 seconds, Json(dict(suggestion)) if suggestion is not None and payload is not None else None)
            ).fetchone()["seq"]
            cur.execute(
                "INSERT INTO answers (project, task_id, annotator, version, status, record_id, first_seq) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (project, task_id, annotator) DO UPDATE SET "
                "version = excluded.version, status = excluded.status, record_id = excluded.record_id",
                (project, task_id, annotator, version, status, record_id, seq))
            cur.execute("DELETE FROM claims WHERE project = %s AND task_id = %s AND annotator = %s",
                        (project, task_id, annotator))
        return Answer(task_id, annotator, version, status, record_id, payload, reason, created, guidelines, seconds)

    def mark_written(self, record_id: str) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE history SET written = TRUE WHERE record_id = %s", (record_id,))

    def unwritten(self) -> list[Answer]:
        with self._tx() as cur:
            rows = cur.execute("SELECT * FROM history WHERE NOT written ORDER BY seq").fetchall()
        return [self._answer(r) for r in rows]

    # reading ----------------------------------------------------------
    def progress(self, project: str) -> dict[str, Any]:
        """Counts in the shape of ``project progress --json`` (discards count as skipped)."""
        ordinary = "task_id NOT IN (SELECT task_id FROM gold WHERE project = %(p)s)"  # gold tasks do not count
        with self._tx() as cur:
            proj = self._project_row(cur, project)
            tasks = cur.execute(f"SELECT COUNT(*) AS n FROM tasks WHERE project = %(p)s AND {ordinary}",
                                {"p": project}).fetchone()["n"]
            complete = cur.execute(
                f"SELECT COUNT(*) AS n FROM (SELECT task_id FROM answers WHERE project = %(p)s AND status = 'submitted' "
                f"AND {ordinary} GROUP BY task_id HAVING COUNT(*) >= %(o)s) AS full_tasks",
                {"p": project, "o": proj["overlap"]}).fetchone()["n"]
            rows = cur.execute(f"SELECT annotator, status, {ordinary} AS counted, COUNT(*) AS n FROM answers "
                               f"WHERE project = %(p)s GROUP BY annotator, status, counted ORDER BY annotator",
                               {"p": project}).fetchall()
        return progress_dict(project, tasks, proj["overlap"], complete,
                             [(r["annotator"], r["status"], r["counted"], r["n"]) for r in rows])

    def submissions(self, project: str) -> list[Answer]:
        """Every annotator's latest submitted answer, in task order."""
        with self._tx() as cur:
            self._project_row(cur, project)
            rows = cur.execute(
                "SELECT h.* FROM answers a JOIN history h USING (project, task_id, annotator, version) "
                "JOIN tasks t USING (project, task_id) WHERE a.project = %s AND a.status = 'submitted' "
                "ORDER BY t.position, a.annotator", (project,)).fetchall()
        return [self._answer(r) for r in rows]

    def history(self, project: str) -> list[Answer]:
        """Every answer ever given in ``project``, oldest first (changed answers included)."""
        with self._tx() as cur:
            rows = cur.execute("SELECT * FROM history WHERE project = %s ORDER BY seq", (project,)).fetchall()
        return [self._answer(r) for r in rows]
