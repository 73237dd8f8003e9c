"""``eval simulate --mode llm``: the simulated user through the generator backends, its title check and redaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.generator_fixtures import FakeServer, build_tiny_model
from workbench.dialogue.generators.openai_compat import OpenAIGenerator
from workbench.dialogue.generators.transformers import TransformersGenerator
from workbench.dialogue.question import QUESTIONS
from workbench.errors import EvaluationError
from workbench.evaluate.simulation.attribute import leaks
from workbench.evaluate.simulation.llm import LLMSimulator, describe, redact


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    yield s
    s.close()


def test_an_endpoint_that_names_the_film_is_redacted_and_counted(server, tiny_catalog):
    """The fake endpoint always says "You might enjoy Collateral (2004), ...": for the target Collateral
    that is a leak, redacted and counted; the prompt it got holds the facts and never the title."""
    sim = LLMSimulator(tiny_catalog, OpenAIGenerator(server.url, "user-model", timeout_s=5, retries=0))
    said = sim.reply("5", "Try Heat (1995). " + QUESTIONS["director"], ["3"])
    assert not leaks(said, tiny_catalog["5"]) and "..." in said and "taxi thriller" in said
    assert sim.redactions == 1 and sim.fallbacks == 0
    sent = server.requests[0]["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert "Michael Mann" in sent[0]["content"] and "Collateral" not in json.dumps(sent)
    assert "do not include your film" in sent[1]["content"] and QUESTIONS["director"] in sent[1]["content"]
    # for another target the same words leak nothing and pass unchanged
    assert sim.reply("3", "Try Alien (1979).", ["7"]) == "".join(["You might enjoy Collateral (2004), a tense ",
                                                                   "taxi thriller."])
    assert sim.redactions == 1


def test_a_failing_backend_falls_back_to_the_attribute_answer(server, tiny_catalog):
    server.fail_statuses = [401]
    sim = LLMSimulator(tiny_catalog, OpenAIGenerator(server.url, "m", timeout_s=5, retries=0))
    said = sim.reply("3", "Here you go. " + QUESTIONS["director"], ["5"])
    assert "Michael Mann" in said and sim.fallbacks == 1


def test_a_tiny_local_model_plays_the_user_without_leaking(tmp_path: Path, tiny_catalog):
    """A random 2-layer GPT-2 whose vocabulary was trained on film titles: whatever it writes, no title word
    reaches the engine."""
    gen = TransformersGenerator(str(build_tiny_model(tmp_path / "lm")), device="cpu", max_new_tokens=24,
                                max_sentences=0)
    sim = LLMSimulator(tiny_catalog, gen)
    for target in ("3", "5", "10"):
        said = sim.reply(target, "You might like Alien (1979). " + QUESTIONS["genre"], ["7"])
        assert said.strip() and not leaks(said, tiny_catalog[target])


def test_redact_and_describe_never_show_the_title(tiny_catalog):
    item = tiny_catalog["9"]  # Return of the Jedi; one of its tags is "jedi"
    assert redact("Loved Return of the Jedi, the jedi bits!", item) == "Loved ..., the ... bits!"
    assert not leaks(describe(item), item) and "Richard Marquand" in describe(item)


def test_the_template_generator_cannot_play_a_user(tiny_catalog):
    from workbench.config import Settings
    from workbench.evaluate.simulation.llm import llm_simulator

    with pytest.raises(EvaluationError, match="needs a language model"):
        llm_simulator(tiny_catalog, Settings.from_env(generator="template"))
