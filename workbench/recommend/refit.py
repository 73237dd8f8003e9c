"""A hybrid recommender refitted on the default interactions plus feedback, saved with its manifest.

:func:`refit` fits the app's hybrid (:func:`~workbench.recommend.factory.build_recommender`, the same
parts and weights) on base interactions plus feedback interactions (one pseudo-user per annotator
session, :mod:`workbench.feedback.signals`) and :func:`save_refit` writes it: the hybrid's own
``meta.json`` (kind, schema, item count, data hash, checked by every load) gains a ``refit``
section saying what it was fitted on: the catalogue hash, the index id, the base interactions and
the feedback (hashes, row and session counts) and the held-out sessions the fit never saw (the
ones ``eval feedback`` scores). :func:`load_refit` is what the app calls for
``WORKBENCH_RECOMMENDER_DIR``: it refuses a model fitted for another catalogue or index, naming
the setting and the command that rebuilds it.

It knows scorers, interactions and manifests; it does not know the feedback store, gradio or settings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.catalog import Catalog
from workbench.errors import RecommenderError
from workbench.interactions import Interactions
from workbench.manifest import built_with, mismatches, write_manifest
from workbench.recommend.base import read_manifest
from workbench.recommend.factory import build_recommender
from workbench.recommend.hybrid import HybridScorer

#: Version of the ``refit`` manifest section; bump on change.
REFIT_VERSION = 1
REFIT_COMMAND = "python -m workbench refit recommender --feedback DIR --out DIR"


def combine(base: Interactions, feedback: Interactions) -> Interactions:
    """``base`` rows then ``feedback`` rows (their users never collide: feedback users are prefixed)."""
    clash = set(base.frame["user"].astype(str)) & set(feedback.frame["user"].astype(str))
    if clash:
        raise RecommenderError(f"feedback users also in the base interactions: {sorted(clash)[:3]}")
    return Interactions(pd.concat([base.frame, feedback.frame], ignore_index=True))


def refit(catalog: Catalog, base: Interactions, feedback: Interactions, item_vectors: Any = None,
          **kwargs: Any) -> HybridScorer:
    """The app's hybrid fitted on ``base`` plus ``feedback``."""
    return build_recommender(catalog, combine(base, feedback), item_vectors, **kwargs)


def save_refit(model: HybridScorer, directory: str | Path, info: Mapping[str, Any]) -> Path:
    """Write ``model`` into ``directory`` with ``info`` as the manifest's ``refit`` section."""
    path = model.save(directory)
    meta = read_manifest(path)
    meta["refit"] = {"version": REFIT_VERSION, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     **info, "data_hash": model.data_hash}
    write_manifest(path, meta, sort_keys=True)
    return path


def refit_info(directory: str | Path) -> dict[str, Any]:
    """The ``refit`` section of a refitted model's manifest (raises when it is not one)."""
    meta = read_manifest(directory)
    info = meta.get("refit")
    if not isinstance(info, dict):
        raise RecommenderError(f"{Path(directory) / 'meta.json'}: not a refitted recommender (no 'refit' "
                               f"section); make one with: {REFIT_COMMAND}")
    if info.get("version") != REFIT_VERSION:
        raise RecommenderError(f"{Path(directory) / 'meta.json'}: refit version {info.get('version')!r} but "
                               f"this code reads {REFIT_VERSION}; refit with: {REFIT_COMMAND}")
    return info


def check_refit(directory: str | Path, catalog: Catalog, index_id: str = "", *,
                setting: str = "WORKBENCH_RECOMMENDER_DIR") -> dict[str, Any]:
    """The manifest's ``refit`` section, checked against the catalogue and index it will serve
    (cheap: reads no arrays, so the app checks it at start-up before loading in the background)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RecommenderError(f"{setting}: {directory} is not a directory; make one with: {REFIT_COMMAND}")
    try:
        info = refit_info(directory)
    except RecommenderError as exc:
        raise RecommenderError(f"{setting}: {exc}") from None
    expect = {"catalog_hash": catalog.content_hash}
    if index_id and info.get("index_id"):
        expect["index_id"] = index_id
    problems = mismatches(info, expect, "the model")
    if problems:
        raise RecommenderError(f"{setting}: " + built_with(f"the recommender in {directory}", problems,
                                                           REFIT_COMMAND))
    return info


def load_refit(directory: str | Path, catalog: Catalog, index_id: str = "", *,
               setting: str = "WORKBENCH_RECOMMENDER_DIR") -> HybridScorer:
    """The refitted hybrid in ``directory``, checked against the catalogue and index it will serve."""
    info = check_refit(directory, catalog, index_id, setting=setting)
    model = HybridScorer.load(directory, catalog=catalog)
    if model.data_hash != info.get("data_hash"):
        raise RecommenderError(f"{setting}: {directory}: the model's data hash does not match its refit "
                               f"section; refit with: {REFIT_COMMAND}")
    return model
