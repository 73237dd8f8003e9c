"""The feedback bar: who is annotating, what is unsaved, and the Save action.

Saving is a use case (:mod:`workbench.chat.judgements`: one record per
judged turn, all or nothing, nothing dropped silently); this module draws the
annotator field, the pending count and the Save button, and :func:`wire` binds
them: Save, the count refreshed as cards change, and the name remembered per
browser.

Identity (:mod:`workbench.chat.identity`): on a Space with
``hf_oauth: true`` the signed-in Hugging Face username (``gr.LoginButton``);
elsewhere, or when not signed in, the name field.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.chat.identity import hf_login_available, identify
from workbench.chat.judgements import pending_label, save_pending
from workbench.chat.session import ChatSession
from workbench.chat.turns import ensure_session
from workbench.limits import MAX_ANNOTATOR_CHARS
from workbench.services import Services
from workbench.ui.boundary import shows_errors
from workbench.ui.slate import Slate, render_slate, sync_judgements

#: Where the browser keeps the annotator's name between visits.
ANNOTATOR_STORAGE_KEY = "chat-rec-workbench-annotator"


def pending_markdown(session: ChatSession | None) -> str:
    """The line beside the Save button."""
    if session is None:
        return "No judgements yet."
    n = session.pending_count
    if n:
        line = f"**{pending_label(n)} unsaved.** Press Save (sending your next message saves them too)."
        stuck = [why for ex, _ in session.pending if (why := session.save_problems.get(ex.uid))]
        if stuck:  # shown next to the count until the turn is judged again or saved
            line += "\n\nNot saved: " + "; ".join(html.escape(why) for why in stuck)
        return line
    if session.saved_records:
        return f"All saved ✓ ({session.saved_records} record{'s' if session.saved_records != 1 else ''} this session)."
    return "No judgements yet."


def save_clicked(
    services: Services, session: ChatSession | None, name: str, profile: Any, slate_values: list[Any],
    request: Any = None,
) -> tuple[ChatSession, str]:
    """The Save button: sync the on-screen judgements, then write every pending one.

    Returns the session and a confirmation; raises WorkbenchError (shown as a warning).
    """
    session = ensure_session(services, session)
    sync_judgements(session, slate_values)
    annotator = identify(services, name, profile, request)  # with sign-in on: the signed-in user
    pending = session.pending_count
    if not pending:
        return session, "Nothing new to save."
    saved = save_pending(services, session, annotator)
    return session, f"Saved {pending} judgement{'s' if pending != 1 else ''} in {saved} record{'s' if saved != 1 else ''}."


@dataclass
class FeedbackBar:
    name: gr.Textbox
    login: gr.LoginButton | None
    save: gr.Button
    status: gr.Markdown


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


def wire(services: Services, demo: gr.Blocks, state: gr.State, feedback: FeedbackBar, slate: Slate) -> None:
    """Attach Save, the pending count (refreshed as cards change) and the remembered annotator name."""

    def unsaved(profile: Any, request: Any, session: ChatSession | None, *_: Any) -> tuple:
        return session, pending_markdown(session if isinstance(session, ChatSession) else None)

    @shows_errors(unsaved)
    def save(profile: gr.OAuthProfile | None, request: gr.Request, session: ChatSession | None, name: str,
             *values: Any):
        session, message = save_clicked(services, session, name, profile, list(values), request)
        gr.Info(message)
        return session, pending_markdown(session)

    feedback.save.click(save, [state, feedback.name, *slate.values], [state, feedback.status],
                        api_visibility="private").then(
        lambda s: render_slate(s, keep_values=True), [state], slate.outputs, queue=False,
        api_visibility="private")

    keep_judgements = shows_errors(toast=False)(sync_judgements)  # shown when saving; the count is best effort

    def count_pending(session: ChatSession | None, *values: Any) -> str:
        if not isinstance(session, ChatSession):
            return pending_markdown(None)
        keep_judgements(session, list(values))
        return pending_markdown(session)

    for widget in slate.values:
        widget.input(count_pending, [state, *slate.values], feedback.status, queue=False,
                     show_progress="hidden", trigger_mode="always_last", api_visibility="private")

    # Annotators type their name once per browser, not once per visit.
    remembered = gr.BrowserState("", storage_key=ANNOTATOR_STORAGE_KEY)
    demo.load(lambda name: name or gr.skip(), remembered, feedback.name, queue=False,
              api_visibility="private")
    feedback.name.change(lambda name: name, feedback.name, remembered, queue=False,
                         api_visibility="private")

    # The session remembers who is annotating as soon as the name is known, so that closing the
    # tab (or stopping the server) saves pending judgements under it, not only the next Send.
    @shows_errors(toast=False)
    def remember_annotator(profile: gr.OAuthProfile | None, request: gr.Request, session: ChatSession | None,
                           name: str) -> None:
        if isinstance(session, ChatSession):
            session.annotator = identify(services, name, profile, request, required=False)

    feedback.name.change(remember_annotator, [state, feedback.name], None, queue=False,
                         api_visibility="private")
    # the session may be restored after the remembered name arrived: take the name again then
    demo.load(remember_annotator, [state, feedback.name], None, queue=False, api_visibility="private")
