"""Named API endpoints of the blind arena: ``/arena_pair`` and ``/arena_vote``.

``/arena_pair`` (message, pair_session_id, annotator) runs both systems of a conversation on the
message and returns ``{"pair_session_id", "pair_id", "a": {"reply", "items"}, "b": {...}}``: no
system names, ids or hashes, and items without scores or their sources
(:func:`~workbench.arena.service.blind_items`). An empty ``pair_session_id`` starts a conversation
with a newly drawn pair; the id continues it (for the client that started it only, as ``/chat``).
``/arena_vote`` (pair_id, annotator, vote, comment, judgements) saves the vote and reveals the
systems: ``{"saved": true, "record_id", "a_system", "b_system"}``; a second vote by the same
annotator on the same pair is refused and writes nothing.

Each endpoint checks what a client sent (as :mod:`workbench.ui.api` does), calls one
:class:`~workbench.arena.service.ArenaService` method and returns its JSON; a
:class:`~workbench.errors.WorkbenchError` comes back as an ``AppError`` with its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from workbench.arena.service import ArenaService
from workbench.chat.identity import identify
from workbench.errors import ArenaError
from workbench.feedback.inputs import check_judgements, check_text
from workbench.services import Services
from workbench.ui.api import client_owner
from workbench.ui.boundary import as_app_error


def _arena(arena: ArenaService | None) -> ArenaService:
    if arena is None:
        raise ArenaError("the arena is not available on this server")
    return arena


def arena_pair_api(services: Services, arena: ArenaService | None, message: Any, pair_session_id: Any = "",
                   annotator: Any = "", *, owner: str = "", request: Any = None, profile: Any = None
                   ) -> dict[str, Any]:
    """One message to both systems of a blind pair (a new pair when ``pair_session_id`` is empty)."""
    text = check_text("message", message, optional=False)
    sid = check_text("pair_session_id", pair_session_id).strip()
    # who converses is not needed to answer; a wrong name (with sign-in on) is still worth refusing
    identify(services, check_text("annotator", annotator), profile, request, refuse_other_name=True, required=False)
    return _arena(arena).pair(text, sid, owner)


def _judgements(value: Any) -> dict[str, dict[str, dict[str, Any]]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ArenaError(f"judgements: expected {{\"a\": {{item_id: {{\"label\", \"rating\"}}}}, \"b\": ...}}, "
                         f"got {type(value).__name__}")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for side, items in value.items():
        if side not in ("a", "b"):
            raise ArenaError(f"judgements: sides are 'a' and 'b', got {str(side)[:40]!r}")
        if not isinstance(items, Mapping):
            raise ArenaError(f"judgements[{side!r}]: expected an object item_id -> {{\"label\", \"rating\"}}")
        out[side] = {i: {"label": label, "rating": rating}
                     for i, label, rating in check_judgements(items, f"judgements[{side!r}]", error=ArenaError)}
    return out


def arena_vote_api(services: Services, arena: ArenaService | None, pair_id: Any, annotator: Any, vote: Any,
                   comment: Any = "", judgements: Any = None, *, request: Any = None, profile: Any = None
                   ) -> dict[str, Any]:
    """Save a vote on ``pair_id``; returns the record id and both systems' names."""
    pair_id = check_text("pair_id", pair_id, optional=False).strip()
    vote = check_text("vote", vote, optional=False).strip()
    comment = check_text("comment", comment)
    who = identify(services, check_text("annotator", annotator), profile, request, refuse_other_name=True)
    if not who:
        raise ArenaError("annotator: must not be empty (a name or a Hugging Face username)")
    return _arena(arena).vote(pair_id, who, vote, comment, _judgements(judgements))


def register_arena_api(services: Services, arena: ArenaService | None) -> None:
    """Declare ``/arena_pair`` and ``/arena_vote`` (call inside a Blocks context)."""

    def arena_pair(message: str, pair_session_id: str = "", annotator: str = "", request: gr.Request = None,
                   profile: gr.OAuthProfile | None = None) -> dict:
        """Send a message to two anonymous systems side by side.

        Args:
            message: what the user says.
            pair_session_id: the arena conversation to continue, as a previous /arena_pair returned it;
                empty starts one with a newly drawn pair of systems.
            annotator: who is talking (optional here; the vote names the annotator).

        Returns:
            {"pair_session_id", "pair_id", "a": {"reply", "items": [{"item_id", "title", "year", "genres",
            "directors", "cast", "rank", "reason"}]}, "b": {...}}: no system names, ids or scores.
        """
        owner = client_owner(request, profile, behind_proxy=services.settings.on_space)
        return as_app_error(arena_pair_api)(services, arena, message, pair_session_id, annotator, owner=owner,
                                            request=request, profile=profile)

    def arena_vote(pair_id: str, annotator: str, vote: str, comment: str = "", judgements: dict | None = None,
                   request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> dict:
        """Vote on a pair /arena_pair returned; reveals which systems answered.

        Args:
            pair_id: the pair_id /arena_pair returned.
            annotator: who votes (a name); with sign-in on, the signed-in user (leave it empty).
            vote: "a" (A is better), "b", "tie" or "both_bad".
            comment: optional free text.
            judgements: optional {"a": {item_id: {"label": "like" | "dislike" | "not_seen", "rating": 1-5}},
                "b": {...}}.

        Returns:
            {"saved": true, "record_id", "a_system", "b_system", "voided"}: "voided" says why the vote is
            kept but not counted (a reply named a system), empty when it counts. A second vote on the pair
            by the same annotator, or one past the daily cap, is an error and saves nothing.
        """
        return as_app_error(arena_vote_api)(services, arena, pair_id, annotator, vote, comment, judgements,
                                            request=request, profile=profile)

    gr.api(arena_pair, api_name="arena_pair", concurrency_id="turn")
    gr.api(arena_vote, api_name="arena_vote", concurrency_limit=None)
