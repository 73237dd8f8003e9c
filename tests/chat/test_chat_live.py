"""Issue 14 part 1: what the user marks on a slate card changes the next turn.

The state transitions (:meth:`ConversationState.set_card_stances`), the card -> stance rule, the
session bookkeeping through undo, retry and a judgement made while a turn runs, and the engine
side: a disliked card is excluded and a negative signal, "more like that" follows the liked card,
and the next reasons cite the judgement. The live ``/chat`` + ``/feedback`` check is in
tests/e2e/test_api_live_feedback.py; the "More like this" button in tests/e2e/test_browser_live_feedback.py.
"""

from __future__ import annotations

import json

import pytest
from ui_support import real_engine_services

from workbench.chat.live import card_stance, judge_cards, judge_slate
from workbench.chat.session import CardJudgement
from workbench.chat.turns import TurnPrefs, new_session, stream_turn, undo_turn
from workbench.dialogue.state import CardStance, ConversationState, TurnLog
from workbench.errors import WorkbenchError


@pytest.mark.parametrize(("verdict", "rating", "stance"), [
    ("like", None, "liked"), (None, 4, "liked"), (None, 5, "liked"), ("like", 2, "disliked"),
    ("dislike", None, "disliked"), (None, 1, "disliked"), (None, 2, "disliked"), ("dislike", 5, "liked"),
    (None, 3, "seen"), ("like", 3, "seen"), ("not_seen", None, "not_seen"), (None, None, None),
])
def test_card_stance_follows_the_rating_then_the_verdict(verdict, rating, stance):
    """The same rule as the exports' item_vote: a rating outranks a label."""
    from workbench.feedback.export import item_vote
    from workbench.feedback.record import ItemJudgement

    assert card_stance(CardJudgement(verdict, rating)) == stance
    vote = item_vote(ItemJudgement("1", "t", 1, 0.0, {}, verdict, rating))
    assert vote == {"liked": 1, "disliked": -1}.get(stance or "", 0)


# ---------------------------------------------------------------------------
# the state


def test_card_stances_move_items_between_lists_and_clearing_takes_them_back():
    s = ConversationState("s", recommended=["1", "2", "3"], last_slate=["1", "2", "3"])
    assert s.set_card_stances({"1": CardStance("1", "disliked", 0), "2": CardStance("2", "liked", 0),
                               "3": CardStance("3", "not_seen", 0)})
    assert (s.liked, s.disliked, s.not_seen, sorted(s.seen)) == (["2"], ["1"], ["3"], ["1", "2"])
    assert s.history() == {"2": 1.0} and s.mentioned == []  # a card is no mention: "not seen" is no taste
    assert {"1", "2", "3"} <= s.excluded()
    assert not s.set_card_stances(dict(s.card_stances))  # the same again changes nothing
    # like -> dislike on the same card
    s.set_card_stances({"1": CardStance("1", "disliked", 0), "2": CardStance("2", "disliked", 0)})
    assert s.liked == [] and s.disliked == ["1", "2"] and s.not_seen == []  # card 3 cleared: taken back
    s.set_card_stances({})
    assert s.liked == s.disliked == s.seen == s.not_seen == [] and s.card_stances == {}
    with pytest.raises(WorkbenchError, match="card stance"):
        s.set_card_stances({"1": CardStance("1", "loved", 0)})


def test_a_stance_said_later_in_the_chat_is_not_overwritten_by_the_card(tiny_catalog):
    """Card like on Heat, then "actually I hated Heat": re-sending the card (every sync does) keeps the dislike."""
    from workbench.dialogue.understand import Understander

    s = ConversationState("s", recommended=["3"], last_slate=["3"])
    s.set_card_stances({"3": CardStance("3", "liked", 0)})
    s.apply(Understander(tiny_catalog).understand("actually I hated Heat (1995)"))
    assert s.disliked == ["3"] and s.liked == []
    assert not s.set_card_stances({"3": CardStance("3", "liked", 0)})
    assert s.disliked == ["3"] and s.card_liked("3") is None  # no reason may claim "you liked" it now


def test_card_stances_round_trip_and_undo_restores_them():
    s = ConversationState("s", last_slate=["1"], recommended=["1"])
    s.log.append(TurnLog("m", "recommend", ["1"]))
    s.set_card_stances({"1": CardStance("1", "liked", 0)})
    s.push_undo()
    s.set_card_stances({})
    s.undo()
    assert s.liked == ["1"] and s.card_stances == {"1": CardStance("1", "liked", 0)}
    back = ConversationState.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.card_stances == s.card_stances and back.card_focus() == "1"
    old = {k: v for k, v in s.to_dict().items() if k != "card_stances"}  # a state saved before issue 14
    assert ConversationState.from_dict(old).card_stances == {}


# ---------------------------------------------------------------------------
# sessions: API merge, UI replace, undo, retry, a judgement during a turn


@pytest.fixture
def services(tiny_catalog, tmp_path):
    return real_engine_services(tiny_catalog, tmp_path / "feedback")


def turn(services, session, message):
    for _ in stream_turn(services, session, message, TurnPrefs(k=3)):
        pass
    return session.exchanges[-1]


def ids(ex):
    return [r.item.item_id for r in ex.recommendations]


def test_feedback_calls_merge_and_the_slate_widgets_replace(services):
    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    a, b, c = ids(ex)
    judge_cards(session, ex, [(a, CardJudgement("dislike"))])
    judge_cards(session, ex, [(b, CardJudgement(None, 5)), ("no-such-item", CardJudgement("like"))])
    st = session.conversation
    assert a in st.disliked and b in st.liked and "no-such-item" not in st.card_stances
    judge_slate(session, ex, [CardJudgement(), CardJudgement(None, 5), CardJudgement("not_seen")])
    assert a not in st.disliked and b in st.liked and c in st.not_seen  # what the widgets show is the truth


def test_undo_takes_back_the_undone_slates_judgements_and_keeps_earlier_ones(services):
    session = new_session(services)
    first = turn(services, session, "I loved Heat")
    second = turn(services, session, "something with aliens")
    judge_cards(session, first, [(ids(first)[0], CardJudgement("like"))])  # made after turn 2 ran
    judge_slate(session, second, [CardJudgement("dislike"), CardJudgement(), CardJudgement()])  # the widgets
    st = session.conversation
    assert ids(first)[0] in st.liked and ids(second)[0] in st.disliked
    assert undo_turn(session) == "something with aliens"
    st = session.conversation
    assert ids(first)[0] in st.liked  # its slate is still on screen: kept
    assert ids(second)[0] not in st.disliked and ids(second)[0] not in st.card_stances  # gone with its turn
    assert [ex for ex, _ in session.pending] == [second]  # still saveable as feedback


def test_retry_carries_the_replaced_slates_judgements_and_undo_takes_them_back(services):
    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    top = ids(ex)[0]
    judge_cards(session, ex, [(top, CardJudgement("dislike"))])
    message = undo_turn(session, retry=True)
    retried = turn(services, session, message)
    assert top in session.conversation.disliked and top not in ids(retried)  # it does not come straight back
    undo_turn(session)
    assert top not in session.conversation.disliked and session.conversation.card_stances == {}


def test_a_judgement_made_while_a_turn_runs_survives_the_turns_commit(services):
    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    steps = stream_turn(services, session, "something from the 90s", TurnPrefs(k=3))
    next(steps)
    next(steps)  # the engine is working on its copy of the state
    judge_cards(session, ex, [(ids(ex)[1], CardJudgement("like"))])
    for _ in steps:
        pass
    assert ids(ex)[1] in session.conversation.liked


# ---------------------------------------------------------------------------
# the engine: exclusion, a negative signal, "more like that", reasons


def test_a_disliked_card_is_a_negative_signal_for_the_recommender(services):
    seen: list[dict] = []
    real = services.engine.ranker.recommender

    class Recording:
        def recommend(self, history, k=10, **kw):
            seen.append(dict(history))
            return real.recommend(history, k, **kw)

    services.engine.ranker.recommender = Recording()
    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    bad = ids(ex)[0]
    judge_cards(session, ex, [(bad, CardJudgement(None, 1))])
    seen.clear()
    nxt = turn(services, session, "more please")
    assert seen and seen[0][bad] == -1.0 and seen[0]["3"] == 1.0
    assert bad not in ids(nxt)


def test_more_like_that_follows_the_liked_card_and_the_reason_cites_it(services, tiny_catalog):
    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    first, second = ids(ex)[:2]
    judge_cards(session, ex, [(first, CardJudgement("dislike")), (second, CardJudgement("like"))])
    nxt = turn(services, session, "more like that please")
    assert nxt.result.intent == "more_like"
    assert first not in ids(nxt)
    title = tiny_catalog[second].display_title
    cited = [r.reason for r in nxt.recommendations if title in r.reason]
    assert cited and all(f"you liked {title} on the last slate" in r for r in cited)
    # the card judgement is true of the state the reason was written from
    assert session.conversation.card_liked(second) is not None


def test_without_card_feedback_more_like_that_means_the_top_pick(services):
    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    u = services.engine.understand(session.conversation, "more like that please")
    assert (u.intent, u.target) == ("more_like", ids(ex)[0])
    nxt = turn(services, session, "more like that please")
    assert all("on the last slate" not in r.reason for r in nxt.recommendations)


def test_more_like_this_button_message_runs_the_more_like_intent_on_that_card(services, tiny_catalog):
    from workbench.ui.chat_panel import more_like_message

    session = new_session(services)
    ex = turn(services, session, "I loved Heat")
    message = more_like_message(session, 1)
    assert message == f"More like {ex.recommendations[1].item.display_title}"
    nxt = turn(services, session, message)
    assert nxt.result.intent == "more_like"
    u = services.engine.understander.understand(message, last_slate=ids(ex))
    assert u.target == ids(ex)[1]
    assert any(f"more like {ex.recommendations[1].item.display_title}" in r.reason for r in nxt.recommendations)
    with pytest.raises(WorkbenchError, match="no longer on the slate"):
        more_like_message(session, 7)
