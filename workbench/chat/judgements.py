"""Saving judgements: one feedback record per judged turn, written through the feedback store.

A judgement (the cards' verdicts and ratings, the turn comment, a reply's
like/dislike) becomes one feedback record per turn (``store.append_many``,
fsynced before it returns). Nothing is dropped silently:

* :func:`save_pending` writes every pending judgement of a session (also those
  on turns that were undone or on an earlier conversation); one that cannot be
  saved stays pending with its reason and does not hold back the others.
* :func:`autosave` runs before the next turn: it saves when an annotator is
  known, and otherwise raises :class:`UnsavedJudgements` (they stay pending).
* :func:`autosave_on_close` saves what is pending when a browser session ends, and
  :func:`autosave_sessions` every live session's at server shutdown.
* :func:`save_judgement` writes one turn's judgement at once (the ``/feedback`` endpoint).

It knows sessions, records and the store; it does not know gradio or widgets.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable
from typing import Any

from workbench.chat.identity import hf_login_available
from workbench.chat.session import ChatSession, Exchange, TurnJudgement
from workbench.dialogue.types import TurnResult
from workbench.errors import FeedbackError, WorkbenchError
from workbench.feedback import FeedbackRecord, make_record
from workbench.limits import MAX_CONVERSATION_TURNS
from workbench.services import Services

log = logging.getLogger(__name__)


class UnsavedJudgements(WorkbenchError):
    """Judgements are pending and there is nobody to attribute them to (a warning, not a failure)."""


def pending_label(n: int) -> str:
    """``"1 judgement"``, ``"3 judgements"``."""
    return f"{n} judgement{'s' if n != 1 else ''}"


def _generator_parts(name: str) -> tuple[str, str]:
    backend, _, model = (name or "template").partition(":")
    return backend or "template", model


def make_turn_record(
    services: Services, exchange: Exchange, judgement: TurnJudgement, annotator: str
) -> FeedbackRecord:
    """One feedback record for ``judgement`` on ``exchange`` (validated; raises FeedbackError)."""
    result = exchange.result
    if result is None:
        raise FeedbackError(f"turn {exchange.index} has no reply yet; nothing to judge")
    backend, model = _generator_parts(result.generator)
    return make_record(
        annotator=annotator,
        session_id=exchange.session_id,
        turn_index=exchange.index,
        # the store keeps the newest MAX_CONVERSATION_TURNS turns, as the engine's prompt keeps its newest
        conversation=exchange.history[-MAX_CONVERSATION_TURNS:],
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
        extra={**({} if result.question is None else {"question_attribute": result.question.attribute,
               "question": result.question.text, "question_gain": float(result.question.gain)}),
               **answer_fields(result)},
    )


def answer_fields(result: TurnResult) -> dict[str, str]:
    """The record fields of a turn's act and answer (``act``, ``answer_*``; see FeedbackRecord)."""
    out = {"act": result.act}
    if result.answer is not None:
        answer = result.answer.to_dict()
        out.update(answer_item_id=answer["item_id"] or "", answer_attribute=answer["attribute"],
                   answer_values=json.dumps(answer["values"], ensure_ascii=False))
    return out


def save_judgement(
    services: Services, session: ChatSession, exchange: Exchange, judgement: TurnJudgement, annotator: str,
    *, record_id: str | None = None,
) -> tuple[FeedbackRecord, bool]:
    """Write ``judgement`` on ``exchange`` as one record now and mark it saved.

    Args:
        record_id: for a client retry (:func:`workbench.feedback.store.idempotent_record_id`):
            when a record with this id is already stored, nothing is written.

    Returns:
        The record and whether it was written now (``False``: a retry of a stored one).
    """
    record = make_turn_record(services, exchange, judgement, annotator)
    written = True
    if record_id is None:
        services.store.append(record)
    else:
        record = dataclasses.replace(record, record_id=record_id)
        _, written = services.store.append_once(record)
    session.mark_saved([(exchange, judgement)])
    return record, written


class PartlySaved(FeedbackError):
    """Some pending judgements were saved; the others stay pending, each with its reason."""

    def __init__(self, message: str, saved: int):
        super().__init__(message)
        self.saved = saved


def save_pending(services: Services, session: ChatSession, annotator: str) -> int:
    """Write every pending judgement of ``session`` that can be saved; return how many records were saved.

    A judgement that cannot become a valid record (one bad turn) does not hold back the
    others: they are written, it stays pending with its reason in ``session.save_problems``
    (exchange uid -> "turn N: why"), and :class:`PartlySaved` says which turns and why.
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
        good: list[tuple[Exchange, TurnJudgement]] = []
        records: list[FeedbackRecord] = []
        problems: dict[int, str] = {}
        for ex, j in pending:
            try:
                records.append(make_turn_record(services, ex, j, annotator))
                good.append((ex, j))
            except FeedbackError as exc:
                problems[ex.uid] = f"turn {ex.index + 1} ({ex.user[:40]!r}): {exc}"
        if records:
            services.store.append_many(records)
            session.mark_saved(good)
            session.annotator = annotator
        session.save_problems = problems
        if problems:
            raise PartlySaved(
                f"saved {len(records)} record{'s' if len(records) != 1 else ''}; "
                f"{len(problems)} turn{'s' if len(problems) != 1 else ''} could not be saved and "
                "stay pending: " + "; ".join(problems.values()),
                len(records),
            )
        return len(records)


def autosave(services: Services, session: ChatSession, annotator: str) -> str | None:
    """Before a new turn: save pending judgements if we know who made them; else say they wait.

    Returns a confirmation, or ``None`` when nothing is pending; raises
    :class:`UnsavedJudgements` when judgements are pending and ``annotator`` is empty.
    """
    n = session.pending_count
    if not n:
        return None
    if annotator:
        saved = save_pending(services, session, annotator)
        return f"Saved {saved} feedback record{'s' if saved != 1 else ''} ({pending_label(n)})."
    raise UnsavedJudgements(
        f"{pending_label(n)} not saved yet: enter your name and press Save. They are kept until you do."
    )


def autosave_on_close(services: Services, session: Any) -> None:
    """When a tab's session ends: save what is pending under the last identity seen (errors are logged)."""
    if not isinstance(session, ChatSession) or not session.pending or not session.annotator:
        return
    try:
        n = save_pending(services, session, session.annotator)
        log.info("saved %d pending feedback record(s) of a closed session", n)
    except WorkbenchError as exc:
        log.warning("could not save pending feedback of a closed session: %s", exc)


def autosave_sessions(services: Services, sessions: Iterable[Any]) -> int:
    """At shutdown: save every session's pending judgements that have an annotator; return how many sessions.

    One session that cannot be saved is logged and does not stop the others.
    """
    n = 0
    for session in sessions:
        if isinstance(session, ChatSession) and session.pending and session.annotator:
            autosave_on_close(services, session)
            n += 1
    return n
