"""Near-duplicate ReDial listings (same film, year off by one) collapse into one item."""

from __future__ import annotations

from tests.conftest import PROJECT_ROOT
from workbench.catalog import load_catalog


def test_heat_1995_and_its_1996_mislabel_are_one_item_with_the_exact_year():
    """ReDial lists Michael Mann's Heat as both 1995 and 1996: one item, year 1995, both ids resolve."""
    catalog = load_catalog(PROJECT_ROOT / "assets" / "catalog.jsonl.gz")
    heats = [i for i in catalog if i.title == "Heat" and "Michael Mann" in i.directors]
    assert len(heats) == 1
    assert heats[0].year == 1995
    assert catalog["176314"] is catalog["199038"] is heats[0]


def test_no_two_items_share_title_people_and_a_year_one_apart():
    catalog = load_catalog(PROJECT_ROOT / "assets" / "catalog.jsonl.gz")
    seen: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for item in catalog:
        if item.year and item.directors:
            seen.setdefault((item.title.lower(), item.directors), []).append(item.year)
    clashes = {}
    for key, years in seen.items():
        years.sort()
        if any(b - a <= 1 for a, b in zip(years, years[1:], strict=False)):
            clashes[key] = years
    assert not clashes, list(clashes.items())[:5]
