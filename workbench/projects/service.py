"""Use cases of annotation projects, for the Annotate tab, the API endpoints and the CLI.

:class:`ProjectService` wraps a :class:`~workbench.projects.store.ProjectStore` (claims, answers,
counts) and the :class:`~workbench.feedback.store.JsonlFeedbackStore` (the judgements, as
:class:`~workbench.feedback.record.FeedbackRecord` s, so every feedback export works on project
data). Its methods take and return plain JSON-ready values: ``next_task``, ``submit_task``,
``skip_task``, ``discard_task``, ``back``, ``progress``, ``list_projects``.

A submission is written in this order, so that an acknowledged one is never lost or duplicated:
the record id is derived from ``(project, task_id, annotator, version)``; the answer and the
record's payload are committed to the project store (the commit point); the record is appended
to the feedback store (fsync) and flagged written. A process killed in between leaves the flag
down and :meth:`ProjectService.recover` appends the same record again (same id, same content: the
feedback reader returns it once).

It knows projects and feedback records; it does not know gradio.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from workbench.database import Database, is_database_url
from workbench.errors import ProjectError
from workbench.feedback.backends import store_at
from workbench.feedback.inputs import check_judgements
from workbench.feedback.record import REPLY_LABELS, FeedbackRecord, make_record
from workbench.feedback.store import RecordStore
from workbench.limits import MAX_ANNOTATOR_CHARS, MAX_ID_CHARS, MAX_TEXT_CHARS
from workbench.projects import suggestions
from workbench.projects.store import DEFAULT_LEASE_S, ProjectStore, SQLiteProjectStore, StoredTask

#: The project database, relative to the feedback data directory.
PROJECTS_DB = Path("projects") / "projects.sqlite"
#: Seconds an unwritten record must be old before :meth:`ProjectService.recover` appends it: a live
#: process appends within milliseconds of its commit, so an older one was left by a dead process.
RECOVER_GRACE_S = 30.0
#: Namespace of the deterministic record ids of project submissions.
RECORD_NAMESPACE = uuid.UUID("4f6b9c52-2a7e-4d0e-9a51-6c1f3b8d7e20")

#: ``FeedbackRecord`` fields that schema v2 adds; filled only when the record has them.


def projects_path(data_dir: str | Path) -> Path:
    """Where the projects of a data directory (the feedback shards' folder) live."""
    return Path(data_dir) / PROJECTS_DB


def record_id_for(project: str, task_id: str, annotator: str, version: int) -> str:
    """The feedback record id of an answer: the same on every retry of that answer."""
    return str(uuid.uuid5(RECORD_NAMESPACE, f"{project}\x1f{task_id}\x1f{annotator}\x1f{version}"))


def check_annotator(annotator: Any) -> str:
    if not isinstance(annotator, str) or not annotator.strip():
        raise ProjectError("annotator: must not be empty (a name or a Hugging Face username)")
    who = annotator.strip()
    if len(who) > MAX_ANNOTATOR_CHARS:
        raise ProjectError(f"annotator: {len(who)} characters (limit {MAX_ANNOTATOR_CHARS})")
    return who


def parse_judgements(judgements: Any, slate_ids: list[str], where: str) -> dict[str, dict[str, Any]]:
    """``/feedback``-style judgements (``item_id -> {"label", "rating"}``), checked against the slate.

    The checks and their wording are ``/feedback``'s (:func:`workbench.feedback.inputs.check_judgements`).

    Raises:
        ProjectError: naming the item and the bad value.
    """
    judged = check_judgements(judgements, f"{where}: judgements", slate=slate_ids,
                              slate_name="this task's slate", error=ProjectError)
    return {item_id: {"label": label, "rating": rating} for item_id, label, rating in judged}


class ProjectService:
    """The use cases of annotation projects over a project store and a feedback store.

    Safe to share between threads; several processes may each have one over the same data
    directory.
    """

    def __init__(self, store: ProjectStore, feedback: RecordStore, *, lease_s: float = DEFAULT_LEASE_S):
        self.store = store
        self.feedback = feedback
        self.lease_s = lease_s

    # reading ------------------------------------------------------------
    def list_projects(self) -> list[dict[str, Any]]:
        """Every project: name, tasks, overlap, state, created_at, and its progress."""
        return [{"name": p.name, "tasks": p.tasks, "overlap": p.overlap, "state": p.state,
                 "created_at": p.created_at, "progress": self.store.progress(p.name)}
                for p in self.store.projects()]

    def guidelines(self, project: str) -> str:
        """The project's guidelines (Markdown)."""
        return self.store.project(project).guidelines

    def progress(self, project: str) -> dict[str, Any]:
        """``{"project", "tasks", "overlap", "complete", "submissions", "skipped", "per_annotator"}``."""
        return self.store.progress(project)

    def _view(self, project: str, task: StoredTask) -> dict[str, Any]:
        answer = task.answer or {}
        view = {"task_id": task.task_id, "messages": task.messages, "reply": answer.get("reply", ""),
                "items": answer.get("items", []), "progress": self.store.progress(project)}
        suggested = suggestions.shown(project, task.task_id, self.store.project(project).meta, view["items"])
        if suggested:  # only on the suggested share of a project with --suggestions; the control sees none
            view["suggestions"] = suggested
        return view

    # assignment ---------------------------------------------------------
    def next_task(self, project: str, annotator: str) -> dict[str, Any]:
        """The task ``annotator`` should judge now (the same one again while their claim lives).

        Returns:
            ``{"task_id", "messages", "reply", "items", "progress"}`` (plus ``"suggestions"``:
            ``item_id -> "like" | "dislike"`` on the suggested share of a project created with
            ``--suggestions``), or ``{"done": True, "progress"}`` when nothing is left for this annotator.

        Raises:
            ProjectError: an unknown, closed or unfinished project, or an empty annotator.
        """
        who = check_annotator(annotator)
        task_id = self.store.claim_next(project, who, self.lease_s)
        if task_id is None:
            return {"done": True, "progress": self.store.progress(project)}
        return self._view(project, self.store.task(project, task_id))

    def back(self, project: str, annotator: str) -> dict[str, Any]:
        """Reopen the task ``annotator`` answered before (each call steps one further back).

        Returns:
            the task as :meth:`next_task` gives it plus ``"previous"``: their latest answer
            (``judgements``, ``reply_label``, ``comment``, or ``skipped`` and ``reason``); or
            ``{"done": True, "progress"}`` when there is nothing to go back to.
        """
        who = check_annotator(annotator)
        task_id = self.store.claim_previous(project, who, self.lease_s)
        if task_id is None:
            return {"done": True, "progress": self.store.progress(project)}
        view = self._view(project, self.store.task(project, task_id))
        latest = self.store.latest(project, task_id, who)
        view["previous"] = _previous(latest)
        return view

    # answers ------------------------------------------------------------
    def submit_task(self, project: str, task_id: str, annotator: str, judgements: Any = None,
                    reply_label: str = "", comment: str = "") -> dict[str, Any]:
        """Save ``annotator``'s judgements of ``task_id`` (claimed with next_task or back).

        Args:
            judgements: ``item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5}``
                (the ``/feedback`` format).
            reply_label: ``"like"``, ``"dislike"`` or empty.

        Returns:
            ``{"saved": True, "record_id", "progress"}``.

        Raises:
            ProjectError, FeedbackError: unknown project or task, not claimed by this annotator,
                already submitted (without back), an item not on the slate, bad labels; nothing
                is written.
        """
        who = check_annotator(annotator)
        task = self.store.task(project, task_id)
        where = f"project {project!r}, task {task_id!r}"
        if task.answer is None:
            raise ProjectError(f"{where}: not answered by the engine yet; finish `project create`")
        items = task.answer.get("items", [])
        marks = parse_judgements(judgements, [i["item_id"] for i in items], where)
        label = reply_label or None
        if label is not None and label not in REPLY_LABELS:
            raise ProjectError(f"{where}: reply_label must be one of {', '.join(REPLY_LABELS)} or empty, "
                               f"got {reply_label!r}")
        if not isinstance(comment or "", str):
            raise ProjectError(f"{where}: comment must be text, got {comment!r}")
        build = self._builder(project, task, who, marks, label, comment or "")
        outcome = suggestions.outcome(project, task_id, self.store.project(project).meta, items, marks)
        saved = self.store.answer(project, task_id, who, "submitted", build=build, suggestion=outcome)
        assert saved.record_id is not None and saved.payload is not None
        self._write(saved.record_id, saved.payload)
        return {"saved": True, "record_id": saved.record_id, "progress": self.store.progress(project)}

    def skip_task(self, project: str, task_id: str, annotator: str, reason: str = "") -> dict[str, Any]:
        """Pass on ``task_id`` (with an optional reason); it goes to other annotators.

        Returns:
            ``{"skipped": True, "progress"}``.
        """
        return self._pass(project, task_id, annotator, reason, "skipped")

    def discard_task(self, project: str, task_id: str, annotator: str, reason: str = "") -> dict[str, Any]:
        """Mark ``task_id`` as unusable (a broken context); counted like a skip in the progress.

        Returns:
            ``{"discarded": True, "progress"}``.
        """
        return self._pass(project, task_id, annotator, reason, "discarded")

    def close_project(self, project: str) -> None:
        """Close ``project``: no more claims, submissions or changed answers."""
        self.store.set_state(project, "closed")

    def recover(self, grace_s: float = RECOVER_GRACE_S) -> int:
        """Append the records a killed process committed but did not write; how many.

        Only records committed more than ``grace_s`` seconds ago: a younger one may belong to a
        live process about to append it (appending it twice would be harmless, the feedback
        reader keeps one copy per record id, but it would count as a duplicate).
        """
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=grace_s)
        pending = [a for a in self.store.unwritten() if datetime.fromisoformat(a.created_at) <= cutoff]
        for answer in pending:
            assert answer.record_id is not None and answer.payload is not None
            self._write(answer.record_id, answer.payload)
        reviews = [r for r in self.store.unwritten_reviews() if datetime.fromisoformat(r.created_at) <= cutoff]
        for review in reviews:  # reviews commit the same way (workbench.projects.review_service)
            assert review.payload is not None
            self.write_review(review.record_id, review.payload)
        return len(pending) + len(reviews)

    # helpers ------------------------------------------------------------
    def _pass(self, project: str, task_id: str, annotator: str, reason: Any, status: str) -> dict[str, Any]:
        who = check_annotator(annotator)
        if not isinstance(reason or "", str) or len(reason or "") > MAX_TEXT_CHARS:
            raise ProjectError(f"reason: must be text of at most {MAX_TEXT_CHARS} characters, got {reason!r}")
        self.store.answer(project, task_id, who, status, reason=(reason or "").strip())
        return {status: True, "progress": self.store.progress(project)}

    def _builder(self, project: str, task: StoredTask, annotator: str, marks: dict[str, dict[str, Any]],
                 reply_label: str | None, comment: str) -> Callable[[int], tuple[str, dict[str, Any]]]:
        answer = task.answer or {}
        backend, _, model = str(answer.get("generator") or "template").partition(":")
        slate = [{k: item[k] for k in ("item_id", "title", "rank", "score", "sources", "reason") if k in item}
                 for item in answer.get("items", [])]
        messages = task.messages

        def build(version: int) -> tuple[str, dict[str, Any]]:
            record_id = record_id_for(project, task.task_id, annotator, version)
            record = make_record(
                annotator=annotator,
                session_id=f"project:{project}:{task.task_id}"[:MAX_ID_CHARS],
                turn_index=sum(1 for m in messages[:-1] if m["role"] == "user"),
                conversation=messages[:-1],
                user_message=messages[-1]["content"],
                reply=answer.get("reply", ""),
                generator_backend=backend,
                generator_model=model,
                slate=slate,
                judgements=marks,
                reply_label=reply_label,
                comment=comment,
                catalog_hash=answer.get("catalog_hash", ""),
                index_id=answer.get("index_id", ""),
                project=project,
                task_id=task.task_id,
            )
            record = dataclasses.replace(record, record_id=record_id)
            return record_id, record.to_dict()

        return build

    def _write(self, record_id: str, payload: Mapping[str, Any]) -> None:
        self.feedback.append(FeedbackRecord.from_dict(payload, where=f"record {record_id}"))
        self.store.mark_written(record_id)

    def write_review(self, record_id: str, payload: Mapping[str, Any]) -> None:
        """Append a committed review's record to the feedback store and flag it written."""
        self.feedback.append(FeedbackRecord.from_dict(payload, where=f"review record {record_id}"))
        self.store.mark_review_written(record_id)


def _previous(latest: Any) -> dict[str, Any]:
    if latest is None:
        return {}
    if latest.status != "submitted" or not latest.payload:
        return {"skipped": True, "status": latest.status, "reason": latest.reason}
    payload = latest.payload
    marks = {j["item_id"]: {"label": j.get("label"), "rating": j.get("rating")}
             for j in payload.get("slate", []) if j.get("label") is not None or j.get("rating") is not None}
    return {"judgements": marks, "reply_label": payload.get("reply_label") or "",
            "comment": payload.get("comment") or "", "version": latest.version}


def open_project_service(data_dir: str | Path | Database, *, feedback: RecordStore | None = None,
                         clock: Callable[[], float] = time.time, lease_s: float = DEFAULT_LEASE_S,
                         recover: bool = True) -> ProjectService:
    """The service over the projects of ``data_dir`` (the feedback shards' folder), or of a
    PostgreSQL database (a :class:`~workbench.database.Database` or its ``postgresql://`` URL).

    Args:
        feedback: the app's feedback store (default: the one at ``data_dir``).
        clock: time source for leases (tests inject one).
        recover: first append records a killed process committed but did not write.
    """
    store = project_store_at(data_dir, clock=clock)
    service = ProjectService(store, feedback or store_at(data_dir), lease_s=lease_s)
    if recover:
        service.recover()
    return service


def project_store_at(location: str | Path | Database, *, clock: Callable[[], float] = time.time) -> ProjectStore:
    """The project store at ``location``: PostgreSQL for a database or its URL, else the SQLite
    file under the feedback folder ``location``."""
    if isinstance(location, Database) or is_database_url(str(location)):
        from workbench.projects.pg_store import PostgresProjectStore

        return PostgresProjectStore(location if isinstance(location, Database) else str(location), clock=clock)
    return SQLiteProjectStore(projects_path(location), clock=clock)
