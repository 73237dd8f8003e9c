"""Exports: raw datasets round-trip exactly; sft/dpo/triplets follow their rules and are
accepted by the installed TRL and sentence-transformers trainers; stats and the CLI."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.catalog import render_text
from workbench.cli import main
from workbench.errors import FeedbackError
from workbench.feedback.export import (
    anchor_text,
    consolidate,
    dpo_rows,
    export,
    sft_rows,
    training_features,
    triplet_rows,
)
from workbench.feedback.record import (
    ITEM_LABELS,
    MAX_COMMENT_CHARS,
    FeedbackRecord,
    make_record,
)
from workbench.feedback.stats import compute_stats
from workbench.feedback.store import JsonlFeedbackStore

HEIST = "a heist film please"
TITLES = {"2": "Up (2009)", "3": "Heat (1995)", "5": "Collateral (2004)", "6": "The Conjuring (2013)",
          "7": "Alien (1979)", "10": "Inception (2010)"}


def rec(annotator, reply, judgements=None, *, message=HEIST, conversation=(), reply_label=None,
        items=("3", "5", "10", "2"), session="s1", turn=0, comment=""):
    return make_record(
        annotator=annotator, session_id=session, turn_index=turn, conversation=list(conversation),
        user_message=message, reply=reply, generator_backend="template", generator_model="",
        slate=[{"item_id": i, "title": TITLES[i], "rank": r + 1, "score": 1.0 - r / 10, "sources": {"cf": 0.5}}
               for r, i in enumerate(items)],
        judgements=judgements or {}, reply_label=reply_label, comment=comment,
    )


def msg(role, content):
    return {"role": role, "content": content}


@pytest.fixture
def scenario():
    """Four annotators on one heist request, one on a scary request with history."""
    history = [{"role": "user", "text": "hi"}, {"role": "assistant", "text": "Hello! Any mood?"}]
    return [
        rec("ana", "Try Heat (1995).", {"3": {"label": "like", "rating": 5}, "5": {"rating": 2},
                                        "2": {"label": "not_seen"}}, reply_label="like"),
        rec("bob", "Try Up (2009).", {"2": {"label": "dislike"}}, reply_label="dislike", session="s2"),
        rec("cy", "Try Heat (1995).", reply_label="like", session="s3"),
        rec("dan", "Maybe Inception (2010)?", reply_label="like", session="s4"),
        rec("dan", "Maybe Inception (2010)?", reply_label="dislike", session="s4"),  # changed their mind
        rec("ana", "Boo! The Conjuring (2013).", {"6": {"label": "like"}}, message="something scary",
            conversation=history, items=("6", "7"), reply_label="like", session="s5", turn=1),
    ]


# ---------------------------------------------------------------------------
# consolidation and training-set rules


def test_consolidate_keeps_each_annotators_latest_say():
    """Guards re-saves and one-click-at-a-time saves: labels merge per item, the latest value wins."""
    a = rec("ana", "Try Heat (1995).", {"3": {"label": "like"}})
    b = rec("ana", "Try Heat (1995).", {"5": {"label": "dislike"}})
    c = rec("ana", "Try Heat (1995).", {"3": {"rating": 4}}, reply_label="dislike")
    (turn,) = consolidate([c, a, b])  # order of arrival does not matter, created_at does
    assert {i: (j.label, j.rating) for i, j in turn.items.items()} == {
        "3": ("like", 4), "5": ("dislike", None), "10": (None, None), "2": (None, None)
    }
    assert turn.reply_label == "dislike"


def test_sft_rows_are_liked_replies_with_their_context(scenario):
    """Guards SFT selection: net-liked replies only, once each, conversation + message + reply."""
    rows = sft_rows(scenario)
    assert rows == [
        {"messages": [msg("user", HEIST), msg("assistant", "Try Heat (1995).")]},
        {"messages": [msg("user", "hi"), msg("assistant", "Hello! Any mood?"),
                      msg("user", "something scary"), msg("assistant", "Boo! The Conjuring (2013).")]},
    ]


def test_dpo_rows_pair_replies_and_items_on_the_same_context(scenario):
    """Guards DPO pairs: liked vs disliked replies of one context, and higher vs lower judged items."""
    prompt = [msg("user", HEIST)]

    def row(chosen, rejected):
        return {"prompt": prompt, "chosen": [msg("assistant", chosen)], "rejected": [msg("assistant", rejected)]}

    replies = dpo_rows(scenario, "replies")
    assert sorted(map(json.dumps, replies)) == sorted(map(json.dumps, [
        row("Try Heat (1995).", "Try Up (2009)."),
        row("Try Heat (1995).", "Maybe Inception (2010)?"),
    ]))
    items = dpo_rows(scenario, "items")
    # ana: Heat rated 5 > Collateral rated 2; not_seen Up and unjudged Inception are not compared.
    assert items == [row("Heat (1995)", "Collateral (2004)")]
    assert len(dpo_rows(scenario)) == 3


def test_dpo_pairs_contradicted_by_another_annotator_cancel():
    """Guards noisy labels: a > b from one annotator and b > a from another give no row."""
    one = rec("ana", "r", {"3": {"label": "like"}, "5": {"label": "dislike"}})
    two = rec("bob", "r", {"3": {"label": "dislike"}, "5": {"label": "like"}}, session="s2")
    three = rec("cy", "r", {"3": {"label": "like"}, "5": {"label": "dislike"}}, session="s3")
    assert dpo_rows([one, two], "items") == []
    assert [r["chosen"][0]["content"] for r in dpo_rows([one, two, three], "items")] == ["Heat (1995)"]
    with pytest.raises(FeedbackError, match="dpo pairs: must be one of both, replies, items"):
        dpo_rows([one], "titles")


def test_triplets_use_catalogue_text_and_the_request_in_context(scenario, tiny_catalog):
    """Guards triplet rules: liked item vs disliked one (else vs shown-but-unjudged), texts from the catalogue."""
    rows, missing = triplet_rows(scenario, tiny_catalog)
    text = {i: render_text(tiny_catalog[i]) for i in ("2", "3", "5", "6", "7", "10")}
    assert missing == 0
    assert rows == [
        # heist: Heat liked (ana 5, cy nothing); Collateral rated 2 and Up disliked by bob are negatives
        {"anchor": HEIST, "positive": text["3"], "negative": text["5"]},
        {"anchor": HEIST, "positive": text["3"], "negative": text["2"]},
        # scary: nothing disliked, so the shown-but-unjudged Alien is the negative; the anchor has the earlier request
        {"anchor": "hi\nsomething scary", "positive": text["6"], "negative": text["7"]},
    ]
    assert anchor_text((("user", "a"), ("assistant", "b"), ("user", "c"), ("user", "d")), "e") == "c\nd\ne"


def test_triplets_skip_items_no_longer_in_the_catalogue(tiny_catalog):
    """Guards a changed catalogue: judged items it lacks are skipped and counted, not crashed on."""
    from workbench.catalog import Catalog

    smaller = Catalog([i for i in tiny_catalog if i.item_id != "5"], source="smaller")
    records = [rec("ana", "r", {"3": {"label": "like"}, "5": {"label": "dislike"}, "10": {"label": "dislike"}})]
    rows, missing = triplet_rows(records, smaller)
    assert missing == 1
    assert [r["negative"] for r in rows] == [render_text(smaller["10"])]


def test_stats_count_per_annotator_label_item_and_day(scenario):
    """Guards the summary numbers (as stored: a re-saved judgement counts again)."""
    stats = compute_stats(scenario)
    assert stats.records == 6 and stats.sessions == 5
    assert stats.annotators == {"ana": 2, "dan": 2, "bob": 1, "cy": 1}
    assert stats.labels == {"item:like": 2, "item:dislike": 1, "item:not_seen": 1, "item:rating=2": 1,
                            "item:rating=5": 1, "reply:like": 4, "reply:dislike": 2}
    heat = stats.items["3"]
    assert (heat.title, heat.shown, heat.like, heat.ratings, heat.mean_rating) == ("Heat (1995)", 5, 1, 1, 5.0)
    assert list(stats.items) == ["2", "3", "5", "6"]  # judged items only, most judged first
    assert sum(stats.days.values()) == 6 and len(stats.days) == 1


# ---------------------------------------------------------------------------
# writing and reading back


def _load(path, fmt, cache):
    import datasets

    if fmt == "hf":
        return datasets.load_from_disk(str(path))
    if fmt == "parquet":
        return datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(cache))
    from workbench.feedback.record import FEEDBACK_FEATURES

    return datasets.load_dataset("json", data_files=str(path), features=FEEDBACK_FEATURES, split="train",
                                 cache_dir=str(cache))


FANCY = ["🎬🍿", "👩‍👩‍👧‍👦", "\u2028line\u2029sep", "tab\tnew\nline\r", "\x00nul", "日本語", "é" * 3, '"quoted" \\ back']
text = st.one_of(st.text(max_size=30), st.sampled_from(FANCY))
required = st.one_of(st.text(min_size=1, max_size=30), st.sampled_from(FANCY)).filter(str.strip)
# annotator names are printable text (issue 19 item 10): no control, format or bidi characters
name = st.one_of(
    st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), min_size=1, max_size=30),
    st.sampled_from(["🎬🍿", "日本語", "é" * 3, '"quoted" \\ back']),
).filter(str.strip)
finite = st.floats(allow_nan=False, allow_infinity=False)
long_comment = st.text(min_size=1, max_size=8).map(lambda s: (s * MAX_COMMENT_CHARS)[:MAX_COMMENT_CHARS])


@st.composite
def records(draw):
    n = draw(st.integers(0, 4))
    ids = draw(st.lists(required.filter(lambda s: len(s) <= 200), min_size=n, max_size=n, unique=True))
    slate, judgements = [], {}
    for rank, item_id in enumerate(ids, start=1):
        slate.append({"item_id": item_id, "title": draw(required), "rank": rank, "score": draw(finite),
                      "sources": draw(st.dictionaries(required, finite, max_size=3)), "reason": draw(text)})
        label = draw(st.sampled_from((None, *ITEM_LABELS)))
        rating = None if label == "not_seen" else draw(st.one_of(st.none(), st.integers(1, 5)))
        if label or rating:
            judgements[item_id] = {"label": label, "rating": rating}
    reply_label = draw(st.sampled_from((None, "like", "dislike")))
    comment = draw(st.one_of(st.just(""), text, long_comment))
    if not (judgements or reply_label or comment.strip()):
        reply_label = "like"
    return make_record(
        annotator=draw(name), session_id=draw(required), turn_index=draw(st.integers(0, 10**6)),
        conversation=draw(st.lists(st.fixed_dictionaries(
            {"role": st.sampled_from(("user", "assistant", "system")), "text": text}), max_size=3)),
        user_message=draw(required), reply=draw(required), generator_backend=draw(required),
        generator_model=draw(st.one_of(st.just(""), text)), slate=slate, judgements=judgements,
        reply_label=reply_label, comment=comment,
        catalog_hash=draw(st.one_of(st.just(""), st.text(string.hexdigits, max_size=64))),
        index_id=draw(st.one_of(st.just(""), text)),
    )


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(batch=st.lists(records(), min_size=1, max_size=4))
def test_records_round_trip_through_store_export_and_datasets(batch, tmp_path_factory):
    """Guards exactness end to end: unicode, emoji, NULs, line separators, comments at the limit,
    empty optional fields and any finite float survive write -> read -> export -> datasets."""
    import datasets

    from workbench.feedback.record import FEEDBACK_FEATURES

    datasets.disable_progress_bars()
    root = tmp_path_factory.mktemp("rt")
    store = JsonlFeedbackStore(root / "fb")
    store.append_many(batch[:1])
    for r in batch[1:]:
        store.append(r)
    result = store.read()
    assert result.problems == () and len(result.records) == len(batch)
    assert {r.record_id: r for r in result.records} == {r.record_id: r for r in batch}
    expected = [r.to_dict() for r in result.records]
    for fmt, name in (("hf", "hf"), ("parquet", "x.parquet"), ("jsonl", "x.jsonl")):
        export(result.records, fmt, root / name)
        ds = _load(root / name, fmt, root / "cache")
        assert ds.features == FEEDBACK_FEATURES, fmt
        assert ds.to_list() == expected, fmt
        assert [FeedbackRecord.from_dict(row) for row in ds] == list(result.records), fmt


def test_export_refuses_nothing_to_write(tmp_path, scenario):
    """Guards clear errors instead of empty files: no records, no liked replies, occupied folder."""
    with pytest.raises(FeedbackError, match="holds no records"):
        export([], "jsonl", tmp_path / "x.jsonl")
    only_dislikes = [rec("ana", "r", reply_label="dislike")]
    with pytest.raises(FeedbackError, match="'sft': 1 records give no rows .no reply has more likes"):
        export(only_dislikes, "sft", tmp_path / "sft.jsonl")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    with pytest.raises(FeedbackError, match="busy: exists and is not an empty folder"):
        export(scenario, "hf", tmp_path / "busy")
    with pytest.raises(FeedbackError, match="needs the catalogue"):
        export(scenario, "triplets", tmp_path / "t.jsonl")
    with pytest.raises(FeedbackError, match="give an output path"):
        export(scenario, "jsonl", None)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ""])
def test_training_exports_load_back_with_their_features(tmp_path, scenario, tiny_catalog, suffix):
    """Guards the three containers of training sets (by --out suffix) and their declared features."""
    import datasets

    for fmt in ("sft", "dpo", "triplets"):
        out = tmp_path / f"{fmt}{suffix}"
        done = export(scenario, fmt, out, catalog=tiny_catalog)
        if suffix == ".jsonl":
            ds = datasets.load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
        elif suffix == ".parquet":
            ds = datasets.load_dataset("parquet", data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
        else:
            ds = datasets.load_from_disk(str(out))
        assert ds.features == training_features(fmt), (fmt, suffix)
        assert len(ds) == done.rows > 0


# ---------------------------------------------------------------------------
# the installed trainers accept the training sets


def _word_tokenizer(texts):
    """A tiny word-level tokenizer with a chat template, built from the exported texts."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.Whitespace()
    words = sorted({w for t in texts for w, _ in pre.pre_tokenize_str(t)})
    specials = ["[PAD]", "[UNK]", "<s>", "</s>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>"]
    vocab = {w: i for i, w in enumerate(specials + words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre
    tok.add_special_tokens(specials)  # chat markers stay whole tokens
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", bos_token="<s>",
                                 eos_token="</s>")
    hf.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
        "{% if add_generation_prompt %}<|assistant|> {% endif %}"
    )
    return hf


def _tiny_lm(vocab_size):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=0, bos_token_id=2, eos_token_id=3)
    return LlamaForCausalLM(config)


def _all_texts(rows):
    out = []
    for row in rows:
        for value in row.values():
            out.extend(m["content"] for m in value) if isinstance(value, list) else out.append(value)
    return out


@pytest.mark.slow
def test_trl_reads_the_sft_and_dpo_exports(tmp_path, scenario):
    """Guards the TRL contract with TRL itself: its data utilities see conversational rows, the
    chat template splits prompt and completion where we put them, and SFTTrainer/DPOTrainer
    tokenise the exported files and take a training step."""
    import copy

    import datasets
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    datasets.disable_progress_bars()
    export(scenario, "sft", tmp_path / "sft.jsonl")
    export(scenario, "dpo", tmp_path / "dpo.parquet")
    sft = datasets.load_dataset("json", data_files=str(tmp_path / "sft.jsonl"), split="train",
                                cache_dir=str(tmp_path / "c"))
    dpo = datasets.load_dataset("parquet", data_files=str(tmp_path / "dpo.parquet"), split="train",
                                cache_dir=str(tmp_path / "c"))
    tok = _word_tokenizer(_all_texts(sft) + _all_texts(dpo))
    assert all(is_conversational(row) for row in sft) and all(is_conversational(row) for row in dpo)
    for row in dpo:
        applied = maybe_apply_chat_template(row, tok)
        assert applied["prompt"].endswith(f"<|user|> {row['prompt'][-1]['content']} <|end|> <|assistant|> ")
        assert applied["chosen"] == f"{row['chosen'][0]['content']} <|end|> "
        assert applied["rejected"] == f"{row['rejected'][0]['content']} <|end|> "
    assert maybe_apply_chat_template(sft[0], tok)["text"].endswith("<|assistant|> Try Heat (1995). <|end|> ")

    common = dict(max_steps=1, per_device_train_batch_size=2, report_to=[], save_strategy="no",
                  logging_strategy="no", use_cpu=True)
    model = _tiny_lm(len(tok))
    dpo_trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model), processing_class=tok,
                             args=DPOConfig(output_dir=str(tmp_path / "dpo_out"), **common), train_dataset=dpo)
    tokenized = dpo_trainer.train_dataset[0]
    assert tok.decode(tokenized["chosen_ids"]).replace(" ", "") == (dpo[0]["chosen"][0]["content"] + "<|end|>").replace(" ", "")
    assert dpo_trainer.train().global_step == 1
    sft_trainer = SFTTrainer(model=model, processing_class=tok, train_dataset=sft,
                             args=SFTConfig(output_dir=str(tmp_path / "sft_out"), **common))
    assert sft_trainer.train().global_step == 1


@pytest.mark.slow
def test_sentence_transformers_trains_on_the_triplets_export(tmp_path, scenario, tiny_catalog):
    """Guards the retriever contract with sentence-transformers itself: its trainer reads the
    exported (anchor, positive, negative) columns with MultipleNegativesRankingLoss and steps."""
    import datasets
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import BertConfig, BertModel, BertTokenizerFast

    datasets.disable_progress_bars()
    export(scenario, "triplets", tmp_path / "triplets", catalog=tiny_catalog)
    triplets = datasets.load_from_disk(str(tmp_path / "triplets"))
    assert triplets.column_names == ["anchor", "positive", "negative"]

    model_dir = tmp_path / "tiny-bert"
    model_dir.mkdir()
    chars = sorted({c.lower() for t in _all_texts(triplets) for c in t if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    # transformers 5 takes the vocabulary itself (a vocab_file argument is silently ignored and
    # every token becomes [UNK])
    tok = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)})
    assert "[UNK]" not in tok.tokenize(triplets[0]["anchor"]), "tiny tokenizer lost its vocabulary"
    tok.save_pretrained(model_dir)
    BertModel(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=512)).save_pretrained(model_dir)
    model = SentenceTransformer(str(model_dir), device="cpu")
    trainer = SentenceTransformerTrainer(
        model=model, train_dataset=triplets, loss=MultipleNegativesRankingLoss(model),
        args=SentenceTransformerTrainingArguments(output_dir=str(tmp_path / "st_out"), max_steps=1,
                                                  per_device_train_batch_size=len(triplets), report_to=[],
                                                  save_strategy="no", use_cpu=True),
    )
    assert trainer.train().global_step == 1


# ---------------------------------------------------------------------------
# command line


def test_cli_export_and_stats(tmp_path, scenario, tiny_catalog, capsys):
    """Guards `python -m workbench feedback export|stats` end to end on a data folder."""
    data = tmp_path / "fb"
    JsonlFeedbackStore(data).append_many(scenario)
    out = tmp_path / "all.jsonl"
    assert main(["feedback", "export", "--format", "jsonl", "--out", str(out), "--dir", str(data)]) == 0
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        r.to_dict() for r in JsonlFeedbackStore(data).read().records
    ]
    assert "jsonl: 6 rows from 6 records" in capsys.readouterr().out

    catalog_file = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(catalog_file)
    assert main(["feedback", "export", "--format", "triplets", "--out", str(tmp_path / "t.jsonl"),
                 "--dir", str(data), "--catalog", str(catalog_file)]) == 0
    assert "triplets: 3 rows" in capsys.readouterr().out

    assert main(["feedback", "stats", "--dir", str(data)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("6 records, 5 sessions, 4 annotators")
    assert "Heat (1995)" in text and "reply:like" in text and "day (UTC)" in text

    assert main(["feedback", "stats", "--dir", str(data), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["annotators"] == {"ana": 2, "dan": 2, "bob": 1, "cy": 1}
    assert stats["items"]["3"]["mean_rating"] == 5.0 and stats["torn_lines"] == 0


def test_cli_reports_problems_and_errors_cleanly(tmp_path, capsys):
    """Guards the CLI's error path: an empty folder is a one-line error, torn lines are warned about."""
    assert main(["feedback", "export", "--format", "sft", "--out", str(tmp_path / "x.jsonl"),
                 "--dir", str(tmp_path / "empty")]) == 2
    assert "error: export: the feedback store holds no records" in capsys.readouterr().err
    (tmp_path / "fb").mkdir()
    good = rec("ana", "r", reply_label="like")
    (tmp_path / "fb" / "shard-a.jsonl").write_text(json.dumps(good.to_dict()) + "\n{\"record_id\"")
    assert main(["feedback", "stats", "--dir", str(tmp_path / "fb")]) == 0
    captured = capsys.readouterr()
    assert "shard-a.jsonl:2: torn line" in captured.err
    assert captured.out.startswith("1 records")
