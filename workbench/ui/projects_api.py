"""Named API endpoints of annotation projects: ``/next_task``, ``/submit_task``, ``/skip_task``.

Each endpoint calls one :class:`~workbench.projects.service.ProjectService` method (the use cases
the Annotate tab calls too) and returns its JSON. The service checks everything a client sends
(unknown project or task, a task not claimed by this annotator, a second submission, an item not
on the slate, bad labels or ratings) and writes nothing when a check fails; the message, naming
the value, comes back as a ``gradio_client`` ``AppError`` (:func:`~workbench.ui.boundary.as_app_error`).

Identity follows ``/feedback`` (:func:`~workbench.chat.identity.identify`): with password
auth or Hugging Face sign-in on, the annotator is the signed-in user and a differing
``annotator`` argument is refused; without sign-in it is the (normalised) ``annotator`` argument.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from workbench.chat.identity import identify
from workbench.errors import ProjectError
from workbench.services import Services
from workbench.ui.boundary import as_app_error


def _service(services: Services) -> Any:
    if services.projects is None:
        raise ProjectError("annotation projects are not available on this server (no project store)")
    return services.projects


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProjectError(f"{name}: expected a string, got {value!r}")
    return value


def _who(services: Services, annotator: Any, profile: Any, request: Any) -> str:
    return identify(services, _text(annotator, "annotator"), profile, request, refuse_other_name=True)


def next_task_api(services: Services, project: str, annotator: str, *, profile: Any = None,
                  request: Any = None) -> dict[str, Any]:
    """The task ``annotator`` should judge now, or ``{"done": True, "progress"}``."""
    return _service(services).next_task(_text(project, "project"), _who(services, annotator, profile, request))


def submit_task_api(services: Services, project: str, task_id: str, annotator: str, judgements: Any = None,
                    reply_label: str = "", comment: str = "", *, profile: Any = None,
                    request: Any = None) -> dict[str, Any]:
    """Save ``annotator``'s judgements of ``task_id``: ``{"saved": True, "record_id", "progress"}``."""
    return _service(services).submit_task(
        _text(project, "project"), _text(task_id, "task_id"), _who(services, annotator, profile, request),
        judgements, _text(reply_label, "reply_label"), _text(comment, "comment"))


def skip_task_api(services: Services, project: str, task_id: str, annotator: str, reason: str = "", *,
                  profile: Any = None, request: Any = None) -> dict[str, Any]:
    """Pass on ``task_id``: ``{"skipped": True, "progress"}``."""
    return _service(services).skip_task(_text(project, "project"), _text(task_id, "task_id"),
                                        _who(services, annotator, profile, request), _text(reason, "reason"))


def register_projects_api(services: Services) -> None:
    """Declare ``/next_task``, ``/submit_task`` and ``/skip_task`` (call inside a Blocks context)."""

    def next_task(project: str, annotator: str, request: gr.Request = None,
                  profile: gr.OAuthProfile | None = None) -> dict:
        """Claim the next task of a project for an annotator (the same one again while the claim lives).

        Args:
            project: the project name (`python -m workbench project list`).
            annotator: who judges (a name or a Hugging Face username).

        Returns:
            {"task_id", "messages": [{"role", "content"}], "reply", "items": [same as /chat],
            "progress": {...}} or {"done": true, "progress": {...}} when nothing is left for them.
        """
        return as_app_error(next_task_api)(services, project, annotator, profile=profile, request=request)

    def submit_task(project: str, task_id: str, annotator: str, judgements: dict | None = None,
                    reply_label: str = "", comment: str = "", request: gr.Request = None,
                    profile: gr.OAuthProfile | None = None) -> dict:
        """Submit judgements of a task claimed with /next_task.

        Args:
            project: the project name.
            task_id: the task_id /next_task returned.
            annotator: the annotator who claimed it.
            judgements: item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5} (as /feedback).
            reply_label: "like", "dislike" or empty.
            comment: optional free text.

        Returns:
            {"saved": true, "record_id", "progress": {...}}
        """
        return as_app_error(submit_task_api)(services, project, task_id, annotator, judgements, reply_label,
                                             comment, profile=profile, request=request)

    def skip_task(project: str, task_id: str, annotator: str, reason: str = "", request: gr.Request = None,
                  profile: gr.OAuthProfile | None = None) -> dict:
        """Pass on a task claimed with /next_task; it goes to other annotators.

        Args:
            project: the project name.
            task_id: the task_id /next_task returned.
            annotator: the annotator who claimed it.
            reason: optional, why.

        Returns:
            {"skipped": true, "progress": {...}}
        """
        return as_app_error(skip_task_api)(services, project, task_id, annotator, reason, profile=profile,
                                           request=request)

    gr.api(next_task, api_name="next_task", concurrency_limit=None)
    gr.api(submit_task, api_name="submit_task", concurrency_limit=None)
    gr.api(skip_task, api_name="skip_task", concurrency_limit=None)
