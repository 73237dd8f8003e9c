"""The understanding evaluation: loading and checking a labelled set, per-field scoring, slate checks,
the CLI's JSON shape, and the shipped set's coverage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from workbench.catalog import load_catalog
from workbench.config import Settings
from workbench.dialogue.engine import default_engine
from workbench.errors import EvaluationError
from workbench.evaluate import understanding as U

SHIPPED = PROJECT_ROOT / "tests" / "data" / "understanding"


def example(text: str, slate=(), **gold) -> U.Example:
    return U.Example(text[:12], text, tuple(slate), (), {**U.GOLD_KEYS, **gold})


def write_set(root: Path, rows: list[dict], split: str = "heldout") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in U.SPLITS:
        (root / f"{name}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows) if name == split else "", encoding="utf-8")
    return root


def test_score_readings_counts_each_field():
    """Hand-counted: genres_exclude tp=1 fp=1 fn=1; one of two intents right; people match on name and role."""
    a = example("no horror", intent="recommend", genres_exclude=["horror", "war"],
                people=[{"name": "Tom Hanks", "role": "actor"}])
    b = example("hello", intent="greeting")
    pred_a = {**U.GOLD_KEYS, "intent": "recommend", "genres_exclude": ["horror", "crime"],
              "people": [{"name": "Tom Hanks", "role": "director"}]}
    pred_b = {**U.GOLD_KEYS, "intent": "other"}
    r = U.score_readings([(a, pred_a), (b, pred_b)])
    assert r["intent_accuracy"] == 0.5
    assert r["fields"]["genres_exclude"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert r["fields"]["people"]["recall"] == 0.0  # right name, wrong role
    assert r["fields"]["genres_include"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}  # nothing either side
    assert r["confusion"] == {"greeting->other": 1, "recommend->recommend": 1}


def test_refs_count_only_where_a_message_points():
    """A film named in a request is a like, not a reference: refs are scored on pointing intents only."""
    rec = example("I loved Heat", intent="recommend", liked=["3"])
    seen = example("seen the first", slate=["3"], intent="seen", refs=["3"])
    pred = {**U.GOLD_KEYS, "intent": "recommend", "refs": ["3"]}
    r = U.score_readings([(rec, pred), (seen, {**U.GOLD_KEYS, "intent": "seen", "refs": ["3"]})])
    assert r["fields"]["refs"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_constraint_violations(tiny_catalog):
    gold = {**U.GOLD_KEYS, "intent": "recommend", "genres_exclude": ["horror"], "year_min": 1990}
    assert U.constraint_violations([tiny_catalog["1"], tiny_catalog["3"]], gold) == []
    broken = U.constraint_violations([tiny_catalog["7"]], gold)
    assert len(broken) == 2 and "horror" in broken[0]
    assert U.constraint_violations([], gold) == ["empty slate"]


def test_expected_answers_come_from_the_catalogue(tiny_catalog):
    oldest = {**U.GOLD_KEYS, "intent": "compare", "refs": ["1", "7", "10"], "attribute": "oldest"}
    assert U.expected_answers(oldest, tiny_catalog) == ["Alien"]
    director = {**U.GOLD_KEYS, "intent": "ask_fact", "refs": ["3"], "attribute": "director"}
    assert U.answer_is_right("Heat was directed by Michael Mann.", U.expected_answers(director, tiny_catalog))


@pytest.mark.parametrize("gold,message", [
    ({"intent": "wish"}, "intent must be one of"),
    ({"intent": "recommend", "genres": ["x"]}, "unknown gold keys"),
    ({"intent": "recommend", "genres_exclude": ["scary"]}, "non-canonical"),
    ({"intent": "ask_fact", "attribute": "length"}, "attribute must be one of"),
    ({"intent": "recommend", "liked": ["999"]}, "not in the catalogue"),
])
def test_bad_gold_fails_with_its_line(tmp_path, tiny_catalog, gold, message):
    root = write_set(tmp_path / "set", [{"id": "a", "text": "x", "gold": {"intent": "greeting"}},
                                        {"id": "b", "text": "y", "gold": gold}])
    with pytest.raises(EvaluationError, match=message) as err:
        U.load_examples(root, "heldout", tiny_catalog)
    assert "heldout.jsonl:2" in str(err.value)


def test_evaluate_end_to_end_on_a_tiny_engine(tiny_catalog):
    engine = default_engine(tiny_catalog, questions=False)
    examples = [example("a comedy, no animation please", intent="recommend", genres_include=["comedy"],
                        genres_exclude=["animation"]),
                example("hello", intent="greeting")]
    report = U.evaluate(engine, examples, split="dev")
    assert report["n"] == 2 and report["split"] == "dev"
    assert report["constraint_satisfaction"] == 1.0 and report["details"]["constrained_turns"] == 1
    assert report["fields"]["genres_exclude"]["f1"] == 1.0
    assert "intent confusion" in U.format_table(report)


def test_cli_writes_exactly_the_report_keys(tmp_path, tiny_catalog, monkeypatch, capsys):
    """Others' checks read the JSON: its keys are n, split, intent_accuracy, fields, constraint_satisfaction."""
    import workbench.services as services
    from workbench.cli import main

    monkeypatch.setattr(services, "build_engine", lambda settings, generator=None: default_engine(
        tiny_catalog, questions=False))
    root = write_set(tmp_path / "set", [
        {"id": "r1", "text": "no horror please", "context": {"slate": [], "history": []},
         "gold": {"intent": "recommend", "genres_exclude": ["horror"]}},
        {"id": "f1", "text": "who directed the first one?", "context": {"slate": ["3"], "history": []},
         "gold": {"intent": "ask_fact", "refs": ["3"], "attribute": "director"}}])
    out = tmp_path / "report.json"
    assert main(["eval", "understanding", "--data", str(root), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert list(report) == ["n", "split", "intent_accuracy", "fields", "constraint_satisfaction"]
    assert report["split"] == "heldout" and report["n"] == 2
    assert set(report["fields"]) >= {"genres_include", "genres_exclude", "refs", "attribute", "answers"}
    assert all(set(v) == {"precision", "recall", "f1"} for v in report["fields"].values())
    assert "intent accuracy" in capsys.readouterr().out


def test_shipped_set_covers_every_intent():
    """At least 400 messages, 25 per intent, about 40% held out, every id and label valid on the default catalogue."""
    catalog = load_catalog(Settings().catalog)
    everything = U.load_examples(SHIPPED, "all", catalog)
    held = [ex for ex in everything if ex.split == "heldout"]
    assert len(everything) >= 400
    assert 0.35 <= len(held) / len(everything) <= 0.45
    per_intent = Counter(ex.intent for ex in everything)
    assert set(per_intent) == set(U.GOLD_INTENTS) and min(per_intent.values()) >= 25
    assert all(Counter(ex.intent for ex in held)[i] >= 10 for i in U.GOLD_INTENTS)
