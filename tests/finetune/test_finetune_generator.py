"""Fine-tuning the generator: ReDial and feedback become examples whose prompt is the app's own,
held-out conversations never reach training, SFT and DPO run end to end through the CLI on a
tiny local model, and the saved folder's manifest is checked whenever the app loads it."""

from __future__ import annotations

import json

import pytest
from generator_fixtures import DIALOGUES, RECOMMENDER, SEEKER, build_tiny_model, conversation

from workbench.cli import build_parser, main
from workbench.config import Settings
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.factory import load_generator
from workbench.dialogue.generators.transformers import TransformersGenerator
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.prompts import INSTRUCTIONS, build_messages
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import EvaluationError, GenerationError
from workbench.evaluate.reply_data import feedback_examples, redial_examples, split_examples
from workbench.feedback.record import make_record
from workbench.feedback.store import JsonlFeedbackStore
from workbench.finetune.generator import training_rows
from workbench.finetune.generator_manifest import check_generator_dir
from workbench.finetune.retriever import rows_hash


def test_redial_turns_become_requests_with_the_turns_slate_and_the_human_reply(tiny_catalog):
    """Guards the data rules: merged turns, titles for markers, slate = the movies the turn names,
    turns with a movie outside the catalogue or without a seeker turn before them left out."""
    examples, skipped = redial_examples(DIALOGUES, tiny_catalog)
    by_target = {e.target: e for e in examples}
    assert list(by_target) == ["Have you seen Heat (1995) ? It is great.", "Try Inception (2010) then.",
                               "The Conjuring (2013) will scare you", "Up (2009) is lovely",
                               "Star Wars (1977) and Return of the Jedi (1983) are classics"]
    assert skipped == {"not_in_catalogue": 1, "no_user_turn": 1, "ungrounded": 0}
    first = by_target["Have you seen Heat (1995) ? It is great."]
    assert first.group == "c1"
    assert first.request.turns == (Turn("user", "hi I loved Collateral (2004) , any tense crime film?"),)
    assert [r.item.item_id for r in first.request.recommendations] == ["3"]
    later = by_target["Try Inception (2010) then."]
    assert [t.role for t in later.request.turns] == ["user", "assistant", "user"]
    classics = by_target["Star Wars (1977) and Return of the Jedi (1983) are classics"]
    assert [r.item.item_id for r in classics.request.recommendations] == ["8", "9"]


def test_the_grounder_filter_drops_human_replies_naming_films_off_the_slate(tiny_catalog):
    """Guards the cleaning step: a reply naming a catalogue film typed without @ would teach the
    model to name films it was not given."""
    typed = [conversation("t1", [(SEEKER, "crime?"), (RECOMMENDER, "@3 , or maybe Collateral")])]
    grounder = Grounder(tiny_catalog, instructions=INSTRUCTIONS)
    assert len(redial_examples(typed, tiny_catalog)[0]) == 1
    kept, skipped = redial_examples(typed, tiny_catalog, grounder=grounder)
    assert kept == [] and skipped["ungrounded"] == 1


def test_split_keeps_each_conversation_on_one_side(tiny_catalog):
    examples, _ = redial_examples(DIALOGUES, tiny_catalog)
    train, held = split_examples(examples, 0.5, seed=3)
    assert train and held
    assert {e.group for e in train}.isdisjoint({e.group for e in held})
    assert split_examples(examples, 0.0) == (examples, [])
    with pytest.raises(EvaluationError, match="--holdout"):
        split_examples(examples, 1.0)


def _feedback_records():
    heist = "a heist film please"
    slate = [{"item_id": "3", "title": "Heat (1995)", "rank": 1, "score": 0.9, "sources": {"cf": 0.5},
              "reason": "a tense crime film"},
             {"item_id": "5", "title": "Collateral (2004)", "rank": 2, "score": 0.8, "sources": {}}]

    def rec(annotator, session, reply, label):
        return make_record(annotator=annotator, session_id=session, turn_index=0, conversation=[],
                           user_message=heist, reply=reply, generator_backend="transformers",
                           generator_model="m", slate=slate, judgements={}, reply_label=label)

    return [rec("ana", "s1", "Heat (1995) is a tense heist film.", "like"),
            rec("bob", "s2", "Your task: choose a different option.", "dislike"),
            rec("cy", "s3", "Heat (1995) is a tense heist film.", "like")]


def test_feedback_examples_rebuild_the_slate_and_follow_the_export_rules(tiny_catalog):
    """Guards reuse of the export's votes: SFT = net-liked replies, DPO = liked vs disliked on one
    context; the prompt shows the slate the annotators saw, with its reasons."""
    sft, missing = feedback_examples(_feedback_records(), tiny_catalog, "sft")
    assert missing == 0 and [e.target for e in sft] == ["Heat (1995) is a tense heist film."]
    (dpo,), _ = feedback_examples(_feedback_records(), tiny_catalog, "dpo")
    assert (dpo.target, dpo.rejected) == ("Heat (1995) is a tense heist film.", "Your task: choose a different option.")
    assert [r.item.item_id for r in dpo.request.recommendations] == ["3", "5"]
    assert "Reason: a tense crime film" in build_messages(dpo.request)[-1]["content"]
    (row,) = training_rows([dpo], "dpo")
    assert row["prompt"] == build_messages(dpo.request)
    assert row["rejected"] == [{"role": "assistant", "content": "Your task: choose a different option."}]


# ---------------------------------------------------------------------------
# end to end through the CLI, on a tiny local model


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture
def files(tmp_path, tiny_catalog):
    catalog = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(catalog)
    redial = tmp_path / "redial.jsonl"
    redial.write_text("".join(json.dumps(c) + "\n" for c in DIALOGUES))
    return {"catalog": catalog, "redial": redial}


def _finetune(tmp_path, tiny_lm, files, *extra):
    out = tmp_path / "tuned"
    argv = ["finetune", "generator", "--out", str(out), "--model", str(tiny_lm), "--catalog", str(files["catalog"]),
            "--max-steps", "2", "--batch-size", "2", "--max-length", "4096", "--train-layers", "0",
            "--json", str(tmp_path / "report.json"), *extra]
    assert main(argv) == 0
    return out, json.loads((out / "meta.json").read_text()), json.loads((tmp_path / "report.json").read_text())


@pytest.mark.slow
def test_sft_on_redial_end_to_end_writes_a_checked_model_that_the_app_serves(tmp_path, tiny_lm, files,
                                                                              tiny_catalog, capsys):
    """Guards the whole SFT path: CLI -> TRL SFTTrainer -> folder with manifest -> the app's
    factory loads it as WORKBENCH_GENERATOR_MODEL and it replies; the held-out conversations
    are named in the manifest and none of their replies is in the training data."""
    out, meta, report = _finetune(tmp_path, tiny_lm, files, "--redial", str(files["redial"]), "--holdout", "0.25")
    assert meta["kind"] == "finetuned-generator" and meta["method"] == "sft" and meta["steps"] == 2
    assert meta["base_model"] == str(tiny_lm) and meta["prime"] is True and meta["weights"]
    assert set(meta["versions"]) >= {"trl", "transformers", "torch"} and meta["seed"] == 0
    assert report["steps"] == 2 and report["held_out_conversations"] == 1
    held = set(meta["holdout_groups"])
    assert len(held) == 1
    # the manifest's data hash is that of exactly the examples outside the held-out conversations
    examples, _ = redial_examples(DIALOGUES, tiny_catalog, grounder=Grounder(tiny_catalog, instructions=INSTRUCTIONS))
    train = [e for e in examples if e.group not in held]
    assert len(train) < len(examples) and meta["rows"] == len(train)
    assert meta["data_hash"] == rows_hash(training_rows(train, "sft"))
    assert check_generator_dir(out) == meta

    generator = load_generator(Settings(generator="transformers", generator_model=str(out), max_new_tokens=8))
    request = GenerationRequest(turns=(Turn("user", "a tense crime film?"),),
                                recommendations=(Recommendation(tiny_catalog["3"], 1, 1.0),))
    assert isinstance(generator.generate(request), str)
    assert generator.primary.manifest == meta and generator.primary.prime is True
    assert "WORKBENCH_GENERATOR_MODEL" in capsys.readouterr().out


@pytest.mark.slow
def test_the_training_prompt_is_the_prompt_the_app_gives_the_model(tmp_path, tiny_lm, files, tiny_catalog):
    """Guards train/serve skew: the tokens SFTTrainer trains the reply on follow exactly the tokens
    the app's generator feeds the fine-tuned model for the same conversation and slate."""
    import datasets
    from trl import SFTConfig, SFTTrainer

    out, _, _ = _finetune(tmp_path, tiny_lm, files, "--redial", str(files["redial"]), "--holdout", "0", "--no-prime")
    examples, _ = redial_examples(DIALOGUES[:1], tiny_catalog)
    example = examples[1]  # the second recommender turn: user, assistant, user before it
    # What the app has at run time: the conversation as shown in the chat, a slate of catalogue items.
    runtime = GenerationRequest(
        turns=(Turn("user", "hi I loved Collateral (2004) , any tense crime film?"),
               Turn("assistant", "Have you seen Heat (1995) ? It is great."), Turn("user", "no, what else?")),
        recommendations=(Recommendation(tiny_catalog["10"], 1, 0.7),),
    )
    app = TransformersGenerator(str(out), device="cpu").load()
    assert app.prime is False  # --no-prime: the manifest says the model opens its replies itself
    served = app._encode(build_messages(runtime), "")["input_ids"][0].tolist()

    trainer = SFTTrainer(model=str(out), processing_class=app._tokenizer,
                         train_dataset=datasets.Dataset.from_list(training_rows([example], "sft")),
                         args=SFTConfig(output_dir=str(tmp_path / "w"), max_length=4096, report_to=[],
                                        use_cpu=True, completion_only_loss=True))
    row = trainer.train_dataset[0]  # labels are -100 where no loss is taken: the prompt
    prompt_ids = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label == -100]
    assert prompt_ids == served
    completion = app._tokenizer.decode([label for label in row["labels"] if label != -100])
    assert completion.startswith("Try Inception (2010) then.")


@pytest.mark.slow
def test_dpo_on_feedback_end_to_end(tmp_path, tiny_lm, files):
    """Guards the DPO path: liked vs disliked replies from the feedback store train with DPOTrainer."""
    JsonlFeedbackStore(tmp_path / "fb").append_many(_feedback_records())
    out, meta, report = _finetune(tmp_path, tiny_lm, files, "--feedback", str(tmp_path / "fb"), "--method", "dpo",
                                  "--holdout", "0")
    assert meta["method"] == "dpo" and meta["rows"] == 1 and meta["steps"] == 2 and meta["beta"] == 0.1
    assert report["sources"]["feedback"]["examples"] == 1
    assert check_generator_dir(out)["data_hash"] == meta["data_hash"]


@pytest.mark.slow
def test_a_tampered_or_unlisted_fine_tune_is_refused_with_a_message(tmp_path, tiny_lm, files, capsys):
    """Guards the manifest check on load: changed weights, or a deleted manifest, never serve."""
    out, meta, _ = _finetune(tmp_path, tiny_lm, files, "--redial", str(files["redial"]), "--holdout", "0")
    (weights,) = meta["weights"]
    data = bytearray((out / weights).read_bytes())
    data[-1] ^= 0xFF
    (out / weights).write_bytes(bytes(data))
    with pytest.raises(GenerationError, match=r"model\.safetensors is changed since fine-tuning"):
        TransformersGenerator(str(out)).load()
    # the CLI names it too, without a traceback
    assert main(["eval", "replies", "--data", str(files["redial"]), "--model", str(out),
                 "--catalog", str(files["catalog"])]) == 2
    assert "changed since fine-tuning" in capsys.readouterr().err
    (out / "meta.json").unlink()
    with pytest.raises(GenerationError, match="manifest missing"):
        TransformersGenerator(str(out)).load()


def test_bad_arguments_are_named_before_any_loading(tmp_path, files):
    base = ["finetune", "generator", "--out", str(tmp_path / "o"), "--catalog", str(files["catalog"])]
    cases = [([], "--redial FILE and/or --feedback DIR"),
             (["--redial", str(files["redial"]), "--method", "dpo"], "--method dpo"),
             (["--redial", str(files["redial"]), "--holdout", "1.5"], "--holdout")]
    for extra, message in cases:
        with pytest.raises(EvaluationError, match=message):
            args = build_parser().parse_args(base + extra)
            args.func(args)
