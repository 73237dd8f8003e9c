"""Questions about films answered from catalogue facts, closings, capabilities and off-topic talk,
through ``ChatEngine.respond`` on a tiny catalogue built here (issue 25).

Guards: an answer states the catalogue's fact (or says it is unknown) and keeps the slate; the next
pointer still reads the same slate; "it" follows the film just answered about; greetings, closings
and "what can you do?" get short replies with no slate and no apology; off-topic talk is steered
back once, then gets a neutral word; an LLM reply that leaves the fact out is replaced by the
template answer, and the result says so; ``act`` / ``answer`` reach ``to_dict``, the turn log and
the feedback record.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import TINY_ITEMS
from dialogue_fixtures import tiny_engine

from workbench.catalog import Catalog, Item
from workbench.dialogue.answers import answer_text, build_answer, states_answer
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.prompts import render_request
from workbench.dialogue.types import ACTS, TurnResult
from workbench.feedback import FeedbackRecord, make_record
from workbench.retrieval.embed import HashEmbedder

#: A film the catalogue knows little about: no year, no director, no cast, no genres.
BARE = Item("13", "Nameless Reel", None, (), (), (), (), mentions=1)
#: The slate every question below is asked about (fixed, so the tests do not depend on the ranker).
SLATE = ["5", "10", "1", "7", "13"]  # Collateral 2004, Inception 2010, Toy Story 1995, Alien 1979, no year


@pytest.fixture(scope="module")
def engine():
    catalog = Catalog([*TINY_ITEMS, BARE], source="tiny")
    return tiny_engine(catalog, HashEmbedder(dimension=64))


def shown(engine, slate=SLATE):
    """A conversation whose last slate is ``slate``."""
    state = engine.new_state("s")
    engine.respond(state, "I loved Heat")
    state.last_slate = list(slate)
    return state


@pytest.mark.parametrize("message,item_id,attribute,expected", [
    ("who's in the third one?", "1", "cast", "Tom Hanks"),
    ("who directed the second one?", "10", "director", "Christopher Nolan"),
    ("when did the first one come out?", "5", "year", "2004"),
    ("what genre is the fourth one?", "7", "genre", "horror"),
    ("what is the third one about?", "1", "about", "toys"),
    ("when was Star Wars made?", "8", "year", "1977"),
    ("who's the director of Alien?", "7", "director", "Ridley Scott"),
    ("who is in the Nolan one?", "10", "cast", "Leonardo DiCaprio"),
])
def test_ask_fact_is_answered_from_the_catalogue(engine, message, item_id, attribute, expected):
    state = shown(engine)
    result = engine.respond(state, message)
    assert (result.intent, result.act) == ("ask_fact", "answer")
    assert result.answer is not None and result.answer.item.item_id == item_id
    assert result.answer.attribute == attribute
    assert expected.lower() in result.reply.lower(), result.reply
    assert result.recommendations == () and state.last_slate == SLATE  # the slate is kept
    assert "sorry" not in result.reply.lower() and "stick to" not in result.reply.lower()


def test_yes_no_genre_question(engine):
    """"is the third one a cartoon?" is yes for Toy Story and no for Collateral, from the genres."""
    yes = engine.respond(shown(engine), "is the third one a cartoon?")
    no = engine.respond(shown(engine), "is the first one a cartoon?")
    assert yes.answer.attribute == no.answer.attribute == "genre"
    assert yes.reply.startswith("Yes") and "animation" in yes.reply.lower()
    assert no.reply.startswith("No") and "crime" in no.reply.lower()


def test_a_question_does_not_become_a_constraint(engine):
    """Asking whether a film is a cartoon must not make the next slate cartoons only."""
    state = shown(engine)
    engine.respond(state, "is the first one a cartoon?")
    assert not state.constraints.genres


@pytest.mark.parametrize("message,attribute,answer_id,expected", [
    ("which of these is the newest?", "newest", "10", "Inception"),
    ("which one is the oldest?", "oldest", "7", "Alien"),
    ("which of them has Tom Hanks?", "has_person", "1", "Toy Story"),
    ("which of these are horror films?", "has_genre", "7", "Alien"),
    ("which of them came out in the 2000s?", "has_year", "5", "Collateral"),
])
def test_compare_across_the_slate(engine, message, attribute, answer_id, expected):
    state = shown(engine)
    result = engine.respond(state, message)
    assert (result.intent, result.act, result.answer.attribute) == ("compare", "answer", attribute)
    assert result.answer.item.item_id == answer_id and expected in result.reply
    assert result.recommendations == () and state.last_slate == SLATE


def test_a_question_about_years_is_no_year_filter(engine):
    """"which of them came out in the 2000s?" answers from the slate (Collateral, 2004; Inception is from
    2010) and leaves the years of the next slate open."""
    state = shown(engine)
    result = engine.respond(state, "which of them came out in the 2000s?")
    assert "Collateral" in result.reply and "Inception" not in result.reply and "Heat" not in result.reply
    assert state.constraints.year_min is None and state.constraints.year_max is None


def test_compare_with_no_match_says_none(engine):
    result = engine.respond(shown(engine), "which of them has Al Pacino?")
    assert result.answer.attribute == "has_person" and result.answer.item is None
    assert result.answer.values == () and "none" in result.reply.lower()


@pytest.mark.parametrize("message,attribute", [
    ("when did the fifth one come out?", "year"),
    ("who directed the fifth one?", "director"),
    ("who's in the last one?", "cast"),
])
def test_a_missing_fact_is_unknown_never_guessed(engine, message, attribute):
    result = engine.respond(shown(engine), message)
    assert result.answer.item.item_id == "13" and result.answer.attribute == attribute
    assert result.answer.values == () and not result.answer.known
    assert "don't know" in result.reply and "Nameless Reel" in result.reply
    assert not any(str(y) in result.reply for y in range(1900, 2030))


def test_it_follows_the_film_just_answered_about(engine):
    """"who's in the third one?" then "and who directed it?": it is the third one, not the top pick."""
    state = shown(engine)
    engine.respond(state, "who's in the third one?")
    result = engine.respond(state, "and who directed it?")
    assert result.answer.item.item_id == "1" and "John Lasseter" in result.reply
    # the slate survived both answers: the next pointer reads the same slate
    assert engine.respond(state, "and the second one, who directed that?").answer is not None
    assert engine.understand(state, "more like the fourth one").target == "7"


def test_a_question_that_also_asks_for_more_gets_a_slate(engine):
    state = shown(engine)
    result = engine.respond(state, "who's in the second one? show me more like it")
    assert result.act == "answer" and result.answer.item.item_id == "10"
    assert result.recommendations and "Leonardo DiCaprio" in result.reply
    assert state.last_slate != SLATE


@pytest.mark.parametrize("message,intent,act", [
    ("hello!", "greeting", "greet"),
    ("ok great, that's all for tonight", "thanks_bye", "close"),
    ("thanks a lot, bye", "thanks_bye", "close"),
    ("what are you for?", "capabilities", "introduce"),
    ("what can you do?", "capabilities", "introduce"),
])
def test_social_messages_get_short_replies_without_a_slate(engine, message, intent, act):
    state = shown(engine)
    result = engine.respond(state, message)
    assert (result.intent, result.act) == (intent, act)
    assert result.recommendations == () and state.last_slate == SLATE
    low = result.reply.lower()
    assert "sorry" not in low and "afraid" not in low and len(result.reply) < 400
    assert "nothing in the catalogue" not in low and "loosen" not in low  # not a failed search


def test_capabilities_say_what_the_engine_does(engine):
    reply = engine.respond(engine.new_state("c"), "what are you for?").reply.lower()
    assert "film" in reply and ("recommend" in reply or "suggest" in reply)


def test_off_topic_is_steered_once_then_a_neutral_reply(engine):
    state = shown(engine)
    first = engine.respond(state, "what's the weather like?")
    second = engine.respond(state, "who won the game last night?")
    assert (first.act, second.act) == ("steer", "chat")
    assert "film" in first.reply.lower() and first.reply != second.reply
    # a second off-topic question is declined in one short line, not steered again nor "Understood."
    assert "?" not in second.reply and len(second.reply) < 60
    assert any(w in second.reply for w in ("can't help", "outside what I know", "pass on that"))
    third = engine.respond(state, "my dog is asleep on my feet")  # a remark: a short neutral reply
    assert third.act == "chat" and len(third.reply) < 20 and "film" not in third.reply.lower()
    assert first.recommendations == second.recommendations == third.recommendations == ()
    # back on films, a later off-topic message is steered again
    engine.respond(state, "I loved Alien")
    assert engine.respond(state, "who will win the election?").act == "steer"
    assert engine.respond(state, "lol").act == "chat"  # a laugh gets a neutral word, never a steer


def test_acts_are_declared_once():
    assert {"recommend", "answer", "explain", "ask", "greet", "close", "introduce", "steer", "chat"} == set(ACTS)


def test_act_and_answer_reach_the_json_the_log_and_the_record(engine):
    state = shown(engine)
    result = engine.respond(state, "who directed the second one?")
    d = result.to_dict()
    assert d["act"] == "answer"
    assert d["answer"] == {"item_id": "10", "attribute": "director", "values": ["Christopher Nolan"]}
    back = TurnResult.from_dict(d, engine.catalog)
    assert (back.act, back.answer.to_dict()) == ("answer", d["answer"])
    assert (state.log[-1].act, state.log[-1].answer) == ("answer", d["answer"])
    rec = make_record(annotator="a", session_id="s", turn_index=1, conversation=[], user_message="q",
                      reply=result.reply, generator_backend="template", generator_model="", slate=[],
                      judgements={}, reply_label="like",
                      extra={"act": "answer", "answer_item_id": "10", "answer_attribute": "director",
                             "answer_values": '["Christopher Nolan"]'})
    again = FeedbackRecord.from_dict(rec.to_dict())
    assert (again.act, again.answer_item_id, again.answer_attribute) == ("answer", "10", "director")
    old = {k: v for k, v in rec.to_dict().items() if not k.startswith("answer_") and k != "act"}
    assert FeedbackRecord.from_dict(old).act == ""  # records written before acts still read


class _Writer:
    """A fake language model that writes ``text`` whatever it is asked."""

    def __init__(self, text: str):
        self.text = text
        self.requests: list[GenerationRequest] = []

    @property
    def name(self) -> str:
        return "fake:model"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(request)
        yield self.text

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_an_llm_answer_that_states_the_fact_is_kept(engine):
    writer = _Writer("Inception (2010) was directed by Christopher Nolan.")
    result = engine.respond(shown(engine), "who directed the second one?", generator=writer)
    assert not result.fell_back and result.reply == writer.text and result.generator == "fake:model"
    prompt = render_request(writer.requests[0])
    assert "Christopher Nolan" in prompt and "Inception (2010)" in prompt  # the fact is in the prompt


def test_an_llm_answer_without_the_fact_is_replaced_by_the_template(engine):
    writer = _Writer("That one is a great pick, you will love it.")
    result = engine.respond(shown(engine), "who directed the second one?", generator=writer)
    assert result.fell_back and result.fallback_reason == "answer" and result.generator == "template"
    assert "Christopher Nolan" in result.reply and writer.text not in result.reply
    assert any("template answer" in n for n in result.notes)


def test_answer_text_and_check_agree_on_every_attribute():
    """The template's answer always passes the check an LLM reply must pass (every attribute)."""
    catalog = Catalog([*TINY_ITEMS, BARE], source="tiny")
    items = [catalog[i] for i in SLATE]
    for attribute in ("director", "cast", "year", "genre", "about", "newest", "oldest", "runtime", "rating", "where"):
        for first in range(len(items)):
            answer = build_answer(attribute, items[first:] if attribute in ("newest", "oldest") else [items[first]])
            assert states_answer(answer, answer_text(answer)), (attribute, answer)
    for attribute, kw in (("has_person", {"people": ["Tom Hanks"]}), ("has_genre", {"genres": ["horror"]}),
                          ("has_person", {"people": ["Al Pacino"]}), ("genre", {"genres": ["animation"]})):
        answer = build_answer(attribute, items, **kw)
        assert states_answer(answer, answer_text(answer)), (attribute, kw)


def test_a_yes_no_genre_check_needs_the_genre_not_just_a_negation():
    """"is the first one scary?" is not answered by "I didn't think of that too much" (it holds "n't")."""
    catalog = Catalog([*TINY_ITEMS, BARE], source="tiny")
    answer = build_answer("genre", [catalog["5"]], genres=["horror"])  # Collateral: no horror
    assert not states_answer(answer, "I didn't think of that too much but Collateral was pretty good.")
    assert states_answer(answer, "No, Collateral is not a horror film.")
    assert not states_answer(answer, "Yes, Collateral is a horror film.")


def test_a_follow_up_asks_the_same_thing_about_another_film(engine):
    """"who directed the second one?" then "and the fourth one?": the director again, of Alien."""
    state = shown(engine)
    engine.respond(state, "who directed the second one?")
    result = engine.respond(state, "and the fourth one?")
    assert (result.act, result.answer.attribute, result.answer.item.item_id) == ("answer", "director", "7")
    assert "Ridley Scott" in result.reply
    assert engine.respond(state, "what about something older?").act == "recommend"  # a request, not a follow-up


@pytest.mark.parametrize("message,refs", [
    ("where can I watch the second one?", ["10"]),
    ("is the first one on Netflix?", ["5"]),
    ("where could we stream those", SLATE),
])
def test_where_to_watch_is_said_to_be_unknown_and_the_slate_stays(engine, message, refs):
    """The catalogue knows no streaming, shops or showtimes: the answer says so instead of recommending again."""
    state = shown(engine)
    result = engine.respond(state, message)
    assert (result.intent, result.act, result.answer.attribute) == ("ask_fact", "answer", "where")
    assert [i.item_id for i in result.answer.items] == refs[:5]
    assert "can't tell you where to watch" in result.reply and "streaming" in result.reply
    assert result.recommendations == () and state.last_slate == SLATE


@pytest.mark.parametrize("message,attribute", [("has he directed any of these?", "director"),
                                               ("is she in any of them?", "cast")])
def test_a_pronoun_question_across_the_slate_lists_the_fact_for_each(engine, message, attribute):
    """No pronoun resolution for people yet: the answer gives each film's directors / cast, so the
    user reads the answer in it, instead of a steer back to films."""
    state = shown(engine)
    result = engine.respond(state, message)
    assert (result.intent, result.act, result.answer.attribute) == ("ask_fact", "answer", attribute)
    assert [i.item_id for i in result.answer.items] == SLATE
    assert "Christopher Nolan" in result.reply if attribute == "director" else "Tom Hanks" in result.reply


@pytest.mark.parametrize("message,act", [("hello there", "greet"), ("thanks, bye", "close"),
                                         ("what can you do?", "introduce"), ("why the second one?", "explain")])
def test_fixed_acts_are_written_by_the_template_even_with_an_llm(engine, message, act):
    """A "why" must give the engine's own reason: a model that invents one is not asked."""
    writer = _Writer("I picked it because of Ben Stiller.")
    result = engine.respond(shown(engine), message, generator=writer)
    assert result.act == act and result.generator == "template" and not writer.requests
    assert "Ben Stiller" not in result.reply


def test_which_is_best_known_is_answered_from_the_mention_counts(engine):
    state = shown(engine)
    result = engine.respond(state, "which of them is the most popular?")
    assert (result.intent, result.act, result.answer.attribute) == ("compare", "answer", "popular")
    best = max((engine.catalog[i] for i in SLATE), key=lambda i: i.mentions)
    assert result.answer.item.item_id == best.item_id and best.title in result.reply


@pytest.mark.parametrize("message,intent,attribute,refs,says", [
    ("which one is the longest?", "compare", "runtime", SLATE, "no running times"),
    ("how long is the second one?", "ask_fact", "runtime", ["10"], "no running times"),
    ("is the first one well rated?", "ask_fact", "rating", ["5"], "no ratings"),
    ("what are the reviews like for Alien?", "ask_fact", "rating", ["7"], "no ratings"),
])
def test_facts_the_catalogue_lacks_are_said_to_be_unknown(engine, message, intent, attribute, refs, says):
    """Running times and ratings are in no catalogue film: the answer says so, guesses nothing, keeps the slate."""
    state = shown(engine)
    result = engine.respond(state, message)
    assert (result.intent, result.act, result.answer.attribute) == (intent, "answer", attribute)
    assert [i.item_id for i in result.answer.items] == refs[:5]
    assert "don't know" in result.reply and says in result.reply
    assert result.recommendations == () and state.last_slate == SLATE


def test_which_is_best_is_answered_with_the_best_known(engine):
    state = shown(engine)
    result = engine.respond(state, "which is the best of these?")
    assert (result.intent, result.answer.attribute) == ("compare", "popular")
    assert state.last_slate == SLATE


@pytest.mark.parametrize("message,attribute", [("what about the most famous one?", "popular"),
                                               ("how about the newest one?", "newest"),
                                               ("are any of these rated R?", "rating")])
def test_questions_that_open_like_requests_are_still_answered(engine, message, attribute):
    state = shown(engine)
    result = engine.respond(state, message)
    assert result.act == "answer" and result.answer.attribute == attribute and state.last_slate == SLATE


def test_anything_similar_after_a_question_means_more_like_that_film(engine):
    state = shown(engine)
    engine.respond(state, "what is the second one about?")
    result = engine.respond(state, "anything similar?")
    assert result.intent == "more_like" and "10" not in [r.item.item_id for r in result.recommendations]


def test_which_is_the_scariest_lists_the_horror_films_shown(engine):
    state = shown(engine)  # Collateral, Inception, Toy Story, Alien, Heat
    result = engine.respond(state, "which one is the scariest?")
    assert (result.act, result.answer.attribute) == ("answer", "has_genre")
    assert "Alien" in result.reply and state.last_slate == SLATE


@pytest.mark.parametrize("message,known", [("is Alien in your list?", True), ("is Zorbulon in your list?", False)])
def test_whether_a_film_is_in_the_catalogue(engine, message, known):
    state = shown(engine)
    result = engine.respond(state, message)
    if known:
        assert result.act == "answer" and [i.item_id for i in result.answer.items] == ["7"]
    else:
        assert result.recommendations == () and "not in my catalogue" in result.reply
