"""Named API endpoints for ``gradio_client`` (and plain HTTP): ``/chat``, ``/feedback``, ``/status``.

API sessions are issued by the server: ``/chat`` with an empty ``session_id``
starts one and returns its id (256 random bits, :func:`~workbench.chat.session.new_session_id`);
that id is the capability to continue the conversation and to judge its turns.
An id the server did not issue, or that belongs to another owner (the signed-in
user when auth or OAuth is on, else the client's address), is refused. Sessions
live in a :class:`~workbench.chat.session.SessionRegistry` bounded per owner
and in total, separate from browser tabs.

The endpoints call the same use cases as the Blocks UI (:mod:`workbench.chat`),
never a panel: ``/chat`` runs a turn (``stream_turn``) and returns the reply
and the slate as JSON; ``/feedback`` writes one feedback record for a turn
through the feedback store, immediately (``save_judgement``), at most once per
client ``idempotency_key``. This module checks the type and range of every value
a client sends (JSON may carry anything) and names the field and the value when
it refuses; the record's own checks (labels, items in the slate) are
``validate_record``'s. A saved card judgement also changes the conversation's next
turn (:mod:`workbench.chat.live`: like / 4-5 stars -> liked, dislike / 1-2 ->
disliked). Errors a caller can fix come back as a ``gradio_client`` ``AppError``
carrying the message.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from workbench.chat.identity import identify, signed_in_user
from workbench.chat.judgements import save_judgement
from workbench.chat.live import judge_cards
from workbench.chat.session import CardJudgement, SessionRegistry, TurnJudgement
from workbench.chat.turns import TurnPrefs, check_message, new_session, stream_turn
from workbench.errors import FeedbackError
from workbench.feedback.inputs import check_int, check_judgements, check_text
from workbench.feedback.store import idempotent_record_id
from workbench.limits import MAX_SLATE_ITEMS
from workbench.services import Services
from workbench.ui.boundary import as_app_error
from workbench.ui.format import readings_to_json, slate_to_json


def make_registry(services: Services) -> SessionRegistry:
    s = services.settings
    limits = {"max_sessions": s.max_api_sessions, "max_per_owner": s.api_sessions_per_client}
    if services.database is not None:  # WORKBENCH_DATABASE_URL: every replica continues every session
        from workbench.chat.shared_sessions import SharedSessionRegistry

        return SharedSessionRegistry(lambda sid: new_session(services, sid), services.database, services.catalog,
                                     **limits)
    return SessionRegistry(lambda sid: new_session(services, sid), **limits)


def client_owner(request: Any = None, profile: Any = None, *, behind_proxy: bool = False) -> str:
    """Who owns the sessions a request creates: the signed-in user, else the client's address.

    ``behind_proxy`` (on a Space): every request comes from the Space's proxy, so the address is
    the last ``X-Forwarded-For`` entry, the one the proxy added (earlier entries are the client's word).
    """
    user = signed_in_user(profile, request)
    if user:
        return f"user:{user}"
    host = getattr(getattr(request, "client", None), "host", None)
    forwarded = (getattr(request, "headers", None) or {}).get("x-forwarded-for", "") if behind_proxy else ""
    if forwarded.strip():
        host = forwarded.split(",")[-1].strip()
    return f"ip:{host}" if host else ""


# checking what a client sent: :mod:`workbench.feedback.inputs` (shared with the project endpoints)


def chat_api(services: Services, registry: SessionRegistry, message: Any, session_id: Any = "",
             k: Any = 0, owner: str = "") -> dict[str, Any]:
    """One turn: ``message`` in ``session_id`` (empty: a new session) -> reply text and recommended items."""
    text = check_message(check_text("message", message))
    session_id = check_text("session_id", session_id).strip()
    k = check_int("k", k, 0, MAX_SLATE_ITEMS, f" (0 for the default {services.settings.k})")
    session = registry.get(session_id, owner)
    prefs = TurnPrefs(backend="", model="", k=k or services.settings.k)
    with session.lock:
        exchange = choice = None
        for step in stream_turn(services, session, text, prefs):
            exchange, choice = step
        registry.persist(session)
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
        "grounding_fixes_by_kind": dict(result.grounding_fixes_by_kind),
        "notes": list(result.notes) + ([choice.note] if choice.note else []),
        # "I took X as Y" guesses with the other films: send the message again with "Title (Year)"
        "readings": readings_to_json(services.catalog, result.readings),
        # the question asked after the slate, with its expected information gain (None: none asked)
        "question": result.question.to_dict() if result.question is not None else None,
        # what the reply does (workbench.dialogue.types.ACTS) and, for an answer, the catalogue fact
        "act": result.act,
        "answer": result.answer.to_dict() if result.answer is not None else None,
    }


def feedback_api(
    services: Services,
    registry: SessionRegistry,
    session_id: Any,
    turn: Any,
    annotator: Any,
    judgements: Any = None,
    reply_label: Any = "",
    comment: Any = "",
    idempotency_key: Any = "",
    *,
    request: Any = None,
    profile: Any = None,
    behind_proxy: bool = False,
) -> dict[str, Any]:
    """Save one feedback record for turn ``turn`` of ``session_id`` (once per ``idempotency_key``)."""
    session_id = check_text("session_id", session_id).strip()
    turn = check_int("turn", turn, 0, 10**9, " (the 'turn' that /chat returned)")
    reply_label = check_text("reply_label", reply_label).strip() or None
    comment = check_text("comment", comment)
    key = check_text("idempotency_key", idempotency_key).strip()
    who = identify(services, check_text("annotator", annotator), profile, request, refuse_other_name=True)
    if not who:
        raise FeedbackError("annotator: must not be empty (a name or a Hugging Face username)")
    session = registry.find(session_id, client_owner(request, profile, behind_proxy=behind_proxy))
    exchange = session.exchange(turn)
    judged = check_judgements(judgements)
    judgement = TurnJudgement(items=tuple((i, CardJudgement(label, rating)) for i, label, rating in judged),
                              reply=reply_label, comment=comment)
    record_id = idempotent_record_id(key, session.session_id, who) if key else None
    record, written = save_judgement(services, session, exchange, judgement, who, record_id=record_id)
    judge_cards(session, exchange, judgement.items)  # the conversation's next turn reads them (issue 14)
    registry.persist(session)
    return {"saved": 1, "record_id": record.record_id, "session_id": session.session_id,
            "turn": exchange.index, "replayed": not written}


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

    def owner(request: Any, profile: Any) -> str:
        return client_owner(request, profile, behind_proxy=services.settings.on_space)

    def chat(message: str, session_id: str = "", k: int = 0, request: gr.Request = None,
             profile: gr.OAuthProfile | None = None) -> dict:
        """One conversational turn.

        Args:
            message: what the user says.
            session_id: the conversation to continue, as a previous /chat returned it; empty starts
                a new one (its id is returned). Ids are issued by the server; others are refused.
            k: number of recommendations (0: the server's default).

        Returns:
            {"session_id", "turn", "reply", "items": [{"item_id", "title", "year", "genres",
            "directors", "cast", "rank", "score", "sources", "reason"}], "intent", "generator",
            "fell_back", "grounding_fixes", "grounding_fixes_by_kind", "notes", "readings": [{"surface",
            "span", "chosen": {"item_id", "title"}, "alternatives": [{"item_id", "title"}]}],
            "question": {"attribute", "text", "gain", "slate_mass"} or null, "act": "recommend" | "answer" |
            "explain" | "ask" | "greet" | "close" | "introduce" | "steer" | "chat", "answer": {"item_id",
            "attribute", "values"} or null}. An answer turn keeps the slate shown before ("items" is empty).
        """
        return as_app_error(chat_api)(services, registry, message, session_id, k, owner(request, profile))

    def feedback(session_id: str, turn: int, annotator: str, judgements: dict | None = None,
                 reply_label: str = "", comment: str = "", idempotency_key: str = "",
                 request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> dict:
        """Save one feedback record for a turn returned by /chat.

        Args:
            session_id: the session id /chat returned.
            turn: the turn number /chat returned.
            annotator: who judges (a name); with sign-in on, the signed-in user (leave it empty).
            judgements: item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5}.
            reply_label: "like", "dislike" or empty.
            comment: optional free text.
            idempotency_key: optional; a retry with the same key saves nothing new and returns
                the first record's id.

        Returns:
            {"saved": 1, "record_id", "session_id", "turn", "replayed"}
        """
        return as_app_error(feedback_api)(services, registry, session_id, turn, annotator, judgements,
                                          reply_label, comment, idempotency_key,
                                          request=request, profile=profile,
                                          behind_proxy=services.settings.on_space)

    def status() -> dict:
        """Catalogue size, index id, generator and start-up status, app version."""
        return status_api(services)

    gr.api(chat, api_name="chat", concurrency_id="turn")
    gr.api(feedback, api_name="feedback", concurrency_limit=None)
    gr.api(status, api_name="status", concurrency_limit=None)
