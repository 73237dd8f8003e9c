"""Named API endpoints for ``gradio_client`` (and plain HTTP): ``/chat``, ``/feedback``, ``/status``.

API clients name their session explicitly (``session_id``; empty starts a new
one and the reply says which), so a client that reconnects, or ``curl``, keeps
its conversation. API sessions live in a bounded, expiring
:class:`~workbench.annotate.session.SessionRegistry`, separate from browser tabs.

The endpoints call the same use cases as the Blocks UI (:mod:`workbench.annotate`),
never a panel: ``/chat`` runs a turn (``stream_turn``) and returns the reply
and the slate as JSON; ``/feedback`` writes one feedback record for a turn
through the feedback store, immediately (``save_judgement``). This module parses
and checks the JSON a client sends; the record's own checks (labels, ratings,
items in the slate) are ``validate_record``'s. Errors a caller can fix come back
as a ``gradio_client`` ``AppError`` carrying the message.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import gradio as gr

from workbench.annotate.identity import resolve_annotator
from workbench.annotate.judgements import save_judgement
from workbench.annotate.session import CardJudgement, SessionRegistry, TurnJudgement
from workbench.annotate.turns import TurnPrefs, check_message, new_session, stream_turn
from workbench.errors import FeedbackError, WorkbenchError
from workbench.services import Services
from workbench.ui.boundary import as_app_error
from workbench.ui.format import slate_to_json

#: API sessions kept at once, and how long an idle one lives.
MAX_API_SESSIONS = 2000
API_SESSION_TTL_S = 6 * 3600


def make_registry(services: Services) -> SessionRegistry:
    return SessionRegistry(
        lambda sid: new_session(services, sid), max_sessions=MAX_API_SESSIONS, ttl_s=API_SESSION_TTL_S
    )


def chat_api(services: Services, registry: SessionRegistry, message: str, session_id: str = "",
             k: int = 0) -> dict[str, Any]:
    """One turn: ``message`` in ``session_id`` -> reply text and recommended items."""
    text = check_message(message)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k <= 50:
        raise WorkbenchError(f"k: expected 1-50 (0 for the default {services.settings.k}), got {k!r}")
    session = registry.get(session_id)
    prefs = TurnPrefs(backend="", model="", k=int(k) or services.settings.k)
    with session.lock:
        exchange = choice = None
        for step in stream_turn(services, session, text, prefs):
            exchange, choice = step
    assert exchange is not None and exchange.result is not None and choice is not None
    result = exchange.result
    return {
        "session_id": session.session_id,
        "turn": exchange.index,
        "reply": result.reply,
        "items": slate_to_json(result.recommendations),
        "intent": result.intent,
        "generator": result.generator,
        "fell_back": result.fell_back,
        "grounding_fixes": result.grounding_fixes,
        "notes": list(result.notes) + ([choice.note] if choice.note else []),
    }


def _card(item_id: Any, value: Any) -> CardJudgement:
    where = f"judgements[{item_id!r}]"
    if not isinstance(item_id, str):
        raise FeedbackError(f"{where}: item ids must be strings")
    if not isinstance(value, Mapping):
        raise FeedbackError(f"{where}: expected {{\"label\": ..., \"rating\": ...}}, got {value!r}")
    unknown = set(value) - {"label", "rating"}
    if unknown:
        raise FeedbackError(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: label, rating)")
    label = value.get("label") or None  # checked with the whole record by validate_record
    rating = value.get("rating")
    if rating in (None, "", 0):
        rating = None
    elif isinstance(rating, bool) or not isinstance(rating, numbers.Real) or int(rating) != rating:
        raise FeedbackError(f"{where}.rating: must be an integer 1-5, got {rating!r}")
    else:
        rating = int(rating)
    return CardJudgement(label, rating)


def feedback_api(
    services: Services,
    registry: SessionRegistry,
    session_id: str,
    turn: int,
    annotator: str,
    judgements: dict | None = None,
    reply_label: str = "",
    comment: str = "",
) -> dict[str, Any]:
    """Save one feedback record for turn ``turn`` of ``session_id``."""
    who = resolve_annotator(annotator)
    if not who:
        raise FeedbackError("annotator: must not be empty (a name or a Hugging Face username)")
    if isinstance(turn, bool) or not isinstance(turn, numbers.Integral):
        raise FeedbackError(f"turn: expected the integer 'turn' that /chat returned, got {turn!r}")
    session = registry.find((session_id or "").strip())
    exchange = session.exchange(int(turn))
    items = tuple((item_id, _card(item_id, value)) for item_id, value in (judgements or {}).items())
    judgement = TurnJudgement(
        items=tuple((i, c) for i, c in items if not c.empty), reply=(reply_label or None), comment=comment or ""
    )
    record = save_judgement(services, session, exchange, judgement, who)
    return {"saved": 1, "record_id": record.record_id, "session_id": session.session_id, "turn": exchange.index}


def status_api(services: Services) -> dict[str, Any]:
    """What this server runs: catalogue size, index, generator status, version."""
    return {
        "items": len(services.catalog),
        "index_id": services.index_id,
        "generator": services.generators.status(),
        "status": services.status(),
        "busy": services.busy,  # an LLM or the recommenders are still loading in the background
        "app_version": services.app_version,
    }


def register_api(services: Services, registry: SessionRegistry) -> None:
    """Declare the named endpoints (call inside a Blocks context)."""

    def chat(message: str, session_id: str = "", k: int = 0) -> dict:
        """One conversational turn.

        Args:
            message: what the user says.
            session_id: the conversation to continue; empty starts a new one (its id is returned).
            k: number of recommendations (0: the server's default).

        Returns:
            {"session_id", "turn", "reply", "items": [{"item_id", "title", "year", "genres",
            "directors", "cast", "rank", "score", "sources", "reason"}], "intent", "generator",
            "fell_back", "grounding_fixes", "notes"}
        """
        return as_app_error(chat_api)(services, registry, message, session_id, k)

    def feedback(session_id: str, turn: int, annotator: str, judgements: dict | None = None,
                 reply_label: str = "", comment: str = "") -> dict:
        """Save one feedback record for a turn returned by /chat.

        Args:
            session_id: the session id /chat returned.
            turn: the turn number /chat returned.
            annotator: who judges (a name or a Hugging Face username).
            judgements: item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5}.
            reply_label: "like", "dislike" or empty.
            comment: optional free text.

        Returns:
            {"saved": 1, "record_id", "session_id", "turn"}
        """
        return as_app_error(feedback_api)(services, registry, session_id, turn, annotator, judgements,
                                          reply_label, comment)

    def status() -> dict:
        """Catalogue size, index id, generator and start-up status, app version."""
        return status_api(services)

    gr.api(chat, api_name="chat", concurrency_id="turn")
    gr.api(feedback, api_name="feedback", concurrency_limit=None)
    gr.api(status, api_name="status", concurrency_limit=None)
