"""Real arena services over the tiny catalogue: a real ChatEngine (no index, no CF), the template
generator, a real feedback store; what the arena tests and the arena benchmark run."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from workbench.catalog import Catalog
from workbench.config import Settings
from workbench.dialogue.engine import default_engine
from workbench.dialogue.generators.template import TemplateGenerator
from workbench.feedback import JsonlFeedbackStore
from workbench.services import GeneratorPool, Services


def arena_services(catalog: Catalog, feedback_dir: Path, **settings: Any) -> Services:
    s = Settings(feedback_dir=str(feedback_dir), generator="template", **settings)
    template = TemplateGenerator()
    return Services(settings=s, catalog=catalog, engine=default_engine(catalog, generator=template),
                    store=JsonlFeedbackStore(feedback_dir, catalog=catalog), generators=GeneratorPool(s, template),
                    index_id="test-index")


def arena(services: Services, seed: int = 0) -> Any:
    from workbench.arena.service import ArenaService

    return ArenaService(services, rng=random.Random(seed))


def strings_of(value):
    """Every key and value of a JSON-like value, as strings (what a test searches for a leaked name)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v)
    else:
        yield str(value)
