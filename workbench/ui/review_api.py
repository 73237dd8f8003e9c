"""Named API endpoints of project reviews: ``/next_review`` and ``/submit_review``.

Each endpoint calls one use case of :mod:`workbench.projects.review_service` (which the Review
view calls too) and returns its JSON; errors come back as a ``gradio_client`` ``AppError`` naming
the bad value (:func:`~workbench.ui.boundary.as_app_error`), with nothing written. Identity follows
``/next_task``: with sign-in on, the reviewer is the signed-in user and a differing ``reviewer``
argument is refused; the reviewer must be one the project names (``--reviewers``).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from workbench.chat.identity import identify
from workbench.projects import review_service
from workbench.services import Services
from workbench.ui.boundary import as_app_error
from workbench.ui.projects_api import _service, _text


def _who(services: Services, reviewer: Any, profile: Any, request: Any) -> str:
    return identify(services, _text(reviewer, "reviewer"), profile, request, refuse_other_name=True)


def next_review_api(services: Services, project: str, reviewer: str, *, profile: Any = None,
                    request: Any = None) -> dict[str, Any]:
    """The next disputed task for ``reviewer``, or ``{"done": True}``."""
    return review_service.next_review(_service(services), _text(project, "project"),
                                      _who(services, reviewer, profile, request))


def submit_review_api(services: Services, project: str, task_id: str, reviewer: str, judgements: Any = None,
                      reply_label: str = "", note: str = "", *, profile: Any = None,
                      request: Any = None) -> dict[str, Any]:
    """Save ``reviewer``'s final answer: ``{"saved": True, "record_id"}``."""
    return review_service.submit_review(
        _service(services), _text(project, "project"), _text(task_id, "task_id"),
        _who(services, reviewer, profile, request), judgements, _text(reply_label, "reply_label"),
        _text(note, "note"))


def register_review_api(services: Services) -> None:
    """Declare ``/next_review`` and ``/submit_review`` (call inside a Blocks context)."""

    def next_review(project: str, reviewer: str, request: gr.Request = None,
                    profile: gr.OAuthProfile | None = None) -> dict:
        """Claim the next task of a project's review queue (tasks whose annotators disagree).

        Args:
            project: the project name.
            reviewer: one of the project's reviewers (with sign-in on: the signed-in user).

        Returns:
            {"task_id", "messages": [{"role", "content"}] (the engine's reply last), "items": [the slate],
            "answers": [{"annotator", "judgements", "reply_label", "comment"}]} or {"done": true}.
        """
        return as_app_error(next_review_api)(services, project, reviewer, profile=profile, request=request)

    def submit_review(project: str, task_id: str, reviewer: str, judgements: dict | None = None,
                      reply_label: str = "", note: str = "", request: gr.Request = None,
                      profile: gr.OAuthProfile | None = None) -> dict:
        """Set a task's final answer (from /next_review, or any task: that pulls it).

        Args:
            project: the project name.
            task_id: the task_id /next_review returned (or any task of the project).
            reviewer: one of the project's reviewers.
            judgements: item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5} (as /feedback).
            reply_label: "like", "dislike" or empty.
            note: why (optional; shown in exports and the feedback record's comment).

        Returns:
            {"saved": true, "record_id"}
        """
        return as_app_error(submit_review_api)(services, project, task_id, reviewer, judgements, reply_label,
                                               note, profile=profile, request=request)

    gr.api(next_review, api_name="next_review", concurrency_limit=None)
    gr.api(submit_review, api_name="submit_review", concurrency_limit=None)
