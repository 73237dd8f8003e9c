"""Gold tasks, quality settings, guidelines versions and re-queues in the SQLite project store.

:class:`SQLiteQualityMixin` is part of :class:`~workbench.projects.store.SQLiteProjectStore`
(it uses the store's connection and ``BEGIN IMMEDIATE`` transactions). The tables it adds are
additive: :data:`QUALITY_SCHEMA` creates new ones and :data:`ADDED_COLUMNS` adds nullable
columns to an existing database's ``claims`` and ``history`` (``claimed_at``: when the claim
was taken, for the time from claim to submit; ``guidelines_version`` and ``seconds`` of each
answer). Rows written before these columns existed read as guidelines version 1 and no time.

It knows SQL of these tables; it does not know how gold answers are checked or scored
(:mod:`workbench.projects.gold`) or gradio.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from workbench.errors import ProjectError
from workbench.projects.gold import gold_due
from workbench.projects.guidelines import check_before_version
from workbench.projects.quality_settings import SETTING_NAMES, QualitySettings

QUALITY_SCHEMA = """
CREATE TABLE IF NOT EXISTS gold (                 -- the expected answer of a gold task
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    answer TEXT NOT NULL,                         -- JSON {"judgements": {item_id: {label, rating}}, "reply_label"}
    source TEXT NOT NULL DEFAULT '',              -- answer | file | review
    created_at TEXT NOT NULL,
    PRIMARY KEY (project, task_id)
);
CREATE TABLE IF NOT EXISTS quality_settings (     -- one row per project (absent: the defaults)
    project TEXT PRIMARY KEY,
    gold_rate REAL NOT NULL DEFAULT 0,
    min_gold_accuracy REAL,
    min_gold_tasks INTEGER,
    max_agreement_drop REAL,
    straight_run INTEGER
);
CREATE TABLE IF NOT EXISTS guidelines (           -- every version of a project's guidelines
    project TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project, version)
);
CREATE TABLE IF NOT EXISTS requeues (             -- answers taken out of the count by `project requeue`
    project TEXT NOT NULL,
    task_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    version INTEGER NOT NULL,                     -- the answer's version (its history row is kept)
    guidelines_version INTEGER NOT NULL,
    before_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""
#: (table, column, type): nullable columns added to databases made before them.
ADDED_COLUMNS = (("claims", "claimed_at", "REAL"), ("history", "guidelines_version", "INTEGER"),
                 ("history", "seconds", "REAL"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def extend_schema(conn: sqlite3.Connection) -> None:
    """Create the quality tables and add the new columns (inside the caller's transaction)."""
    for statement in QUALITY_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table, column, kind in ADDED_COLUMNS:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class SQLiteQualityMixin:
    """The quality methods of :class:`~workbench.projects.store.SQLiteProjectStore`."""

    # used inside the store's transactions ----------------------------------
    @staticmethod
    def _gold_rate(conn: sqlite3.Connection, project: str) -> float:
        row = conn.execute("SELECT gold_rate FROM quality_settings WHERE project = ?", (project,)).fetchone()
        return float(row[0]) if row is not None else 0.0

    def _gold_candidate(self, conn: sqlite3.Connection, project: str, annotator: str, *, due_only: bool) -> str | None:
        """The first gold task ``annotator`` has not answered, when one is due (or, without
        ``due_only``, whenever one is left and the project has a gold rate)."""
        rate = self._gold_rate(conn, project)
        if rate <= 0:
            return None
        row = conn.execute(
            "SELECT g.task_id FROM gold g JOIN tasks t USING (project, task_id) WHERE g.project = ? "
            "AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.project = g.project AND a.task_id = g.task_id "
            "AND a.annotator = ?) ORDER BY t.position LIMIT 1", (project, annotator)).fetchone()
        if row is None:
            return None
        if due_only:
            answered, gold_answered = conn.execute(
                "SELECT COUNT(*), COUNT(g.task_id) FROM answers a LEFT JOIN gold g USING (project, task_id) "
                "WHERE a.project = ? AND a.annotator = ?", (project, annotator)).fetchone()
            if not gold_due(project, annotator, answered, gold_answered, rate):
                return None
        return row[0]

    @staticmethod
    def _is_gold(conn: sqlite3.Connection, project: str, task_id: str) -> bool:
        return conn.execute("SELECT 1 FROM gold WHERE project = ? AND task_id = ?",
                            (project, task_id)).fetchone() is not None

    @staticmethod
    def _guidelines_version(conn: sqlite3.Connection, project: str) -> int:
        return conn.execute("SELECT COALESCE(MAX(version), 1) FROM guidelines WHERE project = ?",
                            (project,)).fetchone()[0]

    # gold ------------------------------------------------------------------
    def set_gold(self, project: str, task_id: str, answer: Mapping[str, Any], source: str) -> None:
        """Make ``task_id`` a gold task with the (checked) expected ``answer``, or replace its answer."""
        with self._write() as conn:
            self._project_row(conn, project)
            if conn.execute("SELECT 1 FROM tasks WHERE project = ? AND task_id = ?",
                            (project, task_id)).fetchone() is None:
                raise ProjectError(f"project {project!r}: unknown task {task_id!r}")
            conn.execute("INSERT INTO gold VALUES (?, ?, ?, ?, ?) ON CONFLICT (project, task_id) DO UPDATE SET "
                         "answer = excluded.answer, source = excluded.source, created_at = excluded.created_at",
                         (project, task_id, json.dumps(dict(answer)), source, _now()))

    def remove_gold(self, project: str, task_id: str) -> bool:
        """Make ``task_id`` an ordinary task again; whether it was a gold one."""
        with self._write() as conn:
            self._project_row(conn, project)
            return conn.execute("DELETE FROM gold WHERE project = ? AND task_id = ?",
                                (project, task_id)).rowcount > 0

    def gold(self, project: str) -> dict[str, dict[str, Any]]:
        """``task_id -> expected answer`` of every gold task of ``project``, in task order."""
        conn = self._conn()
        self._project_row(conn, project)
        rows = conn.execute("SELECT g.task_id, g.answer FROM gold g JOIN tasks t USING (project, task_id) "
                            "WHERE g.project = ? ORDER BY t.position", (project,)).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    # settings --------------------------------------------------------------
    def quality_settings(self, project: str) -> QualitySettings:
        """``project``'s :class:`QualitySettings` (the defaults where none were set)."""
        conn = self._conn()
        self._project_row(conn, project)
        row = conn.execute("SELECT * FROM quality_settings WHERE project = ?", (project,)).fetchone()
        if row is None:
            return QualitySettings()
        return QualitySettings().replace(**{k: row[k] for k in SETTING_NAMES})

    def set_quality_settings(self, project: str, settings: QualitySettings) -> None:
        values = settings.to_dict()
        with self._write() as conn:
            self._project_row(conn, project)
            cols = ", ".join(SETTING_NAMES)
            conn.execute(f"INSERT OR REPLACE INTO quality_settings (project, {cols}) VALUES (?{', ?' * len(values)})",
                         (project, *(values[k] for k in SETTING_NAMES)))

    # guidelines ------------------------------------------------------------
    def add_guidelines(self, project: str, text: str) -> int:
        """Store ``text`` as the next version of ``project``'s guidelines (the creation's text is
        version 1); returns the new version. Answers given from now on record it."""
        with self._write() as conn:
            row = self._project_row(conn, project)
            current = conn.execute("SELECT MAX(version) FROM guidelines WHERE project = ?", (project,)).fetchone()[0]
            if current is None:
                conn.execute("INSERT INTO guidelines VALUES (?, 1, ?, ?)", (project, row["guidelines"],
                                                                            row["created_at"]))
                current = 1
            conn.execute("INSERT INTO guidelines VALUES (?, ?, ?, ?)", (project, current + 1, text, _now()))
            conn.execute("UPDATE projects SET guidelines = ? WHERE name = ?", (text, project))
            return current + 1

    def guidelines_versions(self, project: str) -> list[dict[str, Any]]:
        """``[{"version", "created_at", "text"}]``, oldest first (version 1 alone until a change)."""
        conn = self._conn()
        row = self._project_row(conn, project)
        rows = conn.execute("SELECT version, created_at, text FROM guidelines WHERE project = ? ORDER BY version",
                            (project,)).fetchall()
        if not rows:
            return [{"version": 1, "created_at": row["created_at"], "text": row["guidelines"]}]
        return [{"version": r[0], "created_at": r[1], "text": r[2]} for r in rows]

    def requeue(self, project: str, before_version: int) -> list[dict[str, Any]]:
        """Take every submitted answer made under guidelines older than ``before_version`` out of
        the count, so that its task is handed out again (to anyone who has not answered it under
        the newer guidelines, the same annotator included). The answers stay in the history and
        the feedback store; ``requeues`` records what was done. Returns the answers re-queued.

        Raises:
            ProjectError: an unknown project, or ``before_version`` not a version after the first.
        """
        with self._write() as conn:
            self._project_row(conn, project)
            latest = self._guidelines_version(conn, project)
            check_before_version(project, before_version, latest)
            rows = conn.execute(
                "SELECT a.task_id, a.annotator, a.version, COALESCE(h.guidelines_version, 1) AS gv "
                "FROM answers a JOIN history h USING (project, task_id, annotator, version) "
                "WHERE a.project = ? AND a.status = 'submitted' AND COALESCE(h.guidelines_version, 1) < ? "
                "ORDER BY a.first_seq", (project, before_version)).fetchall()
            now = _now()
            for r in rows:
                conn.execute("INSERT INTO requeues VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (project, r[0], r[1], r[2], r[3], before_version, now))
                conn.execute("DELETE FROM answers WHERE project = ? AND task_id = ? AND annotator = ?",
                             (project, r[0], r[1]))
                conn.execute("DELETE FROM claims WHERE project = ? AND task_id = ? AND annotator = ?",
                             (project, r[0], r[1]))
        return [{"task_id": r[0], "annotator": r[1], "version": r[2], "guidelines_version": r[3]} for r in rows]
