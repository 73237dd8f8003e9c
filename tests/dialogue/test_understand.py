"""Understanding a message: title linking (typos, articles, ambiguity, @ids), stance, constraints, intent."""

from __future__ import annotations

import pytest

from workbench.dialogue.understand import Understander, normalize_title
from workbench.text import INTENTS


@pytest.fixture
def u(tiny_catalog):
    return Understander(tiny_catalog)


# (message, expected linked ids in order)
LINKING = [
    ("toy story", ["1"]),  # lowercase
    ("I loved Toy Story!", ["1"]),
    ("the conjuring scared me", ["6"]),  # article typed
    ("Conjuring was scary", ["6"]),  # article missing
    ("Heat (1986) is underrated", ["4"]),  # year picks the 1986 film
    ("Heat 1995", ["3"]),
    ("star wars", ["8"]),
    ("what about @80?", ["8"]),  # alias id resolves to the canonical item
    ("inceptoin was great", ["10"]),  # typo
    ("forest gump made me cry", ["11"]),  # typo in a two-word title
    ("amelie is charming", ["12"]),  # accents folded
    ("return of the jedi and alien", ["9", "7"]),
    ("Have you seen Up?", ["2"]),  # a short title capitalised mid-sentence
]


@pytest.mark.parametrize("text,expected", LINKING)
def test_links_titles_as_people_type_them(u, text, expected):
    """Guards linking of partial/lowercase/typo'd/year-qualified titles and ReDial @ids."""
    got = [m.item_id for m in u.understand(text).mentions]
    assert got == expected


@pytest.mark.parametrize("text", [
    "what's up with you",  # "Up" in lowercase
    "I saw it yesterday",  # "It"-like pronouns
    "it was too much heat for me",  # a common word, no cue
    "Up to you really",  # sentence-initial capitalised common word
    "I was born after 2010",  # a year, not a title
])
def test_common_words_are_not_taken_for_titles(u, text):
    """Guards against false positives from short titles made of everyday words."""
    assert u.understand(text).mentions == ()


@pytest.fixture(scope="module")
def u_common():
    """The tiny catalogue plus one-word titles that are everyday words: Heist, Fighter."""
    from tests.conftest import TINY_ITEMS
    from workbench.catalog import Catalog, Item

    extra = [Item("h1", "Heist", 2015, ("Crime",), mentions=4), Item("f1", "Fighter", 2011, ("Drama",), mentions=4)]
    return Understander(Catalog([*TINY_ITEMS, *extra], source="tiny+common"))


# Issue 16.8: a lowercase everyday word (the catalogue's tag vocabulary, "heist"; an inflection of
# a common word, "lighter") links to a title only with a cue, and is never typo-repaired into one.
COMMON_WORD_LINKING = [
    ("something lighter, a comedy", []),  # was: I took "lighter" as Fighter (2011)
    ("heist movies", []),  # was: Heist (2015)
    ("I want heist movies with a twist", []),
    ("I loved Heist", ["h1"]),  # capitals
    ('I loved "heist"', ["h1"]),  # quotes
    ("have you seen heist?", ["h1"]),  # a cue
    ("heist (2015) was fun", ["h1"]),  # a year
    ("the film fighter was great", ["f1"]),  # "the film X"
    ("who's the director of heist?", ["h1"]), ("when was fighter made?", ["f1"]),  # a question about one film
    ("inceptoin was great", ["10"]),  # a typo of a title word that is no everyday word is still repaired
]


@pytest.fixture(scope="module")
def u_times():
    """The tiny catalogue plus titles everyday phrases are close to: The Last, The Last Knight, To."""
    from tests.conftest import TINY_ITEMS
    from workbench.catalog import Catalog, Item

    extra = [Item("l1", "The Last", 2014, ("Drama",), mentions=4), Item("k1", "The Last Knight", 2017, ("Action",), mentions=9),
             Item("t1", "To", 2005, ("Drama",), mentions=2), Item("dk", "The Dark Knight", 2008, ("Action",), mentions=90)]
    return Understander(Catalog([*TINY_ITEMS, *extra], source="tiny+times"))


@pytest.mark.parametrize("text,expected", [
    ("watched Collateral last night, amazing", ["5"]), ("i saw a great movie last night", []),
    ("watched it last night", []), ("I loved The Last Knight", ["k1"]),
    ("films from 1995 to 2005", []), ("I loved To (2005)", ["t1"]),  # "to 2005" is no title "To" of 2005
    ("i loved the dark night", ["dk"]),  # a typo in everyday words is still repaired; only a time phrase is not
])
def test_a_time_phrase_is_no_title(u_times, text, expected):
    """"last night" was linked as The Last Knight (fuzzy) and "a great movie last" as The Last."""
    assert [m.item_id for m in u_times.understand(text).mentions] == expected


@pytest.mark.parametrize("text,expected", COMMON_WORD_LINKING)
def test_common_words_need_a_cue_to_be_titles(u_common, text, expected):
    """Guards issue 16.8: "lighter" became Fighter (typo repair), "heist movies" became Heist (2015)."""
    assert [m.item_id for m in u_common.understand(text).mentions] == expected


def test_ambiguous_name_resolves_by_popularity_and_says_so(u):
    """'Heat' without a year is the more popular Heat (1995), and a note tells the user."""
    r = u.understand("I loved Heat")
    assert [m.item_id for m in r.mentions] == ["3"]
    assert r.notes and "Heat (1995)" in r.notes[0]


def test_notes_are_deduplicated_in_order(u):
    """Issue 16.9: a name typed many times gave the same "I took ..." note once per mention
    (21 copies in one status line); each distinct note appears once, first-seen order."""
    r = u.understand("I loved Heat, Heat and Heat")
    assert len(r.mentions) == 3
    assert len(r.notes) == 1 and "Heat (1995)" in r.notes[0]


def test_ambiguity_follows_the_given_popularity(tiny_catalog):
    """An evaluation's own popularity (not the catalogue's mentions) decides ambiguous names."""
    u = Understander(tiny_catalog, popularity={"3": 1.0, "4": 10.0})
    assert [m.item_id for m in u.understand("I loved Heat").mentions] == ["4"]


@pytest.mark.parametrize("text,stances", [
    ("I hated Alien", ["disliked"]),
    ("never seen Alien", ["not_seen"]),
    ("I haven't watched Inception yet", ["not_seen"]),
    ("I've seen Collateral", ["seen"]),
    ("Collateral was awesome", ["liked"]),
    ("Have you seen Alien?", ["neutral"]),  # a question, not the user's view
    ("I liked Inception but hated Alien", ["liked", "disliked"]),
    ("I loved Inception, Alien and Up", ["liked", "liked", "liked"]),
    ("not a fan of Toy Story", ["disliked"]),
    ("I didn't like Amelie", ["disliked"]),
    ("couldn't stand Alien", ["disliked"]),
    ("I enjoyed Inception a lot, but not Alien", ["liked", "disliked"]),
    ("Collateral is a guilty pleasure of mine", ["liked"]), ("Toy Story cracked me up", ["liked"]),
    ("Amelie was cute", ["liked"]), ("i can watch Inception over and over", ["liked"]),
])
def test_stance_per_mention(u, text, stances):
    """Guards per-mention stance, including contrast clauses and questions."""
    assert [m.stance for m in u.understand(text).mentions] == stances


def test_constraints_genres_moods_decades(u):
    """'something scary from the 90s' -> horror, 1990-1999."""
    c = u.understand("something scary from the 90s").constraints
    assert c.genres == {"horror"} and (c.year_min, c.year_max) == (1990, 1999)
    assert u.understand("something feel-good").constraints.genres == {"comedy"}


@pytest.mark.parametrize("text,year_min,year_max", [
    ("after 2010", 2011, None), ("since 2010", 2010, None), ("before 1980", None, 1979),
    ("between 1990 and 2000", 1990, 2000), ("80s movies", 1980, 1989), ("from the 2000s", 2000, 2009),
])
def test_year_ranges(u, text, year_min, year_max):
    c = u.understand(text).constraints
    assert (c.year_min, c.year_max) == (year_min, year_max)


def test_exclusions_and_people(u):
    """'no horror, not animated' excludes both; people resolve to catalogue names (last names too)."""
    c = u.understand("no horror, not animated please").constraints
    assert c.exclude_genres == {"horror", "animation"} and not c.genres
    assert u.understand("not a fan of horror").constraints.exclude_genres == {"horror"}
    assert u.understand("something with Tom Hanks").constraints.people == {"tom hanks"}
    assert u.understand("directed by Nolan").constraints.people == {"christopher nolan"}
    assert u.understand("anything with tom hanks").constraints.people == {"tom hanks"}


@pytest.mark.parametrize("text,slate,intent,target", [
    ("hi there!", [], "greeting", None),
    ("thanks!", ["1"], "thanks_bye", None),
    ("recommend me a thriller", [], "recommend", None),
    ("I loved Collateral", [], "recommend", None),
    ("more like Inception", [], "more_like", "10"),
    ("something similar to the second one", ["3", "5"], "more_like", "5"),
    ("why the second one?", ["3", "5"], "why", "5"),
    ("why did you pick Collateral?", ["3", "5"], "why", "5"),
    ("I've seen that one", ["3", "5"], "seen", "3"),
    ("loved the second one", ["3", "5"], "feedback", "5"),
    ("something older", ["3", "5"], "refine", None),
    ("no horror please", ["3", "5"], "refine", None),
    ("what is the capital of France", [], "chitchat", None),
    ("ok", [], "other", None),
])
def test_intents(u, text, slate, intent, target):
    """Guards the intent table: recommend, more_like, refine, why, feedback, seen, greeting, thanks_bye, other."""
    r = u.understand(text, last_slate=slate)
    assert (r.intent, r.target) == (intent, target)


def test_feedback_carries_the_stance(u):
    r = u.understand("I hated the first one", last_slate=["3", "5"])
    assert (r.intent, r.target, r.target_stance) == ("feedback", "3", "disliked")


def test_normalize_title():
    assert normalize_title("The Dark Knight") == "dark knight"
    assert normalize_title("Rocky II") == "rocky 2"
    assert normalize_title("Amélie") == "amelie"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_understood_without_error(tiny_catalog_items, text):
    """Arbitrary input never crashes understanding; spans point into the message."""
    r = tiny_catalog_items.understand(text, last_slate=["1", "3"])
    assert r.intent in INTENTS
    for m in r.mentions:
        assert 0 <= m.span[0] <= m.span[1] <= len(text)


@pytest.fixture(scope="module")
def tiny_catalog_items():
    from tests.conftest import TINY_ITEMS
    from workbench.catalog import Catalog

    return Understander(Catalog(TINY_ITEMS, source="tiny"))


def test_an_ambiguous_title_carries_the_other_films_it_could_mean():
    """Issue 16 item 8: the "I took X as Y" guess comes with the other readings, most popular first;
    a namesake sharing its year with another cannot be named by "Title (Year)", so it is not offered."""
    from workbench.catalog import Catalog, Item

    catalog = Catalog([
        Item("a", "Crash", 2004, ("Drama",), mentions=50),
        Item("b", "Crash", 1996, ("Thriller",), mentions=20),
        Item("c", "Crash", 1978, ("Horror",), mentions=5),
        Item("d", "Crash", 1978, ("Action",), mentions=3),
        Item("e", "Amélie", 2001, ("Comedy",), mentions=10),
    ], source="test")
    u = Understander(catalog)
    (m,) = u.understand("I liked Crash").mentions
    assert (m.item_id, m.alternatives) == ("a", ("b",)) and "I took" in m.note
    (m,) = u.understand("I liked Crash (1996)").mentions
    assert (m.item_id, m.alternatives, m.note) == ("b", (), "")
    (m,) = u.understand("I liked Amélie").mentions
    assert m.alternatives == ()


@pytest.mark.parametrize("message,liked,yardsticks", [
    ("something like Alien", [], ["7"]),  # a yardstick: what the user wants, not a liking
    ("stuff like Collateral and Inception", [], ["5", "10"]),  # a list after "like"
    ("similar in style to Amélie please", [], ["12"]),
    ("I really like Alien", ["7"], []),
    ("i like Alien and Inception", ["7", "10"], []),
    ("more like Inception, I loved it", ["10"], []),  # a later "loved it" likes the yardstick too
])
def test_a_film_named_as_a_yardstick_is_no_liking(u, message, liked, yardsticks):
    x = u.understand(message)
    assert x.liked == liked
    assert [m.item_id for m in x.mentions if m.compared] == yardsticks


def test_a_yardstick_is_still_a_seed_for_the_recommender(u):
    """Only ``Understanding.liked`` changes: the mention keeps the stance the conversation state reads."""
    (m,) = u.understand("something like Alien").mentions
    assert m.compared and m.stance == "liked"


def test_an_everyday_word_that_names_a_film_still_states_a_mood(u):
    """'nightmares' and 'monsters' are film titles too; typed in lower case inside a sentence they
    still rule horror out (constraints mask only the surely-titles)."""
    x = u.understand("adventure movies please, my son gets nightmares")
    assert "horror" in x.constraints.exclude_genres and "adventure" in x.constraints.genres


@pytest.mark.parametrize("message,name", [("I love Nolan", "Christopher Nolan"),
                                          ("I'm a huge Nolan fan", "Christopher Nolan")])
def test_a_surname_after_a_liking_or_before_fan_is_a_liked_person(u, message, name):
    x = u.understand(message)
    assert [p.name for p in x.people] == [name] and x.liked_people == (name,)


def test_a_lower_case_surname_after_love_stays_a_word(u):
    assert u.understand("i love hanks and stuff").people == ()  # no capital: no cue for a surname alone


@pytest.mark.parametrize("message,query", [
    # the mood is a genre filter (comedy), so its word is no search word either ("uplifting" found Super High Me)
    ("I'm sad today, my dog died. Something uplifting?", "Something ?"),
    ("something uplifting about dogs", "something about dogs"),
    ("Hi there! I want a crime film.", "I want a crime film."),
    ("a crime film", "a crime film"),  # one sentence: all of it
    ("Hello! How are you?", "Hello! How are you?"),  # no sentence asks: all of it
])
def test_search_reads_the_sentences_that_ask(u, message, query):
    """The user's day ("my dog died") is no search query: dog films for a sad person were the result."""
    assert u.understand(message).query == query


@pytest.fixture(scope="module")
def u_everyday():
    """The tiny catalogue plus titles made of everyday words or reference phrases."""
    from tests.conftest import TINY_ITEMS
    from workbench.catalog import Catalog, Item

    extra = [Item("fc", "Fight Club", 1999, ("Drama",), ("David Fincher",), ("Brad Pitt", "Edward Norton"), mentions=50),
             Item("rel", "Release", 2010, ("Drama",), mentions=1),
             Item("lo", "The Last One", 2014, ("Drama",), mentions=1),
             Item("st", "The Stuff", 1985, ("Horror",), mentions=1),
             Item("dr", "The Drop", 2014, ("Crime",), mentions=3)]
    return Understander(Catalog([*TINY_ITEMS, *extra], source="tiny+everyday"))


def test_a_title_on_the_slate_links_however_it_is_typed(u_everyday):
    """A lower-case title of everyday words ("fight club") links when the film is on screen."""
    on_screen = u_everyday.understand("fight club is one of my favourites", last_slate=["3", "fc"])
    assert [m.item_id for m in on_screen.mentions] == ["fc"]
    assert on_screen.intent == "feedback" and on_screen.target == "fc" and on_screen.target_stance == "liked"
    # a pronoun-like title on the slate stays a word
    assert u_everyday.understand("what's up with that one", last_slate=["2", "3"]).mentions == ()


@pytest.mark.parametrize("text,slate,linked", [
    ("when was heat released", ["3", "5"], ["3"]),  # "released" is a word, not a typo of Release
    ("something like the last one", ["lo", "3"], []),  # a slate position (Heat), not The Last One
    ("stuff like Heat", [], ["3"]),  # "stuff" is no title
    ("can you drop the dark stuff", ["3", "5"], []),  # a removal verb
])
def test_everyday_words_beside_titles_stay_words(u_everyday, text, slate, linked):
    got = u_everyday.understand(text, last_slate=slate)
    assert [m.item_id for m in got.mentions] == linked


def test_dark_under_a_removal_rules_out_thrillers(u_everyday):
    got = u_everyday.understand("can you drop the dark stuff", last_slate=["3", "5"])
    assert got.intent == "refine" and "thriller" in got.constraints.exclude_genres


def test_a_surname_with_its_particle_is_a_person(u):
    """"de niro" names Robert De Niro without his first name; "which ones have ..." asks across the slate."""
    got = u.understand("which ones have de niro", last_slate=["5", "3", "10"])
    assert [p.name for p in got.people] == ["Robert De Niro"]
    assert (got.intent, got.attribute) == ("compare", "has_person")


def test_a_position_phrase_in_capitals_is_the_title(u_everyday):
    assert [m.item_id for m in u_everyday.understand("I loved The Last One", last_slate=["3"]).mentions] == ["lo"]


@pytest.mark.parametrize("text,unknown", [
    ("I just watched Parasite and loved it", "Parasite"),
    ("we saw The Zorbulon Chronicles last week", "The Zorbulon Chronicles"),
    ("I watched Netflix all day", None),  # a service, not a film
    ("I loved it", None),
])
def test_a_film_the_catalogue_lacks_is_noticed(text, unknown):
    from workbench.dialogue.linking import unlinked_title

    assert unlinked_title(text) == unknown


def test_a_liked_film_the_catalogue_lacks_gets_an_honest_note_and_no_steer(u):
    got = u.understand("I just watched Parasite and loved it")
    assert got.intent == "chitchat" and any("not in my catalogue" in n for n in got.notes)
    assert not any("not in my catalogue" in n for n in u.understand("I loved Heat").notes)


@pytest.mark.parametrize("text,query", [
    ("what do you recommend for tonight?", "what do you recommend ?"),
    ("a romantic movie, my wife likes Paris", "a romantic movie, likes Paris"),
])
def test_the_search_query_leaves_out_the_viewers_evening(u, text, query):
    """"tonight" found Nightcrawler and "wife" I Think I Love My Wife: words about the viewer, not the film."""
    assert u.understand(text).query == query
