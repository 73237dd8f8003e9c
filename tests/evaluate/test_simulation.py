"""The simulated user and the interactive ReDial protocol (``eval simulate``)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dialogue_fixtures import tiny_retriever
from workbench.catalog import Catalog, Item
from workbench.dialogue.engine import SLATE_INTENTS
from workbench.dialogue.question import QUESTIONS, QuestionPolicy
from workbench.dialogue.titles import TitleIndex
from workbench.dialogue.understand import Understander
from workbench.errors import EvaluationError
from workbench.evaluate import redial
from workbench.evaluate.simulation import protocol
from workbench.evaluate.simulation.attribute import (
    GENERIC,
    NOT_THOSE,
    PHRASINGS,
    SILENT,
    UNSURE,
    AttributeSimulator,
    _decade,
    asked,
    leaks,
)
from workbench.filters import CANONICAL_GENRES
from workbench.text import norm_person

# ---------------------------------------------------------------------------
# the simulator

#: Words titles are made of in the leak test: everyday words, the simulator's own phrasing words,
#: genre words and function words ("It", "Up", "Not Those", "Something Else").
_WORDS = sorted({
    *"something else please not those none of these no any other ideas show me different ones hmm what "
     "next sure idea others like a movie film maybe in the genre from prefer ideally directed by with see "
     "it starring should be about one i'd i up her us it heat signs love actually comedy drama horror "
     "war family 90s 2000s tom hanks time travel others".split(),
})
_word = st.sampled_from(_WORDS)
_title = st.lists(_word, min_size=1, max_size=4).map(lambda ws: " ".join(ws).title())
_fact = st.lists(_word, min_size=1, max_size=3).map(lambda ws: " ".join(ws).title())


@st.composite
def _items(draw):
    title = draw(_title)
    genres = draw(st.lists(st.sampled_from(["Comedy", "Drama", "Horror", "War", "Family", "Romance Film",
                                             draw(_fact)]), max_size=3))
    return Item("t", title, draw(st.one_of(st.none(), st.integers(1900, 2024))), tuple(genres),
                tuple(draw(st.lists(_fact, max_size=2))), tuple(draw(st.lists(_fact, max_size=3))),
                tuple(draw(st.lists(_fact.map(str.lower), max_size=3))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item=_items(), questions=st.lists(st.sampled_from(sorted(QUESTIONS.values())), max_size=3),
       hit=st.booleans(), turn=st.integers(0, 6))
def test_the_simulator_never_says_the_title_or_its_words(item, questions, hit, turn):
    """Whatever is asked, the reply holds neither the title (also one made of function words) nor any
    word of it that is not a function word."""
    catalog = Catalog([item, Item("o", "Other Film")])
    slate = ["t"] if hit else ["o"]
    said = AttributeSimulator(catalog).reply("t", "Here you go. " + " ".join(questions), slate, turn)
    assert said and not leaks(said, item)


def test_leaks_finds_title_words_and_function_word_titles():
    assert leaks("Something with heat, please.", Item("1", "Heat"))
    assert leaks("I'd like to see him in it.", Item("1", "It"))
    assert not leaks("Something with Tim Allen.", Item("1", "It"))  # "with" is no "it"
    assert not leaks("Something from the '90s.", Item("1", "Up"))


def test_the_simulator_answers_only_what_was_asked(tiny_catalog):
    sim = AttributeSimulator(tiny_catalog)
    heat = "3"  # Heat (1995): crime, thriller; Michael Mann; Al Pacino
    said = sim.reply(heat, "Try these. " + QUESTIONS["director"], ["5"])
    assert said.split(". ")[0] + "." in NOT_THOSE and "Michael Mann" in said and "Pacino" not in said
    assert "'90s" in sim.reply(heat, QUESTIONS["decade"], [])
    assert "crime" in sim.reply(heat, QUESTIONS["genre"], []) and "Not" not in sim.reply(heat, QUESTIONS["genre"], [])
    assert "Al Pacino" in sim.reply(heat, QUESTIONS["actor"], [])
    assert "heist" in sim.reply(heat, QUESTIONS["tag"], [])
    nothing = sim.reply(heat, "Here are some films. Want something older, lighter or from another genre?", ["5"])
    assert any(nothing.endswith(g) for g in GENERIC) and "Mann" not in nothing
    # the tag "jedi" is a word of "Return of the Jedi": the simulator tells its other tag instead
    assert "empire" in sim.reply("9", QUESTIONS["tag"], []) and "jedi" not in sim.reply("9", QUESTIONS["tag"], [])
    assert asked("Which decade? And is there a director whose films you would like?") == ["decade", "director"]


# ---------------------------------------------------------------------------
# the engine understands every phrasing (answers go through ordinary understanding, no side channel)

_SLATE = ["1", "2"]


def _phrasing_cases(catalog: Catalog):
    people = sorted({p for item in catalog for p in (*item.directors, *item.cast)})
    values = {
        "genre": list(CANONICAL_GENRES),
        "decade": [_decade(y) for y in range(1920, 2030, 10)],
        "director": people, "actor": people,
        "tag": ["time travel", "a heist", "space opera", "haunting"],
    }
    for attribute, templates in PHRASINGS.items():
        for template in templates:
            for value in values[attribute]:
                yield attribute, template, value


def test_every_phrasing_is_understood(tiny_catalog):
    understander = Understander(tiny_catalog)
    misses = []
    for attribute, template, value in _phrasing_cases(tiny_catalog):
        for text in (template.format(value=value), "Not those. " + template.format(value=value)):
            u = understander.understand(text, last_slate=_SLATE)
            c = u.constraints
            ok = u.intent in SLATE_INTENTS
            if attribute == "genre":
                ok = ok and value in c.genres
            elif attribute == "decade":
                start = int(value.strip("'s")) if not value.startswith("'") else 1900 + int(value[1:3])
                ok = ok and (c.year_min, c.year_max) == (start, start + 9)
            elif attribute in ("director", "actor"):
                ok = ok and norm_person(value) in c.people and not u.mentions
            else:  # a topic: no title linked, its words left for semantic search
                ok = ok and not u.mentions and value.split()[-1] in u.query
            if not ok:
                misses.append((text, u.intent, sorted(c.genres), c.year_min, sorted(c.people)))
    assert not misses, misses[:10]
    for text in (*NOT_THOSE, *GENERIC, *UNSURE):
        u = understander.understand(text, last_slate=_SLATE)
        assert u.intent in SLATE_INTENTS and not u.mentions and u.constraints.is_empty, text
    assert SILENT == "?"


# ---------------------------------------------------------------------------
# the protocol, on tiny dialogues over the tiny catalogue

def _dialogue(cid: int, seeker_says: list[str], recommender_names: list[str]) -> dict:
    messages = []
    for said, named in zip(seeker_says, recommender_names, strict=True):
        messages.append({"text": said, "senderWorkerId": 1})
        messages.append({"text": f"You could try @{named}", "senderWorkerId": 2})
    return {"conversationId": str(cid), "initiatorWorkerId": 1, "messages": messages}


_TRAIN = [
    _dialogue(1, ["I loved @3", "more please"], ["5", "10"]),
    _dialogue(2, ["I like @1", "something funny"], ["2", "11"]),
    _dialogue(3, ["I liked @8", "space films"], ["9", "7"]),
    _dialogue(4, ["hi, anything scary?", "more"], ["6", "7"]),
]
_TEST = [
    _dialogue(10, ["Hello! I loved @5", "thanks, another?"], ["3", "10"]),
    _dialogue(11, ["anything good?", "ok"], ["12", "4"]),
    _dialogue(12, ["I like @9", "nice"], ["8", "6"]),
]


@pytest.fixture
def tiny_run(tiny_catalog, hash_embedder):
    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    vectors = hash_embedder.encode(tiny_catalog.texts())
    titles = TitleIndex(tiny_catalog)
    ranker = protocol.build_ranker(tiny_catalog, retriever, vectors, _TRAIN, titles)
    weights = replace(redial.EngineWeights(), **redial.SYSTEMS[-1].base)
    # a dozen films leave the belief peaked: a policy that asks sooner, so that answers flow
    systems = protocol.engines(ranker, weights, titles, QuestionPolicy(tiny_catalog, max_slate_mass=0.95, min_gain=0.2))
    sample_list = redial.samples(_TEST, tiny_catalog)
    report, runs = protocol.simulate(systems, AttributeSimulator(tiny_catalog), sample_list, rounds=3, ks=(1, 3),
                                     train_counts=redial.train_popularity(_TRAIN, tiny_catalog), log=lambda _: None)
    return ranker, weights, sample_list, report, runs


def test_round_zero_is_the_static_protocol(tiny_run):
    ranker, weights, sample_list, report, _ = tiny_run
    # eval redial's way: gather with every source on, combine with the tuned weights
    cands = redial.gather_all(ranker, sample_list)
    places = redial.positions(ranker, cands, sample_list, weights)
    for row in report["results"]:
        if row["round"] == 0:
            for k in (1, 3):
                assert row[f"recall@{k}"] == pytest.approx(round(sum(p < k for p in places) / len(places), 4))


def test_report_shape_and_found_stays_found(tiny_run):
    _, _, sample_list, report, runs = tiny_run
    assert set(report) >= {"dataset", "mode", "rounds", "n", "results"}
    assert report["dataset"] == "redial" and report["mode"] == "attribute" and report["rounds"] == 3
    assert report["n"] == len(sample_list)
    for system in (protocol.ASKING, protocol.CONTROL):
        rows = [r for r in report["results"] if r["system"] == system]
        assert [r["round"] for r in rows] == [0, 1, 2, 3]
        for k in (1, 3):
            curve = [r[f"recall@{k}"] for r in rows]
            assert curve == sorted(curve)  # a target found at round r counts at every later round
            for ep in runs[system][k]:
                found = [j for j, m in enumerate(ep.messages) if m["role"] == "assistant" and ep.target_id in m["items"]]
                if ep.success_round is not None:  # the conversation ends at the first slate that holds it
                    assert found == [len(ep.messages) - 1] and ep.success_round == (len(ep.messages) - 1) // 2
                else:
                    assert not found and len(ep.messages) == 2 * 3 + 1
    line = json.loads(json.dumps(runs[protocol.ASKING][3][0].to_dict()))
    assert set(line) == {"sample_id", "target_id", "success_round", "messages"}
    assert {m["role"] for m in line["messages"]} <= {"user", "assistant"}
    assert all(("items" in m) == (m["role"] == "assistant") for m in line["messages"])


def test_a_system_that_never_asks_is_told_nothing(tiny_run):
    """The control: asked nothing, the simulated user says only that the slate missed and "something
    else", the same words whatever the target; so anything the control gains comes from not
    repeating films, and the asking engine's extra gain comes from its questions."""
    _, _, _, report, runs = tiny_run
    allowed = {f"{a} {b}" for a in NOT_THOSE for b in GENERIC} | set(GENERIC)
    for episodes in runs[protocol.CONTROL].values():
        for ep in episodes:
            assert ep.questions == 0
            for m in ep.messages:
                if m["role"] == "user":
                    assert m["text"] in allowed, m["text"]
    assert all(q == 0 for q in report["questions_per_sample"][protocol.CONTROL].values())
    asked_any = any(ep.questions for eps in runs[protocol.ASKING].values() for ep in eps)
    told = [m["text"] for eps in runs[protocol.ASKING].values() for ep in eps for m in ep.messages
            if m["role"] == "user" and m["text"] not in allowed]
    assert asked_any and told  # the asking engine asked, and was told facts


def test_weights_come_from_an_eval_redial_report(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"results": [{"system": "a", "weights": {"prior": 0.5}},
                                            {"system": "b", "weights": {"prior": 2.0, "facts": 0.25}}]}))
    w = protocol.weights_from(path)
    assert w.prior == 2.0 and w.facts == 0.25
    path.write_text(json.dumps({"priorr": 1.0}))
    with pytest.raises(EvaluationError, match="unknown weight 'priorr'"):
        protocol.weights_from(path)
