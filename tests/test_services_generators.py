"""GeneratorPool (workbench/dialogue/generators/pool.py): LLMs load in the background and the template
answers until they are ready."""

from __future__ import annotations

import threading

import pytest

from workbench.config import Settings
from workbench.dialogue.generators.pool import GeneratorPool
from workbench.errors import ConfigError, GenerationError


class Template:
    name = "template"
    ready = True  # the Generator protocol's declared attributes: nothing to load

    def load(self) -> Template:
        return self


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


def test_visitors_choose_only_listed_models_one_load_at_a_time():
    """Issue 19 item 4: any visitor could make the server load any Hub id or server path, one
    background load per name; now only WORKBENCH_MODEL_CHOICES (plus the configured model)."""
    gate = threading.Event()
    made = []

    def make(backend, model):
        made.append(model)
        gate.wait(10)
        return Template()

    settings = Settings(generator="template", generator_model="small", model_choices="listed-a, listed-b")
    pool = pool_with(settings, make)
    assert not pool.allow_custom_models  # off unless the operator turns it on
    assert pool.model_choices("transformers") == ["small", "listed-a", "listed-b"]
    for name in ("/etc/passwd", "someone/huge-model"):
        with pytest.raises(ConfigError, match="not offered here.*WORKBENCH_MODEL_CHOICES"):
            pool.choose("transformers", name)
    first = pool.choose("transformers", "listed-a")
    assert "is loading" in first.note
    second = pool.choose("transformers", "listed-b")  # a second load waits for the first
    assert "waits: transformers:listed-a is loading" in second.note and made == ["listed-a"]
    gate.set()
    pool.wait("transformers", "listed-a", timeout=10)
    assert pool.choose("transformers", "listed-b") is not None and "listed-b" in made
    custom = pool_with(Settings(generator="template", allow_custom_models=True), lambda b, m: Template())
    assert custom.choose("transformers", "anything/at-all") is not None


def test_the_configured_llamacpp_or_openvino_model_is_offered():
    """WORKBENCH_GENERATOR=openvino (or llamacpp) refused every turn with "model 'default' is not offered
    here; choose one of none": only transformers and openai offered models."""
    for backend in ("openvino", "llamacpp"):
        pool = pool_with(Settings(generator=backend), lambda b, m: Template())
        assert pool.model_choices(backend) == ["default"]
        assert pool.choose() is not None  # the configured model, no refusal
        with pytest.raises(ConfigError, match="not offered here"):
            pool.choose(backend, "someone/huge-model")


def test_the_ui_send_event_refuses_an_unlisted_model(tiny_catalog, tmp_path):
    """A raw call to the UI's send event (no browser needed) names the model through TurnPrefs."""
    from ui_support import make_services

    from workbench.chat.turns import TurnPrefs, new_session, stream_turn

    services = make_services(tiny_catalog, tmp_path / "fb")
    session = new_session(services)
    with pytest.raises(ConfigError, match="not offered here"):
        list(stream_turn(services, session, "Toy Story", TurnPrefs(backend="transformers", model="/srv/secret")))
