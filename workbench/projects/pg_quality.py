"""Gold tasks, quality settings, guidelines versions and re-queues in the PostgreSQL project store.

:class:`PostgresQualityMixin` is part of :class:`~workbench.projects.pg_store.PostgresProjectStore`;
the same methods, rules and answers as :mod:`workbench.projects.sqlite_quality` (the contract
tests run both). Its tables are migration 3 of :mod:`workbench.database`. Writers meet on the
project row (``FOR UPDATE`` where versions are numbered or answers re-queued) and on the task
rows the store's ``claim_next`` and ``answer`` lock.

It knows SQL of these tables; it does not know how gold answers are checked or scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.errors import ProjectError
from workbench.projects.gold import gold_due
from workbench.projects.guidelines import check_before_version
from workbench.projects.quality_settings import SETTING_NAMES, QualitySettings
from workbench.projects.store import _utc_now


class PostgresQualityMixin:
    """The quality methods of :class:`~workbench.projects.pg_store.PostgresProjectStore`."""

    # used inside the store's transactions ----------------------------------
    @staticmethod
    def _gold_rate(cur: Any, project: str) -> float:
        row = cur.execute("SELECT gold_rate FROM quality_settings WHERE project = %s", (project,)).fetchone()
        return float(row["gold_rate"]) if row is not None else 0.0

    def _gold_candidate(self, cur: Any, project: str, annotator: str, *, due_only: bool) -> str | None:
        """As :meth:`SQLiteQualityMixin._gold_candidate <workbench.projects.sqlite_quality.SQLiteQualityMixin>`."""
        rate = self._gold_rate(cur, project)
        if rate <= 0:
            return None
        row = cur.execute(
            "SELECT g.task_id FROM gold g JOIN tasks t USING (project, task_id) WHERE g.project = %s "
            "AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.project = g.project AND a.task_id = g.task_id "
            "AND a.annotator = %s) ORDER BY t.position LIMIT 1", (project, annotator)).fetchone()
        if row is None:
            return None
        if due_only:
            counts = cur.execute(
                "SELECT COUNT(*) AS answered, COUNT(g.task_id) AS gold FROM answers a "
                "LEFT JOIN gold g USING (project, task_id) WHERE a.project = %s AND a.annotator = %s",
                (project, annotator)).fetchone()
            if not gold_due(project, annotator, counts["answered"], counts["gold"], rate):
                return None
        return row["task_id"]

    @staticmethod
    def _is_gold(cur: Any, project: str, task_id: str) -> bool:
        return cur.execute("SELECT 1 FROM gold WHERE project = %s AND task_id = %s",
                           (project, task_id)).fetchone() is not None

    @staticmethod
    def _guidelines_version(cur: Any, project: str) -> int:
        return cur.execute("SELECT COALESCE(MAX(version), 1) AS v FROM guidelines WHERE project = %s",
                           (project,)).fetchone()["v"]

    # gold ------------------------------------------------------------------
    def set_gold(self, project: str, task_id: str, answer: Mapping[str, Any], source: str) -> None:
        from psycopg.types.json import Json

        with self._tx() as cur:
            self._project_row(cur, project)
            if cur.execute("SELECT 1 FROM tasks WHERE project = %s AND task_id = %s",
                           (project, task_id)).fetchone() is None:
                raise ProjectError(f"project {project!r}: unknown task {task_id!r}")
            cur.execute("INSERT INTO gold VALUES (%s, %s, %s, %s, %s) ON CONFLICT (project, task_id) DO UPDATE SET "
                        "answer = excluded.answer, source = excluded.source, created_at = excluded.created_at",
                        (project, task_id, Json(dict(answer)), source, _utc_now()))

    def remove_gold(self, project: str, task_id: str) -> bool:
        with self._tx() as cur:
            self._project_row(cur, project)
            return cur.execute("DELETE FROM gold WHERE project = %s AND task_id = %s",
                               (project, task_id)).rowcount > 0

    def gold(self, project: str) -> dict[str, dict[str, Any]]:
        with self._tx() as cur:
            self._project_row(cur, project)
            rows = cur.execute("SELECT g.task_id, g.answer FROM gold g JOIN tasks t USING (project, task_id) "
                               "WHERE g.project = %s ORDER BY t.position", (project,)).fetchall()
        return {r["task_id"]: r["answer"] for r in rows}

    # settings --------------------------------------------------------------
    def quality_settings(self, project: str) -> QualitySettings:
        with self._tx() as cur:
            self._project_row(cur, project)
            row = cur.execute("SELECT * FROM quality_settings WHERE project = %s", (project,)).fetchone()
        if row is None:
            return QualitySettings()
        return QualitySettings().replace(**{k: row[k] for k in SETTING_NAMES})

    def set_quality_settings(self, project: str, settings: QualitySettings) -> None:
        values = settings.to_dict()
        cols = ", ".join(SETTING_NAMES)
        updates = ", ".join(f"{k} = excluded.{k}" for k in SETTING_NAMES)
        with self._tx() as cur:
            self._project_row(cur, project)
            cur.execute(f"INSERT INTO quality_settings (project, {cols}) VALUES (%s{', %s' * len(values)}) "
                        f"ON CONFLICT (project) DO UPDATE SET {updates}",
                        (project, *(values[k] for k in SETTING_NAMES)))

    # guidelines ------------------------------------------------------------
    def add_guidelines(self, project: str, text: str) -> int:
        with self._tx() as cur:
            row = cur.execute("SELECT * FROM projects WHERE name = %s FOR UPDATE", (project,)).fetchone()
            if row is None:
                self._project_row(cur, project)  # raises, naming the known projects
            current = cur.execute("SELECT MAX(version) AS v FROM guidelines WHERE project = %s",
                                  (project,)).fetchone()["v"]
            if current is None:
                cur.execute("INSERT INTO guidelines VALUES (%s, 1, %s, %s)", (project, row["guidelines"],
                                                                              row["created_at"]))
                current = 1
            cur.execute("INSERT INTO guidelines VALUES (%s, %s, %s, %s)", (project, current + 1, text, _utc_now()))
            cur.execute("UPDATE projects SET guidelines = %s WHERE name = %s", (text, project))
            return current + 1

    def guidelines_versions(self, project: str) -> list[dict[str, Any]]:
        with self._tx() as cur:
            row = self._project_row(cur, project)
            rows = cur.execute("SELECT version, created_at, text FROM guidelines WHERE project = %s "
                               "ORDER BY version", (project,)).fetchall()
        if not rows:
            return [{"version": 1, "created_at": row["created_at"], "text": row["guidelines"]}]
        return [dict(r) for r in rows]

    def requeue(self, project: str, before_version: int) -> list[dict[str, Any]]:
        """As :meth:`SQLiteQualityMixin.requeue <workbench.projects.sqlite_quality.SQLiteQualityMixin.requeue>`."""
        with self._tx() as cur:
            if cur.execute("SELECT 1 FROM projects WHERE name = %s FOR UPDATE", (project,)).fetchone() is None:
                self._project_row(cur, project)
            latest = self._guidelines_version(cur, project)
            check_before_version(project, before_version, latest)
            # the project row FOR UPDATE waits for claims and answers in flight (they hold it FOR SHARE)
            rows = cur.execute(
                "SELECT a.task_id, a.annotator, a.version, COALESCE(h.guidelines_version, 1) AS gv "
                "FROM answers a JOIN history h USING (project, task_id, annotator, version) "
                "WHERE a.project = %s AND a.status = 'submitted' AND COALESCE(h.guidelines_version, 1) < %s "
                "ORDER BY a.first_seq", (project, before_version)).fetchall()
            now = _utc_now()
            for r in rows:
                cur.execute("INSERT INTO requeues VALUES (%s, %s, %s, %s, %s, %s, %s)",
                            (project, r["task_id"], r["annotator"], r["version"], r["gv"], before_version, now))
                cur.execute("DELETE FROM answers WHERE project = %s AND task_id = %s AND annotator = %s",
                            (project, r["task_id"], r["annotator"]))
                cur.execute("DELETE FROM claims WHERE project = %s AND task_id = %s AND annotator = %s",
                            (project, r["task_id"], r["annotator"]))
        return [{"task_id": r["task_id"], "annotator": r["annotator"], "version": r["version"],
                 "guidelines_version": r["gv"]} for r in rows]
