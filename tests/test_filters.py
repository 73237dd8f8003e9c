"""ItemFilter and genre normalisation over messy catalogue genres."""

from __future__ import annotations

import pytest

from workbench.catalog import Item
from workbench.filters import ItemFilter, genre_keys


@pytest.mark.parametrize(
    "raw, keys",
    [
        ("Animated", {"animation"}),
        ("Romance Film", {"romance"}),
        ("Action/Adventure", {"action", "adventure"}),
        ("Children's/Family", {"family"}),
        ("Comedy-drama", {"comedy", "drama"}),
        ("sci-fi", {"science fiction"}),
        ("Supernatural horror", {"horror", "supernatural"}),
        ("scary", {"horror"}),
    ],
)
def test_genre_keys_map_free_text_onto_canonical_genres(raw, keys):
    assert genre_keys(raw) == keys


def test_exclusion_catches_subgenres(tiny_catalog):
    """'no horror' must also drop films tagged 'Horror' alongside other genres (Alien)."""
    f = ItemFilter.make(exclude_genres=["horror"])
    allowed = f.allowed_ids(tiny_catalog)
    assert "6" not in allowed and "7" not in allowed and "1" in allowed


def test_year_range_is_inclusive_and_rejects_unknown_years():
    f = ItemFilter.make(year_min=1990, year_max=1999)
    assert f.matches(Item("a", "A", 1990)) and f.matches(Item("b", "B", 1999))
    assert not f.matches(Item("c", "C", 2000)) and not f.matches(Item("d", "D", None))


def test_people_match_directors_and_cast_case_insensitively(tiny_catalog):
    f = ItemFilter.make(people=["tom hanks"])
    assert f.allowed_ids(tiny_catalog) == {"1", "11"}
    f = ItemFilter.make(people=["Michael Mann"])
    assert f.allowed_ids(tiny_catalog) == {"3", "5"}


def test_excluded_alias_id_excludes_its_item(tiny_catalog):
    f = ItemFilter.make(exclude_ids=["80"])
    assert "8" not in f.allowed_ids(tiny_catalog)


def test_merge_intersects_constraints(tiny_catalog):
    a = ItemFilter.make(genres=["thriller"], year_min=1990)
    b = ItemFilter.make(year_max=2000, exclude_ids=["3"])
    allowed = a.merge(b).allowed_ids(tiny_catalog)
    assert allowed == set()  # Heat (1995) excluded by id; Collateral/Inception after 2000
    assert ItemFilter().is_empty and not a.is_empty
