"""build_services on a tiny catalogue (hash embedder, in-memory index): the real wiring, end to end.

Guards: every component is wired (a UI turn through the real engine returns catalogue items and a
record saves with the index id); the fitted recommender is cached and reused; background fitting
hands the recommender to the engine when done; start-up loads no LLM unless asked.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TINY_ITEMS

from workbench.catalog import Catalog
from workbench.chat.judgements import save_pending
from workbench.chat.turns import TurnPrefs, new_session, stream_turn
from workbench.config import Settings
from workbench.errors import ItemIndexError
from workbench.interactions import Interactions
from workbench.limits import MAX_SLATE
from workbench.services import build_services, recommender_cache_dir, require_saved_index
from workbench.ui.slate import sync_judgements

ROWS = [  # users who liked family films together, and crime films together
    (u, i, "liked", 1.0)
    for u, items in {
        "u1": ["1", "2", "11"], "u2": ["1", "2"], "u3": ["2", "11", "12"], "u4": ["3", "5"],
        "u5": ["3", "5", "10"], "u6": ["5", "10"], "u7": ["8", "9"], "u8": ["8", "9", "7"],
        "u9": ["1", "11"], "u10": ["3", "10"],
    }.items()
    for i in items
]


@pytest.fixture
def settings(tmp_path) -> Settings:
    Catalog(TINY_ITEMS, source="tiny").save_jsonl(tmp_path / "catalog.jsonl")
    Interactions.from_rows(ROWS).save_csv(tmp_path / "interactions.csv")
    return Settings(
        catalog=str(tmp_path / "catalog.jsonl"), interactions=str(tmp_path / "interactions.csv"),
        index_dir=str(tmp_path / "no-index"), build_index=True, embed_model="hash-64", generator="template",
        feedback_dir=str(tmp_path / "feedback"), cache_dir=str(tmp_path / "cache"), k=3,
    )


def test_a_missing_index_stops_start_up_with_the_build_command(settings, monkeypatch):
    """Issue 19 item 12: a mistyped WORKBENCH_INDEX_DIR made the app re-encode the whole catalogue
    at start-up (minutes) instead of saying the index is not there. Building is explicit."""
    import workbench.retrieval.hybrid

    monkeypatch.setattr(workbench.retrieval.hybrid, "build_index", lambda *a, **k: pytest.fail("must not build"))
    typo = replace(settings, build_index=False, index_dir=settings.index_dir + "-typo")
    with pytest.raises(ItemIndexError) as caught:
        build_services(typo, load_generator_in_background=False, fit_in_background=False)
    message = str(caught.value)
    assert f"no index at {typo.index_dir} (folder not found); build it with: python -m workbench index build" in message
    assert f"--catalog {settings.catalog}" in message and "--model hash-64" in message
    assert f"--out {typo.index_dir}" in message and "WORKBENCH_BUILD_INDEX=1" in message


def test_an_index_whose_manifest_was_deleted_is_not_rebuilt_silently(settings, monkeypatch):
    """Issue 19 item 12: a saved index missing its meta.json was re-encoded at start-up."""
    from workbench.cli import main

    out = Path(settings.index_dir).with_name("saved")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", settings.cache_dir)
    assert main(["index", "build", "--catalog", settings.catalog, "--out", str(out), "--model", "hash-64"]) == 0
    saved = replace(settings, build_index=False, index_dir=str(out))
    assert build_services(saved, load_generator_in_background=False, fit_in_background=False).index_id
    (out / "meta.json").unlink()
    with pytest.raises(ItemIndexError, match=r"no index at .*saved \(no meta\.json in it\); build it with"):
        build_services(saved, load_generator_in_background=False, fit_in_background=False)


def test_the_bundled_default_index_needs_no_build_setting():
    """The default start (`python app.py`, offline) uses the committed index under indexes/."""
    default = Settings()
    assert not default.build_index
    require_saved_index(default)  # does not raise


def test_services_wire_a_turn_and_a_saved_record(settings):
    services = build_services(settings, load_generator_in_background=False, fit_in_background=False)
    assert services.recommender is not None and services.engine.recommender is services.recommender
    assert services.index_id.startswith("no-index@")
    session = new_session(services)
    # no genre asked: the tiny catalogue has one family film besides Toy Story, and a stated genre is a
    # hard filter since issue 25 (a "family" slate would rightly hold one film)
    for _ in stream_turn(services, session, "I loved Toy Story, what else would I enjoy?", TurnPrefs(k=3)):
        pass
    ex = session.slate_exchange
    assert ex is not None and len(ex.recommendations) == 3
    assert all(r.item.item_id in services.catalog for r in ex.recommendations)
    sync_judgements(session, ["", "like", "5"] + [None, None] * (MAX_SLATE - 1))
    assert save_pending(services, session, "ann") == 1
    (record,) = services.store.read()
    assert record.index_id == services.index_id and record.catalog_hash == services.catalog.content_hash
    assert record.slate[0].label == "like" and record.slate[0].rating == 5
    assert not services.generators.loading  # no LLM was asked for


def test_fitted_recommender_is_cached_and_reused(settings):
    first = build_services(settings, load_generator_in_background=False, fit_in_background=False)
    directory = recommender_cache_dir(settings, first.catalog, _interactions(settings), first.index_id)
    assert (directory / "meta.json").exists()
    again = build_services(settings, load_generator_in_background=False, fit_in_background=False)
    history = {"1": 1.0}
    assert again.recommender.recommend(history, 3).ids == first.recommender.recommend(history, 3).ids


def test_background_fit_hands_the_recommender_to_the_engine(settings):
    services = build_services(settings, load_generator_in_background=False, fit_in_background=True)
    assert services.background.wait(timeout=120)
    assert services.engine.recommender is not None
    assert services.background.state("recommenders") == "done"
    assert not services.busy and "collaborative" not in services.status()


def _interactions(settings):
    from workbench.interactions import load_interactions

    return load_interactions(settings.interactions)


def test_build_engine_shares_the_apps_recommender_cache_and_wiring(settings, tmp_path, monkeypatch):
    """The terminal chat's engine (build_engine) loads the same parts as the app and reuses the
    recommender the app cached, so the two can never be wired differently."""
    from dataclasses import replace

    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.services import build_engine

    app = build_services(settings, load_generator_in_background=False, fit_in_background=False)
    directory = recommender_cache_dir(settings, app.catalog, _interactions(settings), app.index_id)
    stamp = (directory / "meta.json").stat().st_mtime_ns
    engine = build_engine(settings, generator=TemplateGenerator())
    assert (directory / "meta.json").stat().st_mtime_ns == stamp  # loaded, not refitted
    history = {"1": 1.0}
    assert engine.recommender.recommend(history, 3).ids == app.recommender.recommend(history, 3).ids
    result = engine.respond(engine.new_state("cli"), "I loved Toy Story, something for the family?")
    assert result.recommendations and all(r.item.item_id in app.catalog for r in result.recommendations)
    # with caching switched off (cache_dir="") nothing is written, not even relative to the cwd
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    uncached = replace(settings, cache_dir="")
    assert build_engine(uncached, generator=TemplateGenerator()).recommender is not None
    assert list(workdir.iterdir()) == []
