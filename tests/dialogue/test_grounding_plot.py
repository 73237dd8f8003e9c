"""What the default generator's audit and the demo transcripts showed (issue 26, second pass): invented
plots of catalogue films, one film named twice in a sentence, punctuation that runs sentences together,
a vague question back after "thanks", and a model's finished sentence that only lacked its full stop. One table row per case, with the clean sentences each rule must leave alone."""

from __future__ import annotations

import pytest

from tests.conftest import TINY_ITEMS
from workbench.catalog import Catalog, Item
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.plot import PLOT_CUES, check_plot
from workbench.dialogue.sentence_rules import thanks_only
from workbench.dialogue.sentences import tidy

MARY = Item("m1", "There's Something About Mary", 1998, ("Comedy", "Romance"), ("Bobby Farrelly",),
            ("Ben Stiller", "Cameron Diaz"), tags=("romantic comedy",))
DAZED = Item("d1", "Dazed and Confused", 1993, ("Comedy",), ("Richard Linklater",), ("Jason London",),
             tags=("coming-of-age", "coming-of-age comedy", "high school"))
CASINO = Item("c1", "Casino", 1995, ("Crime", "Drama"), ("Martin Scorsese",), ("Robert De Niro",),
              tags=("las vegas", "mafia"))
MARTIAN = Item("t1", "The Martian", 2015, ("Science Fiction",), ("Ridley Scott",), ("Matt Damon",),
               tags=("mars", "survival", "stranded"))
ADRIFT = Item("a1", "Adrift", 2009, ("Drama", "World cinema"), ("Bui Thac Chuyen",), ("Linh Dan Pham",))
CATALOG = Catalog([*TINY_ITEMS, MARY, DAZED, CASINO, MARTIAN, ADRIFT], source="plot-test")
SLATE = (MARY, DAZED, CASINO, MARTIAN, ADRIFT)
GROUNDER = Grounder(CATALOG)

# (reply, expected grounded reply, expected fixes_by_kind); a language model's reply (complete=True)
CASES = [
    # plot clauses: cut when what stays names a film, else the sentence goes
    pytest.param("You might enjoy Casino (1995) if you like the story of a high roller who gets caught up in his "
                 "own business.", "You might enjoy Casino (1995).", {"plot": 1}, id="story-of-cut"),
    pytest.param("You might enjoy There's Something About Mary (1998), which is about a couple who get married "
                 "but ends up having an affair.", "You might enjoy There's Something About Mary (1998).",
                 {"plot": 1}, id="which-is-about-cut"),
    pytest.param("You might enjoy Dazed and Confused (1993) if you liked that great comedy about a college student "
                 "who was taken away from his home", "You might enjoy Dazed and Confused (1993) if you liked that great comedy.",
                 {"plot": 1},
                 id="comedy-about-cut"),
    pytest.param("Try Casino (1995). It's about a guy who loses everything.", "Try Casino (1995).", {"plot": 1},
                 id="pronoun-plot-dropped"),
    pytest.param("Try Casino (1995). The story of two brothers lost at sea is moving.", "Try Casino (1995).",
                 {"plot": 1}, id="plot-of-no-film-dropped"),
    pytest.param("The Martian (2015) follows a botanist who grows potatoes. Try Casino (1995).", "Try Casino (1995).",
                 {"plot": 1}, id="follows"),
    # supported by the films' genres, tags or titles: kept
    pytest.param("Dazed and Confused (1993) is a comedy about coming-of-age in high school.",
                 "Dazed and Confused (1993) is a comedy about coming-of-age in high school.", {},
                 id="tags-support-the-clause"),
    pytest.param("The Martian (2015) is about survival on Mars.", "The Martian (2015) is about survival on Mars.",
                 {}, id="tag-words-kept"),
    pytest.param("Casino (1995) is all about the mafia, a crime story.", "Casino (1995) is all about the mafia, a crime story.",
                 {}, id="genre-and-tag-words"),
    pytest.param("There's Something About Mary (1998) is a great romantic comedy.",
                 "There's Something About Mary (1998) is a great romantic comedy.", {}, id="about-inside-a-title"),
    pytest.param("Casino (1995) is what crime films are about.", "Casino (1995) is what crime films are about.", {},
                 id="about-without-a-story"),
    # a film offered to fans of a genre is said to be of it (workbench.dialogue.facts)
    # in a sentence about the film before, the clause is cut when what stays says something the catalogue holds
    pytest.param("Try Casino (1995). It's a crime classic about a man who loses his boat to a storm.",
                 "Try Casino (1995). It's a crime classic.", {"plot": 1}, id="pronoun-head-with-a-genre-stays"),
    pytest.param("Try Casino (1995). It's a great story about a man who loses his boat to a storm.",
                 "Try Casino (1995).", {"plot": 1}, id="pronoun-head-saying-nothing-goes"),
    pytest.param("Try Casino (1995). It is about the mafia in las vegas.",
                 "Try Casino (1995). It is about the mafia in las vegas.", {}, id="pronoun-clause-of-tag-words"),
    pytest.param("You might enjoy Adrift (2009) if you liked action movies", "", {"genre": 1}, id="if-you-liked-genre"),
    pytest.param("You might enjoy Casino (1995) if you like the sci fi movies.", "", {"genre": 1},
                 id="if-you-like-the-sci-fi-movies"),
    pytest.param("You might enjoy Casino (1995) if you're into crime movies",
                 "You might enjoy Casino (1995) if you're into crime movies.", {}, id="if-youre-into-true-genre"),
    # one film twice in a sentence
    pytest.param("Got it! Next, try The Martian (2015) or The Martian (2015).", "Got it! Next, try The Martian (2015).",
                 {"repeat": 1}, id="twice-in-a-list"),
    pytest.param("You might enjoy Casino (1995) if you're into crime but also consider Casino (1995) as well.", "",
                 {"repeat": 1}, id="twice-in-a-sentence"),
    pytest.param('I took "Casino" as Casino (1995) (2 other films share the name).',
                 'I took "Casino" as Casino (1995) (2 other films share the name).', {}, id="the-users-word-and-the-title"),
    pytest.param("If you liked Casino (1995), The Martian (2015) is tense too.",
                 "If you liked Casino (1995), The Martian (2015) is tense too.", {}, id="two-films-once-each"),
    # a model's finished sentence without its full stop, and tidy punctuation
    pytest.param("You might enjoy Casino (1995) if you're into crime", "You might enjoy Casino (1995) if you're into crime.",
                 {}, id="missing-final-stop-added"),
    pytest.param("Here is an updated pick: Casino (1995) Is there a director you like?",
                 "Here is an updated pick: Casino (1995). Is there a director you like?", {}, id="stop-after-title"),
    pytest.param("You might enjoy Casino (1995) If you like Robert De Niro!",
                 "You might enjoy Casino (1995) if you like Robert De Niro!", {}, id="clause-after-title-lower-case"),
    pytest.param("Have you ever seen Casino (1995) ?", "Have you ever seen Casino (1995)?", {}, id="space-before-question"),
    pytest.param("You might enjoy Casino (1995) , which is tense .", "You might enjoy Casino (1995), which is tense.", {},
                 id="space-before-comma-and-stop"),
    pytest.param("You might enjoy Casino (1995) if you're into", "", {"cut": 1}, id="cut-on-a-preposition"),
    pytest.param("You might enjoy the martian (2015) or casino (1995).", "You might enjoy The Martian (2015) or Casino (1995).",
                 {}, id="a-slate-title-in-lower-case-written-as-the-catalogue-does"),
    pytest.param("Casino (1995) is great :)", "Casino (1995) is great :)", {}, id="a-face-ends-a-sentence"),
    pytest.param("I was about to say Casino (1995).", "I was about to say Casino (1995).", {}, id="about-to-is-no-plot"),
    pytest.param("Try Casino (1995). I liked the book but . . .", "Try Casino (1995). I liked the book but . . .", {},
                 id="spaced-dots-are-no-repeat"),
]


@pytest.mark.parametrize(("reply", "expected", "by_kind"), CASES)
def test_plot_repeat_and_punctuation_table(reply: str, expected: str, by_kind: dict[str, int]) -> None:
    """Each model reply grounds to the expected text, fixes counted by kind; streamed in pieces, the same."""
    out = GROUNDER.ground(reply, SLATE, complete=True)
    assert out.text == expected and out.fixes_by_kind == by_kind
    stream = GROUNDER.stream([reply[i : i + 4] for i in range(0, len(reply), 4)], SLATE, complete=True)
    assert "".join(stream) == expected


def test_every_plot_cue_is_exercised() -> None:
    """No dead rows in the cue table: each cue starts a clause in one of these sentences."""
    sentences = ["the story of a man", "which is about a man", "a comedy about a man", "it follows a man",
                 "a town where a man lives"]
    fired = {name for s in sentences for name, rx in PLOT_CUES if rx.search(s)}
    assert fired == {name for name, _ in PLOT_CUES}
    assert check_plot("Casino is a comedy about a man.", "______ is a comedy about a man.", [CASINO])[0] \
        == "Casino is a comedy."
    assert check_plot("It is about a man.", "It is about a man.", [CASINO])[0] is None  # no film stays


# (the user's last message, reply, expected, fixes_by_kind)
AFTER_MESSAGE = [
    pytest.param("cool", "Have you ever seen it ?", "", {"off_task": 1}, id="question-after-cool"),
    pytest.param("thank you, that's kind", "Have you seen it? Casino (1995) is tense.", "Casino (1995) is tense.",
                 {"off_task": 1}, id="question-after-thanks"),
    pytest.param("thanks!", "Casino (1995) is tense. Have you seen it?", "Casino (1995) is tense. Have you seen it?",
                 {}, id="a-question-about-the-film-just-named"),
    pytest.param("Thank you", "Have you seen Casino (1995)?", "Have you seen Casino (1995)?", {},
                 id="a-question-about-a-named-film"),
    pytest.param("Thanks! Anything else like it?", "Have you seen it?", "Have you seen it?",
                 {}, id="thanks-and-a-request-is-no-thanks"),
    pytest.param("yes", "Have you seen it?", "Have you seen it?", {}, id="yes-is-an-answer"),
]


@pytest.mark.parametrize(("message", "reply", "expected", "by_kind"), AFTER_MESSAGE)
def test_rules_that_read_the_users_last_message(message: str, reply: str, expected: str,
                                                by_kind: dict[str, int]) -> None:
    """After "thanks"/"cool", a reply that opens with a vague question back ("Have you ever seen it?") loses it."""
    out = GROUNDER.ground(reply, SLATE, allowed=[MARTIAN], message=message, user_text=message, complete=True)
    assert out.text == expected and out.fixes_by_kind == by_kind


def test_helpers() -> None:
    """The small checks the tables rely on."""
    assert thanks_only("cool") and thanks_only("ok thanks") and thanks_only("great, thank you!")
    assert not thanks_only("yes") and not thanks_only("thanks, what else?") and not thanks_only("I liked it")
    assert tidy("seen it ?") == "seen it?" and tidy("so :)", final=True) == "so :)" and tidy("Heat", final=True) == "Heat."
