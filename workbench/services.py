"""Services: the one place that wires the workbench's components together.

:func:`build_services` turns :class:`~workbench.config.Settings` into a
:class:`Services` bundle (catalogue, embedder, retriever, fitted recommender,
dialogue engine, feedback store, generators). The UI, the API endpoints and the
benchmarks receive a ``Services`` and never construct components themselves.

Start-up is kept fast (the page is served in seconds): the committed index is
loaded synchronously; three things then happen on background threads *started
here* (never at import):

* the fitted recommender is loaded from its cache under ``cache_dir`` (or fitted
  on the bundled interactions and cached, on a first start); the first turns
  wait for it, bounded by :data:`RECOMMENDER_WAIT_S`;
* the sentence-transformers model is warmed up, so the first turn does not pay
  for loading it;
* the configured LLM loads (:class:`GeneratorPool`); until it is ready, turns
  use the template generator and the status line says so.

It knows how components fit together; it does not know gradio.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.config import GENERATOR_BACKENDS, Settings
from workbench.errors import ConfigError, ItemIndexError, WorkbenchError
from workbench.monitoring import AlertThresholds, TurnRecorder
from workbench.monitoring.annotators import AnnotatorQualityCollector
from workbench.quality.annotators import every_project_quality

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
    """Build (and load) a generator for ``(backend, model)`` through the dialogue factory."""

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
        if backend in ("transformers", "llamacpp"):
            return self.settings.generator_model
        return ""

    def model_choices(self, backend: str) -> list[str]:
        """Models visitors may choose for ``backend``: the configured one, then ``WORKBENCH_MODEL_CHOICES``.

        With custom models allowed, models loaded on request are offered too.
        """
        if backend not in ("transformers", "openai"):
            return []
        default = self.default_model(backend)
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
            _notify(self.on_change)

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


def _name(generator: Any, default: str = "template") -> str:
    return str(getattr(generator, "name", default) or default)


# ---------------------------------------------------------------------------
# background start-up work


def _notify(listeners: list[Callable[[], None]]) -> None:
    for listener in list(listeners):
        try:
            listener()
        except Exception:  # a listener (the page's status line) must never break a load
            log.exception("status listener failed")


class BackgroundTasks:
    """Named start-up jobs on daemon threads (embedder warm-up, recommender fit), with a status."""

    def __init__(self) -> None:
        self._state: dict[str, str] = {}  # name -> running | done | failed: reason
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        #: called (on the job's thread) after each job ends, done or failed
        self.on_change: list[Callable[[], None]] = []

    def run(self, name: str, fn: Callable[[], Any], label: str = "") -> None:
        def target() -> None:
            t0 = time.monotonic()
            try:
                fn()
                self._state[name] = "done"
                log.info("%s done in %.1fs", name, time.monotonic() - t0)
            except Exception as exc:
                self._state[name] = f"failed: {exc}"
                log.warning("%s failed: %s", name, exc)
            _notify(self.on_change)

        with self._lock:
            self._state[name] = "running"
            thread = threading.Thread(target=target, name=f"startup-{name}", daemon=True)
            self._threads[name] = thread
        thread.start()

    def state(self, name: str) -> str | None:
        return self._state.get(name)

    @property
    def running(self) -> list[str]:
        return [n for n, s in self._state.items() if s == "running"]

    def wait_for(self, name: str, timeout: float | None = None) -> bool:
        """Block until job ``name`` has finished (or was never started); True when it is not running."""
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)
        return self._state.get(name) != "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job has finished; True when none is still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self._threads.values()):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.running


#: Longest a turn waits for the recommenders still loading at start-up (seconds).
RECOMMENDER_WAIT_S = 30.0

#: Bump when what the recommender cache holds changes meaning.
RECOMMENDER_CACHE_VERSION = 1


def recommender_cache_dir(settings: Settings, catalog: Any, interactions: Any, index_id: str) -> Path:
    """Where the fitted recommender for this catalogue, interactions and index is cached."""
    from workbench.recommend.base import interactions_hash

    key = hashlib.sha256(
        f"{RECOMMENDER_CACHE_VERSION}|{catalog.content_hash}|{interactions_hash(interactions)}|{index_id}".encode()
    ).hexdigest()[:16]
    return Path(settings.cache_dir) / "recommenders" / key


def load_or_fit_recommender(settings: Settings, catalog: Any, interactions: Any, index: Any,
                            index_id: str) -> Any:
    """The fitted hybrid recommender: from the cache when it is there, else fitted and cached.

    ``settings.recommender_dir`` (``WORKBENCH_RECOMMENDER_DIR``) serves a refitted one instead,
    checked against this catalogue and index (:func:`workbench.recommend.refit.load_refit`).
    """
    from workbench.recommend import load_scorer
    from workbench.recommend.base import MANIFEST
    from workbench.recommend.factory import build_recommender

    if settings.recommender_dir:
        from workbench.recommend.refit import load_refit

        return load_refit(settings.recommender_dir, catalog, index_id)

    if not settings.cache_dir:  # caching switched off (benchmarks): fit every time
        return build_recommender(catalog, interactions, index)
    directory = recommender_cache_dir(settings, catalog, interactions, index_id)
    if (directory / MANIFEST).exists():
        try:
            return load_scorer(directory, catalog=catalog, interactions=interactions)
        except (WorkbenchError, OSError, ValueError, KeyError) as exc:
            log.warning("recommender cache %s unusable (%s); refitting", directory, exc)
    recommender = build_recommender(catalog, interactions, index)
    try:
        tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        recommender.save(tmp)
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
        os.replace(tmp, directory)
    except OSError as exc:  # a read-only cache only costs a refit next time
        log.warning("could not cache the fitted recommender in %s: %s", directory, exc)
    return recommender


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
    recommender: Any = None  # None until the background fit finishes
    projects: Any = None  # workbench.projects.ProjectService over the feedback folder's projects
    app_version: str = __version__
    index_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    background: BackgroundTasks = field(default_factory=BackgroundTasks)
    #: Metrics, recent turns and alerts (:mod:`workbench.monitoring`); served at ``/metrics``.
    monitor: TurnRecorder | None = None
    #: The shared PostgreSQL (``database_url``), else ``None``: API sessions are stored there too.
    database: Any = None

    def __post_init__(self) -> None:
        if self.monitor is None:
            self.monitor = TurnRecorder(AlertThresholds.from_settings(self.settings))
        self.monitor.watch_llm(self.generators.default_ready)
        self.store.on_append = self.monitor.record_feedback
        # per-annotator gold accuracy, agreement and flags at /metrics, read from the project store at scrape
        self.monitor.registry.register(AnnotatorQualityCollector(lambda: every_project_quality(self.projects)))

    def describe(self) -> str:
        """One line for the page header: catalogue size, index, version."""
        parts = [f"{len(self.catalog):,} movies"]
        if self.index_id:
            parts.append(f"index {self.index_id}")
        parts.append(f"v{self.app_version}")
        return " · ".join(parts)

    def wait_for_recommender(self, timeout: float = RECOMMENDER_WAIT_S) -> bool:
        """Let a turn wait (bounded) for the recommender still loading at start-up.

        Recommendations without collaborative filtering are noticeably worse, so the first
        turns after a start wait for it rather than answer from search alone; after
        ``timeout`` they go ahead without it (and the status line says so).
        """
        return self.background.wait_for("recommenders", timeout)

    @property
    def busy(self) -> bool:
        """Something is still loading in the background (an LLM, the recommenders)."""
        return self.generators.loading or bool(self.background.running)

    def on_status_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever :meth:`status` may have changed (a model or a start-up job finished)."""
        self.generators.on_change.append(listener)
        self.background.on_change.append(listener)

    def status(self) -> str:
        """The generator's status, any start-up work still running and any alert crossed, for the header."""
        parts = [self.generators.status()]
        state = self.background.state("recommenders")
        if state == "running":
            parts.append("collaborative filtering is loading; until then recommendations come "
                         "from search and popularity")
        elif state and state.startswith("failed"):
            parts.append(f"collaborative filtering unavailable ({state[len('failed: '):]})")
        parts += [f"⚠ {alert.message()}" for alert in self.monitor.alerts()]
        return " · ".join(parts)


def index_id_of(meta: dict[str, Any], index_dir: str) -> str:
    """A short, stable id for a saved index: its folder name and a hash of its manifest."""
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{Path(index_dir).name}@{digest}"


def require_saved_index(settings: Settings, index_dir: str | Path | None = None) -> None:
    """Stop unless ``index_dir`` (default: the setting) holds a saved index, or building one is asked for.

    A mistyped ``WORKBENCH_INDEX_DIR``, or a folder whose ``meta.json`` was deleted, used to make
    the app re-encode the whole catalogue at start-up for minutes. Building is explicit: the
    ``index build`` command, or ``WORKBENCH_BUILD_INDEX=1`` for an index built in memory.

    Raises:
        ItemIndexError: naming the folder, what is missing and the command that builds it.
    """
    from workbench.index import MANIFEST, rebuild_command
    from workbench.retrieve import display_path

    directory = Path(settings.index_dir if index_dir is None else index_dir)
    if settings.build_index or (directory / MANIFEST).is_file():
        return
    missing = "folder not found" if not directory.exists() else f"no {MANIFEST} in it"
    command = rebuild_command(
        directory, {"catalog_source": display_path(settings.catalog), "model_id": settings.embed_model}
    )
    if settings.catalog_columns:
        command += f" --columns {settings.catalog_columns}"
    raise ItemIndexError(
        f"no index at {directory} ({missing}); build it with: {command} "
        "(or set WORKBENCH_BUILD_INDEX=1 to build one in memory at every start, which is slow)"
    )


@dataclass
class CoreParts:
    """What every way of running the engine loads first: catalogue, embedder, index, interactions."""

    catalog: Any
    embedder: Any
    retriever: Any
    interactions: Any
    index_id: str
    titles: Any = None  # the catalogue's TitleIndex, shared by the understander and the grounder


def load_core(settings: Settings, timings: dict[str, float] | None = None) -> CoreParts:
    """Load the catalogue, the embedder, the saved index and the interactions named by ``settings``.

    A missing index stops here (:func:`require_saved_index`) unless ``settings.build_index``
    asks for one built in memory.

    The one place these are wired: :func:`build_services` (the app), :func:`build_engine` (the
    terminal chat) and the benchmarks all start here. No embedding disk cache: it only helps index
    builds, and for serving it would store every user query. ``timings`` receives seconds per step.
    """
    from workbench.catalog import load_catalog
    from workbench.device import set_cpu_threads
    from workbench.embed import load_embedder
    from workbench.interactions import load_interactions
    from workbench.retrieve import open_retriever

    set_cpu_threads(settings.resolved_cpu_threads)  # before any model computes (setting cpu_threads)
    t = time.perf_counter()
    catalog = load_catalog(settings.catalog, settings.catalog_columns or None)
    if timings is not None:
        timings["catalog"] = round(time.perf_counter() - t, 3)
    require_saved_index(settings)
    t = time.perf_counter()
    embedder = load_embedder(settings.embed_model, settings.device)
    retriever = open_retriever(catalog, embedder, settings.index_dir, settings.index_kind)
    index_id = index_id_of(dict(getattr(retriever.index, "meta", {}) or {}), settings.index_dir)
    if timings is not None:
        timings["index"] = round(time.perf_counter() - t, 3)
    interactions = load_interactions(settings.interactions, known_ids=None)
    from workbench.dialogue.titles import TitleIndex

    return CoreParts(catalog, embedder, retriever, interactions, index_id, TitleIndex(catalog))


def build_engine(settings: Settings, *, generator: Any = None) -> Any:
    """A ready :class:`~workbench.dialogue.engine.ChatEngine` for one process (the terminal chat,
    benchmarks): the parts of :func:`load_core`, the recommender from the same cache the app uses
    (fitted now when absent), and ``generator`` or the one the settings name."""
    from workbench.dialogue.engine import ChatEngine

    core = load_core(settings)
    recommender = load_or_fit_recommender(settings, core.catalog, core.interactions, core.retriever.index,
                                          core.index_id)
    if generator is None:
        from workbench.dialogue.generators import load_generator

        generator = load_generator(settings)
    return ChatEngine(core.catalog, core.retriever, recommender, generator, k=settings.k,
                      timeout_s=settings.generator_timeout_s, titles=core.titles)


def build_services(
    settings: Settings,
    *,
    load_generator_in_background: bool = True,
    fit_in_background: bool = True,
) -> Services:
    """Wire every component from ``settings``.

    Loads the catalogue, the embedder and the saved index, and opens the
    feedback store. The fitted recommender is loaded from a cache under
    ``settings.cache_dir`` or, on a first start, fitted and cached; both happen
    in a background thread while the app already answers with retrieval and
    popularity. The configured LLM, unless told not to,
    starts loading in another background thread; the template generator
    answers until it is ready. Timings of each step are in ``Services.timings``.

    Args:
        settings: the configuration.
        load_generator_in_background: start loading the configured LLM now
            (the app). ``False`` loads nothing until a turn asks for it.
        fit_in_background: ``False`` fits the recommenders before returning
            (tests, benchmarks, the CLI).

    Raises:
        WorkbenchError: a file, index or setting is wrong (the message says which).
    """
    from workbench.database import Database
    from workbench.dialogue.engine import ChatEngine
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.feedback.backends import open_feedback_store
    from workbench.projects.service import open_project_service

    timings: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        return now

    start = time.perf_counter()
    core = load_core(settings, timings)
    catalog, embedder, retriever = core.catalog, core.embedder, core.retriever
    interactions, index_id = core.interactions, core.index_id
    t = time.perf_counter()
    template = TemplateGenerator()
    engine = ChatEngine(catalog, retriever, None, template, k=settings.k, timeout_s=settings.generator_timeout_s,
                        titles=core.titles)
    # With database_url, feedback and projects share one PostgreSQL pool (migrated here, at start-up).
    database = Database(settings.database_url) if settings.database_url else None
    store = open_feedback_store(settings, catalog, database=database)
    # Annotation projects live beside the feedback shards (or in the database); their records go to the
    # same store (and its Hub sync). Opening recovers records a killed process committed but did not write.
    projects = open_project_service(database or settings.resolved_feedback_dir, feedback=store)
    generators = GeneratorPool(settings, template)
    services = Services(
        settings=settings, catalog=catalog, engine=engine, store=store, generators=generators,
        projects=projects, embedder=embedder, retriever=retriever, index_id=index_id, timings=timings,
        database=database,
    )
    t = step("engine", t)
    if settings.recommender_dir:  # a wrong refitted model stops start-up, naming the setting
        from workbench.recommend.refit import check_refit

        check_refit(settings.recommender_dir, catalog, index_id)

    def fit() -> None:
        recommender = load_or_fit_recommender(settings, catalog, interactions, retriever.index, index_id)
        # One attribute assignment: a turn reads the engine's recommender once per gather.
        engine.recommender = services.recommender = recommender

    if fit_in_background:
        services.background.run("recommenders", fit)
    else:
        fit()
        t = step("recommenders", t)
    if load_generator_in_background:
        generators.start()
    # The sentence-transformers model loads lazily; warm it so the first turn does not pay for it.
    services.background.run("embedder", lambda: embedder.encode(["warm up"]))
    timings["total"] = round(time.perf_counter() - start, 3)
    log.info("services ready in %.2fs: %s", timings["total"], timings)
    return services
