"""``load_generator(settings)``: the one place that turns settings into a generator.

* ``template``: :class:`TemplateGenerator`.
* ``transformers``: :class:`TransformersGenerator` for ``generator_model``, wrapped in a
  :class:`FallbackGenerator` so a failure or a missed deadline is answered by the template; on a
  ZeroGPU Space each reply also runs inside ``spaces.GPU`` (:class:`ZeroGPUGenerator`).
* ``openai``: :class:`OpenAIGenerator` for ``openai_base_url``/``openai_model``, wrapped the same way.
* ``llamacpp``: :class:`LlamaCppGenerator` for ``generator_model`` (a ``.gguf`` path, or the bundled
  SmolLM2 GGUF for the default name), wrapped the same way; needs ``requirements-llamacpp.txt``.
* ``openvino``: :class:`OpenVINOGenerator` for ``default`` or ``smollm2-135m-instruct``, exported
  once to OpenVINO int8 (``openvino_export_python`` runs the exporter), wrapped the same way; needs
  ``requirements-openvino.txt``. ``generator_batching`` runs its replies in OpenVINO GenAI's continuous batch.
* ``generator_model`` ``default`` (the default) is the bundled SmolLM2 with the shipped ReDial
  LoRA adapter merged in (``assets/generator-adapter/``); ``smollm2-135m-instruct`` the plain base.
  ``llamacpp`` cannot merge an adapter and serves the plain GGUF for ``default`` (its name says so).
* ``auto``: transformers when the model is available without the network (the
  bundled SmolLM2 GGUF, or a local directory), else template. On a Space (where
  the Hub is reachable) ``auto`` also picks transformers for a Hub id.

Construction is cheap: no weights load here. Call ``generator.load()`` (in a
background thread, if you like) to load them before the first reply.

It knows settings and generator classes; it does not know the engine or gradio.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from workbench.config import Settings
from workbench.dialogue.generators.base import Generator
from workbench.dialogue.generators.fallback import FallbackGenerator
from workbench.dialogue.generators.llamacpp import LlamaCppGenerator
from workbench.dialogue.generators.openai_compat import OpenAIGenerator
from workbench.dialogue.generators.openvino import OpenVINOGenerator
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.generators.transformers import (
    ADAPTED_MODEL,
    DEFAULT_MODEL,
    TransformersGenerator,
    find_bundled_gguf,
)
from workbench.dialogue.generators.zerogpu import ZeroGPUGenerator
from workbench.errors import ConfigError, GenerationError


def transformers_available(model: str, *, hub_reachable: bool = False) -> bool:
    """Whether ``model`` can be loaded here: torch/transformers installed and the weights at hand."""
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        return False
    if model in (DEFAULT_MODEL, ADAPTED_MODEL):
        return find_bundled_gguf() is not None or hub_reachable
    if Path(model).expanduser().exists():
        return True
    return hub_reachable


def load_generator(settings: Settings) -> Generator:
    """The generator ``settings`` ask for (see the module docstring)."""
    backend = settings.generator
    if backend == "auto":
        backend = (
            "transformers"
            if transformers_available(settings.generator_model, hub_reachable=settings.on_space)
            else "template"
        )
    if backend == "template":
        return TemplateGenerator()
    if backend == "transformers":
        primary: Generator = TransformersGenerator(
            settings.generator_model,
            device=settings.llm_device,
            max_new_tokens=settings.max_new_tokens,
            cache_dir=settings.cache_dir,
            timeout_s=settings.generator_timeout_s,
            threads=settings.resolved_cpu_threads,
            dtype=settings.generator_dtype,
            batching=settings.generator_batching,
            max_batch=settings.generator_max_batch,
        )
        if settings.zero_gpu:  # a ZeroGPU Space: each reply holds the GPU inside spaces.GPU
            primary = ZeroGPUGenerator(primary, settings.zero_gpu_duration_s)
    elif backend == "llamacpp":
        # llama.cpp runs GGUF files and cannot merge the adapter: ``default`` is the plain bundled
        # GGUF here, and the generator's name (llamacpp:smollm2-135m-instruct) says so
        primary = LlamaCppGenerator(
            DEFAULT_MODEL if settings.generator_model == ADAPTED_MODEL else settings.generator_model,
            max_new_tokens=settings.max_new_tokens,
            timeout_s=settings.generator_timeout_s,
            threads=settings.resolved_cpu_threads,
        )
    elif backend == "openvino":
        try:
            primary = OpenVINOGenerator(
                settings.generator_model,
                cache_dir=settings.cache_dir,
                max_new_tokens=settings.max_new_tokens,
                timeout_s=settings.generator_timeout_s,
                threads=settings.resolved_cpu_threads,
                export_python=settings.openvino_export_python,
                batching=settings.generator_batching,
                max_batch=settings.generator_max_batch,
            )
        except GenerationError as exc:
            raise ConfigError(f"setting 'generator' is 'openvino' but {exc}") from None
    elif backend == "openai":
        try:
            primary = OpenAIGenerator(
                settings.openai_base_url,
                settings.openai_model,
                settings.openai_api_key,
                timeout_s=settings.generator_timeout_s,
                retries=settings.openai_retries,
                max_new_tokens=settings.max_new_tokens,
            )
        except GenerationError as exc:
            raise ConfigError(f"setting 'generator' is 'openai' but {exc}") from None
    else:  # Settings validates choices; this guards new backends added there only
        raise ConfigError(f"setting 'generator': unknown backend {backend!r}")
    return FallbackGenerator.around(primary, TemplateGenerator(), timeout_s=settings.generator_timeout_s)
