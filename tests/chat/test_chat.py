"""Annotation use cases without gradio: turns in a session, undo and clear, annotator identity.

Guards: an error mid-turn leaves the session as before and usable, two sessions never share
turns or slates, undo restores the engine's state and clear starts a new conversation id,
a signed-in username wins over the typed name. (Judgements set through the slate widgets
and saved are covered in test_ui_handlers.)
"""

from __future__ import annotations

import pytest
from ui_support import make_services, run_turn

from workbench.chat.identity import resolve_annotator
from workbench.chat.turns import clear_conversation, new_session, undo_turn
from workbench.errors import FeedbackError, WorkbenchError


@pytest.fixture
def services(tiny_catalog, tmp_path):
    return make_services(tiny_catalog, tmp_path / "feedback")


run = run_turn  # drive a turn to the end; the reply text seen at each streamed step


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


# ---------------------------------------------------------------------------
# issue 19: sessions owned and bounded, identity under sign-in, partial saves


class Request:
    """A stand-in for ``gr.Request``: the signed-in username and the client's address."""

    def __init__(self, username=None, host="10.0.0.1"):
        self.username = username
        self.client = type("Client", (), {"host": host})()


def registry(services, **kwargs):
    from workbench.chat.session import SessionRegistry

    return SessionRegistry(lambda sid: new_session(services, sid), **kwargs)


def test_registry_issues_unguessable_ids_and_refuses_others(services):
    """Item 1: ids come from the server (256 random bits); an id it never issued is refused."""
    reg = registry(services)
    a = reg.get("", "ip:1")
    assert len(a.session_id) >= 43 and reg.get(a.session_id, "ip:1") is a
    with pytest.raises(WorkbenchError, match="unknown or expired"):
        reg.get("demo", "ip:1")
    assert len(reg) == 1  # a refused id creates nothing


def test_another_users_session_is_refused(services):
    """Item 1: with sign-in on, a session belongs to its user; another user's request on it is refused."""
    from workbench.ui.api import chat_api, client_owner, feedback_api

    services = make_services(services.catalog, services.store.data_dir, auth="ann:pw")
    reg = registry(services)
    out = chat_api(services, reg, "Toy Story", "", 0, client_owner(Request("ann")))
    with pytest.raises(WorkbenchError, match="unknown or expired"):
        chat_api(services, reg, "more", out["session_id"], 0, client_owner(Request("bob")))
    with pytest.raises(WorkbenchError, match="unknown or expired"):
        feedback_api(services, reg, out["session_id"], 0, "", {}, "like", request=Request("bob"))
    saved = feedback_api(services, reg, out["session_id"], 0, "", {}, "like", request=Request("ann"))
    assert saved["saved"] == 1


def test_one_owner_filling_the_registry_evicts_its_own_sessions(services):
    """Item 2: creating max_sessions sessions used to push out every other client's live session."""
    reg = registry(services, max_sessions=10, max_per_owner=3)
    victim = reg.get("", "ip:victim")
    mine = [reg.get("", "ip:attacker").session_id for _ in range(50)]
    assert reg.get(victim.session_id, "ip:victim") is victim
    with pytest.raises(WorkbenchError):
        reg.get(mine[0], "ip:attacker")  # the offender's oldest went first
    assert reg.get(mine[-1], "ip:attacker")
    many = [reg.get("", f"ip:{i}") for i in range(20)]  # the total bound holds too
    assert len(reg) <= 10 and reg.get(many[-1].session_id, "ip:19")


def test_with_sign_in_on_the_annotator_is_the_signed_in_user(services):
    """Item 3: the annotator was whatever the caller typed, even on a server with sign-in."""
    from workbench.chat.identity import identify
    from workbench.ui.api import chat_api, feedback_api

    assert identify(services, "typed", None, Request()) == "typed"  # no sign-in: the typed name
    authed = make_services(services.catalog, services.store.data_dir, auth="ann:pw")
    assert identify(authed, "someone else", None, Request("ann")) == "ann"  # UI: the name is ignored
    with pytest.raises(FeedbackError, match="sign in first"):
        identify(authed, "ann", None, Request(None))
    assert identify(authed, "x", None, Request(None), required=False) == ""  # a turn may still run
    reg = registry(authed)
    owner = "user:ann"
    out = chat_api(authed, reg, "Toy Story", "", 0, owner)
    with pytest.raises(FeedbackError, match="'mallory' is not the signed-in user 'ann'"):
        feedback_api(authed, reg, out["session_id"], 0, "mallory", {}, "like", request=Request("ann"))
    saved = feedback_api(authed, reg, out["session_id"], 0, "", {}, "like", request=Request("ann"))
    (record,) = [r for r in authed.store.read().records if r.record_id == saved["record_id"]]
    assert record.annotator == "ann"


def test_one_unsaveable_judgement_does_not_block_the_others(services):
    """Item 7: one bad pending judgement used to block every other one, without saying which turn."""
    from workbench.chat.judgements import PartlySaved, save_pending
    from workbench.ui.feedback_panel import pending_markdown

    session = new_session(services)
    run(services, session, "Toy Story")
    run(services, session, "Heat")
    bad, good = session.exchanges
    session.set_reply_judgement(bad, "like")
    session.set_reply_judgement(good, "dislike")
    bad.reply = "x" * 10_000  # over the store's reply limit: this turn cannot be saved
    with pytest.raises(PartlySaved, match=r"saved 1 record; 1 turn could not be saved.*turn 1 \('Toy Story'\)"):
        save_pending(services, session, "ann")
    (record,) = services.store.read().records
    assert record.turn_index == 1 and record.reply_label == "dislike"
    assert [ex for ex, _ in session.pending] == [bad]  # the bad one stays pending
    assert "Not saved: turn 1" in pending_markdown(session)


def test_on_a_space_the_owner_is_the_address_the_proxy_saw():
    """Behind the Space's proxy every request has the proxy's address; the proxy-added entry counts."""
    from workbench.ui.api import client_owner

    r = Request(host="10.0.0.1")
    r.headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.7"}  # the first entry is the client's claim
    assert client_owner(r, behind_proxy=True) == "ip:203.0.113.7"
    assert client_owner(r) == "ip:10.0.0.1"  # self-hosted: the socket's address, headers ignored
    assert client_owner(Request("ann")) == "user:ann"


def test_a_conversation_longer_than_the_store_keeps_still_saves_its_newest_turns(services):
    """Issue 19 item 6: past 100 exchanges the record's conversation exceeded the store's turn limit."""
    from dataclasses import replace

    from workbench.chat.judgements import make_turn_record
    from workbench.chat.session import CardJudgement, TurnJudgement
    from workbench.dialogue.types import Turn
    from workbench.limits import MAX_CONVERSATION_TURNS

    session = new_session(services)
    run(services, session, "Toy Story")
    exchange = session.exchanges[-1]
    history = tuple(Turn("user" if i % 2 == 0 else "assistant", f"turn {i}") for i in range(250))
    long = replace(exchange, history=history)
    item = exchange.recommendations[0].item.item_id
    record = make_turn_record(services, long, TurnJudgement(items=((item, CardJudgement("like", None)),)), "ann")
    assert len(record.conversation) == MAX_CONVERSATION_TURNS
    assert record.conversation[-1]["text"] == "turn 249"  # the newest kept


def test_a_reloaded_tab_finds_its_session_and_shutdown_saves_what_is_pending(services):
    """Issue 16 item 6: a reload lost the conversation, and an unsaved judgement was never
    written, not even at server shutdown. The tab's id finds its session again (also after a new
    conversation changed the conversation id); at shutdown every live session with an annotator
    saves what is pending."""
    from workbench.chat.judgements import autosave_sessions
    from workbench.ui.chat_panel import TAB_OWNER, make_tab_registry

    tabs = make_tab_registry(services)
    session, key = tabs.resume("", TAB_OWNER)
    assert key == session.session_id
    run(services, session, "Toy Story")
    assert tabs.resume(key, TAB_OWNER) == (session, key)  # the reload
    other, other_key = tabs.resume("not-an-issued-id", TAB_OWNER)
    assert other is not session and other_key != "not-an-issued-id"
    clear_conversation(services, session)
    assert tabs.resume(key, TAB_OWNER)[0] is session
    run(services, session, "Toy Story")
    session.set_reply_judgement(session.exchanges[-1], "like")
    run(services, other, "Toy Story")
    other.set_reply_judgement(other.exchanges[-1], "like")  # nobody to attribute it to: stays pending
    session.annotator = "ann"
    assert autosave_sessions(services, tabs.sessions()) == 1
    (record,) = services.store.read()
    assert record.annotator == "ann" and other.pending_count == 1


def test_the_api_and_the_tabs_registries_share_the_registrys_one_session_lifetime(services):
    """One rule, one place (issue 29): the API's and the browser tabs' session lifetimes were two
    constants in two UI modules; the registry owns the one lifetime and both registries use it."""
    from workbench.chat.session import SESSION_TTL_S
    from workbench.ui.api import make_registry
    from workbench.ui.chat_panel import make_tab_registry

    assert make_registry(services).ttl_s == make_tab_registry(services).ttl_s == SESSION_TTL_S
    assert make_registry(services).max_sessions == make_tab_registry(services).max_sessions \
        == services.settings.max_api_sessions
