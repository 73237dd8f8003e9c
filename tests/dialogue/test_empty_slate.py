"""When nothing fits (workbench/dialogue/engine.py `_other_years`, `nothing_fits`): a year bound is
loosened and the reply says so, never calling an out-of-range year "as you asked"; when even that
leaves nothing, the reply names what found nothing, once; a yes/no question about a film shown is
answered from its genres and keywords, not read as a new request."""

from __future__ import annotations

import pytest
from conftest import TINY_ITEMS
from dialogue_fixtures import tiny_engine

from workbench.catalog import Catalog
from workbench.dialogue.engine import nothing_fits, years_in_words
from workbench.filters import ItemFilter
from workbench.retrieval.embed import HashEmbedder


@pytest.fixture(scope="module")
def engine():
    return tiny_engine(Catalog(TINY_ITEMS, source="tiny"), HashEmbedder(dimension=64))


def test_a_year_bound_that_empties_the_slate_is_loosened_and_said(engine):
    # the tiny catalogue's horror films are from 1979 and 2013: none is from 2015 on
    result = engine.respond(engine.new_state("s"), "a horror film from after 2015")
    ids = [r.item.item_id for r in result.recommendations]
    assert ids and set(ids) <= {"6", "7"}  # horror kept, years loosened
    assert "Nothing from 2016 on fits the rest of what you asked" in result.reply
    for r in result.recommendations:
        assert f"from {r.item.year}" not in r.reason  # an out-of-range year is no "as you asked"


def test_nothing_left_names_what_was_asked_once(engine):
    result = engine.respond(engine.new_state("s"), "a western please")
    assert result.recommendations == ()
    assert result.reply.count("No film in the catalogue fits all of this: western") == 1
    assert "could not find films" not in result.reply  # the template does not say it a second time


@pytest.mark.parametrize("flt,words", [
    (ItemFilter(genres=frozenset({"mystery"}), exclude_genres=frozenset({"horror"}), year_min=2018),
     "No film in the catalogue fits all of this: mystery, not horror, from 2018 on"),
    (ItemFilter(year_max=1979), "No film in the catalogue fits all of this: before 1980"),
    (ItemFilter(), "No film in the catalogue fits every constraint"),
])
def test_nothing_fits_in_words(flt, words):
    assert nothing_fits(flt) == words


def test_years_in_words():
    assert years_in_words(1990, 1999) == "from 1990 to 1999" and years_in_words(2001, 2001) == "from 2001"


@pytest.mark.parametrize("message,attribute", [("is the fourth one violent?", "about"),
                                               ("does the second one have a happy ending?", "about"),
                                               ("is it too long?", "runtime")])  # no running times: unknown
def test_a_yes_no_question_about_a_film_shown_is_answered(engine, message, attribute):
    state = engine.new_state("s")
    engine.respond(state, "I loved Heat")
    state.last_slate = ["5", "10", "1", "7", "3"]
    result = engine.respond(state, message)
    assert (result.intent, result.act, result.answer.attribute) == ("ask_fact", "answer", attribute)
    assert result.recommendations == () and state.last_slate == ["5", "10", "1", "7", "3"]
