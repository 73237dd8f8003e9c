"""The title index: built once per catalogue and shared by the grounder and the understander."""

from __future__ import annotations

from tests.conftest import TINY_ITEMS
from workbench.catalog import Catalog, Item
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.understand import Understander

CATALOG = Catalog(TINY_ITEMS, source="titles-test")
HEAT = next(item for item in CATALOG if item.title == "Heat" and item.year == 1995)


def test_one_index_serves_grounder_and_understander_like_their_own():
    """Guards the shared index: passing one TitleIndex changes nothing against each building its own."""
    titles = TitleIndex(CATALOG)
    reply = "Try Heat (1995) tonight. You will love *The Silent Harbor*. Inception is great."
    shared = Grounder(CATALOG, titles).ground(reply, [HEAT])
    own = Grounder(CATALOG).ground(reply, [HEAT])
    assert shared == own
    message = "I loved heat and Toy Story, anything with Al Pacino from the 90s?"
    assert Understander(CATALOG, titles=titles).understand(message) == Understander(CATALOG).understand(message)


def test_slate_items_outside_the_catalogue_leave_the_shared_index_unchanged():
    """Guards read-only sharing: grounding against a slate item the catalogue lacks copies the index."""
    titles = TitleIndex(CATALOG)
    before = (dict(titles.entries), dict(titles.by_id), set(titles.fact_words))
    extra = Item("x1", "Moonlit Harbor", 2020, ("Drama",), cast=("Jane Roe",))
    out = Grounder(CATALOG, titles).ground('Try "Moonlit Harbor" tonight.', [extra])
    assert out.text == 'Try "Moonlit Harbor" tonight.' and out.mentioned == ("x1",)
    assert (titles.entries, titles.by_id, titles.fact_words) == before
