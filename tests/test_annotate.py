"""Annotation use cases without gradio: turns in a session, undo and clear, annotator identity.

Guards: an error mid-turn leaves the session as before and usable, two sessions never share
turns or slates, undo restores the engine's state and clear starts a new conversation id,
a signed-in username wins over the typed name. (Judgements set through the slate widgets
and saved are covered in test_ui_handlers.)
"""

from __future__ import annotations

import pytest
from ui_support import make_services

from workbench.annotate.identity import resolve_annotator
from workbench.annotate.turns import TurnPrefs, clear_conversation, new_session, stream_turn, undo_turn
from workbench.errors import FeedbackError, WorkbenchError


@pytest.fixture
def services(tiny_catalog, tmp_path):
    return make_services(tiny_catalog, tmp_path / "feedback")


def run(services, session, message, prefs=None):
    """Drive a turn to the end; return the pieces of reply text seen while streaming."""
    seen = []
    for exchange, _choice in stream_turn(services, session, message, prefs or TurnPrefs(k=3)):
        seen.append(exchange.reply)
    return seen


def test_core_error_mid_turn_leaves_session_as_before_and_usable(services):
    """A WorkbenchError raised while streaming must not leave a half turn behind."""
    session = new_session(services)
    run(services, session, "Toy Story")
    before = (len(session.exchanges), list(session.conversation.turns))
    with pytest.raises(WorkbenchError, match="exploded"):
        run(services, session, "boom")
    assert (len(session.exchanges), list(session.conversation.turns)) == before
    run(services, session, "Heat")  # and the app keeps working
    assert len(session.exchanges) == 2


def test_two_sessions_never_share_turns_or_slates(services):
    a, b = new_session(services), new_session(services)
    run(services, a, "Toy Story family")
    run(services, b, "Heat crime")
    assert a.session_id != b.session_id
    assert [t.text for t in a.turns() if t.role == "user"] == ["Toy Story family"]
    assert [t.text for t in b.turns() if t.role == "user"] == ["Heat crime"]
    assert a.conversation is not b.conversation
    assert a.slate_exchange.recommendations != b.slate_exchange.recommendations


def test_undo_returns_message_and_restores_engine_state(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    run(services, session, "Heat")
    assert undo_turn(session) == "Heat"
    assert len(session.exchanges) == 1
    assert [t.text for t in session.conversation.turns if t.role == "user"] == ["Toy Story"]
    undo_turn(session)
    with pytest.raises(WorkbenchError, match="nothing to undo"):
        undo_turn(session)


def test_clear_starts_new_conversation_with_new_id(services):
    session = new_session(services)
    run(services, session, "Toy Story")
    old = session.session_id
    clear_conversation(services, session)
    assert session.exchanges == [] and session.session_id != old
    assert session.conversation.turns == []


def test_signed_in_username_wins_over_name_field():
    class Profile:
        username = "hf-user"

    assert resolve_annotator("typed name", Profile()) == "hf-user"
    assert resolve_annotator("  typed   name ", None) == "typed name"
    with pytest.raises(FeedbackError, match="limit"):
        resolve_annotator("x" * 500, None)
