"""The chat engine: grounded slates across turns, reasons from facts, fallbacks, limits, concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.dialogue_fixtures import tiny_engine
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.fallback import FALLBACK_NOTICE, FALLBACK_NOTICE_MIDWAY
from workbench.dialogue.types import TurnResult
from workbench.errors import DialogueError
from workbench.filters import item_genre_keys
from workbench.limits import MAX_MESSAGE_CHARS


class InventingGenerator:
    """An LLM stand-in that recommends films that do not exist (and one that is not on the slate)."""

    name = "fake:inventor"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield "You should watch The Midnight Garden (2019) and Toy Story. "
        yield "Also try \"Shadows of Yesterday\". "
        if request.recommendations:
            yield f"My top pick is {request.recommendations[0].item.display_title}."

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


class FailingGenerator:
    name = "fake:failing"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield "Let me think"
        raise RuntimeError("connection reset")

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


class SlowGenerator:
    name = "fake:slow"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        time.sleep(2.0)
        yield "too late"

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


@pytest.fixture
def engine(tiny_catalog, hash_embedder):
    return tiny_engine(tiny_catalog, hash_embedder, k=3)


def test_invented_titles_never_reach_the_user(engine, tiny_catalog):
    """A generator naming non-existent films is grounded: no invented title, streamed or final."""
    state = engine.new_state("s")
    pieces = list(engine.stream(state, "I loved Heat, recommend something", generator=InventingGenerator()))
    result = pieces[-1]
    assert isinstance(result, TurnResult)
    streamed = "".join(p for p in pieces if isinstance(p, str))
    for text in (streamed, result.reply):
        assert "Midnight Garden" not in text and "Shadows of Yesterday" not in text
    assert result.grounding_fixes >= 2
    slate_ids = {r.item.item_id for r in result.recommendations}
    assert "1" not in slate_ids or "Toy Story" in result.reply  # Toy Story only if it is on the slate
    assert all(r.item.item_id in tiny_catalog for r in result.recommendations)


def test_nothing_recommended_twice_and_mentions_excluded(engine):
    """Across turns no item comes back, and items the user named are never recommended."""
    state = engine.new_state("s")
    shown: list[str] = []
    for msg in ["I loved Heat", "something else", "anything else?", "more please"]:
        result = engine.respond(state, msg)
        ids = [r.item.item_id for r in result.recommendations]
        assert not set(ids) & set(shown)
        assert "3" not in ids
        shown += ids
    assert len(shown) == len(set(shown)) >= 6


def test_exclusions_and_constraints_are_respected(engine, tiny_catalog):
    """'no horror' removes every horror film; 'from the 90s' keeps only 1990-1999."""
    state = engine.new_state("s")
    r1 = engine.respond(state, "recommend me something, no horror")
    assert r1.recommendations
    assert all("horror" not in item_genre_keys(r.item) for r in r1.recommendations)
    r2 = engine.respond(state, "from the 90s")
    assert r2.intent == "refine"
    assert all(1990 <= r.item.year <= 1999 for r in r2.recommendations)
    assert all("horror" not in item_genre_keys(r.item) for r in r2.recommendations)


def test_disliked_items_are_never_recommended(engine):
    state = engine.new_state("s")
    r = engine.respond(state, "I hated Alien and I hated Inception. Recommend a sci-fi film")
    assert {"7", "10"}.isdisjoint(r.item.item_id for r in r.recommendations)


def test_reasons_state_only_true_facts(engine, tiny_catalog):
    """Every person a reason names works on the item; every liked title is one the user liked."""
    state = engine.new_state("s")
    r = engine.respond(state, "I loved Heat and Star Wars")
    assert r.recommendations
    liked_titles = {tiny_catalog[i].display_title for i in state.liked}
    all_people = {p for it in tiny_catalog for p in (*it.directors, *it.cast)}
    all_titles = {it.display_title for it in tiny_catalog}
    for rec in r.recommendations:
        assert rec.reason
        for person in all_people:
            if person in rec.reason:
                assert person in (*rec.item.directors, *rec.item.cast), (person, rec.reason)
        for title in all_titles:
            if f"liked {title}" in rec.reason:
                assert title in liked_titles
    collateral = next((x for x in r.recommendations if x.item.item_id == "5"), None)
    if collateral is not None:
        assert "Michael Mann" in collateral.reason


def test_why_explains_a_previous_pick(engine):
    state = engine.new_state("s")
    first = engine.respond(state, "I loved Heat")
    second_title = first.recommendations[1].item
    why = engine.respond(state, "why the second one?")
    assert why.intent == "why"
    assert [r.item for r in why.recommendations] == [second_title]
    assert state.recommended == [r.item.item_id for r in first.recommendations]


def test_llm_failure_falls_back_to_template(engine):
    """An exception mid-stream: the template answers, the result says so, the reply says so."""
    state = engine.new_state("s")
    r = engine.respond(state, "I loved Heat", generator=FailingGenerator())
    assert r.fell_back and r.recommendations
    assert FALLBACK_NOTICE_MIDWAY in r.reply and r.generator.startswith("template")


def test_llm_timeout_falls_back_to_template(tiny_catalog, hash_embedder):
    engine = tiny_engine(tiny_catalog, hash_embedder, k=3, timeout_s=0.2)
    state = engine.new_state("s")
    t0 = time.perf_counter()
    r = engine.respond(state, "I loved Heat", generator=SlowGenerator())
    assert time.perf_counter() - t0 < 1.5
    assert r.fell_back and FALLBACK_NOTICE in r.reply and "too late" not in r.reply


def test_message_limit_is_a_clear_error(engine):
    state = engine.new_state("s")
    with pytest.raises(DialogueError, match=f"{MAX_MESSAGE_CHARS + 1:,} characters; the limit is {MAX_MESSAGE_CHARS:,}"):
        engine.respond(state, "a" * (MAX_MESSAGE_CHARS + 1))
    with pytest.raises(DialogueError, match="type a message first"):
        engine.respond(state, "   ")
    assert state.turns == []


def test_state_changes_only_when_the_turn_completes(engine):
    """An abandoned stream leaves the state as it was; a completed one records turn and slate."""
    state = engine.new_state("s")
    it = engine.stream(state, "I loved Heat")
    next(it)
    it.close()
    assert state.turns == [] and state.recommended == []
    engine.respond(state, "I loved Heat")
    assert len(state.turns) == 2 and len(state.log) == 1 and state.log[0].candidates
    assert state.undo() == "I loved Heat" and state.turns == []


def test_concurrent_sessions_do_not_share_state(engine):
    """One engine, many threads, many states: each state only holds its own conversation."""
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def chat(n: int) -> None:
        try:
            st = engine.new_state(f"s{n}")
            msg = "I loved Heat" if n % 2 else "I loved Star Wars"
            engine.respond(st, msg)
            engine.respond(st, "something else")
            results[n] = st.liked
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=chat, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for n, liked in results.items():
        assert liked == (["3"] if n % 2 else ["8"])


def test_greeting_gets_no_slate(engine):
    state = engine.new_state("s")
    r = engine.respond(state, "hello!")
    assert r.intent == "greeting" and r.recommendations == () and r.reply


def test_facts_source_ranks_shared_director_first(engine):
    """With only the catalogue-facts source, liking Heat puts the other Michael Mann film on top."""
    from dataclasses import replace

    from workbench.dialogue.ranker import EngineWeights

    only_facts = engine.with_weights(EngineWeights(recommender=0, dense=0, lexical=0, attribute=0, facts=1.0,
                                                   prior=0))
    state = only_facts.new_state("s")
    r = only_facts.respond(state, "I loved Heat")
    assert r.recommendations[0].item.item_id == "5"
    assert "Michael Mann" in r.recommendations[0].reason
    assert replace(only_facts.weights, facts=0.0).facts == 0.0


def test_with_weights_shares_every_part_but_the_weights(engine):
    """Guards the rebuilt copy (it used to clone through ``object.__new__``): the new engine shares the
    catalogue features, understander, grounder and generator, and only its ranker's weights differ."""
    from workbench.dialogue.ranker import EngineWeights

    other = engine.with_weights(EngineWeights(prior=1.0))
    assert other.weights == EngineWeights(prior=1.0) and engine.weights == EngineWeights()
    assert other.ranker.features is engine.ranker.features
    assert other.understander is engine.understander and other.grounder is engine.grounder
    assert other.generator is engine.generator and other.recommender is engine.recommender


def test_a_turns_slate_is_the_rankers_top_k(engine):
    """Guards the split: the engine's slate is cut from ``Ranker.rank`` for the same state, nothing else."""
    state = engine.new_state("s")
    r = engine.respond(state, "I loved Heat")
    probe = engine.new_state("p")
    u = engine.observe(probe, "user", "I loved Heat")
    assert tuple(x.item.item_id for x in r.recommendations) == engine.ranker.rank(probe, u, k=3).ids


def test_item_vectors_must_have_one_row_per_item(tiny_catalog, hash_embedder):
    """Guards a silent misalignment: item vectors for another catalogue are a clear error."""
    from tests.dialogue_fixtures import tiny_engine

    with pytest.raises(DialogueError, match="item_vectors has 3 rows"):
        tiny_engine(tiny_catalog, hash_embedder, item_vectors=hash_embedder.encode(["a", "b", "c"]))


class OnlyInventionsGenerator:
    """Every sentence names a film that does not exist, so grounding drops them all."""

    name = "fake:only-inventions"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield "You should watch The Midnight Garden (2019). "
        yield "Also try \"Shadows of Yesterday\"."

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_a_reply_emptied_by_grounding_falls_back_to_the_template_reply(engine):
    """Issue 19 item 8: a reply whose every sentence was removed used to be shown as nothing
    (and an empty reply cannot be saved); the turn now shows the template reply and says so."""
    state = engine.new_state("s")
    pieces = list(engine.stream(state, "a thriller please", generator=OnlyInventionsGenerator()))
    result = pieces[-1]
    assert isinstance(result, TurnResult) and result.recommendations and result.act == "recommend"
    streamed = "".join(p for p in pieces if isinstance(p, str))
    assert result.reply.strip() and streamed.strip() == result.reply
    assert "Midnight Garden" not in result.reply and "Shadows of Yesterday" not in result.reply
    assert result.fell_back and result.generator == engine.fallback.name and result.grounding_fixes >= 2
    assert result.fallback_reason == "grounding" and result.grounding_fixes_by_kind["emptied"] == 1
    assert any("template reply is shown instead" in n for n in result.notes)
    assert state.turns[-1].text == result.reply  # what was shown is what the conversation keeps


def test_greetings_goodbyes_and_capabilities_are_written_by_the_template_even_with_an_llm(engine):
    """Issue 25: a greeting, a goodbye and "what can you do" get short replies with no slate; a small LLM
    only added film talk there that grounding then emptied, so the template writes them."""
    state = engine.new_state("s")
    for message, act in (("hello!", "greet"), ("what can you do?", "introduce"), ("thanks, bye!", "close"),
                         ("how was your weekend?", "steer")):  # small talk too: no film, no answer to give
        llm = OnlyInventionsGenerator()
        result = engine.respond(state, message, generator=llm)
        assert result.act == act and result.recommendations == (), message
        assert result.generator == engine.fallback.name and not result.fell_back and result.grounding_fixes == 0
        assert "Midnight Garden" not in result.reply and result.reply.strip()


class FalseThenFailingGenerator:
    """Writes a whole false sentence, then fails: the fallback must replace it, not follow it."""

    name = "fake:false-then-failing"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield "Everyone agrees this is the best film ever made. "
        raise RuntimeError("connection reset")

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_a_midway_fallback_replaces_the_half_written_reply_in_the_result_and_history(tiny_catalog, hash_embedder):
    """Issue 16 item 2 at the root: the record, /chat and the next prompt saw the half-written text."""
    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    state = engine.new_state("s")
    r = engine.respond(state, "I loved Heat", generator=FalseThenFailingGenerator())
    assert r.fell_back and r.reply.startswith(FALLBACK_NOTICE_MIDWAY)
    assert "best film ever made" not in r.reply
    assert state.turns[-1].text == r.reply  # the conversation the next prompt reads holds the same


def test_grounding_fixes_are_reported_by_kind_and_notes_once(tiny_catalog, hash_embedder):
    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    state = engine.new_state("s")
    r = engine.respond(state, "I loved Heat", generator=InventingGenerator())
    assert r.grounding_fixes >= 2 and r.grounding_fixes_by_kind.get("title", 0) >= 2
    assert sum(r.grounding_fixes_by_kind.values()) >= r.grounding_fixes
    assert len(r.notes) == len(set(r.notes))
    assert r.to_dict()["grounding_fixes_by_kind"] == dict(r.grounding_fixes_by_kind)


class LongWindedGenerator:
    name = "fake:long"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        for i in range(800):  # distinct sentences (a repeated one would be dropped by grounding)
            yield f"My note {chr(97 + i % 26)}{chr(97 + i // 26 % 26)} on these films still matters here. "

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_a_reply_longer_than_the_store_keeps_is_cut_with_a_mark(tiny_catalog, hash_embedder):
    """Issue 19 item 6: a /chat with k=50 wrote a reply the feedback store then refused."""
    from workbench.dialogue.engine import TRUNCATION_MARK
    from workbench.feedback.record import make_record
    from workbench.limits import MAX_TEXT_CHARS

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    r = engine.respond(engine.new_state("s"), "I loved Heat", generator=LongWindedGenerator())
    # the engine's question (issue 15) survives the cut, after the mark
    ending = TRUNCATION_MARK + (" " + r.question.text if r.question is not None else "")
    assert len(r.reply) <= MAX_TEXT_CHARS and r.reply.endswith(ending)
    make_record(annotator="ann", session_id="s", turn_index=0, conversation=[], user_message="I loved Heat",
                reply=r.reply, generator_backend="fake", generator_model="long", slate=r.recommendations,
                judgements={}, reply_label="like")  # saveable


class EmptyGenerator:
    name = "fake:empty"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return iter(())

    def generate(self, request: GenerationRequest) -> str:
        return ""


@pytest.mark.parametrize(("generator", "reason"), [
    (SlowGenerator(), "timeout"), (EmptyGenerator(), "empty"), (FailingGenerator(), "error"),
])  # "grounding" (a reply emptied by grounding): test_a_reply_emptied_by_grounding_falls_back_...
def test_each_way_of_falling_back_is_declared_on_the_result(tiny_catalog, hash_embedder, generator, reason):
    """The generator layer (or the engine, for a reply grounding emptied) says why; /metrics labels read it."""
    engine = tiny_engine(tiny_catalog, hash_embedder, k=3, timeout_s=0.3)
    r = engine.respond(engine.new_state("s"), "I loved Heat", generator=generator)
    assert r.fell_back and r.fallback_reason == reason
    assert engine.respond(engine.new_state("t"), "I loved Heat").fallback_reason == ""  # the template did not fall back


def test_a_turn_result_round_trips_through_its_dict_form(tiny_catalog, hash_embedder):
    """What a replica stores of a turn (issue 18) is the result's own dict form: nothing is lost,
    the "I took X as Y" readings and the fallback reason included; a film gone from the catalogue
    leaves the slate."""
    from dataclasses import replace

    from workbench.catalog import Catalog

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    result = engine.respond(engine.new_state("s"), "I loved Heat, more like it")
    result = replace(result, fallback_reason="timeout", fell_back=True)
    assert result.readings and result.recommendations
    assert TurnResult.from_dict(result.to_dict(), tiny_catalog) == result
    gone = result.recommendations[0].item.item_id
    smaller = Catalog([i for i in tiny_catalog if i.item_id != gone], source="smaller")
    again = TurnResult.from_dict(result.to_dict(), smaller)
    assert [r.item.item_id for r in again.recommendations] == [r.item.item_id for r in result.recommendations][1:]


def test_more_like_a_slate_position_keeps_the_reasons_that_name_the_anchor(engine):
    """"more like the second one": each reason names the anchor, a film of the last slate; grounding
    must allow it (it once dropped every item line and showed only "My picks: ...")."""
    state = engine.new_state("anchor")
    first = engine.respond(state, "I want a thriller")
    anchor = first.recommendations[1].item
    result = engine.respond(state, "cool, more like the second one")
    assert result.intent == "more_like" and result.recommendations
    assert result.grounding_fixes == 0 and "My picks" not in result.reply
    assert anchor.display_title in result.reply


@pytest.mark.parametrize("message,count", [("recommend me 2 thrillers movies", 2), ("give me one film please", 1),
                                           ("I want a thriller", 3)])
def test_a_message_that_asks_for_fewer_films_gets_that_many(engine, message, count):
    """"recommend me 3 films": the slate holds that many (never more than the slate size asked for)."""
    result = engine.respond(engine.new_state("count"), message)
    assert len(result.recommendations) == count


@pytest.mark.parametrize("text,count", [("top 5 horror movies", 5), ("show me a few scary movies", 3),
                                        ("one film I loved was Heat", None), ("I have 2 kids", None),
                                        ("I need 20 movies", None)])
def test_asked_count(text, count):
    from workbench.dialogue.understand import asked_count

    assert asked_count(text) == count


def test_top_n_with_a_slate_on_screen_keeps_its_best_n(engine):
    """"top 2 please" after a slate of three: the first two of that slate, not two new films."""
    state = engine.new_state("s")
    first = engine.respond(state, "a thriller please")
    assert len(first.recommendations) == 3
    top = engine.respond(state, "top 2 please")
    assert [r.item.item_id for r in top.recommendations] == [r.item.item_id for r in first.recommendations[:2]]
    assert "top 2" in top.reply


def test_every_film_of_a_person_shown_says_so(tiny_catalog, hash_embedder):
    """Ridley Scott has one film in the tiny catalogue: asking for more says that, not "no film fits"."""
    engine = tiny_engine(tiny_catalog, hash_embedder, questions=False)
    state = engine.new_state("s")
    assert [r.item.title for r in engine.respond(state, "films directed by Ridley Scott").recommendations] == ["Alien"]
    more = engine.respond(state, "more by Ridley Scott")
    assert more.recommendations == ()
    assert "every film with Ridley Scott" in more.reply and "loosening" not in more.reply


def test_asking_whether_a_film_is_held_says_yes(engine):
    result = engine.respond(engine.new_state("s"), "do you have Collateral?")
    assert result.intent == "ask_fact" and "yes, it is in my catalogue" in result.reply.lower()


def test_an_empty_slate_is_explained_by_the_template_not_the_model(tiny_catalog, hash_embedder):
    """The model never sees why nothing was found ("every film with Ridley Scott was shown"): the
    template's reply, which says it, is shown, not whatever true-but-beside-the-point words the model writes."""

    class Chatty:
        name = "fake:chatty"

        def stream(self, request: GenerationRequest) -> Iterator[str]:
            yield "You loved Alien (1979), a science fiction film."

        def generate(self, request: GenerationRequest) -> str:
            return "".join(self.stream(request))

    engine = tiny_engine(tiny_catalog, hash_embedder, questions=False, generator=Chatty())
    more = engine.respond(engine.new_state("s"), "I loved Alien, what else is directed by Ridley Scott?")
    assert more.recommendations == () and "every film with Ridley Scott" in more.reply
    assert "You loved Alien" not in more.reply


def test_loved_it_after_a_question_about_one_film_judges_that_film(engine):
    """"the second one, is it good?" asks (the catalogue has no ratings, and says so); "i loved it" then
    likes the second film, not the top pick."""
    state = engine.new_state("s")
    slate = [r.item.item_id for r in engine.respond(state, "a thriller please").recommendations]
    asked = engine.respond(state, "the second one, is it good?")
    assert asked.intent == "ask_fact" and asked.answer.attribute == "rating" and "no ratings" in asked.reply
    engine.respond(state, "i loved it actually")
    assert state.liked == [slate[1]]


def test_an_acknowledgement_is_the_templates_without_a_fallback_flag(engine):
    """"hmm" after a slate: the template writes the reply (no film, no answer), and grounding does not
    then call it a failed reply about no film ("fell back: grounding" with the same words)."""
    state = engine.new_state("s")
    engine.respond(state, "a thriller please", generator=OnlyInventionsGenerator())
    result = engine.respond(state, "hmm", generator=OnlyInventionsGenerator())
    assert result.recommendations == () and result.generator == engine.fallback.name
    assert not result.fell_back and result.grounding_fixes == 0 and not result.notes
