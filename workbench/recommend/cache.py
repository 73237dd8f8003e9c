"""The fitted recommender's disk cache: fit once per catalogue, interactions and index, then load.

:func:`load_or_fit_recommender` returns the app's hybrid from ``<cache_dir>/recommenders/<key>``
(the key hashes the catalogue, the interactions and the index id), or fits and caches it; a refitted
model named by ``recommender_dir`` is served instead. It knows files and scorers, not the services
that call it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from workbench.config import Settings
from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

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
