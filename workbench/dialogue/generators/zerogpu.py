"""ZeroGPU Spaces: a language model's replies run inside ``spaces.GPU``; everything else stays on the CPU.

On a Hugging Face Space with ZeroGPU hardware (``SPACES_ZERO_GPU`` set, so setting ``zero_gpu``) a
GPU is lent only to a function decorated with ``spaces.GPU(duration=...)``, for at most that many
seconds per call, in a forked worker process. :class:`ZeroGPUGenerator` wraps a generator (the
transformers LLM) so that each reply's :meth:`stream` is one such call: the arguments cross to
the worker pickled (a registry key and the :class:`GenerationRequest`, never the model: the fork
inherits the loaded weights), and the text pieces stream back. Understanding, retrieval, the
FAISS index and ranking never enter it, so they keep running on the CPU between replies.

Off ZeroGPU (and wherever the ``spaces`` package is missing) ``spaces.GPU`` is not applied, so the
wrapper changes nothing. Tests install a stand-in ``spaces`` module.

It knows the ``spaces`` decorator and generators; it does not know gradio, the engine or settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.errors import ConfigError

#: Generators whose replies run on the GPU, by key: the forked worker finds the loaded model here.
_LIVE: dict[str, Generator] = {}
_LIVE_LOCK = threading.Lock()


def import_spaces() -> Any:
    """The ``spaces`` package (import it before anything initialises CUDA, as ZeroGPU asks)."""
    try:
        import spaces
    except ImportError as exc:
        raise ConfigError("setting 'zero_gpu' (SPACES_ZERO_GPU) is on but the `spaces` package is missing: "
                          "ZeroGPU Spaces preinstall it; elsewhere unset SPACES_ZERO_GPU") from exc
    return spaces


def _stream_on_gpu(key: str, request: GenerationRequest) -> Iterator[str]:
    """One reply of the generator registered as ``key`` (runs in ZeroGPU's worker, with the GPU)."""
    yield from _LIVE[key].stream(request)


class ZeroGPUGenerator:
    """``inner``'s replies, each inside ``spaces.GPU(duration=duration_s)``.

    Args:
        inner: the generator that needs the GPU (its ``load`` runs in the main process at start-up:
            ZeroGPU keeps weights placed on ``cuda`` there and moves them in each call).
        duration_s: seconds of GPU one reply may take (ZeroGPU schedules shorter calls sooner).
    """

    def __init__(self, inner: Generator, duration_s: int):
        if duration_s < 1:
            raise ConfigError(f"ZeroGPU duration must be at least 1 second, got {duration_s}")
        self.inner = inner
        self.duration_s = duration_s
        self.key = f"{inner.name}@{id(inner):x}"
        with _LIVE_LOCK:
            _LIVE[self.key] = inner
        self._gpu_stream: Callable[[str, GenerationRequest], Iterator[str]] = (
            import_spaces().GPU(duration=duration_s)(_stream_on_gpu))

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def ready(self) -> bool:
        return bool(getattr(self.inner, "ready", True))

    def load(self) -> ZeroGPUGenerator:
        load = getattr(self.inner, "load", None)
        if load is not None:
            load()
        return self

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield from self._gpu_stream(self.key, request)

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))
