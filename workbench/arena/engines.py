"""One chat engine per arena system, built from the parts the app already loaded.

:class:`SystemEngines` turns a :class:`~workbench.arena.systems.ResolvedSystem` into a
:class:`~workbench.dialogue.engine.ChatEngine` over the services' catalogue, reusing what is
loaded: the understander, explainer and grounder (and the catalogue's title index in them), the
ranker's catalogue-wide features, the retriever (embedder and index) and the fitted recommender.
Only a system that names another index or embedding model loads anything, once, and shares it
with every other system naming the same. Generators come from the services'
:class:`~workbench.services.GeneratorPool`, so an LLM two systems share loads once.

It knows the services' parts and systems; it does not know votes, pairing or gradio.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from workbench.arena.systems import ResolvedSystem
from workbench.dialogue.engine import ChatEngine
from workbench.dialogue.ranker import Ranker
from workbench.errors import ConfigError, WorkbenchError
from workbench.services import GeneratorChoice, Services


class SystemEngines:
    """Engines by system id, built on first use and kept (they hold no per-user data)."""

    def __init__(self, services: Services):
        self.services = services
        base = services.engine
        if not isinstance(base, ChatEngine):
            raise ConfigError(f"the arena needs the app's ChatEngine, got {type(base).__name__}")
        self.base: ChatEngine = base
        self._engines: dict[str, ChatEngine] = {}
        self._retrievers: dict[tuple[str, str], Any] = {}
        self._embedders: dict[str, Any] = {}
        self._lock = threading.Lock()

    def engine(self, system: ResolvedSystem) -> ChatEngine:
        """The engine for ``system``; its recommender is the services' current one (it fits in the background)."""
        with self._lock:
            engine = self._engines.get(system.system_id)
            if engine is None:
                engine = self._engines[system.system_id] = self._build(system)
        if "recommender" in system.config["sources"] and engine.recommender is not self.base.recommender:
            engine.recommender = self.base.recommender  # one assignment, as the services do
        return engine

    def _build(self, system: ResolvedSystem) -> ChatEngine:
        base = self.base
        sources = system.config["sources"]
        retriever = self._retriever(system) if "retriever" in sources else None
        recommender = base.recommender if "recommender" in sources else None
        if retriever is None or retriever is base.retriever:
            # Same index (or none): share the catalogue-wide features; history_dense keeps the
            # app's item vectors, which the weights switch off when a system does not want them.
            ranker = Ranker(base.catalog, retriever, recommender, understander=base.understander,
                            weights=system.weights, features=base.ranker.features)
        else:  # another index: its own item vectors for history_dense
            ranker = Ranker(base.catalog, retriever, recommender, understander=base.understander,
                            weights=system.weights, popularity=base.ranker.features.popularity)
        # the turn's generator comes from the pool; the default one is the template, behind the app's deadlines
        return base.with_parts(ranker=ranker, generator=base.generator.guard(base.fallback), k=system.config["k"])

    def _retriever(self, system: ResolvedSystem) -> Any:
        settings = self.services.settings
        index_dir = system.index_dir
        embed_model = system.config["embed_model"]
        same_index = Path(index_dir).resolve() == Path(settings.index_dir).resolve()
        if same_index and embed_model == settings.embed_model:
            if self.base.retriever is None and self.services.retriever is None:
                return None  # a server without search (tests with a scripted catalogue)
            return self.base.retriever or self.services.retriever
        key = (str(Path(index_dir).resolve()), embed_model)
        if key not in self._retrievers:
            from workbench.retrieval.hybrid import open_retriever

            embedder = self._embedder(embed_model)
            try:
                self._retrievers[key] = open_retriever(self.base.catalog, embedder, index_dir)
            except WorkbenchError as exc:
                raise ConfigError(f"system {system.name!r}: field 'index' ({index_dir}): {exc}") from None
        return self._retrievers[key]

    def _embedder(self, model: str) -> Any:
        settings = self.services.settings
        if model == settings.embed_model and self.services.embedder is not None:
            return self.services.embedder
        if model not in self._embedders:
            from workbench.retrieval.embed import load_embedder

            self._embedders[model] = load_embedder(model, settings.device)
        return self._embedders[model]

    def generator(self, system: ResolvedSystem) -> GeneratorChoice:
        """The system's generator from the services' pool (the template while its LLM loads)."""
        backend, model = system.config["generator"], system.config["model"]
        return self.services.generators.choose(backend, model, operator=True)
