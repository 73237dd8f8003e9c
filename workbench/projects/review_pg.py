"""Reviews in the PostgreSQL project store: the same rules as :mod:`workbench.projects.review_store`.

:class:`PostgresReviewTables` is mixed into :class:`~workbench.projects.pg_store.PostgresProjectStore`;
its tables come with migration 3 of :mod:`workbench.database`. Reviews are few beside answers, so
every review step of a project (claiming, pulling, saving) is serialised on one advisory lock per
project: reviewers in several processes never take the same queued task, and two saves of one
task get versions 1 and 2, never the same one.

It knows SQL and review rows; it does not know feedback records, the engine or gradio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.errors import ProjectError
from workbench.projects.review import Review, by_task, first_disputed, review_settings
from workbench.projects.review_store import refuse_review, review_from_row, utc_now


def _decoded(value: Any) -> Any:
    return value  # psycopg decodes json columns already


class PostgresReviewTables:
    """The review methods of :class:`~workbench.projects.pg_store.PostgresProjectStore`."""

    clock: Callable[[], float]
    _tx: Callable[[], Any]
    _project_row: Callable[..., dict[str, Any]]
    _answer: Callable[[Any], Any]

    def _review_lock(self, cur: Any, project: str) -> dict[str, Any]:
        row = self._project_row(cur, project, lock=True)
        if row["state"] == "creating":
            raise ProjectError(f"project {project!r} is still being created; run `project create` again to finish it")
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"review\x1f{project}",))
        return row

    @staticmethod
    def _check_task(cur: Any, project: str, task_id: str) -> None:
        if cur.execute("SELECT 1 FROM tasks WHERE project = %s AND task_id = %s",
                       (project, task_id)).fetchone() is None:
            raise ProjectError(f"project {project!r}: unknown task {task_id!r}")

    @staticmethod
    def _other_holder(cur: Any, project: str, task_id: str, reviewer: str, now: float) -> str | None:
        row = cur.execute("SELECT reviewer FROM review_claims WHERE project = %s AND task_id = %s AND reviewer <> %s "
                          "AND expires_at > %s ORDER BY reviewer LIMIT 1", (project, task_id, reviewer, now)).fetchone()
        return row["reviewer"] if row is not None else None

    @staticmethod
    def _hold_review(cur: Any, project: str, task_id: str, reviewer: str, expires_at: float) -> None:
        cur.execute("DELETE FROM review_claims WHERE project = %s AND reviewer = %s", (project, reviewer))
        cur.execute("INSERT INTO review_claims VALUES (%s, %s, %s, %s)", (project, task_id, reviewer, expires_at))

    def claim_review(self, project: str, reviewer: str, lease_s: float) -> str | None:
        """Reserve the next disputed, unreviewed task for ``reviewer`` (rules in :mod:`~workbench.projects.review_store`)."""
        now = self.clock()
        with self._tx() as cur:
            proj = self._review_lock(cur, project)
            held = cur.execute(
                "SELECT c.task_id FROM review_claims c WHERE c.project = %s AND c.reviewer = %s AND c.expires_at > %s "
                "AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.project = c.project AND r.task_id = c.task_id) "
                "ORDER BY c.expires_at DESC LIMIT 1", (project, reviewer, now)).fetchone()
            if held is not None:
                task_id = held["task_id"]
            else:
                rows = cur.execute(
                    """
                    SELECT t.task_id, h.payload -> 'slate' AS slate, h.payload ->> 'reply_label' AS reply_label
                    FROM tasks t
                    JOIN answers a ON a.project = t.project AND a.task_id = t.task_id AND a.status = 'submitted'
                    JOIN history h ON h.project = a.project AND h.task_id = a.task_id AND h.annotator = a.annotator
                                  AND h.version = a.version
                    WHERE t.project = %(p)s AND h.payload IS NOT NULL
                      AND (SELECT COUNT(*) FROM answers c WHERE c.project = t.project AND c.task_id = t.task_id
                           AND c.status = 'submitted') >= GREATEST(%(overlap)s, 2)
                      AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.project = t.project AND r.task_id = t.task_id)
                      AND NOT EXISTS (SELECT 1 FROM review_claims c WHERE c.project = t.project
                                      AND c.task_id = t.task_id AND c.reviewer <> %(r)s AND c.expires_at > %(now)s)
                      -- a gold task has its expected answer already, it never needs a review
                      AND NOT EXISTS (SELECT 1 FROM gold g WHERE g.project = t.project AND g.task_id = t.task_id)
                    ORDER BY t.position, a.annotator
                    """, {"p": project, "overlap": proj["overlap"], "r": reviewer, "now": now}).fetchall()
                threshold = review_settings(proj["meta"]).threshold
                answers = ((r["task_id"], {"slate": r["slate"] or [], "reply_label": r["reply_label"]}) for r in rows)
                task_id = first_disputed(by_task(answers), threshold)
                if task_id is None:
                    return None
            self._hold_review(cur, project, task_id, reviewer, now + lease_s)
            return task_id

    def pull_review(self, project: str, task_id: str, reviewer: str, lease_s: float) -> None:
        """Claim ``task_id`` for review whether or not it is in the queue."""
        now = self.clock()
        with self._tx() as cur:
            self._review_lock(cur, project)
            self._check_task(cur, project, task_id)
            other = self._other_holder(cur, project, task_id, reviewer, now)
            if other is not None:
                raise ProjectError(f"project {project!r}: task {task_id!r} is being reviewed by {other!r}")
            self._hold_review(cur, project, task_id, reviewer, now + lease_s)

    def save_review(self, project: str, task_id: str, reviewer: str, judgements: dict[str, Any],
                    reply_label: str | None, note: str,
                    build: Callable[[int], tuple[str, dict[str, Any]]]) -> Review:
        """Commit ``reviewer``'s final answer to ``task_id``: one transaction."""
        from psycopg.types.json import Json

        now = self.clock()
        with self._tx() as cur:
            self._review_lock(cur, project)
            self._check_task(cur, project, task_id)
            mine = cur.execute("SELECT expires_at FROM review_claims WHERE project = %s AND task_id = %s AND reviewer = %s",
                               (project, task_id, reviewer)).fetchone()
            latest = cur.execute("SELECT reviewer FROM reviews WHERE project = %s AND task_id = %s "
                                 "ORDER BY version DESC LIMIT 1", (project, task_id)).fetchone()
            refuse_review(project, task_id, reviewer, self._other_holder(cur, project, task_id, reviewer, now),
                          mine["expires_at"] if mine is not None else None, now,
                          latest["reviewer"] if latest is not None else None)
            version = cur.execute("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM reviews WHERE project = %s "
                                  "AND task_id = %s", (project, task_id)).fetchone()["v"]
            record_id, payload = build(version)
            created = utc_now()
            cur.execute(
                "INSERT INTO reviews (project, task_id, reviewer, version, judgements, reply_label, note, record_id, "
                "payload, written, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, FALSE, %s)",
                (project, task_id, reviewer, version, Json(judgements), reply_label, note, record_id, Json(payload),
                 created))
            cur.execute("DELETE FROM review_claims WHERE project = %s AND task_id = %s", (project, task_id))
        return Review(project, task_id, reviewer, version, judgements, reply_label, note, record_id, payload, created)

    def final_answer(self, project: str, task_id: str) -> Review | None:
        """The latest review of ``task_id`` (the reviewed final answer), ``None`` when it has none."""
        with self._tx() as cur:
            self._project_row(cur, project)
            row = cur.execute("SELECT * FROM reviews WHERE project = %s AND task_id = %s ORDER BY version DESC "
                              "LIMIT 1", (project, task_id)).fetchone()
        return review_from_row(row, _decoded) if row is not None else None

    def reviews(self, project: str) -> list[Review]:
        """Every review of ``project``, oldest first."""
        with self._tx() as cur:
            rows = cur.execute("SELECT * FROM reviews WHERE project = %s ORDER BY seq", (project,)).fetchall()
        return [review_from_row(r, _decoded) for r in rows]

    def task_submissions(self, project: str, task_id: str) -> list[Any]:
        """Every annotator's latest submitted answer to ``task_id``, by annotator."""
        with self._tx() as cur:
            self._project_row(cur, project)
            self._check_task(cur, project, task_id)
            rows = cur.execute(
                "SELECT h.* FROM answers a JOIN history h USING (project, task_id, annotator, version) "
                "WHERE a.project = %s AND a.task_id = %s AND a.status = 'submitted' ORDER BY a.annotator",
                (project, task_id)).fetchall()
        return [self._answer(r) for r in rows]

    def unwritten_reviews(self) -> list[Review]:
        with self._tx() as cur:
            rows = cur.execute("SELECT * FROM reviews WHERE NOT written ORDER BY seq").fetchall()
        return [review_from_row(r, _decoded) for r in rows]

    def mark_review_written(self, record_id: str) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE reviews SET written = TRUE WHERE record_id = %s", (record_id,))

    def set_meta(self, project: str, updates: dict[str, Any]) -> None:
        """Merge ``updates`` into ``project``'s meta."""
        from psycopg.types.json import Json

        with self._tx() as cur:
            row = cur.execute("SELECT meta FROM projects WHERE name = %s FOR UPDATE", (project,)).fetchone()
            if row is None:
                self._project_row(cur, project)  # raises, naming the known projects
            cur.execute("UPDATE projects SET meta = %s WHERE name = %s", (Json({**row["meta"], **updates}), project))

    def suggestion_outcomes(self, project: str) -> list[tuple[str, str, dict[str, Any]]]:
        """``(task_id, annotator, suggestion)`` of every latest submission that stored a suggestion record."""
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT h.task_id, h.annotator, h.suggestion FROM answers a "
                "JOIN history h USING (project, task_id, annotator, version) "
                "WHERE a.project = %s AND a.status = 'submitted' AND h.suggestion IS NOT NULL "
                "ORDER BY h.task_id, h.annotator", (project,)).fetchall()
        return [(r["task_id"], r["annotator"], r["suggestion"]) for r in rows]
