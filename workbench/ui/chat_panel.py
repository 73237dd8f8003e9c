"""The chat panel: a streamed conversation with the engine, with retry, undo and clear.

The turn itself is a use case (:mod:`workbench.chat.turns`); this module
draws the widgets, formats the status line, maps a chat message to its turn,
and :func:`wire` binds the events. A :class:`~workbench.errors.WorkbenchError`
becomes a warning toast (:mod:`workbench.ui.boundary`, never a traceback) and
leaves the session as it was before the turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.chat.identity import identify
from workbench.chat.judgements import autosave, autosave_on_close
from workbench.chat.session import ChatSession, Exchange, SessionRegistry
from workbench.chat.turns import (
    TurnPrefs,
    active_constraints,
    check_message,
    clear_conversation,
    ensure_session,
    new_session,
    remove_constraint,
    reread_title,
    stream_turn,
    undo_turn,
)
from workbench.errors import WorkbenchError
from workbench.limits import MAX_MESSAGE_CHARS
from workbench.services import GeneratorChoice, Services
from workbench.ui.boundary import shows_errors
from workbench.ui.feedback_panel import FeedbackBar, pending_markdown
from workbench.ui.format import (
    grounding_note,
    parse_reading_choice,
    reading_choices,
    status_markdown,
    turns_to_messages,
)
from workbench.ui.settings_panel import SettingsPanel, parse_prefs
from workbench.ui.slate import CARD_FIELDS, Slate, cleared, constraint_chips, render_slate, sync_judgements

EXAMPLES = (
    "I loved Toy Story and Up, something for a family night?",
    "no horror please, a 90s thriller like Heat",
    "Something like Inception but older",
    "A comedy with Tom Hanks",
)

#: Where the browser keeps its tab's session id, so that a reload finds the conversation again.
SESSION_STORAGE_KEY = "chat-rec-workbench-session"
#: Browser tabs' sessions all have this owner: the unguessable id in the browser's storage is the key.
TAB_OWNER = "tab"

PLACEHOLDER = (
    "### What do you feel like watching?\n"
    "Name films you loved or hated, a mood, a decade, a director or an actor. "
    "Recommendations appear on the right: rate them to help improve the recommender."
)


# ---------------------------------------------------------------------------
# plain handlers (the turn itself is :func:`workbench.chat.turns.stream_turn`)


def turn_status(services: Services, exchange: Exchange | None, choice: GeneratorChoice | None) -> str:
    """The status line under the chat for the last turn."""
    parts: list[str] = []
    result = exchange.result if exchange is not None else None
    if result is not None:
        parts.append(f"Reply by {result.generator}")
        if result.fell_back and not any("failed" in n for n in result.notes):
            parts.append("the LLM failed or timed out, so the template generator answered")
        if result.grounding_fixes:
            parts.append(grounding_note(result.grounding_fixes, result.grounding_fixes_by_kind))
        parts.extend(result.notes)
    elif choice is not None:
        if services.background.state("recommenders") == "running":
            parts.append("Waiting for collaborative filtering to finish loading (first turn after a start)…")
        else:
            parts.append(f"Writing with {choice.name}…")
    if choice is not None and choice.note:
        parts.append(choice.note)
    if not parts:
        parts.append(services.generators.status())
    return status_markdown(parts)


def make_tab_registry(services: Services) -> SessionRegistry:
    """The server-side registry of browser tabs' sessions (bounded like the API's, by ``max_api_sessions``)."""
    return SessionRegistry(lambda sid: new_session(services, sid),
                           max_sessions=services.settings.max_api_sessions)


def more_like_message(session: ChatSession, slot: int) -> str:
    """What the "More like this" button on card ``slot`` says in the chat: ``More like <title>``."""
    ex = session.slate_exchange
    recs = ex.recommendations if ex is not None else ()
    if not 0 <= slot < len(recs):
        raise WorkbenchError("that card is no longer on the slate; send a message instead")
    return f"More like {recs[slot].item.display_title}"


def exchange_for_message(session: ChatSession, index: int) -> Exchange:
    """The exchange that chat message ``index`` belongs to (as laid out by ``turns_to_messages``)."""
    i = 0
    for ex in session.exchanges:
        n = len(ex.turns())
        if index < i + n:
            return ex
        i += n
    raise WorkbenchError(f"message {index} is not in this conversation")


def like_reply(session: ChatSession, index: int, liked: bool | str) -> Exchange:
    """Record a like/dislike (or its removal) of the reply at chat message ``index``."""
    ex = exchange_for_message(session, index)
    if not ex.done:
        raise WorkbenchError("wait for the reply to finish before judging it")
    verdict = {True: "like", False: "dislike"}.get(liked) if isinstance(liked, bool) else None
    if isinstance(liked, str) and liked:
        verdict = {"like": "like", "dislike": "dislike"}.get(liked.lower())
    session.set_reply_judgement(ex, verdict)
    return ex


# ---------------------------------------------------------------------------
# the widgets


#: Client-side character counter under the message box (no round trip per keystroke). The box has
#: no ``max_length``: the browser would silently cut a long paste, so the limit is shown and checked.
COUNTER_JS = (
    "(m) => { const n = (m || '').length, limit = LIMIT;"
    " if (n > limit) return `<span class=\"wb-over\">${n.toLocaleString('en')} characters: over the"
    " ${limit.toLocaleString('en')} limit. Shorten it before sending.</span>`;"
    " return n ? `${n.toLocaleString('en')} / ${limit.toLocaleString('en')}` : ''; }"
).replace("LIMIT", str(MAX_MESSAGE_CHARS))


@dataclass
class ChatPanel:
    chatbot: gr.Chatbot
    message: gr.Textbox
    counter: gr.HTML
    send: gr.Button
    retry: gr.Button
    undo: gr.Button
    clear: gr.Button
    status: gr.Markdown
    to_slate: gr.Button  # narrow screens only (CSS): chat and slate are shown one at a time
    #: "I took "Heat" as Heat (1995)": the other films of that name, one click each (hidden when none)
    readings: gr.Radio


#: Narrow screens show the chat or the slate (``assets/ui/style.css``); these switch between them.
SHOW_SLATE_JS = "() => { document.querySelector('#wb-main')?.classList.add('wb-show-slate'); window.scrollTo(0, 0); }"
SHOW_CHAT_JS = "() => { document.querySelector('#wb-main')?.classList.remove('wb-show-slate'); window.scrollTo(0, 0); }"


def build_chat_panel() -> ChatPanel:
    """The chat column (call inside a Blocks context)."""
    to_slate = gr.Button("🎬 Show recommendations", size="sm", elem_id="wb-to-slate",
                         elem_classes=["wb-narrow-only"])
    chatbot = gr.Chatbot(
        label="Conversation", height=600, elem_id="wb-chat", sanitize_html=True, allow_tags=False,
        placeholder=PLACEHOLDER, examples=[{"text": e} for e in EXAMPLES],
        feedback_options=("Like", "Dislike"), buttons=["copy"], layout="bubble",
    )
    with gr.Row(equal_height=True, elem_id="wb-input-row"):
        message = gr.Textbox(
            placeholder="Tell me what you like…", show_label=False, container=False, scale=6,
            autofocus=False, elem_id="wb-message", submit_btn=False,
        )
        send = gr.Button("Send", variant="primary", scale=1, min_width=90, elem_id="wb-send")
    counter = gr.HTML("", elem_id="wb-count", elem_classes=["wb-status"])
    with gr.Row(elem_id="wb-chat-actions"):
        retry = gr.Button("↻ Retry", size="sm", elem_id="wb-retry")
        undo = gr.Button("↶ Undo", size="sm", elem_id="wb-undo")
        clear = gr.Button("🗑 New conversation", size="sm", elem_id="wb-clear")
    status = gr.Markdown("", elem_id="wb-turn-status", elem_classes=["wb-status"])
    readings = gr.Radio([], value=None, label="Meant another film? Pick it and the message runs again",
                        visible=False, elem_id="wb-readings")
    return ChatPanel(chatbot, message, counter, send, retry, undo, clear, status, to_slate, readings)


def readings_update(services: Services, session: ChatSession | None) -> Any:
    """The correction choices for the last finished turn (hidden when it guessed no title)."""
    last = session.exchanges[-1] if isinstance(session, ChatSession) and session.exchanges else None
    readings = last.result.readings if last is not None and last.result is not None else ()
    choices = reading_choices(services.catalog, readings)
    return gr.update(choices=choices, value=None, visible=bool(choices))


def wire(
    services: Services,
    state: gr.State,
    chat: ChatPanel,
    slate: Slate,
    settings: SettingsPanel,
    feedback: FeedbackBar,
) -> None:
    """Attach the chat panel's events (send, examples, retry, undo, clear, like)."""
    n_slate = len(slate.values)
    n_prefs = len(settings.inputs)
    turn_outputs = [state, chat.chatbot, chat.message, chat.status, feedback.status]
    keep_judgements = shows_errors()(sync_judgements)  # a bad card value warns; the action goes on
    judge_reply = shows_errors()(like_reply)
    # Saving failed or nobody to attribute to: a warning; the judgements stay pending and the turn runs.
    autosave_or_warn = shows_errors()(autosave)

    def unchanged(session: ChatSession | None, *_: Any) -> tuple:
        return session, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def recovered(session: ChatSession, message: str, prefs: TurnPrefs, restore: str = "") -> tuple:
        """After a failed turn: the conversation as it was, the message back in the box."""
        return (session, turns_to_messages(session.turns()), restore or message,
                turn_status(services, session.slate_exchange, None), pending_markdown(session))

    @shows_errors(recovered)
    def run(session: ChatSession, message: str, prefs: TurnPrefs, restore: str = "") -> Iterator[tuple]:
        for exchange, choice in stream_turn(services, session, message, prefs):
            # the pending line is recomputed every time: the auto-save before the turn changed it
            yield (session, turns_to_messages(session.turns()), "",
                   turn_status(services, exchange, choice), pending_markdown(session))

    @shows_errors(lambda profile, request, message, session, *_: unchanged(session))
    def send(profile: gr.OAuthProfile | None, request: gr.Request, message: str, session: ChatSession | None,
             name: str, *values: Any) -> Iterator[tuple]:
        session = ensure_session(services, session)
        prefs_values, slate_values = values[:n_prefs], list(values[n_prefs:n_prefs + n_slate])
        text = check_message(message)
        prefs = parse_prefs(*prefs_values)
        annotator = identify(services, name, profile, request, required=False)  # sign-in on: the user
        if annotator:
            session.annotator = annotator
        sync_judgements(session, slate_values)
        note = autosave_or_warn(services, session, annotator)
        if note:
            gr.Info(note)
        yield from run(session, text, prefs)

    @shows_errors(lambda profile, session, *_: unchanged(session))
    def retry(profile: gr.OAuthProfile | None, session: ChatSession | None, name: str,
              *values: Any) -> Iterator[tuple]:
        session = ensure_session(services, session)
        prefs = parse_prefs(*values[:n_prefs])
        sync_judgements(session, list(values[n_prefs:n_prefs + n_slate]))
        message = undo_turn(session, retry=True)  # the replaced slate's card judgements carry over
        yield from run(session, message, prefs)

    @shows_errors(unchanged)
    def undo(session: ChatSession | None, *slate_values: Any) -> tuple:
        session = ensure_session(services, session)
        sync_judgements(session, list(slate_values))
        message = undo_turn(session)
        return (session, turns_to_messages(session.turns()), message,
                status_markdown(["Undone: the last message is back in the box"]), pending_markdown(session))

    def clear(session: ChatSession | None, *slate_values: Any) -> tuple:
        session = ensure_session(services, session)
        keep_judgements(session, list(slate_values))
        clear_conversation(services, session)
        return session, [], "", status_markdown(["New conversation"]), pending_markdown(session)

    def like(session: ChatSession | None, data: gr.LikeData) -> tuple:
        session = ensure_session(services, session)
        index = data.index if isinstance(data.index, int) else data.index[0]
        judge_reply(session, index, data.liked)
        return session, pending_markdown(session)

    @shows_errors(lambda profile, session, *_: unchanged(session))
    def reread(profile: gr.OAuthProfile | None, session: ChatSession | None, choice: str, name: str,
               *values: Any) -> Iterator[tuple]:
        """One click on another reading of an ambiguous title: the last message runs again with it."""
        session = ensure_session(services, session)
        if not choice:
            yield unchanged(session)
            return
        prefs = parse_prefs(*values[:n_prefs])
        sync_judgements(session, list(values[n_prefs:n_prefs + n_slate]))
        span, item_id = parse_reading_choice(choice)
        message = reread_title(services, session, span, item_id)
        yield from run(session, message, prefs)

    def show_slate(session: ChatSession | None) -> list[Any]:
        return [*render_slate(session, demo=services.settings.demo_mode), readings_update(services, session)]

    common = {"api_visibility": "private"}
    chat.to_slate.click(None, None, None, js=SHOW_SLATE_JS, queue=False, **common)
    slate.to_chat.click(None, None, None, js=SHOW_CHAT_JS, queue=False, **common)
    chat.message.change(None, [chat.message], [chat.counter], js=COUNTER_JS, queue=False, **common)
    after = {"fn": show_slate, "inputs": [state], "outputs": [*slate.outputs, chat.readings], "queue": False,
             **common}

    send_inputs = [chat.message, state, feedback.name, *settings.inputs, *slate.values]
    chat.message.submit(send, send_inputs, turn_outputs, concurrency_id="turn", **common).then(**after)
    chat.send.click(send, send_inputs, turn_outputs, concurrency_id="turn", **common).then(**after)

    def pick_example(data: gr.SelectData) -> str:
        value = data.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    chat.chatbot.example_select(pick_example, None, chat.message, queue=False, **common).then(
        send, send_inputs, turn_outputs, concurrency_id="turn", **common
    ).then(**after)

    # "More like this" on a card: the same turn as typing "more like <title>" (the more-like intent
    # anchored on that item), so the chat shows what was asked and /chat can do the same.
    def more_like(slot: int) -> Any:
        @shows_errors(lambda profile, request, session, *_: unchanged(session))
        def handler(profile: gr.OAuthProfile | None, request: gr.Request, session: ChatSession | None,
                    name: str, *values: Any) -> Iterator[tuple]:
            session = ensure_session(services, session)
            yield from send(profile, request, more_like_message(session, slot), session, name, *values)

        return handler

    for slot, card in enumerate(slate.cards):
        card.more.click(more_like(slot), [state, feedback.name, *settings.inputs, *slate.values], turn_outputs,
                        concurrency_id="turn", **common).then(**after)

    retry_inputs = [state, feedback.name, *settings.inputs, *slate.values]
    chat.retry.click(retry, retry_inputs, turn_outputs, concurrency_id="turn", **common).then(**after)
    chat.readings.input(reread, [state, chat.readings, feedback.name, *settings.inputs, *slate.values], turn_outputs,
                        concurrency_id="turn", **common).then(**after)
    chat.chatbot.retry(retry, retry_inputs, turn_outputs, concurrency_id="turn", **common).then(**after)
    undo_inputs = [state, *slate.values]
    chat.undo.click(undo, undo_inputs, turn_outputs, **common).then(**after)
    chat.chatbot.undo(undo, undo_inputs, turn_outputs, **common).then(**after)
    chat.clear.click(clear, undo_inputs, turn_outputs, **common).then(**after)
    chat.chatbot.clear(clear, undo_inputs, turn_outputs, **common).then(**after)
    chat.chatbot.like(like, [state], [state, feedback.status], **common)

    @shows_errors(lambda session, kept: (session, constraint_chips(session), gr.skip()))
    def drop_constraints(session: ChatSession | None, kept: list[str] | None) -> tuple:
        """A chip removed: the conversation stops applying that constraint from the next turn."""
        session = ensure_session(services, session)
        removed = [c for c in active_constraints(session) if c.key not in (kept or [])]
        for c in removed:
            remove_constraint(session, c.key)
        note = status_markdown([f"Removed “{c.label}”: your next message no longer applies it" for c in removed])
        return session, constraint_chips(session), note

    slate.constraints.input(drop_constraints, [state, slate.constraints], [state, slate.constraints, chat.status],
                            queue=False, show_progress="hidden", **common)

    # Each card control can be cleared (a radio cannot be unticked); the pending count follows.
    def clear_choice(slot: int, field: str) -> Any:
        def clear(session: ChatSession | None, *values: Any) -> tuple:
            if not isinstance(session, ChatSession):
                return None, gr.skip()
            keep_judgements(session, cleared(values, slot, field))
            return None, pending_markdown(session)

        return clear

    for slot, card in enumerate(slate.cards):
        for field in CARD_FIELDS:
            card.clear_button(field).click(
                clear_choice(slot, field), [state, *slate.values], [card.widget(field), feedback.status],
                queue=False, show_progress="hidden", **common)


def wire_restore(
    services: Services, demo: gr.Blocks, state: gr.State, registry: SessionRegistry,
    chat: ChatPanel, slate: Slate, feedback: FeedbackBar,
) -> None:
    """Keep a tab's session across a reload, and save its pending judgements when the tab closes.

    The browser keeps the session's id (``gr.BrowserState``); on load the session is found in
    ``registry`` (or a new one made) and the chat, the slate and its unsaved judgements are drawn
    again. When the tab goes (closed or reloaded), what is pending is saved under the annotator
    last seen, as the next message would have saved it.
    """
    stored = gr.BrowserState("", storage_key=SESSION_STORAGE_KEY)
    open_tabs: dict[str, ChatSession] = {}  # gradio connection -> the session it shows
    common = {"queue": False, "api_visibility": "private"}

    def restore(request: gr.Request, key: str) -> tuple:
        session, key = registry.resume(key, TAB_OWNER)
        if request is not None and request.session_hash:
            open_tabs[request.session_hash] = session
        status = turn_status(services, session.exchanges[-1], None) if session.exchanges else gr.skip()
        return session, key, turns_to_messages(session.turns()), status, pending_markdown(session)

    def show_slate(session: ChatSession | None) -> list[Any]:
        return [*render_slate(session, demo=services.settings.demo_mode), readings_update(services, session)]

    def closed(request: gr.Request) -> None:
        autosave_on_close(services, open_tabs.pop(getattr(request, "session_hash", None) or "", None))

    demo.load(restore, [stored], [state, stored, chat.chatbot, chat.status, feedback.status], **common).then(
        show_slate, [state], [*slate.outputs, chat.readings], **common)
    demo.unload(closed)
