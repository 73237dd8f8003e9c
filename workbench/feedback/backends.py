"""Which feedback store: JSONL shards in a folder (the default) or PostgreSQL (a ``postgresql://`` URL).

It knows the two stores' constructors; it does not know what is stored or gradio.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.database import Database, is_database_url
from workbench.feedback.pg_store import PostgresFeedbackStore
from workbench.feedback.store import JsonlFeedbackStore, RecordStore, open_store

if TYPE_CHECKING:
    from workbench.catalog import Catalog
    from workbench.config import Settings


def store_at(location: str | Path | Database, catalog: Catalog | None = None) -> RecordStore:
    """The store at ``location``: a database (or its ``postgresql://`` URL) or a folder of JSONL shards."""
    if isinstance(location, Database) or is_database_url(str(location)):
        return PostgresFeedbackStore(location if isinstance(location, Database) else str(location), catalog=catalog)
    return JsonlFeedbackStore(location, catalog=catalog)


def open_feedback_store(settings: Settings, catalog: Catalog | None = None, *, database: Database | None = None,
                        scheduler_cls: Any = None) -> RecordStore:
    """The store ``settings`` configure: PostgreSQL when ``database_url`` is set (on ``database``
    when given, to share its pool with the project store; migrated now, so that a bad URL or a
    newer schema stops start-up), else :func:`~workbench.feedback.store.open_store`'s shards."""
    if settings.database_url:
        return PostgresFeedbackStore((database or Database(settings.database_url)).open(), catalog=catalog)
    return open_store(settings, catalog, scheduler_cls=scheduler_cls)
