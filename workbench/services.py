"""Services: the one place that wires the workbench's components together.

:func:`build_services` turns :class:`~workbench.config.Settings` into a
:class:`Services` bundle (catalogue, embedder, retriever, fitted recommender,
dialogue engine, feedback store, generators). The UI, the API endpoints and the
benchmarks receive a ``Services`` and never construct components themselves.

Start-up is kept fast: the committed index is loaded, the recommenders are
fitted on the bundled interactions, and the LLM is loaded in a background
thread *started here* (never at import). Until it is ready, turns use the
template generator and :meth:`GeneratorPool.choose` says so.

It knows how components fit together; it does not know gradio.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench import __version__
from workbench.config import GENERATOR_BACKENDS, Settings
from workbench.errors import ConfigError, WorkbenchError

log = logging.getLogger(__name__)

#: How many LLMs (backend, model) may stay loaded at once; the least recently chosen is dropped.
MAX_LOADED_GENERATORS = 2


# ---------------------------------------------------------------------------
# generators


@dataclass(frozen=True)
class GeneratorChoice:
    """The generator a turn will use, its ``backend:model`` name and a note for the status line."""

    generator: Any
    name: str
    ready: bool  # False while the requested LLM is still loading (the template answers meanwhile)
    note: str = ""


@dataclass
class _Slot:
    backend: str
    model: str
    state: str = "loading"  # loading | ready | failed
    generator: Any = None
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    seconds: float | None = None
    last_used: float = field(default_factory=time.monotonic)


def _default_make(settings: Settings) -> Callable[[str, str], Any]:
    """Build a generator for ``(backend, model)`` through the generators package."""

    def make(backend: str, model: str) -> Any:
        from workbench.dialogue.generators import load_generator

        if backend == "openai":
            s = dataclasses.replace(settings, generator="openai", openai_model=model or settings.openai_model)
        else:
            s = dataclasses.replace(settings, generator=backend, generator_model=model or settings.generator_model)
        return load_generator(s)

    return make


class GeneratorPool:
    """Generators by ``(backend, model)``; LLMs load in background threads.

    :meth:`choose` never blocks on a model load: while the requested LLM is
    loading (or after it failed), it returns the template generator and a note
    saying why. The configured default starts loading in :meth:`start`.
    """

    def __init__(
        self,
        settings: Settings,
        template: Any,
        make: Callable[[str, str], Any] | None = None,
        *,
        allow_custom_models: bool = True,
    ):
        self.settings = settings
        self.template = template
        self._make = make or _default_make(settings)
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._lock = threading.Lock()
        self.allow_custom_models = allow_custom_models

    # defaults -----------------------------------------------------------
    @property
    def default_backend(self) -> str:
        """The configured backend with ``auto`` resolved: transformers, unless it failed to load."""
        backend = self.settings.generator
        if backend == "auto":
            slot = self._slots.get(("transformers", self.settings.generator_model))
            return "template" if slot is not None and slot.state == "failed" else "transformers"
        return backend

    def default_model(self, backend: str) -> str:
        if backend == "openai":
            return self.settings.openai_model
        if backend == "transformers":
            return self.settings.generator_model
        return ""

    def model_choices(self, backend: str) -> list[str]:
        """Models offered in the UI for ``backend`` (the configured one plus any loaded)."""
        models = [self.default_model(backend)] if self.default_model(backend) else []
        with self._lock:
            models += [m for (b, m) in self._slots if b == backend and m and m not in models]
        return models

    # loading ------------------------------------------------------------
    def start(self, backend: str | None = None, model: str | None = None, *, wait: bool = False) -> None:
        """Start loading ``(backend, model)`` (default: the configured generator) in the background."""
        backend = backend or self.settings.generator
        if backend == "auto":
            backend = "transformers"
        if backend == "template" or (backend == "openai" and not self.settings.openai_base_url):
            return
        model = model or self.default_model(backend)
        self._slot(backend, model)
        if wait:
            self.wait(backend, model)

    def _slot(self, backend: str, model: str) -> _Slot:
        key = (backend, model)
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                slot.last_used = time.monotonic()
                return slot
            slot = _Slot(backend, model)
            self._slots[key] = slot
            self._evict_locked()
        thread = threading.Thread(
            target=self._load, args=(slot,), name=f"load-{backend}-{model}"[:60], daemon=True
        )
        thread.start()
        return slot

    def _evict_locked(self) -> None:
        loaded = sorted(
            (s for s in self._slots.values() if s.state == "ready"), key=lambda s: s.last_used
        )
        for slot in loaded[: max(0, len(loaded) - MAX_LOADED_GENERATORS)]:
            del self._slots[(slot.backend, slot.model)]

    def _load(self, slot: _Slot) -> None:
        t0 = time.monotonic()
        try:
            generator = self._make(slot.backend, slot.model)
            load = getattr(generator, "load", None)
            if callable(load) and not getattr(generator, "ready", False):
                load()
            slot.generator = generator
            slot.state = "ready"
            log.info("generator %s:%s ready in %.1fs", slot.backend, slot.model, time.monotonic() - t0)
        except Exception as exc:  # any failure means: keep answering with the template
            slot.error = str(exc) if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
            slot.state = "failed"
            log.warning("generator %s:%s failed to load: %s", slot.backend, slot.model, slot.error)
        finally:
            slot.seconds = time.monotonic() - t0

    def wait(self, backend: str | None = None, model: str | None = None, timeout: float | None = None) -> bool:
        """Block until ``(backend, model)`` is loaded or failed; True when ready."""
        backend = backend or self.default_backend
        if backend == "template":
            return True
        model = model or self.default_model(backend)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            slot = self._slots.get((backend, model))
            if slot is None or slot.state != "loading":
                return slot is not None and slot.state == "ready"
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    # choosing -----------------------------------------------------------
    def choose(self, backend: str | None = None, model: str | None = None) -> GeneratorChoice:
        """The generator for the next turn. Never blocks; falls back to the template."""
        backend = (backend or "").strip() or self.settings.generator
        if backend not in GENERATOR_BACKENDS:
            raise ConfigError(f"generator backend must be one of {', '.join(GENERATOR_BACKENDS)}, got {backend!r}")
        auto = backend == "auto"
        if auto:
            backend = self.default_backend
        if backend == "template":
            return GeneratorChoice(self.template, _name(self.template), True)
        model = (model or "").strip() or self.default_model(backend)
        if backend == "openai" and not self.settings.openai_base_url:
            return GeneratorChoice(
                self.template, _name(self.template), False,
                "the openai backend needs WORKBENCH_OPENAI_BASE_URL; using the template generator",
            )
        if (
            not self.allow_custom_models
            and model != self.default_model(backend)
            and (backend, model) not in self._slots
        ):
            raise ConfigError(
                f"model {model!r} is not offered here; choose {self.default_model(backend)!r} "
                "(custom models are disabled on a Space)"
            )
        slot = self._slot(backend, model)
        label = f"{backend}:{model}"
        if slot.state == "ready":
            return GeneratorChoice(slot.generator, _name(slot.generator, label), True)
        if slot.state == "loading":
            return GeneratorChoice(
                self.template, _name(self.template), False,
                f"{label} is loading ({time.monotonic() - slot.started:.0f}s); "
                "replies use the template generator until it is ready",
            )
        note = f"{label} could not be loaded ({slot.error}); using the template generator"
        if auto:
            note = f"no LLM available ({slot.error}); using the template generator"
        return GeneratorChoice(self.template, _name(self.template), False, note)

    def status(self) -> str:
        """One line about the default generator, for the page header."""
        choice = self.choose()
        if choice.ready:
            return f"Generator: {choice.name}"
        return f"Generator: {choice.name} ({choice.note})"

    @property
    def loading(self) -> bool:
        with self._lock:
            return any(s.state == "loading" for s in self._slots.values())


def _name(generator: Any, default: str = "template") -> str:
    return str(getattr(generator, "name", default) or default)


# ---------------------------------------------------------------------------
# the bundle


@dataclass
class Services:
    """Everything the UI and API need, built once per process by :func:`build_services`."""

    settings: Settings
    catalog: Any  # workbench.catalog.Catalog
    engine: Any  # workbench.dialogue.engine.ChatEngine
    store: Any  # workbench.feedback FeedbackStore
    generators: GeneratorPool
    embedder: Any = None
    retriever: Any = None
    recommender: Any = None
    app_version: str = __version__
    index_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the page header: catalogue size, index, version."""
        parts = [f"{len(self.catalog):,} movies"]
        if self.index_id:
            parts.append(f"index {self.index_id}")
        parts.append(f"v{self.app_version}")
        return " · ".join(parts)


def build_services(settings: Settings, *, load_generator_in_background: bool = True) -> Services:
    """Wire every component from ``settings``.

    Args:
        settings: the configuration.
        load_generator_in_background: start loading the configured LLM in a
            background thread (the app); ``False`` loads nothing until a turn
            asks for it (tests and the CLI may prefer ``generators.start(wait=True)``).
    """
    raise NotImplementedError("wired when the engine and store land")
