"""Issue 26.2 in the engine: nothing unchecked reaches the screen while streaming, each fix is counted
by kind in the turn's result, its log entry and /metrics, and a reply about no film (or one that
ignores the user's question) is replaced by the template reply, with the record saying so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dialogue_fixtures import tiny_engine
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.types import TurnResult
from workbench.monitoring.recorder import TurnRecorder


class Scripted:
    """Writes one fixed reply, in 4-character pieces (grounding must hold back whole sentences)."""

    def __init__(self, text: str):
        self.text = text
        self.name = "fake:scripted"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        for i in range(0, len(self.text), 4):
            yield self.text[i : i + 4]

    def generate(self, request: GenerationRequest) -> str:
        return self.text


@pytest.fixture
def engine(tiny_catalog, hash_embedder):
    return tiny_engine(tiny_catalog, hash_embedder, k=3, questions=False)


def _turn(engine, message: str, text: str, state=None):
    state = state or engine.new_state("s")
    pieces = list(engine.stream(state, message, generator=Scripted(text)))
    result = pieces[-1]
    assert isinstance(result, TurnResult)
    return "".join(p for p in pieces if isinstance(p, str)), result, state


def test_links_shops_and_notes_never_reach_the_screen_and_are_counted(engine):
    """Streamed text, result, turn log and /metrics all agree on what was removed, by kind."""
    reply = ("You can find them here: https://www.youtube.com/watch?v=abc. You could also find it on Netflix. "
             "Note: you could ask the user if they like crime. Heat (1995) is a tense crime film.")
    shown, result, state = _turn(engine, "I want a tense crime film", reply)
    assert "youtube" not in shown.lower() and "Netflix" not in shown and "the user" not in shown
    assert "Heat (1995) is a tense crime film." in shown and shown.strip() == result.reply
    assert {k: result.grounding_fixes_by_kind.get(k) for k in ("link", "shop", "instruction")} == \
        {"link": 1, "shop": 1, "instruction": 1}
    assert state.log[-1].grounding_fixes_by_kind == dict(result.grounding_fixes_by_kind)
    recorder = TurnRecorder()
    recorder.record_turn(result, engine_s=0.1)
    from prometheus_client import generate_latest

    metrics = generate_latest(recorder.registry).decode()
    for kind in ("link", "shop", "instruction"):
        assert f'workbench_grounding_fixes_total{{kind="{kind}"}} 1.0' in metrics


def test_a_reply_about_no_film_is_replaced_by_the_template_reply(engine):
    """"I'm sorry for your loss. Please go ahead and relax." for a slate: the template reply is shown,
    none of the generated text is, and the result, notes and log say so. (Small talk, "thanks" and any
    turn with no film and no answer are written by the template without asking the LLM:
    tests/dialogue/test_engine.py.)"""
    shown, result, state = _turn(engine, "I want a tense crime film", "I'm sorry for your loss. Please go ahead and relax.")
    assert "loss" not in shown and "relax" not in shown and shown.strip() == result.reply
    assert result.fell_back and result.fallback_reason == "grounding"
    assert result.generator == engine.fallback.name
    assert result.grounding_fixes_by_kind.get("replaced") == 1
    assert any("template reply is shown instead" in n for n in result.notes)
    assert state.log[-1].grounding_fixes_by_kind.get("replaced") == 1


def test_the_replacement_is_the_template_reply_for_the_same_turn(engine):
    """The replacement equals what the template generator writes for this very turn."""
    _, replaced, _ = _turn(engine, "I want a tense crime film", "Please go ahead and relax.")
    _, template, _ = _turn(engine, "I want a tense crime film", TemplateGenerator().generate(
        GenerationRequest(turns=(), recommendations=replaced.recommendations)))
    state = engine.new_state("t")
    expected = engine.respond(state, "I want a tense crime film", generator=TemplateGenerator()).reply
    assert replaced.reply == expected and replaced.recommendations == template.recommendations


def test_a_cut_reply_loses_its_last_sentence(engine):
    """A model's reply that stops mid-sentence (token limit) shows only its finished sentences."""
    shown, result, _ = _turn(engine, "I want a tense crime film",
                             "Heat (1995) is a tense crime film. Collateral (2004) stars Tom Cruise as a")
    assert shown.startswith("Heat (1995) is a tense crime film.") and "Tom Cruise as a" not in shown
    assert result.grounding_fixes_by_kind.get("cut") == 1


def test_a_reply_that_ignores_a_question_about_the_slate_is_replaced(engine):
    """"Who directed the first one?" answered with "It has many options." is not shown; a reply that
    names the film or states its director is."""
    state = engine.new_state("q")
    first = engine.respond(state, "I want a tense crime film").recommendations[0].item
    _, ignored, _ = _turn(engine, "Who directed the first one?", "It has many options for a movie night.",
                          state=state.copy())
    assert ignored.grounding_fixes_by_kind.get("replaced") == 1 and "options" not in ignored.reply
    answer = f"{first.title} was directed by {first.directors[0]}."
    shown, answered, _ = _turn(engine, "Who directed the first one?", answer, state=state.copy())
    assert shown.startswith(answer) and "replaced" not in answered.grounding_fixes_by_kind


def test_a_fact_question_gets_the_catalogues_answer_even_from_the_template(engine):
    """"Who directed the first one?" after a slate: the template reply states the first film's director."""
    state = engine.new_state("f")
    first = engine.respond(state, "I want a tense crime film").recommendations[0].item
    reply = engine.respond(state, "Who directed the first one?", generator=TemplateGenerator()).reply
    assert first.directors[0] in reply
