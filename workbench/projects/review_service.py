"""The review use cases, as plain functions over a :class:`~workbench.projects.service.ProjectService`.

``next_review`` / ``pull_review`` (a task and every annotator's answer side by side),
``submit_review`` (the reviewer's final answer and note), ``final_for_task`` (reviewed, else
majority, else single) and ``set_reviewers``. The Review view, the ``/next_review`` and
``/submit_review`` endpoints, the CLI and a JSON API all call these.

A review is saved as a submission is (:mod:`workbench.projects.service`): its record id is derived
from ``(project, task_id, version)``; the review and its record's payload commit to the project
store (the commit point); the record is appended to the feedback store and flagged written, and
:meth:`~workbench.projects.service.ProjectService.recover` appends what a killed process left.
The record (``session_id`` ``review:<project>:<task_id>``, the reviewer as annotator, the note as
comment) carries the final answer to the feedback dataset and its Hub copy.

It knows projects, reviews and feedback records; it does not know gradio.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from workbench.errors import ProjectError
from workbench.feedback.record import REPLY_LABELS, make_record
from workbench.limits import MAX_COMMENT_CHARS, MAX_ID_CHARS
from workbench.projects.review import (
    REVIEW_SESSION_PREFIX,
    ReviewSettings,
    answer_view,
    check_reviewer,
    check_threshold,
    final_answer,
    parse_reviewers,
    review_settings,
)
from workbench.projects.service import ProjectService, check_annotator, parse_judgements

#: Namespace of the deterministic record ids of reviews.
REVIEW_NAMESPACE = uuid.UUID("9d3c1a0e-5b7f-4c21-8e64-2f0a7b5c9d13")


def review_record_id(project: str, task_id: str, version: int) -> str:
    """The feedback record id of a task's ``version``-th review: the same on every retry."""
    return str(uuid.uuid5(REVIEW_NAMESPACE, f"{project}\x1f{task_id}\x1f{version}"))


def _reviewer(service: ProjectService, project: str, reviewer: Any) -> str:
    who = check_annotator(reviewer).strip()
    check_reviewer(project, service.store.project(project).meta, who)
    return who


def _review_view(service: ProjectService, project: str, task_id: str) -> dict[str, Any]:
    task = service.store.task(project, task_id)
    answer = task.answer or {}
    messages = [dict(m) for m in task.messages]
    if answer.get("reply"):
        messages.append({"role": "assistant", "content": answer["reply"]})
    answers = [answer_view(a.annotator, a.payload) for a in service.store.task_submissions(project, task_id)]
    return {"task_id": task_id, "messages": messages, "items": answer.get("items", []), "answers": answers}


def next_review(service: ProjectService, project: str, reviewer: str) -> dict[str, Any]:
    """The next task of ``project``'s review queue for ``reviewer`` (the same one while they hold it).

    Returns:
        ``{"task_id", "messages" (the conversation, the engine's reply last), "items" (the slate),
        "answers": [{"annotator", "judgements", "reply_label", "comment"}]}`` or ``{"done": True}``.

    Raises:
        ProjectError: an unknown project, or ``reviewer`` is not one of its reviewers.
    """
    who = _reviewer(service, project, reviewer)
    task_id = service.store.claim_review(project, who, service.lease_s)
    if task_id is None:
        return {"done": True}
    return _review_view(service, project, task_id)


def pull_review(service: ProjectService, project: str, task_id: str, reviewer: str) -> dict[str, Any]:
    """Claim any task of ``project`` for review (queued or not, reviewed before or not); its view
    as :func:`next_review` gives it."""
    who = _reviewer(service, project, reviewer)
    service.store.pull_review(project, task_id, who, service.lease_s)
    return _review_view(service, project, task_id)


def submit_review(service: ProjectService, project: str, task_id: str, reviewer: str, judgements: Any = None,
                  reply_label: str = "", note: str = "") -> dict[str, Any]:
    """Save ``reviewer``'s final answer to ``task_id`` with a note: ``{"saved": True, "record_id"}``.

    Args:
        judgements: ``item_id -> {"label", "rating"}`` on the task's slate (the ``/feedback`` format).
        reply_label: ``"like"``, ``"dislike"`` or empty.

    Raises:
        ProjectError, FeedbackError: unknown project or task, not a reviewer, the task held by
            another reviewer, a repeat of their own latest review, an item not on the slate, a bad
            label or rating, a note too long; nothing is written.
    """
    who = _reviewer(service, project, reviewer)
    task = service.store.task(project, task_id)
    where = f"project {project!r}, task {task_id!r}"
    if task.answer is None:
        raise ProjectError(f"{where}: not answered by the engine yet; finish `project create`")
    answer = task.answer
    marks = parse_judgements(judgements, [i["item_id"] for i in answer.get("items", [])], where)
    label = reply_label or None
    if label is not None and label not in REPLY_LABELS:
        raise ProjectError(f"{where}: reply_label must be one of {', '.join(REPLY_LABELS)} or empty, got {reply_label!r}")
    if not isinstance(note or "", str):
        raise ProjectError(f"{where}: note must be text, got {note!r}")
    note = (note or "").strip()
    if len(note) > MAX_COMMENT_CHARS:
        raise ProjectError(f"{where}: note has {len(note)} characters (limit {MAX_COMMENT_CHARS})")
    backend, _, model = str(answer.get("generator") or "template").partition(":")
    slate = [{k: item[k] for k in ("item_id", "title", "rank", "score", "sources", "reason") if k in item}
             for item in answer.get("items", [])]
    messages = task.messages

    def build(version: int) -> tuple[str, dict[str, Any]]:
        record_id = review_record_id(project, task_id, version)
        record = make_record(
            annotator=who, session_id=f"{REVIEW_SESSION_PREFIX}{project}:{task_id}"[:MAX_ID_CHARS],
            turn_index=sum(1 for m in messages[:-1] if m["role"] == "user"), conversation=messages[:-1],
            user_message=messages[-1]["content"], reply=answer.get("reply", ""), generator_backend=backend,
            generator_model=model, slate=slate, judgements=marks, reply_label=label, comment=note,
            catalog_hash=answer.get("catalog_hash", ""), index_id=answer.get("index_id", ""),
            project=project, task_id=task_id)
        return record_id, dataclasses.replace(record, record_id=record_id).to_dict()

    saved = service.store.save_review(project, task_id, who, marks, label, note, build)
    assert saved.payload is not None
    service.write_review(saved.record_id, saved.payload)
    return {"saved": True, "record_id": saved.record_id}


def final_for_task(store: Any, project: str, task_id: str) -> dict[str, Any] | None:
    """``{"judgements", "reply_label", "source"}`` of ``task_id``: its latest review, else the
    majority of its annotators' latest submissions (``None`` when it has neither)."""
    payloads = [a.payload for a in store.task_submissions(project, task_id) if a.payload]
    return final_answer(store.final_answer(project, task_id), payloads)


def set_reviewers(store: Any, project: str, reviewers: Any, threshold: Any = None) -> ReviewSettings:
    """Name ``project``'s reviewers (and its review threshold, when given); the settings now."""
    names = parse_reviewers(reviewers)
    current = review_settings(store.project(project).meta)
    settings = ReviewSettings(names, current.threshold if threshold is None else check_threshold(threshold))
    store.set_meta(project, settings.to_meta())
    return settings
