"""Conversation turns in a session: start a session, run a turn, undo it, start over.

The Blocks chat panel and the ``/chat`` endpoint both run a turn through
:func:`stream_turn`, which calls one core function (``engine.stream``) and
records what it yields in a new :class:`~workbench.chat.session.Exchange`.
It knows sessions, the engine and generator choice; it does not know gradio,
widgets or how a reply is displayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from workbench.chat.live import adopt_carried, carry_over, sync_conversation
from workbench.chat.session import ChatSession, Exchange, new_session_id
from workbench.dialogue.types import ReplyRestart, TurnResult
from workbench.errors import WorkbenchError
from workbench.filters import ItemFilter
from workbench.services import GeneratorChoice, Services
from workbench.text import check_message  # noqa: F401  (the one message check, re-exported for the UI)


@dataclass(frozen=True)
class TurnPrefs:
    """What the next turn is asked for: generator backend and model, slate size, filters."""

    backend: str = "auto"
    model: str = ""
    k: int = 5
    filters: ItemFilter | None = None


def new_session(services: Services, session_id: str | None = None) -> ChatSession:
    """A session with a fresh engine conversation (and ``session_id``, or a new id)."""
    sid = session_id or new_session_id()
    return ChatSession(services.engine.new_state(sid), sid)


def ensure_session(services: Services, session: ChatSession | None) -> ChatSession:
    """``session``, or a new one when there is none yet (a tab's first event)."""
    return session if isinstance(session, ChatSession) else new_session(services)


def stream_turn(
    services: Services, session: ChatSession, message: str, prefs: TurnPrefs
) -> Iterator[tuple[Exchange, GeneratorChoice]]:
    """Run one engine turn into a new exchange, yielding after every streamed piece.

    The exchange's reply grows piece by piece; a :class:`~workbench.dialogue.types.ReplyRestart`
    (a model that failed midway) clears what was streamed, so the fallback replaces that text rather
    than extending it (issue 16, item 2); when the turn ends the reply is the :class:`TurnResult`'s.

    On a :class:`WorkbenchError` the exchange is removed again (the engine only
    commits a completed turn) and the error propagates.
    """
    choice = services.generators.choose(prefs.backend, prefs.model)
    exchange = session.begin(message)
    yield exchange, choice
    try:
        services.wait_for_recommender()
        for piece in services.monitor.watch(services.engine.stream(  # timed and counted for /metrics
            session.conversation, message, k=prefs.k, filters=prefs.filters, generator=choice.generator
        )):
            if isinstance(piece, ReplyRestart):
                exchange.reply = ""
                continue  # the replacement follows at once: no empty reply on screen
            if isinstance(piece, TurnResult):
                exchange.result = piece
                exchange.reply = piece.reply  # the turn's result is the truth
                # the engine committed its copy of the state: card judgements made meanwhile go in again
                adopt_carried(session, exchange)
            else:
                exchange.reply += piece
            yield exchange, choice
        if exchange.result is None:
            raise WorkbenchError("the dialogue engine ended a turn without a result")
    except BaseException:
        if session.exchanges and session.exchanges[-1] is exchange:
            session.drop_last()
        raise


def undo_turn(session: ChatSession, *, retry: bool = False) -> str:
    """Undo the last exchange in the engine and on screen; returns its user message.

    The card judgements on its slate leave the conversation with it (they stay saveable), or,
    for a ``retry``, carry over to the turn that replaces it (:mod:`workbench.chat.live`).
    """
    if not session.exchanges:
        raise WorkbenchError("nothing to undo")
    message = session.conversation.undo()
    ex = session.drop_last()
    if retry:
        carry_over(session, ex)
    else:
        sync_conversation(session)
    return message if message is not None else (ex.user if ex else "")


def reread_title(services: Services, session: ChatSession, span: tuple[int, int], item_id: str) -> str:
    """Undo the last turn and return its message with the ambiguous title at ``span`` naming ``item_id``.

    The engine took "Heat" as the most popular film of that name and said so ("I took "Heat" as
    Heat (1995)..."); the user picks another reading (a :class:`~workbench.dialogue.types.TitleReading`
    alternative) and the message runs again with "Heat (2006)" in place of "Heat" (issue 16, item 8).
    The caller runs the returned message as a new turn, exactly as a retry does (and as for a retry,
    the card judgements on the replaced slate carry over to it).
    """
    last = session.exchanges[-1] if session.exchanges else None
    result = last.result if last is not None else None
    if result is None:
        raise WorkbenchError("there is no finished turn to correct")
    reading = next((r for r in result.readings if tuple(r.span) == tuple(span)), None)
    if reading is None or item_id not in reading.alternatives:
        raise WorkbenchError(f"the last message cannot be read as item {item_id!r} there; "
                             "send it again with the title and year you meant")
    item = services.catalog[item_id]
    message = undo_turn(session, retry=True)  # a corrected retry: the slate's card judgements carry over
    start, end = reading.span
    return message[:start] + item.display_title + message[end:]


def clear_conversation(services: Services, session: ChatSession) -> None:
    """A new conversation with a new id; unsaved judgements are kept."""
    sid = new_session_id()
    session.reset(services.engine.new_state(sid), sid)


@dataclass(frozen=True)
class Constraint:
    """One constraint the conversation carries into later turns, as a removable chip shows it."""

    key: str  # "genre:comedy", "no-genre:animation", "years", "person:jim carrey"
    label: str  # "comedy", "no animation", "1990-1999", "with Jim Carrey"


def _years_label(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo}-{hi}" if lo != hi else str(lo)
    return f"from {lo}" if lo is not None else f"until {hi}"


def active_constraints(session: ChatSession) -> list[Constraint]:
    """The genre, year and people constraints the next turn inherits (films ruled out are not listed)."""
    c = session.conversation.constraints
    out = [Constraint(f"genre:{g}", g) for g in sorted(c.genres)]
    out += [Constraint(f"no-genre:{g}", f"no {g}") for g in sorted(c.exclude_genres)]
    if c.year_min is not None or c.year_max is not None:
        out.append(Constraint("years", _years_label(c.year_min, c.year_max)))
    out += [Constraint(f"person:{p}", f"with {p.title()}") for p in sorted(c.people)]
    return out


def remove_constraint(session: ChatSession, key: str) -> None:
    """Drop one constraint (a :attr:`Constraint.key`) from the conversation, so the next turn no longer applies it.

    Raises :class:`WorkbenchError` when the conversation has no such constraint (a stale chip).
    """
    c = session.conversation.constraints
    kind, _, value = key.partition(":")
    if kind == "genre" and value in c.genres:
        new = replace(c, genres=c.genres - {value})
    elif kind == "no-genre" and value in c.exclude_genres:
        new = replace(c, exclude_genres=c.exclude_genres - {value})
    elif kind == "years" and (c.year_min is not None or c.year_max is not None):
        new = replace(c, year_min=None, year_max=None)
    elif kind == "person" and value in c.people:
        new = replace(c, people=c.people - {value})
    else:
        raise WorkbenchError(f"the conversation has no constraint {key!r} (it may have changed already)")
    session.conversation.constraints = new
