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
* the configured LLM loads (:class:`~workbench.dialogue.generators.pool.GeneratorPool`); until it
  is ready, turns use the template generator and the status line says so.

The pool, the background jobs (:mod:`workbench.background`) and the recommender's disk cache
(:mod:`workbench.recommend.cache`) are components of their own; this module only wires them.

It knows how components fit together; it does not know gradio.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import __version__
from workbench.background import BackgroundTasks
from workbench.config import Settings
from workbench.dialogue.generators.pool import MAX_LOADED_GENERATORS as MAX_LOADED_GENERATORS
from workbench.dialogue.generators.pool import GeneratorChoice as GeneratorChoice
from workbench.dialogue.generators.pool import GeneratorPool
from workbench.errors import ItemIndexError
from workbench.monitoring import AlertThresholds, TurnRecorder
from workbench.monitoring.annotators import AnnotatorQualityCollector
from workbench.quality.annotators import every_project_quality
from workbench.recommend.cache import RECOMMENDER_CACHE_VERSION as RECOMMENDER_CACHE_VERSION
from workbench.recommend.cache import load_or_fit_recommender
from workbench.recommend.cache import recommender_cache_dir as recommender_cache_dir

if TYPE_CHECKING:
    from workbench.catalog import Catalog
    from workbench.database import Database
    from workbench.dialogue.engine import ChatEngine
    from workbench.dialogue.titles import TitleIndex
    from workbench.feedback.store import RecordStore
    from workbench.interactions import Interactions
    from workbench.projects.service import ProjectService
    from workbench.recommend.base import Recommender
    from workbench.retrieval.embed import Embedder
    from workbench.retrieval.hybrid import HybridRetriever

log = logging.getLogger(__name__)

#: Longest a turn waits for the recommenders still loading at start-up (seconds).
RECOMMENDER_WAIT_S = 30.0

# ---------------------------------------------------------------------------
# the bundle


@dataclass
class Services:
    """Everything the UI and API need, built once per process by :func:`build_services`."""

    settings: Settings
    catalog: Catalog
    engine: ChatEngine
    store: RecordStore  # JSONL shards in the feedback folder, or PostgreSQL
    generators: GeneratorPool
    embedder: Embedder | None = None
    retriever: HybridRetriever | None = None
    recommender: Recommender | None = None  # None until the background fit finishes
    projects: ProjectService | None = None  # over the feedback folder's projects (or the database)
    app_version: str = __version__
    index_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    background: BackgroundTasks = field(default_factory=BackgroundTasks)
    #: Metrics, recent turns and alerts (:mod:`workbench.monitoring`); served at ``/metrics``.
    monitor: TurnRecorder | None = None
    #: The shared PostgreSQL (``database_url``), else ``None``: API sessions are stored there too.
    database: Database | None = None

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
    from workbench.manifest import MANIFEST
    from workbench.retrieval.hybrid import display_path
    from workbench.retrieval.index import rebuild_command

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

    catalog: Catalog
    embedder: Embedder
    retriever: HybridRetriever
    interactions: Interactions
    index_id: str
    titles: TitleIndex | None = None  # the catalogue's TitleIndex, shared by the understander and the grounder


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
    from workbench.interactions import load_interactions
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import open_retriever

    set_cpu_threads(settings.resolved_cpu_threads)  # before any model computes (setting cpu_threads)
    t = time.perf_counter()
    catalog = load_catalog(settings.catalog, settings.catalog_columns or None)
    if timings is not None:
        timings["catalog"] = round(time.perf_counter() - t, 3)
    require_saved_index(settings)
    t = time.perf_counter()
    embedder = load_embedder(settings.embed_model, settings.embed_device)  # the CPU on ZeroGPU
    retriever = open_retriever(catalog, embedder, settings.index_dir, settings.index_kind)
    index_id = index_id_of(dict(getattr(retriever.index, "meta", {}) or {}), settings.index_dir)
    if timings is not None:
        timings["index"] = round(time.perf_counter() - t, 3)
    interactions = load_interactions(settings.interactions, known_ids=None)
    from workbench.dialogue.titles import TitleIndex

    return CoreParts(catalog, embedder, retriever, interactions, index_id, TitleIndex(catalog))


def build_engine(settings: Settings, *, generator: Any = None) -> ChatEngine:
    """A ready :class:`~workbench.dialogue.engine.ChatEngine` for one process (the terminal chat,
    benchmarks): the parts of :func:`load_core`, the recommender from the same cache the app uses
    (fitted now when absent), and ``generator`` or the one the settings name."""
    from workbench.dialogue.engine import default_engine

    core = load_core(settings)
    recommender = load_or_fit_recommender(settings, core.catalog, core.interactions, core.retriever.index,
                                          core.index_id)
    if generator is None:
        from workbench.dialogue.generators import load_generator

        generator = load_generator(settings)
    from workbench.dialogue.intent_model import load_intent_model

    return default_engine(core.catalog, core.retriever, recommender, generator, k=settings.k,
                          timeout_s=settings.generator_timeout_s, titles=core.titles,
                          intent_guesser=load_intent_model(settings.intent_model, core.embedder))


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
    from workbench.dialogue.engine import default_engine
    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.dialogue.intent_model import load_intent_model
    from workbench.feedback.backends import open_feedback_store
    from workbench.projects.service import open_project_service

    timings: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        return now

    start = time.perf_counter()
    if settings.zero_gpu:  # ZeroGPU asks for `spaces` before anything initialises CUDA
        from workbench.dialogue.generators.zerogpu import import_spaces

        import_spaces()
    core = load_core(settings, timings)
    catalog, embedder, retriever = core.catalog, core.embedder, core.retriever
    interactions, index_id = core.interactions, core.index_id
    t = time.perf_counter()
    template = TemplateGenerator()
    engine = default_engine(catalog, retriever, None, template, k=settings.k,
                            timeout_s=settings.generator_timeout_s, titles=core.titles,
                            intent_guesser=load_intent_model(settings.intent_model, embedder))
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
