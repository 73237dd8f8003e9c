"""Grounding: no title that is not on the slate reaches the user, in whole replies or mid-stream."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TINY_ITEMS
from workbench.catalog import Catalog, Item
from workbench.dialogue.grounding import Grounder, ground, ground_stream
from workbench.dialogue.types import Recommendation

# The tiny catalogue plus titles that are also everyday words or names.
EXTRA_ITEMS = [
    Item("13", "It", 2017, ("Horror",)),
    Item("14", "Her", 2013, ("Romance",)),
    Item("15", "Life", 2017, ("Science Fiction",)),
    Item("16", "The Family", 2013, ("Comedy",)),
    Item("17", "Paul", 2011, ("Comedy",)),
    Item("18", "Aliens", 1986, ("Science Fiction",)),
    Item("19", "L.A. Confidential", 1997, ("Crime",)),
    Item("20", "2012", 2009, ("Action",)),
    Item("21", "Dr. Strangelove", 1964, ("Comedy",)),
    Item("22", "Home", 2015, ("Animation",)),
    Item("23", "The Star", 2017, ("Animation",)),
    Item("24", "The Sixth Sense", 1999, ("Thriller",)),
    Item("25", "Saw", 2004, ("Horror",)),
    Item("26", "Scary Movie", 2000, ("Comedy",)),
    Item("27", "Ant-Man", 2015, ("Superhero",), cast=("Paul Rudd",)),
    Item("28", "Coco", 2017, ("Animation",), tags=("pixar animation", "day of the dead")),
]
CATALOG = Catalog([*TINY_ITEMS, *EXTRA_ITEMS], source="grounding-test")
BY_ID = {item.item_id: item for item in CATALOG}
HEAT, HEAT86, COLLATERAL, INCEPTION, UP, TOY_STORY = (BY_ID[i] for i in ("3", "4", "5", "10", "2", "1"))
SLATE = (HEAT, COLLATERAL, INCEPTION, BY_ID["16"])  # 16: The Family (2013)

# (reply, expected grounded reply, expected fix count): slate = Heat (1995), Collateral, Inception.
CASES = [
    pytest.param("I recommend Heat (1995) and Collateral (2004). Both are tense.",
                 "I recommend Heat (1995) and Collateral (2004). Both are tense.", 0, id="slate-titles-kept"),
    pytest.param('You will love "Echoes of Eternity." Also try Heat.',
                 "Also try Heat.", 1, id="invented-in-quotes"),
    pytest.param("Try **The Silent Harbor** tonight. Collateral (2004) is great.",
                 "Collateral (2004) is great.", 1, id="invented-in-bold"),
    pytest.param("Try *Midnight Echo* or Heat.", "Try Heat.", 1, id="invented-in-italics-cut-from-pair"),
    pytest.param("*Midnight Echo* is moody.", "", 1, id="invented-in-italics-drops-sentence"),
    pytest.param("Inception (2010) is great. The Lost Kingdom (2003) is too.",
                 "Inception (2010) is great.", 1, id="invented-title-with-year"),
    pytest.param("Try Heat (1995), Alien (1979) and Inception (2010).",
                 "Try Heat (1995) and Inception (2010).", 1, id="catalogue-title-cut-from-list"),
    pytest.param("Try Heat, Collateral, Aliens, or Inception.",
                 "Try Heat, Collateral, or Inception.", 1, id="oxford-list-keeps-style"),
    # "as well as" joins a list too, and an article after "or" belongs to the title the model wrote
    pytest.param("You might enjoy Heat (1995) as well as Alien (1979).", "You might enjoy Heat (1995).", 1,
                 id="cut-from-as-well-as"),
    pytest.param("You might enjoy Heat (1995) as well as Collateral (2004).",
                 "You might enjoy Heat (1995) as well as Collateral (2004).", 0, id="as-well-as-both-kept"),
    pytest.param("Try Inception (2010) or The Midnight Garden (2013).", "Try Inception (2010).", 1,
                 id="cut-after-or-the"),
    pytest.param("Like Alien (1979), Heat (1995) is tense.", "", 1, id="a-clause-is-no-list"),
    pytest.param("If you liked Alien, you will like Inception. Heat is a classic.",
                 "Heat is a classic.", 1, id="catalogue-title-not-on-slate"),
    pytest.param("Forrest Gump is long. Heat it is.", "Heat it is.", 1, id="sentence-start-title"),
    pytest.param("forrest gump fans love Heat.", "", 1, id="lowercase-distinctive-title"),
    pytest.param("Her choice was Heat (1986).", "Her choice was Heat (1995).", 1,
                 id="same-title-wrong-film-replaced"),
    pytest.param("Inception (2012) bends minds.", "Inception (2010) bends minds.", 1, id="wrong-year-fixed"),
    pytest.param("Watch Colateral (2004) and Inceptoin (2010)!",
                 "Watch Collateral (2004) and Inception (2010)!", 2, id="near-miss-spellings"),
    pytest.param("I think **Inceptoin** is the one.", "I think **Inception (2010)** is the one.", 1,
                 id="near-miss-in-bold-keeps-markup"),
    pytest.param('Try "Heat" tonight.', 'Try "Heat" tonight.', 0, id="bare-slate-title-in-quotes"),
    pytest.param('Try "Festival de la Rêuse" tonight. Heat too.', "Heat too.", 1,
                 id="quoted-invented-with-particles"),
    pytest.param('Try "La Dolce Vita" tonight. Heat too.', "Heat too.", 1, id="quoted-foreign-title"),
    pytest.param('It is "good and dark" fun. Heat too.', 'It is "good and dark" fun. Heat too.', 0,
                 id="quoted-lowercase-phrase-is-not-a-title"),
    pytest.param("@3 is great, and so is @7.", "", 1, id="redial-id-not-on-slate"),
    pytest.param("@3 is great.", "Heat (1995) is great.", 0, id="redial-id-on-slate-rendered"),
    pytest.param("L.A. Confidential is like Heat. Collateral too.", "Collateral too.", 1,
                 id="title-with-initials-not-split"),
    pytest.param("1. Heat (1995): heist.\n2. Aliens (1986): space.\n3. Collateral (2004): taxi.",
                 "1. Heat (1995): heist.\n3. Collateral (2004): taxi.", 1, id="numbered-list-line-dropped"),
    pytest.param("Like Paul, I love Heat.", "", 1, id="one-word-title-mid-sentence"),
    # false positives: everyday words that are also titles
    pytest.param("It was up to you. Her choice was Heat.", "It was up to you. Her choice was Heat.", 0,
                 id="short-common-titles-ignored"),
    pytest.param("Life is short, so watch Heat. The family will love Collateral.",
                 "Life is short, so watch Heat. The family will love Collateral.", 0,
                 id="common-words-at-sentence-start"),
    # (issue 26: a person of no slate film is no title, but the person rule drops the sentence)
    pytest.param("Paul Rudd is not in Heat, but Al Pacino is.", "", 1, id="name-containing-title"),
    # Unmarked Title Case phrases that are no catalogue title and no known name are invented titles.
    pytest.param("You might enjoy The Silent Harbor. Heat is tense.",
                 "Heat is tense.", 1, id="unmarked-invented-title"),
    pytest.param("Try Midnight Garden or Heat.", "Try Heat.", 1, id="unmarked-invented-in-list"),
    pytest.param("Collateral (2004): Directed by Michael Mann, starring Jamie Foxx.",
                 "Collateral (2004): Directed by Michael Mann, starring Jamie Foxx.", 0,
                 id="clause-initial-capital-and-people-are-not-titles"),
    pytest.param("In 2012 it was shown again. Heat is a Crime film.",
                 "In 2012 it was shown again. Heat is a Crime film.", 0, id="number-title-and-genre-ignored"),
    pytest.param("**Why you will like it:** Heat is tense.", "**Why you will like it:** Heat is tense.", 0,
                 id="bold-heading-is-not-a-title"),
    pytest.param("Dr. Strangelove is funny. Heat is great.", "Heat is great.", 1,
                 id="abbreviation-does-not-split-sentence"),
    pytest.param("Saw it twice, and Heat too. A scary movie fan will like Collateral.",
                 "Saw it twice, and Heat too. A scary movie fan will like Collateral.", 0,
                 id="everyday-phrases-that-are-titles"),
    pytest.param("Like Sixth Sense (1999), Heat has a twist.", "", 1, id="title-missing-its-article"),
    pytest.param("You will love The Collateral (2004).", "You will love Collateral (2004).", 1,
                 id="stray-article-before-slate-title"),
    pytest.param("Try **The Inception**.", "Try **Inception (2010)**.", 1, id="stray-article-in-bold"),
    pytest.param("The The Family (2013) is fun.", "The Family (2013) is fun.", 1, id="doubled-article"),
    pytest.param("The Inceptio (2010) is clever.", "Inception (2010) is clever.", 1,
                 id="near-miss-with-article-at-sentence-start"),
    pytest.param("Try The Lost Kingdom (2003). Heat is good.", "Heat is good.", 1,
                 id="invented-title-after-a-verb"),
]


@pytest.mark.parametrize(("reply", "expected", "fixes"), CASES)
def test_ground_table(reply: str, expected: str, fixes: int) -> None:
    """Each tricky reply grounds to exactly the expected text with the expected fix count."""
    out = ground(reply, SLATE, CATALOG)
    assert out.text == expected
    assert out.fixes == fixes == len(out.events)


# (reply, slate, expected, fix count): a capitalised phrase that is a tag of a slate film says what the film
# is ("the Marvel Cinematic Universe"); the same phrase with no slate film tagged so is still an invented title
TAG_CASES = [
    pytest.param("You'll love Coco (2017) if you're into Pixar Animation.", (BY_ID["28"],),
                 "You'll love Coco (2017) if you're into Pixar Animation.", 0, id="a-slate-films-tag"),
    pytest.param("Coco (2017) is a Day of the Dead story.", (BY_ID["28"],),
                 "Coco (2017) is a Day of the Dead story.", 0, id="a-tag-with-connectors"),
    pytest.param("You'll love Heat (1995) if you're into Pixar Animation.", (HEAT,), "", 1,
                 id="a-tag-of-no-slate-film-is-still-caught"),
]


@pytest.mark.parametrize(("reply", "slate", "expected", "fixes"), TAG_CASES)
def test_a_slate_films_tag_is_no_invented_title(reply: str, slate: tuple[Item, ...], expected: str,
                                                fixes: int) -> None:
    out = ground(reply, slate, CATALOG)
    assert out.text == expected and out.fixes == fixes


# A lone capitalised word in a recommendation slot that is no catalogue title, name, genre or
# tag word is an invented title: slate = Heat (1995), Collateral, Inception, The Family, Up.
SLATE_WITH_UP = (*SLATE, UP)
SINGLE_WORD_CASES = [
    # invented, in each cue form: removed and counted
    pytest.param("You might enjoy Zorbatron next. Heat is tense.", "Heat is tense.", 1, id="enjoy"),
    pytest.param("Have you seen Moonfall? It is great.", "It is great.", 1, id="seen"),
    pytest.param("I recommend Quantumania.", "", 1, id="recommend"),
    pytest.param("I'm recommending Quantumania tonight. Heat too.", "Heat too.", 1, id="recommending"),
    pytest.param("I suggest Zorbatron.", "", 1, id="suggest"),
    pytest.param("Watch Zorbatron tonight. Heat is tense.", "Heat is tense.", 1, id="watch-sentence-start"),
    pytest.param("You will love watching Zorbatron.", "", 1, id="watching"),
    pytest.param("Try Zorbatron or Heat.", "Try Heat.", 1, id="try-cut-from-pair"),
    pytest.param("You should check out Zorbatron.", "", 1, id="check-out"),
    pytest.param("If you enjoyed Heat, you will love Zorbatron.", "", 1, id="love"),
    pytest.param("You might like Zorbatron.", "", 1, id="like"),
    pytest.param("How about Zorbatron? Heat is tense.", "Heat is tense.", 1, id="how-about"),
    pytest.param("What about Moonfall?", "", 1, id="what-about"),
    pytest.param("Zorbatron is a great film. Heat too.", "Heat too.", 1, id="is-a-great-film"),
    pytest.param("Moonfall was one of the best movies of its year.", "", 1, id="one-of-the-best-movies"),
    pytest.param("Give Zorbatron a try.", "", 1, id="give-a-try"),
    pytest.param("Another option is Zorbatron.", "", 1, id="option-is"),
    pytest.param("You might enjoy The Zorbatron.", "", 1, id="with-article"),
    pytest.param("- Zorbatron: a space romp\n- Heat: a heist", "- Heat: a heist", 1, id="list-head"),
    # issue 16.4: phrasings from prompted SmolLM2 replies that passed title grounding
    pytest.param("You'd love the Zorbatron, a space romp. Heat is tense.", "Heat is tense.", 1,
                 id="article-after-cue"),
    pytest.param("If you want more, you could consider the Zoominator. Heat too.", "Heat too.", 1,
                 id="consider-the"),
    pytest.param("Try the film Charmed tonight. Heat too.", "Heat too.", 1, id="the-film-x"),
    pytest.param("Charmed, which was released in 2003, is fun. Heat too.", "Heat too.", 1,
                 id="which-was-released-in"),
    pytest.param("I liked Zorbatron (released in 2003). Heat too.", "Heat too.", 1, id="released-in-parens"),
    # ...without flagging the article before names, genres and ordinary nouns
    pytest.param("I love the city. You will love the Pacino scenes in Heat.",
                 "I love the city. You will love the Pacino scenes in Heat.", 0, id="the-name-modifier"),
    pytest.param("I'd recommend the Mann classic. You might enjoy the Horror picks. We love the Coen brothers.",
                 "I'd recommend the Mann classic. You might enjoy the Horror picks. We love the Coen brothers.",
                 0, id="the-word-qualifying-a-noun"),
    pytest.param("How about Inceptoin?", "How about Inception (2010)?", 1, id="near-miss-replaced"),
    # catalogue titles: slate ones kept, others removed by the catalogue rule
    pytest.param("You might enjoy Heat or Up.", "You might enjoy Heat or Up.", 0, id="slate-one-word-titles"),
    pytest.param("You might enjoy Alien.", "", 1, id="catalogue-title-not-on-slate"),
    # not titles: names, genres, tag words, common words, services, sentence starts
    pytest.param("Have you seen Tom Hanks in it? Heat is tense.", "Heat is tense.",
                 1, id="cast-name"),  # no title; the person rule drops it (Tom Hanks is in no slate film)
    pytest.param("If you like Pacino, watch Heat.", "If you like Pacino, watch Heat.", 0, id="cast-surname"),
    pytest.param("If you love DeNiro, watch Heat.", "If you love DeNiro, watch Heat.", 0,
                 id="surname-written-together"),
    pytest.param("Have you seen Carell in Heat?", "Have you seen Carell in Heat?", 0, id="unknown-actor-in-a-film"),
    pytest.param("I loved Nolan's Inception.", "I loved Nolan's Inception.", 0, id="possessive"),
    pytest.param("If you like Horror, try Heat.", "If you like Horror, try Heat.", 0, id="genre"),
    pytest.param("Do you like Westerns?", "Do you like Westerns?", 0, id="genre-plural"),
    pytest.param("If you love Pixar, try Up.", "If you love Pixar, try Up.", 0, id="tag-word"),
    pytest.param("You might like Disney movies, or Heat.", "You might like Disney movies, or Heat.", 0,
                 id="word-qualifying-a-noun"),
    pytest.param("Do you watch Netflix? Try Heat on Netflix tonight.", "", 2,
                 id="streaming-service"),  # no title; the shop rule drops both sentences
    pytest.param("I think I like Heat more. How about Friday? I love Christmas.",
                 "I think I like Heat more. How about Friday? I love Christmas.", 0, id="pronoun-day-holiday"),
    pytest.param("Tonight is a good movie night. Heat fits.", "Tonight is a good movie night. Heat fits.", 0,
                 id="sentence-initial-common-word"),
    pytest.param("Try the IMAX cut of Heat in HD.", "Try the IMAX cut of Heat in HD.", 0, id="acronyms"),
    pytest.param("Zorbatron, my cat, likes Heat.", "Zorbatron, my cat, likes Heat.", 0, id="outside-a-slot"),
]


@pytest.mark.parametrize(("reply", "expected", "fixes"), SINGLE_WORD_CASES)
def test_single_word_invented_titles(reply: str, expected: str, fixes: int) -> None:
    """A lone capitalised word in a recommendation slot that is not on the slate and not a name,
    genre, tag or common word is removed (counted as a fix); everything else is left alone."""
    out = ground(reply, SLATE_WITH_UP, CATALOG)
    assert out.text == expected
    assert out.fixes == fixes == len(out.events)
    again = ground(out.text, SLATE_WITH_UP, CATALOG)
    assert again.text == out.text and again.fixes == 0


def test_single_word_invented_title_is_reported_with_its_own_reason() -> None:
    """The fix names the word and the rule, so the ReDial benchmark can list these removals."""
    out = ground("You might enjoy Zorbatron.", SLATE, CATALOG)
    assert [(e.kind, e.span, e.reason) for e in out.events] == [
        ("removed", "Zorbatron", "not in the catalogue (unmarked word)")]


def test_single_word_title_without_its_article_names_the_slate_item() -> None:
    """"Try Conjuring." with The Conjuring on the slate keeps the film and writes its real title."""
    out = ground("Try Conjuring.", [BY_ID["6"]], CATALOG)
    assert out.text == "Try The Conjuring (2013)." and out.mentioned == ("6",)


def test_single_word_allowed_title_and_split_slate_title_are_kept() -> None:
    """A one-word film the user mentioned (allowed) stays; so does the first word of a slate title
    that the sentence splitter cuts at "!" ("Boo! A Madea Halloween")."""
    out = ground("Since you loved Up, try Heat.", [HEAT], CATALOG, allowed=[UP])
    assert out.text == "Since you loved Up, try Heat." and out.fixes == 0
    boo = Item("x2", "Boo! A Madea Halloween", 2016)
    out = ground("Did you like Boo! A Madea Halloween is fun.", [boo], CATALOG)
    assert out.text == "Did you like Boo! A Madea Halloween is fun." and out.fixes == 0


def test_article_before_a_slate_title_is_not_another_film() -> None:
    """"the Star Wars (1977) films" names the slate's Star Wars, not the film "The Star"."""
    star_wars, sixth = BY_ID["8"], BY_ID["24"]
    out = ground("I like the Star Wars (1977) films.", [star_wars], CATALOG)
    assert out.fixes == 0 and out.mentioned == ("8",)
    out = ground("Try Sixth Sense (1999) tonight.", [sixth], CATALOG)
    assert out.fixes == 0 and out.mentioned == ("24",)


def test_allowed_items_may_be_named() -> None:
    """Films the user mentioned (allowed) stay in the reply; others are still removed."""
    reply = "Since you liked Toy Story (1995), try Heat (1995). Alien (1979) is also great."
    out = ground(reply, SLATE, CATALOG, allowed=[TOY_STORY])
    assert out.text == "Since you liked Toy Story (1995), try Heat (1995)."
    assert out.fixes == 1
    assert out.mentioned == ("3",)  # allowed items do not count as slate mentions


def test_accepts_recommendations_and_reports_slate_mentions() -> None:
    """Recommendations work as slate entries and `mentioned` lists the slate items named, in order."""
    recs = [Recommendation(item, rank, 1.0 / rank) for rank, item in enumerate(SLATE, 1)]
    out = ground("Inception is clever and Heat is tense.", recs, CATALOG)
    assert out.mentioned == ("10", "3")
    assert out.names_slate_item


def test_reply_that_names_nothing_on_the_slate_is_flagged() -> None:
    """When grounding leaves no slate title, the caller can tell and add a slate summary."""
    out = ground("You should watch **Neon Ghosts** (2019). It is fun.", SLATE, CATALOG)
    assert out.text == "It is fun."
    assert not out.names_slate_item
    assert out.events[0].kind == "removed" and out.events[0].reason == "not in the catalogue"


def test_ambiguous_title_resolves_to_the_slate_item() -> None:
    """"Heat" without a year is the slate's Heat (1995), not Heat (1986), and is not a fix."""
    out = ground("Heat is a great heist film.", [HEAT], CATALOG)
    assert out.fixes == 0 and out.mentioned == ("3",)
    out86 = ground("Heat is a great heist film.", [HEAT86], CATALOG)
    assert out86.fixes == 0 and out86.mentioned == ("4",)


def test_two_films_with_one_title_can_both_be_on_the_slate() -> None:
    """Heat (1986) and Heat (1995) both on the slate: each keeps its own year, no fixes."""
    out = ground("Heat (1986) and Heat (1995) are both here.", [HEAT, HEAT86], CATALOG)
    assert out.fixes == 0 and out.mentioned == ("4", "3")


def test_slate_item_with_another_id_for_the_same_film_is_kept() -> None:
    """A slate item whose id differs from the catalogue's copy of the same film is not "fixed"."""
    copy = Item("other-id", "Collateral", 2004)
    out = ground("Try Collateral (2004).", [copy], CATALOG)
    assert out.fixes == 0 and out.mentioned == ("other-id",)


def test_slate_item_outside_catalogue_is_recognised() -> None:
    """A slate item the catalogue lacks is still recognised (and its near misses replaced)."""
    extra = Item("x1", "Moonlit Harbour", 2020)
    out = ground('Try "Moonlit Harbor" tonight.', [extra], CATALOG)
    assert out.text == 'Try "Moonlit Harbour (2020)" tonight.'


def test_mentions_finds_catalogue_items_in_text() -> None:
    """Grounder.mentions finds the catalogue items a text names (used to build `allowed`)."""
    found = Grounder(CATALOG).mentions("I loved Toy Story and Heat (1986), not it.")
    assert [i.item_id for i in found] == ["1", "4"]


def test_grounding_is_idempotent_on_its_output() -> None:
    """Grounding a grounded reply changes nothing more (no fix is counted twice)."""
    for case in CASES:
        first = ground(case.values[0], SLATE, CATALOG)
        again = ground(first.text, SLATE, CATALOG)
        assert again.text == first.text and again.fixes == 0, case.id


# ---------------------------------------------------------------------------
# streaming

INVENTED = ["Echoes of Eternity", "The Silent Harbor", "Neon Ghosts", "Midnight Echo"]
INVENTED_WORDS = ["Zorbatron", "Moonfall", "Quantumania"]
NOT_ON_SLATE = ["Alien", "Forrest Gump", "Toy Story", "Aliens", "Amélie"]
SENTENCES = [
    "Heat (1995) is a tense heist film.",
    "You might enjoy Collateral, a taxi thriller.",
    "Inception bends your mind!",
    'Also try "{inv}" if you like twists.',
    "**{inv} (2003)** is another pick.",
    "Try Heat, {cat} and Inception.",
    "{cat} (1979) is a classic too.",
    "Dr. Strangelove is a satire.",
    "It was up to you.",
    "L.A. Confidential is set in Los Angeles.",
    "Is it *{inv}*?",
    "You might enjoy {word} next.",
    "Have you seen {word}? It is great.",
    "How about {word}, or Heat?",
    "{word} is a great film.",
    "- {word}: a space romp.",
    "Have you seen Tom Hanks in it?",
    "If you like Horror, watch Collateral on Netflix.",
]


def _split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(text[last:p])
        last = p
    pieces.append(text[last:])
    return pieces


@st.composite
def replies(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=6))
    seps = draw(st.lists(st.sampled_from([" ", "  ", "\n", "\n\n", " \n"]), min_size=len(chosen),
                         max_size=len(chosen)))
    out = []
    for sentence, sep in zip(chosen, seps, strict=True):
        out.append(sentence.format(inv=draw(st.sampled_from(INVENTED)),
                                   cat=draw(st.sampled_from(NOT_ON_SLATE)),
                                   word=draw(st.sampled_from(INVENTED_WORDS))) + sep)
    return "".join(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=replies(), cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=25))
def test_stream_never_yields_an_invented_title_for_any_split(text: str, cuts: list[int]) -> None:
    """For any split of the token stream: no yielded prefix holds an invented or off-slate title,
    and the streamed text equals grounding the whole reply at once."""
    stream = ground_stream(_split(text, cuts), SLATE, CATALOG)
    shown = ""
    for piece in stream:
        shown += piece
        for title in (*INVENTED, *INVENTED_WORDS):
            assert title not in shown
        for title in NOT_ON_SLATE:
            assert not re.search(rf"\b{re.escape(title)}\b", shown), (title, shown)
    whole = ground(text, SLATE, CATALOG)
    assert shown == whole.text
    assert stream.fixes == whole.fixes
    assert tuple(stream.mentioned) == whole.mentioned


def test_stream_holds_text_until_the_sentence_is_complete() -> None:
    """Nothing of a sentence is shown before its end is known (so it can still be dropped)."""
    pieces = ["Heat is ", "great. Try ", '"Neon ', 'Ghosts" too', ". Bye", "!"]
    stream = ground_stream(iter(pieces), SLATE, CATALOG)
    assert next(stream) == "Heat is great."
    assert next(stream) == " Bye!"
    with pytest.raises(StopIteration):
        next(stream)
    assert stream.fixes == 1 and stream.names_slate_item


PUNCT_TITLES = Catalog([*CATALOG, Item("40", "Boo! A Madea Halloween", 2016, ("Comedy",)),
                        Item("41", "Airplane!", 1980, ("Comedy",)),
                        Item("42", "What's Up, Doc?", 1972, ("Comedy",))], source="punct-test")


@pytest.mark.parametrize("reply", [
    "You should watch Boo! A Madea Halloween (2016). It is silly fun.",
    "Boo! A Madea Halloween is silly fun. So is Airplane! It never stops.",
    "What's Up, Doc? Yes, a screwball classic.",
])
def test_slate_titles_with_inner_punctuation_survive_whole_and_streamed(reply: str) -> None:
    """Guards the sentence splitter: it must not end a sentence inside a slate title ("Boo! A Madea
    Halloween"), which cut the title in two and dropped its second half as an invented phrase."""
    slate = [PUNCT_TITLES.get(i) for i in ("40", "41", "42")]
    g = Grounder(PUNCT_TITLES)
    assert g.ground(reply, slate).text == reply
    for size in (1, 3, 7):
        pieces = [reply[i:i + size] for i in range(0, len(reply), size)]
        assert "".join(g.stream(pieces, slate)) == reply


def test_a_near_miss_after_the_gets_one_article() -> None:
    """Issue 26: "love the Manchurian Candidacy (2004)" became "love the The Manchurian Candidate (2004)"."""
    item = Item("m1", "The Manchurian Candidate", 2004, ("Thriller",), ("Jonathan Demme",), ("Denzel Washington",))
    g = Grounder(Catalog([*CATALOG, item], source="article-test"))
    out = g.ground("You'll love the Manchurian Candidacy (2004).", [item])
    assert out.text == "You'll love The Manchurian Candidate (2004)." and out.fixes == 1


def test_days_holidays_and_services_are_not_invented_titles() -> None:
    """Guards the multi-word rule: a capitalised run made only of days, holidays or streaming
    services ("on Friday or at Christmas") is not an invented title; a real one still goes."""
    g = Grounder(CATALOG)
    kept = "Watch Heat on Friday or at Christmas."
    out = g.ground(kept + " It is on Netflix or Hulu.", SLATE)
    assert out.text == kept and out.fixes_by_kind == {"shop": 1}  # the service goes as a shop, not a title
    assert g.ground("Watch Silent Harbor Nights on Friday. Heat is great.", SLATE).text == "Heat is great."
