"""Reviews in the SQLite project store: the review queue's claims and the reviewers' final answers.

:class:`SQLiteReviewTables` is mixed into :class:`~workbench.projects.store.SQLiteProjectStore`
(it uses that store's connection, transactions and project rows). Its tables are additive
(:data:`REVIEW_SCHEMA`, created on first use beside the others); an older database gains them, and
the nullable ``history.suggestion`` column (what the annotator was suggested, and what they kept),
the first time a newer workbench opens it (:func:`migrate_sqlite`).

* ``reviews``: every review ever saved (``version`` numbers a task's reviews; the latest is the
  task's final answer). Like ``history``, a review's feedback record payload is committed with it,
  flagged unwritten until it is in the feedback store.
* ``review_claims``: which reviewer is reviewing which task now (a lease, as the annotators' claims).

Rules (both stores): :meth:`claim_review` hands a reviewer the first task, in task order, whose
annotators all submitted and disagree (:func:`~workbench.projects.review.disagreements`), that
has no review yet and that no other reviewer holds; the same one again while their claim lives.
:meth:`pull_review` claims any task. :meth:`save_review` takes a review from the reviewer holding
the task's claim, or from one who pulls it in passing (no other reviewer holds it and the
task's latest review is not already theirs): so a repeated submission is refused, never doubled.

It knows SQL and review rows; it does not know feedback records, the engine or gradio.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from workbench.errors import ProjectError
from workbench.projects.review import Review, by_task, first_disputed, review_settings

REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (              -- every review ever saved, never updated
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    version INTEGER NOT NULL,                     -- 1, 2 ... per task, the latest is the final answer
    judgements TEXT NOT NULL,                     -- JSON item_id -> {label, rating}
    reply_label TEXT,
    note TEXT NOT NULL DEFAULT '',
    record_id TEXT NOT NULL UNIQUE,               -- the review's FeedbackRecord id
    payload TEXT,                                 -- JSON: that record's dict form
    written INTEGER NOT NULL DEFAULT 1,           -- 0 until the record is in the feedback store
    created_at TEXT NOT NULL,
    UNIQUE (project, task_id, version)
);
CREATE INDEX IF NOT EXISTS reviews_unwritten ON reviews (written) WHERE written = 0;
CREATE TABLE IF NOT EXISTS review_claims (
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (project, task_id, reviewer)
);
"""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


#: Columns later versions added to existing tables: (table, column, SQL type). All nullable.
ADDED_COLUMNS = (("history", "suggestion", "TEXT"),)


def migrate_sqlite(conn: sqlite3.Connection) -> None:
    """Create the review tables and add :data:`ADDED_COLUMNS` missing from an older database
    (call inside the schema transaction)."""
    for statement in REVIEW_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table, column, kind in ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def review_from_row(row: Any, loads: Callable[[Any], Any] = json.loads) -> Review:
    """A :class:`Review` from a ``reviews`` row (``loads`` decodes the JSON columns; PostgreSQL's are decoded)."""
    payload = row["payload"]
    return Review(row["project"], row["task_id"], row["reviewer"], row["version"], loads(row["judgements"]),
                  row["reply_label"], row["note"], row["record_id"],
                  loads(payload) if payload is not None else None, row["created_at"])


def refuse_review(project: str, task_id: str, reviewer: str, claim_holder: str | None,
                  my_claim_expires: float | None, now: float, latest_reviewer: str | None) -> None:
    """The rule both stores apply before saving a review (see the module docstring): the reviewer's
    own claim counts unless it lapsed and another reviewer holds the task now."""
    if my_claim_expires is not None and (my_claim_expires > now or claim_holder is None):
        return
    if claim_holder is not None:
        raise ProjectError(f"project {project!r}: task {task_id!r} is being reviewed by {claim_holder!r}; "
                           "ask for the next review")
    if latest_reviewer == reviewer:
        raise ProjectError(f"project {project!r}: task {task_id!r} was already reviewed by {reviewer!r}; "
                           "pull it again to change the final answer")


class SQLiteReviewTables:
    """The review methods of :class:`~workbench.projects.store.SQLiteProjectStore`."""

    clock: Callable[[], float]
    _write: Callable[[], Any]
    _conn: Callable[[], sqlite3.Connection]
    _project_row: Callable[[sqlite3.Connection, str], sqlite3.Row]
    _answer: Callable[[sqlite3.Row], Any]

    def _reviewable(self, conn: sqlite3.Connection, project: str) -> sqlite3.Row:
        row = self._project_row(conn, project)
        if row["state"] == "creating":
            raise ProjectError(f"project {project!r} is still being created; run `project create` again to finish it")
        return row

    def _check_task(self, conn: sqlite3.Connection, project: str, task_id: str) -> None:
        if conn.execute("SELECT 1 FROM tasks WHERE project = ? AND task_id = ?", (project, task_id)).fetchone() is None:
            raise ProjectError(f"project {project!r}: unknown task {task_id!r}")

    def claim_review(self, project: str, reviewer: str, lease_s: float) -> str | None:
        """Reserve the next disputed, unreviewed task for ``reviewer``; ``None`` when the queue is empty."""
        now = self.clock()
        with self._write() as conn:
            proj = self._reviewable(conn, project)
            held = conn.execute(
                "SELECT c.task_id FROM review_claims c WHERE c.project = ? AND c.reviewer = ? AND c.expires_at > ? "
                "AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.project = c.project AND r.task_id = c.task_id) "
                "ORDER BY c.expires_at DESC LIMIT 1", (project, reviewer, now)).fetchone()
            if held is not None:
                task_id = held[0]
            else:
                rows = conn.execute(
                    """
                    SELECT t.task_id, json_extract(h.payload, '$.slate'), json_extract(h.payload, '$.reply_label')
                    FROM tasks t
                    JOIN answers a ON a.project = t.project AND a.task_id = t.task_id AND a.status = 'submitted'
                    JOIN history h ON h.project = a.project AND h.task_id = a.task_id AND h.annotator = a.annotator
                                  AND h.version = a.version
                    WHERE t.project = :p AND h.payload IS NOT NULL
                      AND (SELECT COUNT(*) FROM answers c WHERE c.project = t.project AND c.task_id = t.task_id
                           AND c.status = 'submitted') >= MAX(:overlap, 2)
                      AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.project = t.project AND r.task_id = t.task_id)
                      AND NOT EXISTS (SELECT 1 FROM review_claims c WHERE c.project = t.project
                                      AND c.task_id = t.task_id AND c.reviewer != :r AND c.expires_at > :now)
                      -- a gold task has its expected answer already, it never needs a review
                      AND NOT EXISTS (SELECT 1 FROM gold g WHERE g.project = t.project AND g.task_id = t.task_id)
                    ORDER BY t.position, a.annotator
                    """, {"p": project, "overlap": proj["overlap"], "r": reviewer, "now": now})
                threshold = review_settings(json.loads(proj["meta"])).threshold
                answers = ((r[0], {"slate": json.loads(r[1] or "[]"), "reply_label": r[2]}) for r in rows)
                task_id = first_disputed(by_task(answers), threshold)
                if task_id is None:
                    return None
            self._hold_review(conn, project, task_id, reviewer, now + lease_s)
            return task_id

    @staticmethod
    def _hold_review(conn: sqlite3.Connection, project: str, task_id: str, reviewer: str, expires_at: float) -> None:
        conn.execute("DELETE FROM review_claims WHERE project = ? AND reviewer = ?", (project, reviewer))
        conn.execute("INSERT INTO review_claims VALUES (?, ?, ?, ?)", (project, task_id, reviewer, expires_at))

    def _other_holder(self, conn: sqlite3.Connection, project: str, task_id: str, reviewer: str,
                      now: float) -> str | None:
        row = conn.execute("SELECT reviewer FROM review_claims WHERE project = ? AND task_id = ? AND reviewer != ? "
                           "AND expires_at > ? ORDER BY reviewer LIMIT 1", (project, task_id, reviewer, now)).fetchone()
        return row[0] if row is not None else None

    def pull_review(self, project: str, task_id: str, reviewer: str, lease_s: float) -> None:
        """Claim ``task_id`` for review whether or not it is in the queue (it may be reviewed before).

        Raises:
            ProjectError: an unknown project or task, or another reviewer holds it now.
        """
        now = self.clock()
        with self._write() as conn:
            self._reviewable(conn, project)
            self._check_task(conn, project, task_id)
            other = self._other_holder(conn, project, task_id, reviewer, now)
            if other is not None:
                raise ProjectError(f"project {project!r}: task {task_id!r} is being reviewed by {other!r}")
            self._hold_review(conn, project, task_id, reviewer, now + lease_s)

    def save_review(self, project: str, task_id: str, reviewer: str, judgements: dict[str, Any],
                    reply_label: str | None, note: str,
                    build: Callable[[int], tuple[str, dict[str, Any]]]) -> Review:
        """Commit ``reviewer``'s final answer to ``task_id`` (``build(version)`` -> ``(record_id, payload)``
        runs inside the transaction: an error there writes nothing).

        Raises:
            ProjectError: unknown project or task, held by another reviewer, or a repeat of their own review.
        """
        now = self.clock()
        with self._write() as conn:
            self._reviewable(conn, project)
            self._check_task(conn, project, task_id)
            mine = conn.execute("SELECT expires_at FROM review_claims WHERE project = ? AND task_id = ? "
                                "AND reviewer = ?", (project, task_id, reviewer)).fetchone()
            latest = conn.execute("SELECT reviewer FROM reviews WHERE project = ? AND task_id = ? "
                                  "ORDER BY version DESC LIMIT 1", (project, task_id)).fetchone()
            refuse_review(project, task_id, reviewer, self._other_holder(conn, project, task_id, reviewer, now),
                          mine[0] if mine is not None else None, now, latest[0] if latest is not None else None)
            version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM reviews WHERE project = ? "
                                   "AND task_id = ?", (project, task_id)).fetchone()[0]
            record_id, payload = build(version)
            created = utc_now()
            conn.execute(
                "INSERT INTO reviews (project, task_id, reviewer, version, judgements, reply_label, note, record_id, "
                "payload, written, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                (project, task_id, reviewer, version, json.dumps(judgements), reply_label, note, record_id,
                 json.dumps(payload), created))
            conn.execute("DELETE FROM review_claims WHERE project = ? AND task_id = ?", (project, task_id))
        return Review(project, task_id, reviewer, version, judgements, reply_label, note, record_id, payload, created)

    def final_answer(self, project: str, task_id: str) -> Review | None:
        """The latest review of ``task_id`` (the reviewed final answer), ``None`` when it has none."""
        conn = self._conn()
        self._project_row(conn, project)
        row = conn.execute("SELECT * FROM reviews WHERE project = ? AND task_id = ? ORDER BY version DESC LIMIT 1",
                           (project, task_id)).fetchone()
        return review_from_row(row) if row is not None else None

    def reviews(self, project: str) -> list[Review]:
        """Every review of ``project``, oldest first (changed final answers included)."""
        rows = self._conn().execute("SELECT * FROM reviews WHERE project = ? ORDER BY seq", (project,)).fetchall()
        return [review_from_row(r) for r in rows]

    def task_submissions(self, project: str, task_id: str) -> list[Any]:
        """Every annotator's latest submitted answer to ``task_id``, by annotator."""
        conn = self._conn()
        self._project_row(conn, project)
        self._check_task(conn, project, task_id)
        rows = conn.execute(
            "SELECT h.* FROM answers a JOIN history h USING (project, task_id, annotator, version) "
            "WHERE a.project = ? AND a.task_id = ? AND a.status = 'submitted' ORDER BY a.annotator",
            (project, task_id)).fetchall()
        return [self._answer(r) for r in rows]

    def unwritten_reviews(self) -> list[Review]:
        rows = self._conn().execute("SELECT * FROM reviews WHERE written = 0 ORDER BY seq").fetchall()
        return [review_from_row(r) for r in rows]

    def mark_review_written(self, record_id: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE reviews SET written = 1 WHERE record_id = ?", (record_id,))

    def set_meta(self, project: str, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into ``project``'s meta (reviewers, review threshold, suggestions)."""
        with self._write() as conn:
            row = self._project_row(conn, project)
            conn.execute("UPDATE projects SET meta = ? WHERE name = ?",
                         (json.dumps({**json.loads(row["meta"]), **updates}), project))

    def suggestion_outcomes(self, project: str) -> list[tuple[str, str, dict[str, Any]]]:
        """``(task_id, annotator, suggestion)`` of every latest submission that stored a suggestion record."""
        rows = self._conn().execute(
            "SELECT h.task_id, h.annotator, h.suggestion FROM answers a "
            "JOIN history h USING (project, task_id, annotator, version) "
            "WHERE a.project = ? AND a.status = 'submitted' AND h.suggestion IS NOT NULL "
            "ORDER BY h.task_id, h.annotator", (project,)).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]
