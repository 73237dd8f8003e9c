"""Whole-sentence grounding (issue 26.2): links, shops, instruction text, cut sentences, replies to a
message nobody sent, and unsupported people are removed (or a credit corrected), counted by kind in
``fixes_by_kind``; clean replies pass untouched. One table row per rule, plus the cases each rule
must leave alone (the false positives it was tuned against)."""

from __future__ import annotations

import pytest

from tests.conftest import TINY_ITEMS
from workbench.catalog import Catalog, Item
from workbench.dialogue.grounding import Grounder, ground_stream
from workbench.dialogue.on_task import about_films, answer_values, answers, asks_fact
from workbench.dialogue.sentence_rules import RULES, apply_rules, mask_spans, unbalanced, unfinished

GIRLS = Item("g1", "Girls Trip", 2017, ("Comedy",), ("Malcolm D. Lee",), ("Regina Hall", "Queen Latifah"))
SHOP = Item("s1", "Little Shop of Horrors", 1986, ("Comedy", "Musical", "Horror"), ("Frank Oz",),
            ("Rick Moranis", "Ellen Greene"))
MCADAMS = Item("a1", "About Time", 2013, ("Romance", "Comedy"), ("Richard Curtis",), ("Rachel McAdams",))
OTHER = Item("o1", "Sabrina", 1995, ("Comedy", "Romance"), ("Sydney Pollack",), ("Harrison Ford", "Julia Ormond",
                                                                                  "Greg Kinnear"))
CATALOG = Catalog([*TINY_ITEMS, GIRLS, SHOP, OTHER, MCADAMS], source="content-test")
BY_ID = {i.item_id: i for i in CATALOG}
SLATE = (BY_ID["3"], BY_ID["5"], GIRLS, SHOP)  # Heat (1995), Collateral (2004), Girls Trip, Little Shop of Horrors
GROUNDER = Grounder(CATALOG)

# (reply, expected grounded reply, expected fixes_by_kind); the user wrote USER_TEXT and liked Inception
USER_TEXT = "I loved Inception. Anything with Rachel McAdams?"
CASES = [
    # links, e-mail addresses, phone numbers
    pytest.param("Try Heat (1995). You can find them here: https://www.youtube.com/watch?v=abc123.",
                 "Try Heat (1995).", {"link": 1}, id="video-link"),
    pytest.param("Heat (1995) (https://www.imdb.com/title/tt0113277/) is tense.", "Heat (1995) is tense.",
                 {"link": 1}, id="bracketed-link-cut"),
    pytest.param("Heat is tense. Mail me at films@example.com for more.", "Heat is tense.", {"link": 1},
                 id="email"),
    pytest.param("Heat is tense. Call 555-123-4567 to book.", "Heat is tense.", {"link": 1}, id="phone"),
    pytest.param("Heat is tense. Check out imdb.com for the cast.", "Heat is tense.", {"link": 1}, id="bare-domain"),
    pytest.param("Heat is tense. Click the link below!", "Heat is tense.", {"link": 1}, id="link-words"),
    pytest.param("Heat is tense. You can find more details about both films here:\nhttps://imdb.com/x",
                 "Heat is tense.", {"link": 2}, id="link-lead-in"),
    # shops, streaming services, prices, where to watch
    pytest.param("Heat is tense. You could also find it on Netflix.", "Heat is tense.", {"shop": 1}, id="netflix"),
    pytest.param("Heat is tense. It streams on Disney+ and HBO Max.", "Heat is tense.", {"shop": 1}, id="services"),
    pytest.param("Heat is tense. You can get a great deal on Heat toys at a toy store.", "Heat is tense.",
                 {"shop": 1}, id="toy-store"),
    pytest.param("Heat is tense. It costs only $3.99 to rent.", "Heat is tense.", {"shop": 1}, id="price"),
    pytest.param("Heat is tense. It is available on DVD.", "Heat is tense.", {"shop": 1}, id="dvd"),
    pytest.param("Heat is tense. Rent it tonight!", "Heat is tense.", {"shop": 1}, id="rent-it"),
    pytest.param("Heat is tense. Watch it in theaters near you.", "Heat is tense.", {"shop": 1}, id="theaters"),
    pytest.param("I can't tell you where to watch Heat (1995): my catalogue knows films' years, genres, directors "
                 "and cast, but not streaming services, shops or showtimes.",
                 "I can't tell you where to watch Heat (1995): my catalogue knows films' years, genres, directors "
                 "and cast, but not streaming services, shops or showtimes.", {}, id="saying-where-to-watch-is-unknown"),
    pytest.param("I don't know where to watch it, but Netflix has it.", "", {"shop": 1},
                 id="a-disclaimer-that-names-a-service-after-all"),
    pytest.param("You might enjoy Heat (1995) if you liked the direction of the director.",
                 "You might enjoy Heat (1995).", {"off_task": 1}, id="vague-direction-of-the-director"),
    # the assistant's own viewing: it has watched nothing
    pytest.param("You might enjoy Heat (1995)! Also Collateral (2004) was good but not enough for me.",
                 "You might enjoy Heat (1995)!", {"off_task": 1}, id="judged-for-me"),
    pytest.param("Heat is tense. I have seen it twice.", "Heat is tense.", {"off_task": 1}, id="own-viewing"),
    pytest.param("Heat is tense. I've seen it twice.", "Heat is tense.", {"off_task": 1}, id="own-viewing-ive"),
    pytest.param("No, I don't think I've seen that one. Heat is tense.", "No, I don't think I've seen that one. Heat is tense.",
                 {}, id="not-thinking-one-has-seen-it"),
    pytest.param("Heat is tense. I'd say I have seen it twice.", "Heat is tense.", {"off_task": 1},
                 id="own-viewing-after-say"),
    pytest.param("I can't say I've seen that one, but Heat is tense.", "I can't say I've seen that one, but Heat is tense.",
                 {}, id="not-having-seen-it-is-true-of-an-assistant"),
    pytest.param("Heat is tense, and it may be a bit long for you.", "Heat is tense, and it may be a bit long for you.",
                 {}, id="for-you-is-fine"),
    # facts no catalogue film holds: awards, box office, reviews, release scheduling
    pytest.param("Heat is tense. It won three Oscars.", "Heat is tense.", {"unchecked": 1}, id="awards"),
    pytest.param("Heat is tense. It grossed a fortune at the box office.", "Heat is tense.", {"unchecked": 1},
                 id="box-office"),
    pytest.param("Heat is tense. It is critically acclaimed, 8/10 on IMDb.", "Heat is tense.", {"unchecked": 1},
                 id="reviews"),
    pytest.param("Heat is tense. It was released later than previously announced.", "Heat is tense.",
                 {"unchecked": 1}, id="release-schedule"),
    pytest.param("I don't know the ratings of Heat (1995): my catalogue holds no ratings, reviews or awards, only "
                 "years, genres, directors and cast.",
                 "I don't know the ratings of Heat (1995): my catalogue holds no ratings, reviews or awards, only "
                 "years, genres, directors and cast.", {}, id="saying-ratings-are-unknown"),
    # instruction or role text
    pytest.param("Heat is tense. Note: If you prefer, you could ask the user if they like crime films.",
                 "Heat is tense.", {"instruction": 1}, id="note-to-self"),
    pytest.param("Heat is tense. Collateral is too Assistant: yes.", "Heat is tense.", {"instruction": 1},
                 id="role-label"),
    pytest.param("Heat is tense. The user seems to like crime films.", "Heat is tense.", {"instruction": 1},
                 id="the-user"),
    pytest.param("Heat is tense. I'm just an AI, so I have not seen it.", "Heat is tense.", {"instruction": 1},
                 id="ai-disclaimer"),
    pytest.param("Heat is tense. For other questions about movies, please use this chatbot instead.", "Heat is tense.",
                 {"instruction": 1}, id="assistant-persona"),
    pytest.param("Heat is tense. You can choose from films available online.", "Heat is tense.", {"shop": 1},
                 id="available-online"),
    pytest.param("Heat is tense. I should recommend the candidates in 2 to 4 sentences.", "Heat is tense.",
                 {"instruction": 1}, id="restated-instruction"),
    pytest.param("Your answer: Heat is tense. Collateral too.", "Collateral too.", {"instruction": 1},
                 id="answer-label"),
    pytest.param("Heat is tense. Please avoid mentioning Hugh Grant when asked.", "Heat is tense.", {"instruction": 1},
                 id="avoid-mentioning"),
    pytest.param("Heat is tense. What do you think of the following movie options?", "Heat is tense.",
                 {"instruction": 1}, id="following-options"),
    pytest.param("Here is an updated pick: Heat (1995)\nCinemaBlinded\nWreaker Xanadora\nIs that fine?",
                 "Here is an updated pick: Heat (1995)\nIs that fine?", {"title": 2}, id="lines-of-unknown-names"),
    # unbalanced brackets and cut-off sentences
    pytest.param("Try Collateral. Heat ( Is there a director you like?", "Try Collateral.", {"cut": 1},
                 id="open-bracket"),
    pytest.param('Try Collateral. Heat is "so tense.', "Try Collateral.", {"cut": 1}, id="open-quote"),
    pytest.param("Try Collateral. Heat is a tense film about the", "Try Collateral.", {"cut": 1},
                 id="cut-at-the-end"),
    pytest.param("Try Collateral. Heat is a tense film,", "Try Collateral.", {"cut": 1}, id="cut-after-comma"),
    # replies to a message nobody sent
    pytest.param("Sorry, no film matches. Heat is tense.", "Heat is tense.", {"off_task": 1},
                 id="no-match-with-a-slate"),
    pytest.param("I'm sorry for your loss. Heat is tense.", "Heat is tense.", {"off_task": 1},
                 id="condolence-nobody-asked-for"),
    pytest.param("I'm sorry for your mistake. Heat is tense.", "Heat is tense.", {"off_task": 1},
                 id="apology-nobody-asked-for"),
    pytest.param("Sorry, no film matching. Heat is tense.", "Heat is tense.", {"off_task": 1},
                 id="no-film-matching"),
    pytest.param("Heat is tense. Which one do you like? 1.", "Heat is tense. Which one do you like?", {"cut": 1},
                 id="list-number-alone"),
    # people: every person must be of a slate film or named by the user, in any grammatical form
    pytest.param("Tom Thornton's action thriller Heat is great.", "Michael Mann's action thriller Heat is great.",
                 {"person": 1}, id="possessive-credit-corrected"),
    pytest.param("Girls Trip (2017) is a comedy by Tom Kowalski.", "Girls Trip (2017) is a comedy by Malcolm D. Lee.",
                 {"person": 1}, id="by-credit-corrected"),
    pytest.param("Try Heat (1995) and Frank Oz's Collateral (2004).", "Try Heat (1995) and Michael Mann's Collateral (2004).",
                 {"person": 1}, id="possessive-credit-of-another-slate-person"),
    pytest.param("Heat and Collateral are from director Mark Smithers. Heat is tense.", "Heat is tense.",
                 {"person": 1}, id="credit-of-two-films-dropped"),
    pytest.param("Heat is tense. You'll love Sydney Pollack's touch.", "Heat is tense.", {"person": 1},
                 id="catalogue-person-of-no-slate-film"),
    pytest.param("Heat is tense. Greg Kinnear is great in it.", "Heat is tense.", {"person": 1},
                 id="actor-of-another-film"),
    pytest.param("Heat is tense. Kowalski's crime film is darker.", "Heat is tense.", {"person": 1},
                 id="unknown-surname-with-a-credit"),
    # left alone: true people, people the user named, surnames, characters of no name list, ordinary prose
    pytest.param("Heat, Michael Mann's heist epic, stars Al Pacino and Robert De Niro.",
                 "Heat, Michael Mann's heist epic, stars Al Pacino and Robert De Niro.", {}, id="true-people"),
    pytest.param("Mann's Collateral is tense.", "Mann's Collateral is tense.", {}, id="surname-possessive"),
    pytest.param("If you like Rachel McAdams, try Girls Trip.", "If you like Rachel McAdams, try Girls Trip.", {},
                 id="person-the-user-named"),
    pytest.param("Since you loved Inception, Christopher Nolan fans enjoy Heat.",
                 "Since you loved Inception, Christopher Nolan fans enjoy Heat.", {}, id="person-of-an-allowed-film"),
    pytest.param("Little Shop of Horrors (1986) is a fun musical.", "Little Shop of Horrors (1986) is a fun musical.",
                 {}, id="shop-in-a-title"),
    pytest.param("Heat ends at Christmas, on a Sunday.", "Heat ends at Christmas, on a Sunday.", {},
                 id="places-and-holidays"),
    pytest.param("Heat is a deal-with-the-devil story (sort of).", "Heat is a deal-with-the-devil story (sort of).",
                 {}, id="balanced-brackets"),
    pytest.param("Heat is tense, and the ending stays with you.", "Heat is tense, and the ending stays with you.", {},
                 id="comma-inside"),
    pytest.param("I like Heat because it is tense", "I like Heat because it is tense", {},
                 id="no-final-stop-but-finished"),
    pytest.param("Heat is great :) Collateral too ;-) : )", "Heat is great :) Collateral too ;-) : )", {},
                 id="faces-are-no-brackets"),
    # a condition on a taste nobody stated: the clause goes, the recommendation stays
    pytest.param("You might enjoy Heat (1995) if you liked the direction.", "You might enjoy Heat (1995).",
                 {"off_task": 1}, id="vague-if-you-liked-the-direction"),
    pytest.param("You might enjoy Collateral (2004) if you liked it too!", "You might enjoy Collateral (2004)!",
                 {"off_task": 1}, id="vague-if-you-liked-it"),
    pytest.param("You might enjoy Heat (1995) if you liked that kind of humor", "You might enjoy Heat (1995)",
                 {"off_task": 1}, id="vague-if-you-liked-that-kind"),
    pytest.param("You might enjoy Heat (1995) but not Collateral (2004).", "You might enjoy Heat (1995).",
                 {"off_task": 1}, id="but-not-a-slate-title"),
    pytest.param("Heat (1995) is tense but not violent.", "Heat (1995) is tense but not violent.", {},
                 id="but-not-an-adjective-stays"),
    pytest.param("You might enjoy Heat (1995) if you liked the direction of the series.", "You might enjoy Heat (1995).",
                 {"off_task": 1}, id="vague-if-you-liked-the-direction-of-anything"),
    pytest.param("You might enjoy Heat (1995) if you liked that kind of storytelling.", "You might enjoy Heat (1995).",
                 {"off_task": 1}, id="vague-if-you-liked-that-kind-of-anything"),
    pytest.param("You might enjoy Heat (1995) if you're into that sort of thing too.", "You might enjoy Heat (1995).",
                 {"off_task": 1}, id="vague-if-youre-into-that-too"),
    # ...but a hedge in the present tense is about the kind of film recommended, as people say it: it stays
    pytest.param("You might enjoy Heat (1995) if you're into that sort of thing.",
                 "You might enjoy Heat (1995) if you're into that sort of thing.", {}, id="hedge-if-youre-into-that-kind"),
    pytest.param("I hear Collateral (2004) is good if you like that kind of movie!",
                 "I hear Collateral (2004) is good if you like that kind of movie!", {}, id="hedge-if-you-like-that-kind"),
    pytest.param("You might enjoy Heat (1995) if you liked Inception (2010).",
                 "You might enjoy Heat (1995) if you liked Inception (2010).", {}, id="a-named-film-is-no-vague-taste"),
]


@pytest.mark.parametrize(("reply", "expected", "by_kind"), CASES)
def test_whole_sentence_table(reply: str, expected: str, by_kind: dict[str, int]) -> None:
    """Each reply grounds to the expected text, fixes counted by kind (and summing to ``fixes``)."""
    out = GROUNDER.ground(reply, SLATE, allowed=[BY_ID["10"]], user_text=USER_TEXT)
    assert out.text == expected
    assert out.fixes_by_kind == by_kind
    assert out.fixes == sum(by_kind.values()) == len(out.events)


@pytest.mark.parametrize(("reply", "expected", "by_kind"), CASES)
def test_whole_sentence_rules_hold_for_any_split(reply: str, expected: str, by_kind: dict[str, int]) -> None:
    """Streamed in 3-character pieces, the shown text and the counts equal grounding the whole reply."""
    stream = GROUNDER.stream([reply[i : i + 3] for i in range(0, len(reply), 3)], SLATE, allowed=[BY_ID["10"]],
                             user_text=USER_TEXT)
    assert "".join(stream) == expected and stream.fixes_by_kind == by_kind


def test_a_language_models_reply_cut_by_its_token_limit_loses_the_cut_sentence() -> None:
    """``complete``: a model's last sentence that stops on a preposition was cut by the token limit and goes;
    one that only lacks its full stop (the fine-tuned model writes as ReDial's people do) gets one."""
    reply = "Try Collateral. Heat is a tense film with"
    assert GROUNDER.ground(reply, SLATE).text == reply  # a person's message: no token limit
    out = GROUNDER.ground(reply, SLATE, complete=True)
    assert out.text == "Try Collateral." and out.fixes_by_kind == {"cut": 1}
    assert GROUNDER.ground("Try Collateral (2004)!", SLATE, complete=True).fixes == 0
    finished = GROUNDER.ground("You might enjoy Heat (1995) if you're into crime films", SLATE, complete=True)
    assert finished.text == "You might enjoy Heat (1995) if you're into crime films." and finished.fixes == 0
    assert GROUNDER.ground("You might enjoy Heat (1995) if you're into", SLATE, complete=True).fixes_by_kind \
        == {"cut": 1}


def test_a_one_word_title_on_the_slate_hides_no_everyday_word() -> None:
    """With the film "It" talked about, "I have seen it" is still the assistant's own viewing (the title mask
    blanked every "it" and the rule never saw the claim)."""
    film_it = Item("i1", "It", 2017, ("Horror",))
    out = Grounder(Catalog([*CATALOG, film_it], source="it-test")).ground(
        "You might enjoy Heat (1995). I have watched it before, but it is long.", SLATE, allowed=[film_it])
    assert out.text == "You might enjoy Heat (1995)." and out.fixes_by_kind == {"off_task": 1}


def test_a_condolence_after_a_message_about_a_loss_is_kept() -> None:
    """The condolence rule reads the user's messages: after "my dog died" it is no reply to nobody."""
    reply = "I'm sorry for your loss. Heat is tense."
    assert GROUNDER.ground(reply, SLATE, user_text="My dog died today.").text == reply


def test_no_match_is_true_when_the_search_found_nothing() -> None:
    """"No film matches" is dropped while a slate is shown, kept when the turn found nothing."""
    assert GROUNDER.ground("Sorry, no film matches. Try fewer constraints.", (), nothing_found=True).fixes == 0


def test_every_rule_in_the_table_fires_on_some_case() -> None:
    """No dead rows: each rule of the table is exercised by one of the cases above."""
    fired = set()
    for param in CASES:
        reply = param.values[0]
        for sentence in reply.replace("? ", "?\n").replace(". ", ".\n").replace("! ", "!\n").splitlines():
            fired |= {h.name for h in apply_rules(sentence, masked=mask_spans(sentence, ["Little Shop of Horrors"]),
                                                  user_text=USER_TEXT)[1]}
    # the rule that reads the user's last message has its own table (tests/dialogue/test_grounding_plot.py)
    fired |= {h.name for h in apply_rules("Have you seen it?", message="cool")[1]}
    # "but not <title>" reads titles blanked, which the loop above does for one title only
    sentence = "You might enjoy Heat (1995) but not Collateral (2004)."
    fired |= {h.name for h in apply_rules(sentence, masked=mask_spans(sentence, ["Heat (1995)", "Collateral (2004)"]))[1]}
    # a "keep" row leaves no hit: it fires when its pattern reads one of the cases
    fired |= {r.name for r in RULES if r.action == "keep" and any(r.pattern.search(p.values[0]) for p in CASES)}
    assert {r.name for r in RULES} - fired == set()


def test_helpers() -> None:
    """The small checks the table relies on."""
    assert unbalanced("Rebel ( Is there a director") and not unbalanced("Heat (1995) is tense.")
    assert unbalanced("a closing ) first") and unbalanced('an "open quote')
    assert unfinished("Heat is a film of the") and not unfinished("Thanks for stopping by") and unfinished("Heat, Collateral,") and not unfinished("Heat is tense")
    assert mask_spans("Little Shop of Horrors is fun", ["little shop of horrors"]).startswith("_" * 22)
    assert mask_spans("It is scary, I hear", ["It"]) == "__ is scary, I hear"
    assert mask_spans("I've seen it", ["It"]) == "I've seen it"  # a one-word title hides no everyday word
    assert about_films("Please go ahead and relax.", True) and not about_films("Please go ahead and relax.", False)
    assert about_films("You will love this movie.", False)
    values = answer_values([BY_ID["3"]])
    assert answers("It was directed by Michael Mann.", values) and not answers("It has many options.", values)
    assert answers("I can't tell you where to watch these films.", values)  # an honest "not known" answers


# (user message, whether it asks a fact that the reply must answer)
ASKS_FACT = [
    pytest.param("Who directed it?", True, id="who-directed"),
    pytest.param("I loved Heat. Haven't seen Collateral. What's it about?", True, id="about-in-the-last-question"),
    pytest.param("Who is in the other one?", True, id="who-is-in-the-other-one"),
    pytest.param("What about something like Inception?", False, id="more-like-a-film"),
    # "old", "released", "stars" describe the films wanted in a request for films: no fact to answer
    pytest.param("I think the old one was better, so what would you recommend?", False, id="old-in-a-request"),
    pytest.param("The old ones are great. Can you recommend a comedy?", False, id="fact-word-outside-the-question"),
    pytest.param("How about a movie that was released recently? Anything good?", False, id="released-in-a-request"),
    pytest.param("Is there a movie with Tom Cruise?", False, id="a-film-with-a-person-is-a-request"),
]


@pytest.mark.parametrize(("message", "expected"), ASKS_FACT)
def test_which_messages_ask_a_fact(message: str, expected: bool) -> None:
    """A fact question makes the reply answer it (or be replaced); a request for films asks no fact."""
    assert asks_fact(message) is expected


# ---------------------------------------------------------------------------
# a reply about no film, or one that ignores the question, shows nothing (the engine shows the template)


def test_a_reply_about_no_film_is_held_back() -> None:
    """"I'm sorry for your loss. Please go ahead and relax." after "thanks": nothing reaches the screen."""
    stream = GROUNDER.stream(["Please go ahead and relax. ", "Have a nice day!"], SLATE, user_text="thanks",
                             require_films=True)
    assert list(stream) == [] and not stream.on_task and stream.withheld == ["Please go ahead and relax.",
                                                                             "Have a nice day!"]


def test_held_sentences_are_released_with_the_first_about_films() -> None:
    """A greeting is held only until the first sentence about films, then shown before it, in order."""
    stream = ground_stream(["Hi there! ", "Heat is a tense film. ", "Enjoy!"], SLATE, CATALOG)
    assert "".join(stream) == "Hi there! Heat is a tense film. Enjoy!"
    held = GROUNDER.stream(["Hi there! ", "Heat is a tense film. ", "Enjoy!"], SLATE, require_films=True)
    assert next(held) == "Hi there!" and "".join(held) == " Heat is a tense film. Enjoy!" and held.on_task


def test_a_reply_that_ignores_a_question_about_a_film_is_held_back() -> None:
    """Asked about Heat, a reply that names neither Heat nor one of its facts is not shown."""
    ignoring = GROUNDER.stream(["Girls Trip (2017) is a fun comedy."], SLATE, require_films=True, answer_for=["3"])
    assert list(ignoring) == [] and ignoring.about_films and not ignoring.on_task
    answering = GROUNDER.stream(["It was directed by Michael Mann."], SLATE, require_films=True, answer_for=["3"])
    assert "".join(answering) == "It was directed by Michael Mann." and answering.on_task
    vague = GROUNDER.stream(["It has many options for every movie night."], SLATE, require_films=True,
                            answer_for=["3"])
    assert list(vague) == [] and not vague.on_task  # a pronoun alone is no answer


def test_every_fix_kind_has_a_status_line_phrase() -> None:
    """The chat's status line names every kind grounding and the engine count (no raw key shown)."""
    from workbench.dialogue.grounding import FIX_CATEGORIES
    from workbench.ui.format import FIX_KINDS

    assert {*FIX_CATEGORIES, "emptied", "replaced"} <= set(FIX_KINDS)
