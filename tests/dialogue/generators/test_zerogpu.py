"""ZeroGPU Spaces with a stand-in ``spaces`` module (no GPU here; bench/gpu/zerogpu_check.py is the real check).

Guards issue 27 part 5: on a ZeroGPU Space (``SPACES_ZERO_GPU``) the larger Hub model is picked
unless ``generator_model`` is set, the embedder stays on the CPU, each LLM reply is one
``spaces.GPU(duration=zero_gpu_duration_s)`` call whose arguments pickle (ZeroGPU sends them to a
forked worker), retrieval and ranking run outside it, and a missing ``spaces`` package is a clear
start-up error. Off ZeroGPU nothing is wrapped.
"""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import pytest

from workbench.config import Settings
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.factory import load_generator
from workbench.dialogue.generators.zerogpu import ZeroGPUGenerator
from workbench.dialogue.types import Turn
from workbench.errors import ConfigError


class StandInSpaces(types.ModuleType):
    """``spaces`` as ZeroGPU's decorator behaves from outside: a call per reply, pickled arguments."""

    def __init__(self) -> None:
        super().__init__("spaces")
        self.calls: list[int] = []
        self.inside = False

    def GPU(self, task=None, *, duration=None):  # noqa: N802 (the package's name)
        def decorate(fn):
            def on_gpu(*args, **kwargs):
                pickle.dumps((args, kwargs))  # ZeroGPU puts them on a multiprocessing queue
                self.calls.append(duration)
                self.inside = True
                try:
                    yield from fn(*args, **kwargs)
                finally:
                    self.inside = False

            return on_gpu

        return decorate(task) if callable(task) else decorate


@pytest.fixture
def spaces(monkeypatch):
    fake = StandInSpaces()
    monkeypatch.setitem(sys.modules, "spaces", fake)
    return fake


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    from generator_fixtures import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-lm"))


def test_a_zerogpu_space_picks_the_larger_model_and_keeps_the_embedder_on_the_cpu():
    s = Settings.from_env({"SPACES_ZERO_GPU": "true"})
    assert s.zero_gpu and s.generator_model == "HuggingFaceTB/SmolLM2-1.7B-Instruct"
    assert (s.embed_device, s.llm_device) == ("cpu", "cuda")
    mine = Settings.from_env({"SPACES_ZERO_GPU": "true", "WORKBENCH_GENERATOR_MODEL": "org/Other"})
    assert mine.generator_model == "org/Other"  # a model the owner set wins
    plain = Settings.from_env({"SPACES_ZERO_GPU": "true", "WORKBENCH_ZERO_GPU_MODEL": ""})
    assert plain.generator_model == Settings().generator_model
    off = Settings.from_env({})
    assert not off.zero_gpu and (off.embed_device, off.llm_device) == ("auto", "auto")
    with pytest.raises(ConfigError, match="zero_gpu_duration_s.*1-300"):
        Settings(zero_gpu_duration_s=0)


def _request() -> GenerationRequest:
    return GenerationRequest(turns=(Turn("user", "a tense crime film please"),))


def test_each_reply_is_one_gpu_call_with_the_setting_duration(spaces, tiny_model_dir):
    settings = Settings(generator="transformers", generator_model=str(tiny_model_dir), device="cpu",
                        max_new_tokens=6, zero_gpu=True, zero_gpu_duration_s=42)
    generator = load_generator(settings)
    assert isinstance(generator.primary, ZeroGPUGenerator) and generator.name.endswith(str(tiny_model_dir))
    generator.load()
    assert generator.ready and spaces.calls == []  # loading (at start-up) holds no GPU
    seen = []
    inner = generator.primary.inner
    original = inner.stream

    def watched(request):
        seen.append(spaces.inside)
        yield from original(request)

    inner.stream = watched
    reply = generator.generate(_request())
    assert spaces.calls == [42] and seen == [True] and isinstance(reply, str)
    generator.generate(_request())
    assert spaces.calls == [42, 42]


def test_retrieval_and_ranking_stay_outside_the_gpu_call(spaces, tiny_model_dir, tiny_catalog, hash_embedder,
                                                         monkeypatch):
    from dialogue_fixtures import tiny_engine

    from workbench.retrieval.hybrid import HybridRetriever

    settings = Settings(generator="transformers", generator_model=str(tiny_model_dir), device="cpu",
                        max_new_tokens=6, zero_gpu=True)
    searched_inside = []
    search = HybridRetriever.search

    def watched_search(self, *a, **kw):
        searched_inside.append(spaces.inside)
        return search(self, *a, **kw)

    monkeypatch.setattr(HybridRetriever, "search", watched_search)
    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    state = engine.new_state("z")
    list(engine.stream(state, "a tense heist thriller with detectives in the city",
                       generator=load_generator(settings).load()))
    assert spaces.calls == [30]  # one reply, the default duration
    assert searched_inside and not any(searched_inside)


def test_without_the_spaces_package_zero_gpu_is_a_clear_error(monkeypatch, tiny_model_dir):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces -> ImportError
    with pytest.raises(ConfigError, match="SPACES_ZERO_GPU.*spaces"):
        load_generator(Settings(generator="transformers", generator_model=str(tiny_model_dir), zero_gpu=True))


def test_off_zerogpu_nothing_is_wrapped(tiny_model_dir):
    generator = load_generator(Settings(generator="transformers", generator_model=str(tiny_model_dir)))
    assert not isinstance(generator.primary, ZeroGPUGenerator)
