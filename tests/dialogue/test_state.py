"""Conversation state: preferences, constraints across turns, undo, serialisation."""

from __future__ import annotations

import json

from workbench.dialogue.state import ConversationState, merge_constraints
from workbench.dialogue.understand import Understander
from workbench.filters import ItemFilter


def _apply(state, u, text):
    r = u.understand(text, last_slate=state.last_slate)
    state.push_undo()
    state.apply(r)
    state.add_turn("user", text)
    return r


def test_stances_accumulate_and_flip(tiny_catalog):
    """A later 'I hated X' moves X from liked to disliked; seen/not-seen follow."""
    u, s = Understander(tiny_catalog), ConversationState("s")
    _apply(s, u, "I loved Alien and Inception")
    assert s.liked == ["7", "10"]
    _apply(s, u, "actually I hated Alien")
    assert s.liked == ["10"] and s.disliked == ["7"]
    _apply(s, u, "never seen Collateral")
    assert "5" in s.not_seen and "5" in s.excluded()


def test_constraints_replace_per_field(tiny_catalog):
    """'something scary' then 'actually a comedy' leaves comedy; 'no horror' lifts a horror request."""
    u, s = Understander(tiny_catalog), ConversationState("s")
    _apply(s, u, "something scary from the 90s")
    _apply(s, u, "actually a comedy")
    assert s.constraints.genres == {"comedy"} and s.constraints.year_min == 1990
    _apply(s, u, "after 2000")
    assert (s.constraints.year_min, s.constraints.year_max) == (2001, None)
    s2 = merge_constraints(ItemFilter(genres=frozenset({"horror"})), ItemFilter(exclude_genres=frozenset({"horror"})),
                           frozenset({"exclude_genres"}))
    assert s2.genres == frozenset() and s2.exclude_genres == {"horror"}


def test_undo_restores_previous_state_and_returns_message(tiny_catalog):
    """undo() puts back liked items and constraints and hands back the undone message."""
    u, s = Understander(tiny_catalog), ConversationState("s")
    _apply(s, u, "I loved Alien")
    s.log.append(__import__("workbench.dialogue.state", fromlist=["TurnLog"]).TurnLog("I loved Alien", "recommend"))
    _apply(s, u, "no horror")
    from workbench.dialogue.state import TurnLog

    s.log.append(TurnLog("no horror", "refine"))
    assert s.undo() == "no horror"
    assert s.constraints.exclude_genres == frozenset() and s.liked == ["7"]
    assert s.undo() == "I loved Alien"
    assert s.liked == [] and s.turns == []
    assert s.undo() is None


def test_state_round_trips_through_plain_json(tiny_catalog):
    """The feedback store saves to_dict(); from_dict must restore the same state."""
    u, s = Understander(tiny_catalog), ConversationState("abc")
    _apply(s, u, "I loved Alien, no comedy, from the 70s with Sigourney Weaver")
    s.record_slate(["8", "9"])
    d = json.loads(json.dumps(s.to_dict(include_undo=True)))
    back = ConversationState.from_dict(d)
    assert back.to_dict(include_undo=True) == s.to_dict(include_undo=True)
    assert back.constraints == s.constraints
    assert back.undo() is not None or back.turns == []


def test_record_slate_never_duplicates(tiny_catalog):
    s = ConversationState("s")
    s.record_slate(["1", "2"])
    s.record_slate(["2", "3"])
    assert s.recommended == ["1", "2", "3"] and s.last_slate == ["2", "3"]
