"""People pointed at without a name ("more from that director", "anything else with him?")."""

from __future__ import annotations

import pytest
from dialogue_fixtures import tiny_engine

SLATE = ["3", "1", "8"]  # Heat (1995; Michael Mann, Al Pacino), Toy Story (Tom Hanks), Star Wars (Mark Hamill)


@pytest.fixture
def engine(tiny_catalog, hash_embedder):
    return tiny_engine(tiny_catalog, hash_embedder, k=3)


def shown(engine):
    state = engine.new_state("people")
    state.record_slate(SLATE)
    return state


@pytest.mark.parametrize("before,message,person", [
    ([], "more from that director", "Michael Mann"),  # the top pick's director
    (["who's in the second one?"], "anything else with him?", "Tom Hanks"),  # the answer's lead
    (["who's in the third one?"], "more with that actor", "Mark Hamill"),  # the answer's lead
    (["who directed the first one?"], "other films by him?", "Michael Mann"),  # the answer's director
])
def test_a_pointer_at_a_person_means_the_one_the_conversation_is_on(engine, before, message, person):
    state = shown(engine)
    for text in before:
        engine.respond(state, text)
    result = engine.respond(state, message)
    assert result.intent == "recommend" and result.recommendations
    assert all(person in (*r.item.directors, *r.item.cast) for r in result.recommendations)
    assert f"as {person}" in result.reply  # it says whom it took


def test_the_same_director_of_a_film_just_named(engine):
    state = engine.new_state("named")
    engine.respond(state, "I loved Heat")
    result = engine.respond(state, "more by the same director")
    # Heat's director, not the director of the slate's top pick (the tiny catalogue's Mann films may all
    # have been shown already, so the reply can end on "nothing fits")
    assert 'as Michael Mann' in result.reply
    assert all("Michael Mann" in r.item.directors for r in result.recommendations)


def test_a_pointer_with_nothing_to_point_at_asks(engine):
    result = engine.respond(engine.new_state("empty"), "more from that director")
    assert result.recommendations == () and "which director you mean" in result.reply


def test_he_after_the_user_named_an_actor_is_that_actor(engine):
    state = engine.new_state("named-person")
    engine.respond(state, "something with Tom Hanks")
    result = engine.respond(state, "what else has he been in?")
    assert 'I took "he" as Tom Hanks.' in result.reply
    assert all("Tom Hanks" in r.item.cast for r in result.recommendations)


def test_a_director_pointer_does_not_take_an_actor_the_user_named(engine):
    state = shown(engine)
    engine.respond(state, "anything with Tom Hanks?")
    result = engine.respond(state, "more from that director")
    assert "as Tom Hanks" not in result.reply
