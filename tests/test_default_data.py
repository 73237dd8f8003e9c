"""The bundled default catalogue: facts only, duplicates collapsed, aliases resolve, licence kept."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.conftest import PROJECT_ROOT
from workbench.catalog import load_catalog
from workbench.default_data import build_catalog
from workbench.interactions import load_interactions

ASSETS = PROJECT_ROOT / "assets"


@pytest.fixture(scope="module")
def default_catalog():
    return load_catalog(ASSETS / "catalog.jsonl.gz")


def test_duplicate_films_collapse_into_one_item_with_aliases(default_catalog):
    """ReDial lists X-Men (2000) twice: one item, and both ids resolve to it."""
    xmen = [i for i in default_catalog if i.title == "X-Men" and i.year == 2000]
    assert len(xmen) == 1
    assert default_catalog["136586"] is default_catalog["183121"]
    titles = [(i.title.lower(), i.year) for i in default_catalog if i.year]
    assert len(titles) == len(set(titles)), "a film appears twice"


def test_assets_hold_facts_only_never_description_prose(default_catalog, shared_data):
    """Wikipedia description sentences must not be copied into the repo (licence rule)."""
    raw = gzip.decompress((ASSETS / "catalog.jsonl.gz").read_bytes()).decode()
    assert '"description"' not in raw
    sentences = []
    with open(shared_data / "movie-metadata" / "redial_catalogue.jsonl", encoding="utf-8") as f:
        for line in f:
            desc = json.loads(line).get("description") or ""
            sentences += [s.strip() for s in desc.split(". ") if len(s.split()) >= 6]
    leaked = [s for s in sentences[:3000] if s in raw]
    assert not leaked, leaked[:3]
    for item in default_catalog:
        for tag in item.tags:
            assert len(tag.split()) <= 4 and "." not in tag.strip("."), (item.item_id, tag)


def test_committed_assets_match_a_fresh_build(default_catalog, shared_data):
    """The committed catalogue (tags included) is exactly what the build script makes: no hand edits."""
    from workbench.tags import KeywordTagger

    metadata = shared_data / "movie-metadata" / "redial_catalogue.jsonl"
    fresh = build_catalog(metadata, tagger=KeywordTagger.fit_jsonl(metadata))
    assert fresh.ids == default_catalog.ids
    assert [i.aliases for i in fresh] == [i.aliases for i in default_catalog]
    assert fresh.content_hash == default_catalog.content_hash


def test_interactions_refer_to_catalogue_items_and_come_from_train_only(default_catalog, shared_data):
    inter = load_interactions(ASSETS / "interactions.csv.gz", known_ids=default_catalog.ids)
    train_ids = {
        str(json.loads(line)["conversationId"])
        for line in open(shared_data / "redial" / "train.jsonl", encoding="utf-8")
    }
    users = {u.removeprefix("redial:") for u in inter.users}
    assert users <= train_ids
    assert set(inter.frame["signal"]) <= {"liked", "disliked", "suggested", "seen", "mentioned"}
    assert (inter.frame["value"] > 0).sum() > 3000


def test_attribution_ships_with_the_assets():
    text = (ASSETS / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in text and "CC BY 4.0" in text and "ReDial" in text


def test_shipped_cast_has_no_voices_of_caption(default_catalog):
    """Regression (issue 16 item 17): 31 items listed Wikipedia's "Voices of" caption as a cast member."""
    from workbench.default_data import clean_cast

    bad = [(i.title, c) for i in default_catalog for c in i.cast if c.lower().startswith("voices of")]
    assert not bad, bad[:5]
    assert clean_cast(["voices of", "Tom Hanks", "Voices of Tim Allen", "Tom Hanks"]) == ["Tom Hanks", "Tim Allen"]
    toy_story_2 = next(i for i in default_catalog if i.title == "Toy Story 2")
    assert toy_story_2.cast[0] == "Tom Hanks"
