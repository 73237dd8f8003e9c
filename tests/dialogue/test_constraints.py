"""Constraints read with negation scope (workbench/dialogue/constraints.py) and exclusions as hard filters."""

from __future__ import annotations

import pytest

from tests.dialogue_fixtures import tiny_engine
from workbench.catalog import Catalog, Item
from workbench.dialogue.constraints import negation_scope, read_constraints, typo_genre
from workbench.dialogue.engine import ChatEngine
from workbench.dialogue.understand import Understander
from workbench.filters import ItemFilter, item_genre_keys

MAX_YEAR = 2022


def genres(text: str) -> tuple[set[str], set[str]]:
    flt, _, _ = read_constraints(text.lower(), [], MAX_YEAR)
    return set(flt.genres), set(flt.exclude_genres)


@pytest.mark.parametrize("text,wanted,excluded", [
    # the failure: an exclusion read as a request
    ("something fun for the kids, nothing too frightening", {"family"}, {"horror"}),
    ("my partner can't stand westerns, I like adventure", {"adventure"}, {"western"}),
    # "not X but Y": the negation ends at "but"
    ("not a western but an adventure", {"adventure"}, {"western"}),
    ("no war and no crime please", set(), {"war", "crime"}),
    ("anything except horror", set(), {"horror"}),
    ("no horror, something funny", {"comedy"}, {"horror"}),
    ("no horror and something funny", {"comedy"}, {"horror"}),
    ("i don't want something scary", set(), {"horror"}),
    ("i hate horror. i love sci-fi", {"science fiction"}, {"horror"}),
    ("my kids are scared of ghosts and monsters", {"family"}, {"horror"}),
    ("any animated movies that aren't musicals?", {"animation"}, {"musical"}),
    ("a bit lighter please", {"comedy"}, set()),
    ("less violent maybe", set(), {"action", "horror", "war"}),
    ("more like a comedy and less of a drama", {"comedy"}, {"drama"}),
    # a mood cannot rule out the genre the message names
    ("sci-fi, but not space", {"science fiction"}, set()),
    # verbs that remove ("drop", "ditch", "leave out"), a child's age, everyday mood phrases
    ("drop the dramas", set(), {"drama"}),
    ("ditch the horror ones and leave out westerns", set(), {"horror", "western"}),
    ("something for my 5 year old, not scary at all", {"family"}, {"horror"}),
    ("we have a six-year-old", {"family"}, set()),
    ("a 30 year old classic", set(), set()),  # an age that is no child's
    ("I can't stand musicals. something dramatic?", {"drama"}, {"musical"}),
    ("i need something to cheer me up", {"comedy"}, set()),
    ("not in the mood for anything with cowboys", set(), {"western"}),
    # a degree word grades, it does not forbid what is asked for
    ("something spooky, just not too gory", {"horror"}, set()),
    # "no rom-coms" rules out romance, not every comedy
    ("i want to laugh, anything but romantic comedies", {"comedy"}, {"romance"}),
    ("recomend a good thriler", {"thriller"}, set()),
    # kids ask for family films when the films are for them, not when they are only the subject
    ("a movie the kids will love", {"family"}, set()),
    ("my kids have seen it like 50 times", set(), set()),
    ("the kids are asleep, something scary", {"horror"}, set()),
    ("what's good on a rainy day with the family", {"family"}, set()),
    ("something fun for my nephews, nothing too frightening please", {"family"}, {"horror"}),
    ("something a little more grown up", set(), {"family"}),
    ("romcoms from the 2000s please", {"romance", "comedy"}, set()), ("no rom coms", set(), {"romance"}),
])
def test_negation_scope(text, wanted, excluded):
    assert genres(text) == (wanted, excluded)


@pytest.mark.parametrize("text,year_min,year_max", [
    ("nothing before 1990 please", 1990, None),
    ("not from the 2000s", None, 1999),
    ("nothing too long ago", 2000, None),
    ("something older", None, 1979),
    ("old school kung fu movies", None, 1979),
    ("which of these is older?", None, None),  # a comparison, not a request
    ("the 90s would be better", 1990, 1999),
    # several decades, open ends, "the last N years" (MAX_YEAR 2022)
    ("80s or 90s action", 1980, 1999),
    ("the 2010s or later", 2010, None),
    ("the 70s and earlier", None, 1979),
    ("something from the last 5 years", 2018, None),
    ("a comedy from the past decade", 2013, None),
    ("i saw it last year", None, None),
])
def test_years_flip_under_negation(text, year_min, year_max):
    flt, _, _ = read_constraints(text, [], MAX_YEAR)
    assert (flt.year_min, flt.year_max) == (year_min, year_max)


def test_scope_stops_at_clause_end_and_at_a_turn_back_to_wanting():
    scope = negation_scope("no horror and something funny")
    assert scope.of(3) == "negated" and scope.of("no horror and something funny".index("funny")) == ""


def test_typos_of_real_words_stay_words():
    """'acting' and 'fairly' are one deletion from 'action' / 'family' but are no typos of them."""
    assert typo_genre("mistery") == "mystery" and typo_genre("acting") == "acting" and typo_genre("fairly") == "fairly"


def test_people_ruled_out_and_liked(tiny_catalog):
    u = Understander(tiny_catalog)
    out = u.understand("nothing with Tom Hanks please")
    assert out.disliked_people == ("Tom Hanks",) and "tom hanks" in out.constraints.exclude_people
    assert not out.constraints.people
    assert u.understand("I'm a big fan of Tom Hanks").liked_people == ("Tom Hanks",)
    # "movies like the ones X directs" compares; it does not say the user likes X
    assert u.understand("movies like the ones Michael Mann directs").liked_people == ()


def test_person_role_from_the_catalogue(tiny_catalog):
    """A name with no role cue gets the one role the catalogue knows the person in."""
    people = Understander(tiny_catalog).understand("a Christopher Nolan movie").people
    assert [(p.name, p.role) for p in people] == [("Christopher Nolan", "director")]


def _catalog_with_unknown_genres(tiny_catalog: Catalog) -> Catalog:
    return Catalog([*tiny_catalog, Item("13", "The Haunting Hour", 2014, (), ("Nobody Known",), ("Ann Other",), (),
                                         mentions=80)])


def test_exclusion_drops_items_whose_genres_are_unknown(tiny_catalog):
    """An exclusion is a promise: a film the catalogue knows no genre or tag for cannot keep it."""
    cat = _catalog_with_unknown_genres(tiny_catalog)
    assert not ItemFilter.make(exclude_genres=["horror"]).matches(cat["13"])
    assert ItemFilter.make(genres=()).matches(cat["13"])


def test_exclusion_reads_genres_named_by_tags():
    item = Item("1", "Ghost Story", 2001, ("Drama",), (), (), ("supernatural horror",))
    assert not ItemFilter.make(exclude_genres=["horror"]).matches(item)


@pytest.mark.parametrize("message,banned", [
    ("something about a haunting and a demon, but no horror please", "horror"),
    ("a heist like Heat but nothing with crime", "crime"),
    ("nothing too frightening, maybe something about a haunting", "horror"),
])
def test_exclusion_is_a_hard_filter_through_respond(tiny_catalog, hash_embedder, message, banned):
    """The lexical side matches the excluded film's words ('haunting', 'heist'); the slate still has none."""
    engine = tiny_engine(_catalog_with_unknown_genres(tiny_catalog), hash_embedder, questions=False)
    result = engine.respond(engine.new_state("s"), message)
    assert result.recommendations
    for rec in result.recommendations:
        assert banned not in item_genre_keys(rec.item), rec.item.title
        assert rec.item.item_id != "13"


def test_ruled_out_person_is_a_hard_filter_through_respond(tiny_catalog, hash_embedder):
    engine: ChatEngine = tiny_engine(tiny_catalog, hash_embedder, questions=False)
    state = engine.new_state("s")
    result = engine.respond(state, "a comedy, but nothing with Tom Hanks")
    assert [rec.item.title for rec in result.recommendations] == ["Amélie"]
    # the rule holds for the rest of the conversation: Forrest Gump is a drama with Tom Hanks
    later = engine.respond(state, "a drama then")
    assert "Forrest Gump" not in [rec.item.title for rec in later.recommendations]


@pytest.mark.parametrize("text,query", [
    ("a thriller but nothing too dark", "a thriller but"),
    ("anything except westerns, maybe a comedy", "anything , maybe a comedy"),
    ("no horror please", ""),
])
def test_the_search_query_leaves_out_what_a_message_rules_out(text, query):
    """A lexical match on an excluded word ("dark") must not bring titles holding it ("Alone in the Dark")."""
    from workbench.dialogue.constraints import without_ruled_out

    assert without_ruled_out(text) == " ".join(query.split())


# ---------------------------------------------------------------------------- topics ruled out


def topics(text: str) -> set[str]:
    flt, fields, _ = read_constraints(text.lower(), [], MAX_YEAR)
    assert ("exclude_topics" in fields) == bool(flt.exclude_topics)
    return set(flt.exclude_topics)


@pytest.mark.parametrize("text,expected", [
    ("what are some good sports films? no boxing though", {"boxing"}),
    ("nothing with clowns or spiders please", {"clowns", "spiders"}),
    ("our kids are terrified of sharks", {"sharks"}),
    ("i can't stand clowns", {"clowns"}),
    ("a comedy, no weddings, no dogs", {"weddings", "dogs"}),
    ("something not about dinosaurs", {"dinosaurs"}),
    # chat after "no" names no topic
    ("no idea what to watch", set()), ("no worries!", set()), ("no thanks", set()), ("i have no clue lol", set()),
    ("no, something else", set()), ("without spoilers please", set()),
    # what a film is, not what it is about; genres and moods are read as genres
    ("i don't like long movies", set()), ("no cheesy stuff", set()), ("no horror movies", set()),
    ("no more superheroes", set()), ("i hate westerns", set()),
    # content the catalogue cannot check is never promised by a filter
    ("nothing with swearing please", set()),
    # a topic asked for is no exclusion
    ("a film about boxing", set()),
    # a mood that is a plural noun rules out its topic even where the genre named stays wanted
    ("i like sci-fi but nothing with aliens", {"aliens"}), ("no laughs please", set()),
])
def test_topics_ruled_out(text, expected):
    assert topics(text) == expected


def test_a_topic_matches_the_catalogues_form_of_the_word():
    """"boxing" meets a tag's "boxer", "spiders" a title's "Spider"; a word inside another word does not."""
    from workbench.filters import has_topic

    boxer = Item("1", "The Champ", 1979, ("Drama", "Sports"), (), (), ("washed-up boxer",))
    spider = Item("2", "Giant Spider", 1990, ("Horror",), (), (), ())
    jukebox = Item("3", "Sing", 2016, ("Animation",), (), (), ("jukebox musical",))
    assert has_topic(boxer, "boxing") and has_topic(spider, "spiders")
    assert not has_topic(jukebox, "boxing") and not has_topic(boxer, "spiders")
    assert not ItemFilter.make(exclude_topics=["Boxing"]).matches(boxer)
    assert ItemFilter.make(exclude_topics=["boxing"]).matches(jukebox)


def _with_boxing_film(tiny_catalog: Catalog) -> Catalog:
    return Catalog([*tiny_catalog, Item("14", "Knockdown", 2005, ("Crime", "Thriller"), ("Nobody Known",),
                                        ("Ann Other",), ("heist", "retired boxer"), mentions=90)])


def test_a_topic_ruled_out_is_a_hard_filter_for_the_rest_of_the_conversation(tiny_catalog, hash_embedder):
    from workbench.dialogue.state import filter_from_dict, filter_to_dict

    engine = tiny_engine(_with_boxing_film(tiny_catalog), hash_embedder, questions=False)
    state = engine.new_state("s")
    first = engine.respond(state, "a crime thriller with a heist")
    assert "Knockdown" in [r.item.title for r in first.recommendations]  # without the rule it is on the slate
    state = engine.new_state("t")
    ruled = engine.respond(state, "a crime thriller with a heist, but no boxing please")
    assert ruled.recommendations and "Knockdown" not in [r.item.title for r in ruled.recommendations]
    later = engine.respond(state, "more please")
    assert "Knockdown" not in [r.item.title for r in later.recommendations]
    assert filter_from_dict(filter_to_dict(state.constraints)).exclude_topics == {"boxing"}


def test_a_topic_ruled_out_also_drops_the_films_nearest_it(tiny_catalog, hash_embedder):
    """Tags miss most topics: a film whose vector sits on the topic's own goes too, one far from it stays."""
    import numpy as np

    from tests.dialogue_fixtures import tiny_retriever
    from workbench.dialogue.ranker import Ranker
    from workbench.dialogue.state import ConversationState

    vectors = hash_embedder.encode(tiny_catalog.texts()).copy()
    row = tiny_catalog.ids.index("5")  # Collateral: nothing about sharks in its title or tags
    vectors[row] = hash_embedder.encode(["sharks"])[0]
    ranker = Ranker(tiny_catalog, tiny_retriever(tiny_catalog, hash_embedder), None, item_vectors=vectors)
    state = ConversationState("s")
    kept = ranker.gather(state).soft_allowed
    assert kept[row]
    state.constraints = ItemFilter.make(exclude_topics=["sharks"])
    kept = ranker.gather(state).soft_allowed
    assert not kept[row]
    assert int(np.sum(~kept)) < len(tiny_catalog) // 2


@pytest.mark.parametrize("text,expected", [
    ("what about something with dogs?", {"dogs"}), ("movies about dinosaurs", {"dinosaurs"}),
    ("he loves horses", {"horses"}), ("she is really into sharks", {"sharks"}), ("something with robots", {"robots"}),
    # the viewer, the length, a genre, a mood and what is ruled out are no topics asked for
    ("something with my wife", set()), ("about 2 hours long", set()), ("something with a lot of action", set()),
    ("something about space", set()), ("no movies about dogs", set()), ("i like it", set()),
])
def test_topics_asked_for(text, expected):
    from workbench.dialogue.constraints import read_wanted_topics

    assert read_wanted_topics(text) == expected


def test_a_topic_asked_for_weighs_in_without_filtering(tiny_catalog, hash_embedder):
    """"something with balloons" puts Up (tagged "balloons") first; the other films stay on the slate."""
    engine = tiny_engine(tiny_catalog, hash_embedder, questions=False)
    state = engine.new_state("s")
    engine.respond(state, "I loved Heat")
    result = engine.respond(state, "what about something with balloons?")
    titles = [r.item.title for r in result.recommendations]
    assert titles[0] == "Up" and len(titles) > 1
