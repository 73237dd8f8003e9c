"""GeneratorPool: LLMs load in the background and the template answers until they are ready."""

from __future__ import annotations

import threading

import pytest

from workbench.config import Settings
from workbench.errors import ConfigError, GenerationError
from workbench.services import GeneratorPool


class Template:
    name = "template"


class SlowLLM:
    """Loads only when the test releases ``gate``."""

    def __init__(self, name: str, gate: threading.Event):
        self.name = name
        self.ready = False
        self._gate = gate

    def load(self) -> None:
        assert self._gate.wait(10), "test never released the load"
        self.ready = True


def pool_with(settings: Settings, make):
    return GeneratorPool(settings, Template(), make=make)


def test_template_answers_while_llm_loads_then_llm_takes_over():
    gate = threading.Event()
    made = []

    def make(backend, model):
        made.append((backend, model))
        return SlowLLM(f"{backend}:{model}", gate)

    pool = pool_with(Settings(generator="auto", generator_model="tiny"), make)
    pool.start()
    choice = pool.choose()
    assert choice.generator.name == "template" and not choice.ready
    assert "loading" in choice.note and "template" in choice.note
    assert pool.loading and "loading" in pool.status()
    gate.set()
    assert pool.wait(timeout=10)
    choice = pool.choose()
    assert choice.ready and choice.name == "transformers:tiny" and choice.note == ""
    assert made == [("transformers", "tiny")]  # loaded once, not per turn
    assert not pool.loading


def test_failed_llm_load_falls_back_to_template_with_reason():
    def make(backend, model):
        raise GenerationError(f"{model}: no such model (test)")

    pool = pool_with(Settings(generator="transformers", generator_model="missing"), make)
    pool.start()
    pool.wait(timeout=10)
    choice = pool.choose()
    assert choice.generator.name == "template" and not choice.ready
    assert "could not load model transformers:missing" in choice.note
    assert "no such model" not in choice.note  # the loader's error (it may name a path) stays in the log


def test_auto_degrades_to_template_when_the_default_llm_fails():
    def make(backend, model):
        raise RuntimeError("boom")

    pool = pool_with(Settings(generator="auto"), make)
    pool.start()
    pool.wait("transformers", timeout=10)
    assert pool.default_backend == "template"
    choice = pool.choose("auto")
    assert choice.generator.name == "template" and choice.ready


def test_nothing_loads_before_start_and_template_needs_no_load():
    made = []
    pool = pool_with(Settings(generator="template"), lambda b, m: made.append(b))
    assert pool.choose().ready and pool.choose("template").ready
    pool.start()
    assert made == [] and not pool.loading


def test_openai_without_base_url_says_what_to_set():
    pool = pool_with(Settings(generator="template"), lambda b, m: pytest.fail("must not load"))
    choice = pool.choose("openai", "gpt-x")
    assert choice.generator.name == "template" and "WORKBENCH_OPENAI_BASE_URL" in choice.note


def test_unknown_backend_and_custom_models_on_a_space_are_refused():
    pool = pool_with(Settings(generator="template"), lambda b, m: Template())
    with pytest.raises(ConfigError, match="backend"):
        pool.choose("gpt5")
    pool.allow_custom_models = False
    with pytest.raises(ConfigError, match="not offered"):
        pool.choose("transformers", "someone/huge-model")
