"""Dialogue generators: template (default fallback), transformers (local causal LMs), OpenAI-compatible HTTP,
llamacpp (a GGUF in-process through llama-cpp-python), openvino (the default model exported to OpenVINO int8).

Every generator follows :class:`~workbench.dialogue.generators.base.Generator`:
``stream(request)`` yields text pieces and ``generate(request)`` is their join.
:func:`load_generator` builds the one the settings ask for. No module here
imports torch, transformers or llama_cpp at import time.
"""

from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.dialogue.generators.factory import load_generator, transformers_available
from workbench.dialogue.generators.fallback import (
    FALLBACK_NOTICE,
    FALLBACK_NOTICE_MIDWAY,
    FallbackGenerator,
    FallbackStream,
)
from workbench.dialogue.generators.llamacpp import LlamaCppGenerator, llamacpp_available
from workbench.dialogue.generators.openai_compat import OpenAIGenerator
from workbench.dialogue.generators.openvino import OpenVINOGenerator, openvino_available
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.dialogue.generators.transformers import (
    DEFAULT_MODEL,
    TransformersGenerator,
    find_bundled_gguf,
)

__all__ = [
    "DEFAULT_MODEL",
    "FALLBACK_NOTICE",
    "FALLBACK_NOTICE_MIDWAY",
    "FallbackGenerator",
    "FallbackStream",
    "GenerationRequest",
    "Generator",
    "LlamaCppGenerator",
    "OpenAIGenerator",
    "OpenVINOGenerator",
    "TemplateGenerator",
    "TransformersGenerator",
    "find_bundled_gguf",
    "llamacpp_available",
    "load_generator",
    "openvino_available",
    "transformers_available",
]
