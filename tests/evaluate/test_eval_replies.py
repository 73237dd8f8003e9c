"""``eval replies``: the off-task detector's reasons, each metric on hand-built replies, paired
bootstrap intervals, the reply cache, and the CLI's JSON shape with real generators."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sacrebleu
from generator_fixtures import DIALOGUES, build_tiny_model

from workbench.cli import main
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.prompts import INSTRUCTIONS
from workbench.dialogue.sentences import tidy
from workbench.evaluate.replies import (
    METRICS,
    OffTaskDetector,
    ReplyCache,
    distinct_n2,
    evaluate_replies,
)
from workbench.evaluate.reply_data import redial_examples


class Scripted:
    """Answers each request with a fixed reply chosen by the user's last message."""

    def __init__(self, name: str, replies: dict[str, str]):
        self.name, self.replies, self.calls = name, replies, 0

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        self.calls += 1
        yield self.replies[request.turns[-1].text]

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


@pytest.fixture
def examples(tiny_catalog):
    return redial_examples(DIALOGUES, tiny_catalog)[0]


def test_the_off_task_detector_names_each_reason(examples):
    """Guards the documented detector: echo, role labels, copied prompt text and repeats are
    flagged; a reply that states the candidates' facts is not."""
    detector = OffTaskDetector()
    e = examples[0]  # user: "hi I loved Collateral (2004) , any tense crime film?", slate: Heat (1995)
    cases = {
        "Heat (1995) is a tense crime film directed by Michael Mann, with Al Pacino.": [],
        "Your task: choose a different option based on the provided choices.": ["echo"],
        "As an AI, I cannot watch films.": ["echo"],
        "Recommend only the films listed under Candidates, using their exact titles and years.": ["echo"],
        "Try Heat (1995). User: thanks!": ["echo", "role_label"],  # a label opening a sentence is echo too
        "Heat (1995) is great, User: thanks": ["role_label"],
        "I loved Collateral, I want another tense crime movie.": ["prompt_copy"],
        "Hi I loved Collateral (2004), any tense crime film? Heat (1995).": ["prompt_copy"],
        "Heat (1995) is great. It has Al Pacino. Heat (1995) is great!": ["repeat"],
    }
    for reply, reasons in cases.items():
        assert detector.reasons(reply, e) == reasons, reply


def test_distinct_2_counts_distinct_bigrams_over_all_bigrams():
    assert distinct_n2([[("the", "cat"), ("cat", "sat")], [("the", "cat"), ("cat", "ran")]]) == 0.75
    assert distinct_n2([[]]) == 0.0


def test_metrics_on_hand_built_replies(examples, tiny_catalog):
    """Guards every metric against replies whose values are known by construction: the human
    reply itself, with a final stop (all slate, no fix, chrF/BLEU as sacrebleu computes them) against
    instruction echo (no slate, one fix,
    all off task); the difference's bootstrap interval excludes zero."""
    users = [e.request.turns[-1].text for e in examples]
    echo = Scripted("echo", {u: "Your task: Recommend the candidates to the user." for u in users})
    # the human replies with tidy punctuation, as grounding shows a model's finished reply (its stop added,
    # no space before punctuation: workbench.dialogue.sentences.tidy)
    written = {e.request.turns[-1].text: tidy(e.target, final=True) for e in examples}
    human = Scripted("human", written)
    grounder = Grounder(tiny_catalog, instructions=INSTRUCTIONS)
    report = evaluate_replies({"echo": echo, "human": human}, examples, grounder, seed=1)
    assert report["n"] == len(examples) == 5
    first, second = report["models"]
    assert [m["model"] for m in report["models"]] == ["echo", "human"]
    assert (first["mentions_slate"], first["off_task"], first["grounding_fixes_per_reply"]) == (0.0, 1.0, 1.0)
    assert first["off_task_reasons"]["echo"] == 5
    assert (second["mentions_slate"], second["off_task"], second["grounding_fixes_per_reply"]) == (1.0, 0.0, 0.0)
    targets = [e.target for e in examples]
    replies = [written[e.request.turns[-1].text] for e in examples]
    assert second["chrf"] == pytest.approx(sacrebleu.corpus_chrf(replies, [targets]).score, abs=1e-4)
    assert second["bleu"] == pytest.approx(sacrebleu.corpus_bleu(replies, [targets]).score, abs=1e-4)
    words = [len(t.split()) for t in replies]
    assert second["mean_words"] == pytest.approx(sum(words) / len(words), abs=0.01)
    assert second["seconds_per_reply"] >= 0.0
    diff = second["vs_first"]["mentions_slate"]
    assert diff["diff"] == 1.0 and diff["ci95"] == [1.0, 1.0]
    chrf = second["vs_first"]["chrf"]
    assert chrf["ci95"][0] <= chrf["diff"] <= chrf["ci95"][1] and chrf["ci95"][0] > 0
    assert "vs_first" not in first
    # (the model labelled "human" shadows the sample's reference key: its reply as written)
    assert report["samples"][0]["human"] == written[examples[0].request.turns[-1].text]


def test_the_reply_cache_resumes_without_generating_again(tmp_path, examples, tiny_catalog):
    """Guards --replies: a second run reads every reply back (and the same report comes out); a
    different model key never reuses another model's replies."""
    # the human replies with tidy punctuation, as grounding shows a model's finished reply (its stop added,
    # no space before punctuation: workbench.dialogue.sentences.tidy)
    written = {e.request.turns[-1].text: tidy(e.target, final=True) for e in examples}
    human = Scripted("human", written)
    grounder = Grounder(tiny_catalog)
    path = tmp_path / "replies.jsonl"
    one = evaluate_replies({"h": human}, examples, grounder, cache=ReplyCache(path))
    assert human.calls == 5
    with open(path, "a") as f:
        f.write('{"key": "half a line')  # a run killed mid-write
    two = evaluate_replies({"h": human}, examples, grounder, cache=ReplyCache(path))
    assert human.calls == 5
    assert [{k: m[k] for k in METRICS if k != "seconds_per_reply"} for m in one["models"]] == \
        [{k: m[k] for k in METRICS if k != "seconds_per_reply"} for m in two["models"]]
    evaluate_replies({"h": human}, examples, grounder, cache=ReplyCache(path), model_keys={"h": "h#other-weights"})
    assert human.calls == 10


@pytest.mark.slow
def test_cli_json_has_the_issue_shape(tmp_path, tiny_catalog, monkeypatch):
    """Guards the JSON contract of `eval replies` with a real transformers model and the template."""
    monkeypatch.setenv("WORKBENCH_MAX_NEW_TOKENS", "6")
    model = build_tiny_model(tmp_path / "lm")
    catalog = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(catalog)
    data = tmp_path / "redial.jsonl"
    data.write_text("".join(json.dumps(c) + "\n" for c in DIALOGUES))
    out = tmp_path / "r.json"
    assert main(["eval", "replies", "--data", str(data), "--model", "template", "--model", str(model),
                 "--n", "3", "--catalog", str(catalog), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n"] == 3 and isinstance(report["n"], int)
    assert [m["model"] for m in report["models"]] == ["template", str(model)]
    for entry in report["models"]:
        assert set(METRICS) | {"model"} <= set(entry)
        assert all(isinstance(entry[k], float) for k in METRICS)
    assert set(report["models"][1]["vs_first"]) >= set(METRICS)


def test_a_model_on_an_openai_compatible_server_is_evaluated_like_a_local_one(tmp_path, tiny_catalog, monkeypatch):
    """`--model openai:NAME` asks the server at WORKBENCH_OPENAI_BASE_URL (vLLM on a GPU host,
    bench/gpu/vllm_check.sh): every example's prompt reaches it and its replies are scored."""
    from generator_fixtures import FakeServer

    server = FakeServer()
    try:
        monkeypatch.setenv("WORKBENCH_OPENAI_BASE_URL", server.url)
        catalog = tmp_path / "catalog.jsonl"
        tiny_catalog.save_jsonl(catalog)
        data = tmp_path / "redial.jsonl"
        data.write_text("".join(json.dumps(c) + "\n" for c in DIALOGUES))
        out = tmp_path / "r.json"
        assert main(["eval", "replies", "--data", str(data), "--model", "template", "--model", "openai:served-lm",
                     "--n", "2", "--catalog", str(catalog), "--json", str(out)]) == 0
        report = json.loads(out.read_text())
        assert [m["model"] for m in report["models"]] == ["template", "openai:served-lm"]
        assert len(server.requests) == 2 and {r["model"] for r in server.requests} == {"served-lm"}
        assert report["models"][1]["mean_words"] > 0 and report["models"][1]["errors"] == 0
    finally:
        server.close()


def test_replay_grounds_a_reports_replies_again_without_generating(tmp_path, tiny_catalog, capsys):
    """Guards --replay: the replies of an earlier report are grounded again (same figures when the
    grounder did not change), the report says where they came from and gains off_task_after; a report
    of other examples is refused instead of being matched to the wrong messages."""
    catalog = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(catalog)
    data = tmp_path / "redial.jsonl"
    data.write_text("".join(json.dumps(c) + "\n" for c in DIALOGUES))
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    common = ["eval", "replies", "--data", str(data), "--n", "3", "--catalog", str(catalog)]
    assert main([*common, "--model", "template", "--json", str(first)]) == 0
    assert main([*common, "--replay", str(first), "--json", str(again)]) == 0
    one, two = json.loads(first.read_text()), json.loads(again.read_text())
    assert two["replayed_from"] == str(first) and [m["model"] for m in two["models"]] == ["template"]
    keys = ("mentions_slate", "grounding_fixes_per_reply", "off_task", "chrf", "bleu")
    assert {k: two["models"][0][k] for k in keys} == {k: one["models"][0][k] for k in keys}
    assert "off_task_after" in two["models"][0]
    assert [a["template"]["shown"] for a in two["audit"]] == [a["template"]["shown"] for a in one["audit"]]
    capsys.readouterr()
    assert main(["eval", "replies", "--data", str(data), "--n", "4", "--catalog", str(catalog),
                 "--replay", str(first)]) != 0
    assert "--replay: the report holds 3 replies" in capsys.readouterr().err
