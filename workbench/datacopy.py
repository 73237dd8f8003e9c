"""Copying a workbench's data between the embedded stores and PostgreSQL (``python -m workbench data copy``).

A *location* is a feedback folder (JSONL shards, with ``projects/projects.sqlite`` beside them)
or a ``postgresql://`` URL. :func:`copy_data` copies both halves from one to the other, either
way (a Space's data to a team server, or a database back into a folder for a Space or a backup):

* feedback records by ``record_id``: a record already in the target is skipped, so a rerun (or a
  copy interrupted and started again) never duplicates one;
* annotation projects whole: the project, its tasks with the stored answers, every answer ever
  given (``history``, renumbered in the target's sequence, order kept) and the latest answers.
  A project already in the target is left alone and reported (``skipped``), so a rerun changes
  nothing; live claims are leases of a few minutes and are not copied.

It copies rows; it does not validate what the stores would refuse (records are validated again
by the target feedback store's ``append_many``) and it knows no gradio.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.database import Database, is_database_url, redact
from workbench.errors import WorkbenchError
from workbench.feedback.backends import store_at
from workbench.projects.service import projects_path
from workbench.projects.store import SQLiteProjectStore

#: Feedback records written per transaction.
COPY_BATCH = 500

_TASK_COLUMNS = ("project", "task_id", "position", "messages", "metadata", "answer")
_PROJECT_COLUMNS = ("name", "guidelines", "overlap", "state", "created_at", "meta")
_HISTORY_COLUMNS = ("project", "task_id", "annotator", "version", "status", "reason", "record_id", "payload",
                    "written", "created_at")
_ANSWER_COLUMNS = ("project", "task_id", "annotator", "version", "status", "record_id", "first_seq")
_JSON_COLUMNS = {"meta", "messages", "metadata", "answer", "payload"}


@dataclass
class CopyReport:
    """What :func:`copy_data` did (``python -m workbench data copy --json`` prints it)."""

    source: str
    target: str
    records_read: int = 0
    records_copied: int = 0
    projects_copied: list[str] = field(default_factory=list)
    projects_skipped: list[str] = field(default_factory=list)
    answers_copied: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Side:
    """The project tables at one location, through one connection (sqlite3 or psycopg)."""

    def __init__(self, location: str | Path, *, create: bool):
        self.pg = is_database_url(str(location))
        self.location = str(location)
        self._create = create

    @contextmanager
    def transaction(self) -> Iterator[_Side]:
        if self.pg:
            db = Database(self.location, max_size=1).open()
            try:
                with db.transaction() as conn:
                    self._conn = conn
                    yield self
            finally:
                db.close()
            return
        path = projects_path(self.location)
        if self._create:
            SQLiteProjectStore(path).projects()  # creates the file and its schema
        elif not path.exists():
            self._conn = None
            yield self
            return
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._conn = conn
            try:
                yield self
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self._conn is None:
            return []
        cur = self._conn.execute(self._sql(sql), params)
        names = [d[0] for d in cur.description]
        out = []
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            for key in _JSON_COLUMNS & row.keys():
                if not self.pg and row[key] is not None:
                    row[key] = json.loads(row[key])
            if "written" in row:
                row["written"] = bool(row["written"])
            out.append(row)
        return out

    def insert(self, table: str, columns: tuple[str, ...], row: dict[str, Any], returning: str = "") -> Any:
        values = []
        for c in columns:
            v = row[c]
            if c in _JSON_COLUMNS and v is not None:
                if self.pg:
                    from psycopg.types.json import Json

                    v = Json(v)
                else:
                    v = json.dumps(v, ensure_ascii=False)
            elif c == "written" and not self.pg:
                v = int(v)
            values.append(v)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        if returning and self.pg:
            return self._conn.execute(self._sql(sql) + f" RETURNING {returning}", values).fetchone()[0]
        cur = self._conn.execute(self._sql(sql), values)
        return cur.lastrowid if returning else None


def copy_data(source: str | Path, target: str | Path) -> CopyReport:
    """Copy feedback records and annotation projects from ``source`` to ``target`` (idempotent).

    Raises:
        WorkbenchError: source and target are the same, or a store refuses the data.
    """
    if str(source) == str(target):
        raise WorkbenchError(f"data copy: --from and --to are the same location ({redact(str(source))})")
    report = CopyReport(redact(str(source)), redact(str(target)))
    _copy_feedback(source, target, report)
    _copy_projects(source, target, report)
    return report


def _copy_feedback(source: str | Path, target: str | Path, report: CopyReport) -> None:
    src, dst = store_at(source), store_at(target)
    try:
        records = src.read().records
        report.records_read = len(records)
        have = {r.record_id for r in dst.read().records}
        missing = [r for r in records if r.record_id not in have]
        for start in range(0, len(missing), COPY_BATCH):
            dst.append_many(missing[start:start + COPY_BATCH])
        report.records_copied = len(missing)
    finally:
        src.close()
        dst.close()


def _copy_projects(source: str | Path, target: str | Path, report: CopyReport) -> None:
    with _Side(source, create=False).transaction() as src:
        projects = src.rows("SELECT * FROM projects ORDER BY name")
        if not projects:
            return
        with _Side(target, create=True).transaction() as dst:
            present = {r["name"] for r in dst.rows("SELECT name FROM projects")}
            for project in projects:
                name = project["name"]
                if name in present:
                    report.projects_skipped.append(name)
                    continue
                dst.insert("projects", _PROJECT_COLUMNS, project)
                for task in src.rows("SELECT * FROM tasks WHERE project = ? ORDER BY position", (name,)):
                    dst.insert("tasks", _TASK_COLUMNS, task)
                seqs = {}
                for h in src.rows("SELECT * FROM history WHERE project = ? ORDER BY seq", (name,)):
                    seqs[h["seq"]] = dst.insert("history", _HISTORY_COLUMNS, h, returning="seq")
                for a in src.rows("SELECT * FROM answers WHERE project = ? ORDER BY first_seq", (name,)):
                    dst.insert("answers", _ANSWER_COLUMNS, {**a, "first_seq": seqs[a["first_seq"]]})
                report.answers_copied += len(seqs)
                report.projects_copied.append(name)
