"""The feedback bar: who is annotating, what is unsaved, and the Save action.

A judgement (the cards' verdicts and ratings, the turn comment, a reply's
like/dislike) becomes one feedback record per turn, written through the
feedback store (``store.append_many``: all or nothing, fsynced before it
returns). Nothing is dropped silently:

* **Save** writes every pending judgement of the session (also those on turns
  that were undone or on an earlier conversation).
* **Sending the next message auto-saves** the pending judgements when an
  annotator identity is known; without one it keeps them pending and warns.
* When a browser session ends (tab closed, state expired), pending judgements
  with a known identity are saved too.

Identity: on a Space with ``hf_oauth: true`` the signed-in Hugging Face
username (``gr.LoginButton``); elsewhere, or when not signed in, the name field.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.errors import FeedbackError, WorkbenchError
from workbench.limits import MAX_ANNOTATOR_CHARS
from workbench.services import Services
from workbench.ui.session import ChatSession, Exchange, TurnJudgement

log = logging.getLogger(__name__)

#: Longest annotator name accepted from the name field.


def resolve_annotator(name: str | None, profile: Any = None) -> str:
    """The signed-in Hugging Face username if any, else the name typed in the field."""
    if profile is not None:
        username = getattr(profile, "username", None)
        if username is None and isinstance(profile, dict):
            username = profile.get("preferred_username") or profile.get("username")
        if username:
            return str(username)
    name = " ".join((name or "").split())
    if len(name) > MAX_ANNOTATOR_CHARS:
        raise FeedbackError(f"annotator name has {len(name)} characters (limit {MAX_ANNOTATOR_CHARS})")
    return name


def _generator_parts(name: str) -> tuple[str, str]:
    backend, _, model = (name or "template").partition(":")
    return backend or "template", model


def make_turn_record(services: Services, exchange: Exchange, judgement: TurnJudgement, annotator: str) -> Any:
    """One feedback record for ``judgement`` on ``exchange`` (validated; raises FeedbackError)."""
    from workbench.feedback import make_record

    result = exchange.result
    if result is None:
        raise FeedbackError(f"turn {exchange.index} has no reply yet; nothing to judge")
    backend, model = _generator_parts(result.generator)
    return make_record(
        annotator=annotator,
        session_id=exchange.session_id,
        turn_index=exchange.index,
        conversation=exchange.history,
        user_message=exchange.user,
        reply=exchange.reply or result.reply,
        generator_backend=backend,
        generator_model=model,
        slate=result.recommendations,
        judgements={
            item_id: {"label": card.verdict, "rating": card.rating} for item_id, card in judgement.items
        },
        reply_label=judgement.reply,
        comment=judgement.comment,
        catalog_hash=services.catalog.content_hash,
        index_id=services.index_id,
        catalog=services.catalog,
    )


def save_pending(services: Services, session: ChatSession, annotator: str) -> int:
    """Write every pending judgement of ``session``; return how many records were saved.

    All or nothing: an invalid judgement raises :class:`FeedbackError` and
    nothing is written (the judgements stay pending).
    """
    with session.save_lock:  # a Save click and an auto-save on send must not write the same judgement twice
        pending = session.pending
        if not pending:
            return 0
        if not annotator:
            raise FeedbackError(
                f"{pending_label(session.pending_count)} not saved: enter your name"
                + (" or sign in" if hf_login_available(services) else "")
                + " first, then press Save"
            )
        records = [make_turn_record(services, ex, j, annotator) for ex, j in pending]
        services.store.append_many(records)
        session.mark_saved(pending)
        session.annotator = annotator
        return len(records)


def autosave_on_close(services: Services, session: Any) -> None:
    """``gr.State`` delete callback: save what is pending when the tab's session ends."""
    if not isinstance(session, ChatSession) or not session.pending or not session.annotator:
        return
    try:
        n = save_pending(services, session, session.annotator)
        log.info("saved %d pending feedback record(s) of a closed session", n)
    except WorkbenchError as exc:
        log.warning("could not save pending feedback of a closed session: %s", exc)


def pending_label(n: int) -> str:
    return f"{n} judgement{'s' if n != 1 else ''}"


def pending_markdown(session: ChatSession | None) -> str:
    """The line beside the Save button."""
    if session is None:
        return "No judgements yet."
    n = session.pending_count
    if n:
        return f"**{pending_label(n)} unsaved.** Press Save (sending your next message saves them too)."
    if session.saved_records:
        return f"All saved ✓ ({session.saved_records} record{'s' if session.saved_records != 1 else ''} this session)."
    return "No judgements yet."


@dataclass
class FeedbackBar:
    name: gr.Textbox
    login: gr.LoginButton | None
    save: gr.Button
    status: gr.Markdown

    @property
    def identity_inputs(self) -> Sequence[gr.components.Component]:
        return [self.name]


def hf_login_available(services: Services) -> bool:
    """Sign-in with Hugging Face: on a Space with ``hf_oauth: true`` and gradio's OAuth extras installed.

    Without the extras (``pip install "gradio[oauth]"``; Spaces install them), Gradio would fail
    at start-up, so the app falls back to the name field and logs why.
    """
    if not services.settings.use_hf_login:
        return False
    missing = [m for m in ("authlib", "itsdangerous") if importlib.util.find_spec(m) is None]
    if missing:
        log.warning("hf_oauth is on but %s is not installed (pip install 'gradio[oauth]'); "
                    "annotators type their name instead", ", ".join(missing))
        return False
    return True


def build_feedback_bar(services: Services) -> FeedbackBar:
    """Annotator identity, the pending count and the Save button (call inside a Blocks context)."""
    with gr.Group(elem_id="wb-feedback-bar"):
        with gr.Row(equal_height=True):
            login = None
            if hf_login_available(services):
                login = gr.LoginButton(size="sm", scale=1)
            name = gr.Textbox(
                label="Annotator", placeholder="Your name (saved with your judgements)",
                max_length=MAX_ANNOTATOR_CHARS, scale=2, elem_id="wb-annotator",
                info="Signed-in Hugging Face users are recorded by username" if login is not None else None,
            )
            save = gr.Button("💾 Save judgements", variant="primary", scale=1, elem_id="wb-save")
        status = gr.Markdown(pending_markdown(None), elem_id="wb-pending")
    return FeedbackBar(name, login, save, status)
