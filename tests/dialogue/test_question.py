"""The question policy: expected information gain over the candidates' facts, and the engine asking it."""

from __future__ import annotations

import math

import pytest

from tests.dialogue_fixtures import tiny_engine
from workbench.catalog import Catalog, Item
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.prompts import render_request
from workbench.dialogue.question import (
    QUESTIONS,
    QuestionPolicy,
    asked_attributes,
    belief,
    expected_gain,
)
from workbench.dialogue.state import ConversationState
from workbench.errors import DialogueError
from workbench.scored import ScoredItems


def _synthetic() -> Catalog:
    """Eight films: genres split them in two, decades in four, directors in two (across the genres);
    cast and tags are shared."""
    items = []
    for j in range(8):
        items.append(Item(str(j), f"Film {j}", 1960 + 10 * (j % 4) + 1, ("Comedy" if j % 2 else "Horror",),
                          (f"Director {j // 4}",), ("Same Actor", "Other Actor"), ("same tag",)))
    return Catalog(items)


def _flat(catalog: Catalog) -> ScoredItems:
    return ScoredItems(tuple(catalog.ids), (1.0,) * len(catalog), ({},) * len(catalog))


def test_gain_is_mutual_information_of_the_answer():
    """Uniform over 8 films: an attribute with 4 equal groups is worth 2 bits, 2 groups 1 bit, one value 0."""
    p = [1 / 8] * 8
    assert expected_gain(p, [("a",), ("b",), ("c",), ("d",)] * 2) == pytest.approx(2.0)
    assert expected_gain(p, [("x",), ("y",)] * 4) == pytest.approx(1.0)
    assert expected_gain(p, [("same",)] * 8) == pytest.approx(0.0)
    # a film answering either of two values uniformly tells less than one answering one
    assert expected_gain([0.5, 0.5], [("a", "b"), ("c",)]) == pytest.approx(1.5 - 0.5)
    assert sum(belief([1.0, 0.5, 0.0])) == pytest.approx(1.0)


def test_policy_picks_the_attribute_that_splits_the_candidates_best():
    catalog = _synthetic()
    policy = QuestionPolicy(catalog, min_gain=0.1)
    gains = policy.gains(_flat(catalog))
    assert gains["decade"] == pytest.approx(2.0) and gains["genre"] == pytest.approx(1.0)
    assert gains["director"] == pytest.approx(1.0) and gains["tag"] == pytest.approx(0.0)
    assert gains["actor"] == pytest.approx(0.0)
    q = policy.choose(_flat(catalog), slate_size=1)
    assert q is not None and q.attribute == "decade" and q.text == QUESTIONS["decade"]
    assert q.gain == pytest.approx(2.0) and q.slate_mass == pytest.approx(policy.in_pool / 8)
    # the decade is known: the genre is the next best question
    q = policy.choose(_flat(catalog), slate_size=1, skip=asked_attributes({"years"}, ()))
    assert q is not None and q.attribute == "genre"


def test_policy_weighs_the_belief_not_just_the_facts():
    """Flat, the decade splits best; with the belief on films 1 and 5 (both 1970s comedies, by different
    directors) only the director question tells them apart."""
    catalog = _synthetic()
    ids = ("1", "5", "0", "2", "3", "4", "6", "7")
    scores = (1.0, 1.0) + (0.0,) * 6
    policy = QuestionPolicy(catalog, min_gain=0.1, max_slate_mass=0.9, temperature=0.2)  # a sharp belief
    gains = policy.gains(ScoredItems(ids, scores, ({},) * 8))
    assert gains["director"] > 0.9 > 0.2 > gains["decade"] and gains["genre"] < 0.2
    q = policy.choose(ScoredItems(ids, scores, ({},) * 8), slate_size=1)
    assert q is not None and q.attribute == "director"


def test_policy_recommends_instead_of_asking_when_the_slate_holds_the_belief():
    catalog = _synthetic()
    policy = QuestionPolicy(catalog, temperature=0.2)
    peaked = ScoredItems(tuple(catalog.ids), (5.0,) + (0.0,) * 7, ({},) * 8)
    assert policy.choose(peaked, slate_size=1) is None
    # everything is on the slate, and the film is surely among the candidates: nothing to ask
    assert QuestionPolicy(catalog, in_pool=1.0).choose(_flat(catalog), slate_size=8) is None
    assert QuestionPolicy(catalog, in_pool=0.5).choose(_flat(catalog), slate_size=8) is not None
    assert policy.choose(_flat(catalog), slate_size=1, skip=("genre", "decade", "director")) is None  # nothing to learn
    with pytest.raises(DialogueError, match="unknown attribute 'mood'"):
        QuestionPolicy(catalog, attributes=("mood",))


def test_engine_asks_after_a_vague_slate_and_logs_the_question(tiny_catalog, hash_embedder):
    engine = tiny_engine(tiny_catalog, hash_embedder, k=2)
    state = ConversationState("s")
    result = engine.respond(state, "anything good?")
    assert result.recommendations and result.question is not None
    assert result.reply.endswith(result.question.text)
    assert math.isfinite(result.question.gain) and result.question.gain >= engine.questions.min_gain
    logged = state.log[-1].question
    assert logged["attribute"] == result.question.attribute and logged["gain"] == result.question.gain
    assert result.to_dict()["question"]["text"] == result.question.text
    assert ConversationState.from_dict(state.to_dict()).log[-1].question == logged
    # the same attribute is not asked twice in one conversation
    again = engine.respond(state, "something else, please")
    assert again.question is None or again.question.attribute != result.question.attribute


def test_engine_never_asks_when_told_not_to(tiny_catalog, hash_embedder):
    engine = tiny_engine(tiny_catalog, hash_embedder, k=2, questions=False)
    result = engine.respond(ConversationState("s"), "anything good?")
    assert result.recommendations and result.question is None and not result.to_dict()["question"]


def test_llm_prompt_carries_the_question(tiny_catalog, hash_embedder):
    engine = tiny_engine(tiny_catalog, hash_embedder, k=2)
    result = engine.respond(ConversationState("s"), "anything good?")
    request = GenerationRequest(turns=(), recommendations=result.recommendations, question=result.question.text)
    assert render_request(request).rstrip().endswith("End the reply by asking the user: " + result.question.text)


def test_an_answer_to_the_engines_question_filters_even_with_soft_constraints(tiny_catalog, hash_embedder):
    """With ReDial-tuned weights stated genres only weigh in; an answer to "What genre?" is a requirement."""
    from workbench.dialogue.ranker import EngineWeights
    from workbench.filters import item_genre_keys

    soft = EngineWeights(hard_constraints=False)
    told = tiny_engine(tiny_catalog, hash_embedder, k=4, weights=soft, questions=False)
    unasked = told.respond(ConversationState("a"), "I'd like a horror movie")
    assert any("horror" not in item_genre_keys(r.item) for r in unasked.recommendations)  # a hint only

    asking = tiny_engine(tiny_catalog, hash_embedder, k=2, weights=soft,
                         questions=QuestionPolicy(tiny_catalog, attributes=("genre",), min_gain=0.01,
                                                  max_slate_mass=1.0))
    state = ConversationState("b")
    first = asking.respond(state, "anything good?")
    assert first.question is not None and first.question.attribute == "genre"
    answer = asking.respond(state, "Not those. I'd like a horror movie.")
    assert answer.recommendations
    assert all("horror" in item_genre_keys(r.item) for r in answer.recommendations)


def test_the_question_asked_is_in_the_saved_feedback_record(tiny_catalog, tmp_path):
    """The question and its expected gain are the record's provenance too, and survive the store."""
    from ui_support import real_engine_services

    from workbench.chat.judgements import make_turn_record
    from workbench.chat.session import TurnJudgement
    from workbench.chat.turns import TurnPrefs, new_session, stream_turn

    services = real_engine_services(tiny_catalog, tmp_path / "fb")
    session = new_session(services)
    *_, (vague, _) = stream_turn(services, session, "anything good?", TurnPrefs(backend="", model="", k=2))
    *_, (named, _) = stream_turn(services, session, "I loved Heat (1995)", TurnPrefs(backend="", model="", k=2))
    asked = vague.result.question
    assert asked is not None
    for ex in (vague, named):
        services.store.append(make_turn_record(services, ex, TurnJudgement(reply="like"), "ann"))
    first, second = sorted(services.store.read(), key=lambda r: r.turn_index)
    assert (first.question_attribute, first.question, first.question_gain) == (asked.attribute, asked.text, asked.gain)
    q = named.result.question  # a named film may or may not leave something worth asking: the record says which
    assert (second.question_attribute, second.question, second.question_gain) == (
        ("", "", 0.0) if q is None else (q.attribute, q.text, q.gain))
