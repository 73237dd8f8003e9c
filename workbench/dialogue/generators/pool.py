"""The generator pool: generators by ``(backend, model)``, LLMs loading on background threads.

:class:`GeneratorPool` hands a turn the generator it asked for when that one is ready, and the
template generator (with a note saying why) while it loads or after it failed; at most
:data:`MAX_LOADED_GENERATORS` LLMs stay loaded. It reads what the
:class:`~workbench.dialogue.generators.base.Generator` protocol declares (``ready``, ``load()``),
builds generators through :func:`~workbench.dialogue.generators.factory.load_generator`, and knows
nothing of the UI or the services that own it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.background import notify
from workbench.config import GENERATOR_BACKENDS, Settings
from workbench.dialogue.generators.base import Generator
from workbench.dialogue.generators.factory import load_generator
from workbench.errors import ConfigError, WorkbenchError

log = logging.getLogger(__name__)

#: How many LLMs (backend, model) may stay loaded at once; the least recently chosen is dropped.
MAX_LOADED_GENERATORS = 2


# ---------------------------------------------------------------------------
# generators


@dataclass(frozen=True)
class GeneratorChoice:
    """The generator a turn will use, its ``backend:model`` name and a note for the status line."""

    generator: Generator
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


def _default_make(settings: Settings) -> Callable[[str, str], Generator]:
    """Build (and load) a generator for ``(backend, model)`` through the dialogue factory."""

    def make(backend: str, model: str) -> Generator:
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
        template: Generator,
        make: Callable[[str, str], Generator] | None = None,
        *,
        allow_custom_models: bool | None = None,
    ):
        self.settings = settings
        self.template = template
        self._make = make or _default_make(settings)
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._lock = threading.Lock()
        #: called (on the loading thread) after each model load ends, ready or failed
        self.on_change: list[Callable[[], None]] = []
        # Free-text model names (any Hub id or server path) only when the operator allows them.
        self.allow_custom_models = settings.allow_custom_models if allow_custom_models is None else allow_custom_models

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
        if backend in ("transformers", "llamacpp", "openvino"):
            return self.settings.generator_model
        return ""

    def model_choices(self, backend: str) -> list[str]:
        """Models visitors may choose for ``backend``: the configured one, then ``WORKBENCH_MODEL_CHOICES``.

        With custom models allowed, models loaded on request are offered too.
        """
        default = self.default_model(backend)
        if backend in ("llamacpp", "openvino"):  # in-process runtimes of the one configured model
            return [default]
        if backend not in ("transformers", "openai"):
            return []
        models = list(dict.fromkeys(m for m in (default, *self.settings.offered_models) if m))
        if self.allow_custom_models:
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
            if not generator.ready:
                generator.load()
            slot.generator = generator
            slot.state = "ready"
            log.info("generator %s:%s ready in %.1fs", slot.backend, slot.model, time.monotonic() - t0)
        except Exception as exc:  # any failure means: keep answering with the template
            slot.error = str(exc) if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
            slot.state = "failed"
            log.warning("generator %s:%s failed to load: %s", slot.backend, slot.model, slot.error)
        finally:
            slot.seconds = time.monotonic() - t0
            notify(self.on_change)

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
    def choose(self, backend: str | None = None, model: str | None = None, *,
               operator: bool = False) -> GeneratorChoice:
        """The generator for the next turn. Never blocks; falls back to the template.

        ``operator``: the model comes from the operator's configuration (an arena system), not a
        visitor, so it need not be among the offered models.
        """
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
        if not (self.allow_custom_models or operator) and model not in self.model_choices(backend):
            offered = ", ".join(repr(m) for m in self.model_choices(backend)) or "none"
            raise ConfigError(
                f"model {model[:100]!r} is not offered here; choose one of {offered} "
                "(the operator lists models in WORKBENCH_MODEL_CHOICES)"
            )
        label = f"{backend}:{model}"
        with self._lock:
            busy = (backend, model) not in self._slots and next(
                (f"{s.backend}:{s.model}" for s in self._slots.values() if s.state == "loading"), None
            )
        if busy:  # one load at a time: a visitor cannot start many downloads at once
            return GeneratorChoice(
                self.template, _name(self.template), False,
                f"{label} waits: {busy} is loading; replies use the template generator, try again when it is ready",
            )
        slot = self._slot(backend, model)
        if slot.state == "ready":
            return GeneratorChoice(slot.generator, _name(slot.generator, label), True)
        if slot.state == "loading":
            return GeneratorChoice(
                self.template, _name(self.template), False,
                f"{label} is loading ({time.monotonic() - slot.started:.0f}s); "
                "replies use the template generator until it is ready",
            )
        # The loader's error can name server paths: it stays in the server log (see _load).
        note = f"could not load model {label}; using the template generator (details in the server log)"
        if auto:
            note = "no LLM available; using the template generator (details in the server log)"
        return GeneratorChoice(self.template, _name(self.template), False, note)

    def status(self) -> str:
        """One line about the default generator, for the page header."""
        choice = self.choose()
        if choice.ready:
            return f"Generator: {choice.name}"
        return f"Generator: {choice.name} · {choice.note}"

    def default_ready(self) -> bool:
        """The configured generator answers turns now (the template always does); starts nothing."""
        backend = self.default_backend
        if backend == "template":
            return True
        if backend == "openai" and not self.settings.openai_base_url:
            return False
        slot = self._slots.get((backend, self.default_model(backend)))
        return slot is not None and slot.state == "ready"

    @property
    def loading(self) -> bool:
        with self._lock:
            return any(s.state == "loading" for s in self._slots.values())


def _name(generator: Generator, default: str = "template") -> str:
    return str(generator.name or default)
