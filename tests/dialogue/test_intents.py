"""Reading intents, references and question attributes (workbench/dialogue/intents.py, references.py).

Guards issue 25's reading on a tiny catalogue: slate pointers ("the first two", "the other two",
"those", "the Nolan one", "the horror one", "the 1995 one", "it" after a question), the new intents
(ask_fact, compare, seen, not_seen, thanks_bye, capabilities, chitchat vs other) and their
attributes; and that the simulated user's phrasings (``eval simulate``) never read as a question or
a social message, which would cost it its slate.
"""

from __future__ import annotations

import itertools

import pytest
from conftest import TINY_ITEMS

from workbench.catalog import Catalog, Item
from workbench.dialogue.engine import SLATE_INTENTS
from workbench.dialogue.intents import ATTRIBUTES
from workbench.dialogue.understand import Understander
from workbench.evaluate.simulation.attribute import GENERIC, NOT_THOSE, PHRASINGS, SILENT, UNSURE
from workbench.text import INTENTS

SLATE = ["5", "10", "1", "7", "3"]  # Collateral, Inception, Toy Story, Alien, Heat (1995)


@pytest.fixture(scope="module")
def u():
    return Understander(Catalog(TINY_ITEMS, source="tiny"))


@pytest.mark.parametrize("text,refs", [
    ("who's in the third one?", ["1"]),
    ("when did the first two come out?", ["5", "10"]),
    ("I've seen the other two", ["7", "3"]),
    ("which of these is the newest?", SLATE),
    ("who is in the Nolan one?", ["10"]),
    ("who directed the Pacino movie?", ["3"]),
    ("is the horror one scary?", ["7"]),
    ("who's in the 1995 one?", ["1", "3"]),
    ("who directed the last one?", ["3"]),
    ("is the 2nd one any good?", ["10"]),
    ("i saw the third one last year", ["1"]),  # "last year" is no slate position
    ("who directed it?", ["5"]),  # no film in focus: the top pick
])
def test_refs_point_into_the_slate(u, text, refs):
    assert list(u.understand(text, last_slate=SLATE).refs) == refs


def test_it_means_the_film_in_focus(u):
    assert u.understand("who directed it?", last_slate=SLATE, focus="7").refs == ("7",)


@pytest.mark.parametrize("text,slate,intent,attribute", [
    ("who's in the third one?", SLATE, "ask_fact", "cast"),
    ("whos in that one", SLATE, "ask_fact", "cast"),
    ("who's the director of Alien?", [], "ask_fact", "director"),
    ("when was Star Wars made?", [], "ask_fact", "year"),
    ("what genre is the fourth one?", SLATE, "ask_fact", "genre"),
    ("is the first one a cartoon?", SLATE, "ask_fact", "genre"),
    ("what is the second one about?", SLATE, "ask_fact", "about"),
    ("which of these is the newest?", SLATE, "compare", "newest"),
    ("whats the oldest one there", SLATE, "compare", "oldest"),
    ("which one has Tom Hanks?", SLATE, "compare", "has_person"),
    ("which of them are comedies?", SLATE, "compare", "has_genre"),
    ("I've seen the first one", SLATE, "seen", None),
    ("haven't watched the third", SLATE, "not_seen", None),
    ("ok great, that's it for tonight", SLATE, "thanks_bye", None),
    ("Thanks for the chat :)", [], "thanks_bye", None),
    ("what are you for?", [], "capabilities", None),
    ("how do you pick movies?", [], "capabilities", None),
    ("hey hey", [], "greeting", None),
    ("what's the weather like?", SLATE, "chitchat", None),
    ("hmm ok", [], "other", None),
    ("?", SLATE, "other", None),
    ("have you seen Alien?", [], "recommend", None),  # the assistant's own experience: no fact asked
    ("None of those. Maybe a comedy film?", SLATE, "refine", None),
])
def test_intents_and_attributes(u, text, slate, intent, attribute):
    r = u.understand(text, last_slate=slate)
    assert (r.intent, r.attribute) == (intent, attribute)
    assert r.intent in INTENTS and (r.attribute is None or r.attribute in ATTRIBUTES)


def test_the_simulated_user_always_gets_a_slate(u):
    """Every phrasing of ``eval simulate``'s attribute-mode user reads as a slate intent (a question or a
    closing would leave it without a slate, and the simulation numbers would move)."""
    values = {"genre": ["comedy", "horror", "animation"], "decade": ["1990s", "1970s"],
              "director": ["Michael Mann", "Christopher Nolan"], "actor": ["Tom Hanks", "Al Pacino"],
              "tag": ["heist", "space opera"]}
    said = [*GENERIC, *UNSURE]
    for kind, phrasings in PHRASINGS.items():
        said += [p.format(value=v) for p, v in itertools.product(phrasings, values[kind])]
    said += [f"{no} {m}" for no in NOT_THOSE for m in list(said)]
    wrong = [(m, r.intent) for m in said if (r := u.understand(m, last_slate=SLATE)).intent not in SLATE_INTENTS]
    assert not wrong
    assert u.understand(SILENT, last_slate=SLATE).intent == "other"  # as before: no question, no closing


def test_a_closing_that_judges_still_notes_the_judgement(u):
    """"thanks, loved the first one" closes, and the state still learns the user liked Collateral."""
    r = u.understand("thanks, loved the first one", last_slate=SLATE)
    assert r.intent == "thanks_bye" and r.judged == ("5", "liked")
    assert u.understand("is the first one any good?", last_slate=SLATE).judged is None  # a question judges nothing


@pytest.mark.parametrize("text,slate,intent", [
    # capabilities: what the assistant is, does, knows and how it works, in many phrasings
    ("what else can you do?", SLATE, "capabilities"),
    ("how does the recommendation work?", [], "capabilities"),
    ("introduce yourself", [], "capabilities"),
    ("am I talking to a real person?", [], "capabilities"),
    ("which movies are in your database?", [], "capabilities"),
    ("could I ask you about actors?", [], "capabilities"),
    ("do you handle tv series as well?", [], "capabilities"),
    ("who built you?", [], "capabilities"),
    ("great, we'll watch that one", SLATE, "thanks_bye"),
    # talk about the user's day or the assistant itself is small talk; a request inside it is not
    ("how old are you?", [], "chitchat"),
    ("can you help me with my essay", [], "chitchat"),
    ("I'm so tired, give me something exciting", [], "recommend"),
    ("that third one sounds wonderful", SLATE, "feedback"),
    ("any with a strong female lead?", SLATE, "refine"),
    # bare acknowledgements, fillers and typo marks are "other", with or without a slate
    ("hmmmm", [], "other"),
    ("i see, ok", SLATE, "other"),
    ("dunno", [], "other"),
    ("Hmm, not sure.", SLATE, "refine"),  # the simulated user's answer carries the search on
    ("hold on a sec", [], "other"),
    ("*suggest", [], "other"),
    # small talk with a word that reads as a constraint is still small talk, a request is not
    ("haha that's hilarious", [], "chitchat"),
    ("what do you have from the 80s?", [], "recommend"),
    # more like: phrase families beyond "more like X"
    ("anything reminiscent of Alien?", [], "more_like"),
    ("in the style of Heat please", [], "more_like"),
    ("like Inception but funnier", [], "more_like"),
    ("give me others like the second one", SLATE, "more_like"),
    ("more along those lines", SLATE, "more_like"),
    ("more of the same please", SLATE, "more_like"),
    # the negation of a liked genre is no more-like ("not the dark ones like Logan")
    ("i like thrillers but not the slow ones like Heat", [], "recommend"),
    # not seen and greetings
    ("never heard of the third one", SLATE, "not_seen"),
    ("don't know that one", SLATE, "not_seen"),
    ("hey there :)", [], "greeting"),
    ("hi! how's your day going?", [], "greeting"),
])
def test_intent_phrase_families(u, text, slate, intent):
    """Guards issue 25's weak spots: capabilities, chitchat vs other, more_like, not_seen, greeting."""
    assert u.understand(text, last_slate=slate).intent == intent


@pytest.mark.parametrize("text,intent,refs", [
    ("what genre is number four", "ask_fact", ["7"]),  # a spelled-out slate number
    ("what's option two about?", "ask_fact", ["10"]),
    ("is there a horror film among them?", "compare", SLATE),
    ("movies that are like Star Wars", "more_like", ["8"]),
])
def test_number_words_among_and_are_like(u, text, intent, refs):
    x = u.understand(text, last_slate=SLATE)
    assert (x.intent, list(x.refs)) == (intent, refs)


def test_pick_one_is_no_slate_position(u):
    assert u.understand("just pick one for me", last_slate=SLATE).refs != ("5",)


@pytest.mark.parametrize("text,target", [("more like the fourth", "7"), ("more like number two", "10"),
                                         ("something like the last", "3")])
def test_one_reading_of_slate_positions(u, text, target):
    """The intent's target and the refs come from one position reader (references.slate_position)."""
    x = u.understand(text, last_slate=SLATE)
    assert (x.intent, x.target) == ("more_like", target) and x.refs[0] == target


@pytest.mark.parametrize("text,intent", [
    ("the first one is new to me", "not_seen"),
    ("that one sounds interesting", "feedback"),
    ("what made you think of the second", "why"),
    ("actually start over, I want a documentary", "recommend"),
])
def test_everyday_phrasings_of_slate_intents(u, text, intent):
    assert u.understand(text, last_slate=SLATE).intent == intent


@pytest.mark.parametrize("text,intent", [
    ("what's the connection with the fourth one?", "why"),
    ("what does the last one have to do with my request", "why"),
    ("recommend movies resembling Star Wars", "more_like"),
    ("can you show ones that are more recent", "refine"),  # "show" the verb, not TV shows
])
def test_more_everyday_phrasings(u, text, intent):
    assert u.understand(text, last_slate=SLATE).intent == intent


def test_a_title_made_of_everyday_pronouns_needs_a_capital():
    """'anything else' is also a film: lower case in a sentence it is the phrase, not the title."""
    catalog = Catalog([*TINY_ITEMS, Item("90", "Anything Else", 2003, ("Comedy",))], source="tiny+")
    u = Understander(catalog)
    assert u.understand("anything else like the third?", last_slate=SLATE).intent == "more_like"
    assert [m.item_id for m in u.understand("I loved Anything Else").mentions] == ["90"]


@pytest.mark.parametrize("text", ["what's your favourite film?", "do you even like movies?",
                                  "what is your all-time favorite movie"])
def test_a_question_about_the_assistants_taste_is_small_talk_with_an_honest_note(u, text):
    got = u.understand(text)
    assert got.intent == "chitchat" and any("no favourites of my own" in n for n in got.notes)


@pytest.mark.parametrize("text,target", [("have you seen the first one?", "5"), ("do you like Alien?", "7")])
def test_asking_the_assistants_view_of_a_film_is_a_question_about_it(u, text, target):
    got = u.understand(text, last_slate=SLATE)
    assert (got.intent, got.target, got.attribute) == ("ask_fact", target, "about")
    assert any("don't watch films myself" in n for n in got.notes)


@pytest.mark.parametrize("text,attribute", [("which of them came out most recently?", "newest"),
                                            ("which was released first?", "oldest")])
def test_more_ways_to_ask_newest_and_oldest(u, text, attribute):
    got = u.understand(text, last_slate=SLATE)
    assert (got.intent, got.attribute) == ("compare", attribute)


def test_a_low_mood_gets_a_kind_word_and_a_laugh_gets_no_lecture(tiny_catalog, hash_embedder):
    from dialogue_fixtures import tiny_engine

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    sad = engine.respond(engine.new_state("a"), "I'm having a bad day")
    assert sad.act == "steer" and sad.reply.startswith("A good film might help with that.")
    laugh = engine.respond(engine.new_state("b"), "lol ok")
    assert laugh.act == "chat" and "films" not in laugh.reply


def test_whether_a_film_is_adapted_from_a_book_is_said_to_be_unknown(u):
    got = u.understand("are any of these based on a book?", last_slate=SLATE)
    assert got.intent in ("ask_fact", "compare") and got.attribute == "source"


@pytest.mark.parametrize("text,intent", [("do you have anything like Alien?", "more_like"),
                                         ("do you have Alien?", "ask_fact"),
                                         ("why is Alien on the list?", "why")])
def test_asking_whether_a_film_is_held_is_not_a_request_for_more(u, text, intent):
    assert u.understand(text, last_slate=SLATE).intent == intent


@pytest.mark.parametrize("text,slate,intent", [("he loves dinosaurs", SLATE, "refine"),
                                               ("she is really into horses", [], "recommend"),
                                               ("merry christmas!", SLATE, "thanks_bye"),
                                               ("I love you", [], "chitchat")])
def test_a_taste_that_is_no_genre_is_searched_and_a_wish_closes(u, text, slate, intent):
    assert u.understand(text, last_slate=slate).intent == intent


def test_a_bare_older_asks_for_older_films(u):
    got = u.understand("somethin older", last_slate=SLATE)
    assert got.constraints.year_max is not None


def test_a_fact_question_with_no_film_pointed_at_asks_which_one(tiny_catalog, hash_embedder):
    from dialogue_fixtures import tiny_engine

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    state = engine.new_state("which")
    state.record_slate(SLATE)
    result = engine.respond(state, "who's the director?")
    assert result.intent == "ask_fact" and result.act == "ask" and "Which film" in result.reply
    assert state.last_slate == SLATE


@pytest.mark.parametrize("text,slate,intent", [("sounds good", SLATE, "other"), ("looks good", SLATE, "other"),
                                               ("cool, more with him", SLATE, "recommend")])
def test_acks_and_requests_after_cool(u, text, slate, intent):
    assert u.understand(text, last_slate=slate).intent in (intent, "refine" if intent == "recommend" else intent)


@pytest.mark.parametrize("text", ["any live action ones?", "live-action please"])
def test_live_action_rules_out_cartoons_and_asks_no_action(u, text):
    got = u.understand(text, last_slate=SLATE)
    assert "animation" in got.constraints.exclude_genres and "action" not in got.constraints.genres


@pytest.mark.parametrize("text,slate,intent", [
    ("none of these ring a bell", SLATE, "not_seen"),
    ("i don't think we've seen the first one", SLATE, "not_seen"),
    ("i never got around to Alien", SLATE, "not_seen"),
    ("my kids have seen Toy Story like 50 times", SLATE, "seen"),  # "like" before an amount is no liking
    ("who voices the main character in the third one", SLATE, "ask_fact"),
    ("who else is in the second one?", SLATE, "ask_fact"),
    ("is Heat r rated or what", SLATE, "ask_fact"),
    ("can we go newer than these", SLATE, "refine"),
    ("who won the game last night?", [], "chitchat"),
    ("like Heat but newer", SLATE, "more_like"),
    ("the third one, is it good?", SLATE, "ask_fact"), ("is the first one worth watching?", SLATE, "ask_fact"),
    ("do you give recommendations?", [], "capabilities"), ("how good are your suggestions", [], "capabilities"),
    ("how do i get better recommendations from you", [], "capabilities"),
    ("i thought it was ok", SLATE, "feedback"), ("it was alright i guess", SLATE, "feedback"),
    ("I didn't like Heat", SLATE, "feedback"),
])
def test_fresh_phrasings(u, text, slate, intent):
    """Phrasings written after the rules were tuned (a probe set, not the labelled set): each failure
    found there is fixed in general form."""
    assert u.understand(text, last_slate=slate).intent == intent


def test_everyday_words_name_a_person_only_when_written_as_a_name(u):
    """"the game" is no mention of the rapper The Game; "The Game" written so still is (when the catalogue has him)."""
    assert not u.understand("who won the game last night?").people


def test_newer_than_these_is_after_most_of_the_films_on_screen(u):
    got = u.understand("can we go newer than these", last_slate=SLATE)  # 2004, 2010, 1995, 1979, 1995
    assert (got.constraints.year_min, got.constraints.year_max) == (1996, None)
    got = u.understand("anything older than those?", last_slate=SLATE)
    assert (got.constraints.year_min, got.constraints.year_max) == (None, 1994)


@pytest.mark.parametrize("text,asks", [
    ("can i get a recommendation", True), ("what's good on a rainy day with the family", True),
    ("what should we watch", True), ("give me something", True),
    ("how was your weekend?", False), ("what's up with you", False), ("i had a long day", False),
])
def test_a_request_in_so_many_words_anchors_against_the_intent_model(text, asks):
    """The intent model may not turn these into capabilities or small talk (it did: "can i get a
    recommendation" became capabilities)."""
    from workbench.dialogue.intents import asks_for_something

    assert asks_for_something(text) is asks


@pytest.mark.parametrize("text", ["i don't know, any", "no one in particular", "doesn't matter", "whatever you think",
                                  "up to you", "i don't care"])
def test_no_preference_in_answer_to_a_question_goes_on_with_films(u, text):
    """An answer to the engine's question with no preference gets other films, never "I only know films"."""
    assert u.understand(text, last_slate=SLATE).intent == "refine"
    assert u.understand(text).intent == "recommend"
