"""The intent model (workbench/dialogue/intent_model.py): a fitted embedding classifier that
second-guesses the rules only where they ended on a default, and the artifact it is saved as."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY_ITEMS

from workbench.catalog import Catalog
from workbench.config import PROJECT_ROOT
from workbench.dialogue.intent_model import (
    BUNDLED_DIR,
    OVERRIDES,
    IntentGuesser,
    data_hash,
    fit_intent_model,
    load_intent_model,
    read_intent_model,
    save_intent_model,
    second_opinion,
)
from workbench.dialogue.intents import Reading
from workbench.dialogue.understand import Understander
from workbench.errors import ConfigError
from workbench.evaluate.understanding import load_intent_training
from workbench.retrieval.embed import HashEmbedder

ROWS = [
    ("what can i use you for", False, "capabilities"), ("tell me what you are able to do", False, "capabilities"),
    ("what sort of help do you offer", False, "capabilities"),
    ("my cat is asleep on the sofa", False, "chitchat"), ("it is raining again here", False, "chitchat"),
    ("i just got home from the office", False, "chitchat"),
    ("find me a heist film", False, "recommend"), ("a war movie please", False, "recommend"),
    ("something scary tonight", False, "recommend"),
    ("which of these is oldest", True, "compare"), ("which one is the newest", True, "compare"),
]


@pytest.fixture(scope="module")
def embedder():
    return HashEmbedder(dimension=128)


@pytest.fixture(scope="module")
def model(embedder):
    return fit_intent_model(ROWS, embedder)


def test_a_fitted_model_guesses_its_training_messages(model, embedder):
    guess = IntentGuesser(model, embedder)
    for text, shown, intent in ROWS:
        assert guess(text, shown)[0] == intent, text
    p = model.probabilities(embedder.encode(["my cat is asleep"]), [False])
    assert p.shape == (1, len(model.classes)) and np.isclose(p.sum(), 1.0)


def test_save_and_load_check_the_embedder(model, embedder, tmp_path):
    save_intent_model(model, tmp_path / "m", {"data_hash": data_hash(ROWS)})
    again = read_intent_model(tmp_path / "m")
    assert again.classes == model.classes and np.allclose(again.coef, model.coef, atol=1e-5)
    assert load_intent_model(str(tmp_path / "m"), embedder) is not None
    with pytest.raises(ConfigError, match="embedder: the intent model has 'hash-128-0', expected 'hash-128-3'"):
        load_intent_model(str(tmp_path / "m"), HashEmbedder(dimension=128, seed=3))
    assert load_intent_model("off", embedder) is None


def test_a_broken_model_is_refused_in_words(model, tmp_path):
    with pytest.raises(ConfigError, match="manifest missing"):
        read_intent_model(tmp_path)
    save_intent_model(model, tmp_path / "m", {})
    (tmp_path / "m" / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="weights.npz: unreadable intent weights"):
        read_intent_model(tmp_path / "m")


def test_too_few_intents_is_refused(embedder):
    with pytest.raises(ConfigError, match="fewer than three intents"):
        fit_intent_model(ROWS[:6], embedder)


DEFAULT = Reading("recommend")


@pytest.mark.parametrize("reading,guess,anchored,expected", [
    (DEFAULT, ("capabilities", 0.8), False, "capabilities"),  # rules fell through, model sure: model
    (DEFAULT, ("capabilities", 0.3), False, "recommend"),  # model unsure: rules
    (DEFAULT, ("chitchat", 0.9), True, "recommend"),  # a film, a person or a constraint: never small talk
    (Reading("chitchat"), ("recommend", 0.9), True, "recommend"),  # a request the rules missed
    (Reading("ask_fact", "1", attribute="cast"), ("chitchat", 0.99), False, "ask_fact"),  # a rule cue fired
    (Reading("refine"), ("compare", 0.99), False, "refine"),  # needs an attribute: the rules' job
    (DEFAULT, None, False, "recommend"),  # no model
])
def test_second_opinion(reading, guess, anchored, expected):
    out = second_opinion(reading, guess, threshold=0.5, anchored=anchored)
    assert out.intent == expected
    if expected in OVERRIDES - {"recommend"}:
        assert out.refs == () and out.target is None and out.attribute is None


def test_the_understander_asks_the_model_only_when_the_rules_ended_on_a_default(model, embedder):
    catalog = Catalog(TINY_ITEMS, source="tiny")
    plain = Understander(catalog)
    helped = Understander(catalog, intent_guesser=IntentGuesser(model, embedder))
    text = "what can i use you for"
    assert plain.understand(text).intent == "recommend"  # what the rules read on their own
    assert helped.understand(text).intent == "capabilities"
    assert helped.understand(text, second_opinion=False).intent == "recommend"
    assert helped.understand("who's in the third one?", last_slate=["5", "10", "1"]).intent == "ask_fact"


def test_the_bundled_model_was_fitted_on_the_training_files_as_they_are():
    """Editing dev.jsonl or intents_train.jsonl without `refit intents` fails here, not in production."""
    meta = json.loads((BUNDLED_DIR / "meta.json").read_text())
    dev, extra = load_intent_training(PROJECT_ROOT / "tests" / "data" / "understanding")
    rows = [(ex.text, bool(ex.slate), ex.intent) for ex in (*dev, *extra)]
    assert meta["data_hash"] == data_hash(rows) and meta["rows"] == len(rows)
    assert meta["untuned_check"]["rules_with_dev_model"] >= meta["untuned_check"]["rules_alone"]
    model = read_intent_model(BUNDLED_DIR)
    assert set(model.classes) == {ex.intent for ex in (*dev, *extra)}


def test_the_bundled_model_serves_only_the_embedder_it_was_fitted_on():
    model = read_intent_model(BUNDLED_DIR)

    class SameIds:  # the MiniLM embedder's identity, without loading MiniLM
        model_id, dimension = model.embedder_id, model.coef.shape[1] - 1

    assert load_intent_model("auto", SameIds()) is not None
    assert load_intent_model("auto", HashEmbedder(dimension=64)) is None  # tests, other embeddings: rules alone


def test_the_training_file_shares_no_message_with_the_labelled_splits():
    """intents_train.jsonl must not leak a held-out message into the model (nor repeat a dev one)."""
    root = PROJECT_ROOT / "tests" / "data" / "understanding"
    dev, extra = load_intent_training(root)
    heldout = {line and json.loads(line)["text"].lower().strip()
               for line in (root / "heldout.jsonl").read_text().splitlines() if line.strip()}
    texts = [ex.text.lower().strip() for ex in extra]
    assert not set(texts) & heldout and not set(texts) & {ex.text.lower().strip() for ex in dev}
    assert len(texts) == len(set(texts))
