"""Fine-tuning the retriever: a tiny locally built BERT learns a toy task, the result loads
through load_embedder and index build with its manifest checked, retrieval metrics rank
honestly, ReDial/feedback pairs are built and split by conversation, bad inputs are named."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from workbench.cli import build_parser, main
from workbench.errors import EmbeddingError, EvaluationError
from workbench.evaluate.retrieval import (
    PairRow,
    compare,
    redial_rows,
    retrieval_metrics,
    split_holdout,
)
from workbench.finetune.retriever import (
    MANIFEST,
    check_model_dir,
    finetune_embedder,
    read_manifest,
    validate_rows,
)
from workbench.retrieval.embed import load_embedder

N = 8  # toy vocabulary: anchors speak w0..w7, items are described in x0..x7


def _tiny_model(directory, texts):
    """A 2-layer BERT with a word-level vocabulary over ``texts`` (plus characters), mean pooling."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True)
    words = sorted({w for t in texts for w in re.findall(r"\w+", t.lower())})
    chars = sorted({c for t in texts for c in t.lower() if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys([*chars, *(f"##{c}" for c in chars), *words])]
    # transformers 5 takes the vocabulary itself (a vocab_file argument is silently ignored,
    # leaving a tokenizer that maps every word to [UNK]).
    tok = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)})
    assert "[UNK]" not in tok.tokenize(texts[0]), "tiny tokenizer lost its vocabulary"
    tok.save_pretrained(directory)
    import torch

    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(directory)
    return directory


def _toy_rows():
    """Item (i, j) is described as 'film xi xj'; users ask for 'wi and wj'. Learning that wk means
    xk is enough to find pairs never seen in training; a random model cannot."""
    rows = []
    for i in range(N):
        for j in range(i + 1, N):
            item = f"film x{i} x{j}"
            for a, b in ((i, j), (j, i)):
                rows.append(PairRow(f"{i}-{j}", f"something with w{a} and w{b}", item))
    return rows


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """One tiny base model, one fine-tune of it on the toy task's training conversations."""
    root = tmp_path_factory.mktemp("toy")
    rows = _toy_rows()
    train, held = split_holdout(rows, 0.25, seed=0)
    texts = [t for r in rows for t in (r.anchor, r.positive)]
    base = _tiny_model(root / "base", texts)
    out = finetune_embedder(str(base), [r.train_row() for r in train], root / "tuned", epochs=1, max_steps=80,
                            batch_size=16, lr=3e-3, seed=0, device="cpu")
    candidates = sorted({r.positive for r in rows})
    return {"root": root, "base": base, "out": out, "train": train, "held": held, "candidates": candidates}


def test_finetuned_model_beats_its_base_on_held_out_conversations(toy):
    """Guards the whole loop: training that does not train (wrong loss, columns, lr, saving the
    untrained model) leaves the held-out recall at the random base's level."""
    assert {r.group for r in toy["train"]}.isdisjoint({r.group for r in toy["held"]})
    result = compare({"base": load_embedder(str(toy["base"]), "cpu"), "tuned": load_embedder(str(toy["out"]), "cpu")},
                     toy["held"], toy["candidates"], ks=(1, 5))
    base, tuned = result["base"], result["tuned"]
    assert base["n"] == tuned["n"] == len(toy["held"]) and base["candidates"] == len(toy["candidates"]) == 28
    assert tuned["mrr"] > base["mrr"] + 0.25, result
    assert tuned["recall@5"] > base["recall@5"], result
    diff, lo, hi = tuned["delta"]["mrr"]
    assert tuned["delta"]["vs"] == "base" and "delta" not in base
    assert diff == pytest.approx(tuned["mrr"] - base["mrr"], abs=2e-4) and 0 < lo <= diff <= hi


def test_finetuned_folder_loads_through_load_embedder_with_its_manifest(toy):
    """Guards the contract with the rest of the app: load_embedder(path) encodes, the model id
    names the weights (cache and index manifests tell two fine-tunes at one path apart), and
    the manifest records what was trained on what."""
    emb = load_embedder(str(toy["out"]), "cpu")
    vecs = emb.encode(["something with w1 and w2", "film x1 x2"])
    assert vecs.shape == (2, 32) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert re.fullmatch(re.escape(str(toy["out"].resolve())) + r"@[0-9a-f]{12}", emb.model_id)
    meta = read_manifest(toy["out"])
    assert meta["base_model"] == str(toy["base"].resolve())
    assert meta["rows"] == len(toy["train"]) and meta["steps"] == 80 and meta["seed"] == 0
    assert meta["columns"] == ["anchor", "positive"] and len(meta["data_hash"]) == 64
    assert meta["weights"] and set(meta["versions"]) >= {"sentence-transformers", "torch"}
    assert not list(toy["root"].glob(".tuned.*")), "temporary folders left behind"


def test_index_build_accepts_a_finetuned_model(toy, tiny_catalog, tmp_path, capsys):
    """Guards `python -m workbench index build --model DIR` with a fine-tuned folder, and the
    rebuild hint of its index."""
    catalog = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(catalog)
    assert main(["index", "build", "--catalog", str(catalog), "--model", str(toy["out"]), "--out",
                 str(tmp_path / "idx"), "--device", "cpu", "--no-cache"]) == 0
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    assert meta["model_id"] == load_embedder(str(toy["out"])).model_id and meta["count"] == 12
    # the id in the index manifest loads the same folder (what `search` does), and only while
    # the folder still holds those weights
    assert load_embedder(meta["model_id"]).model_id == meta["model_id"]
    with pytest.raises(EmbeddingError, match="holds weights revision .* not 000000000000; rebuild the index"):
        load_embedder(str(toy["out"]) + "@000000000000")
    from workbench.retrieval.index import rebuild_command

    # the index's "rebuild with" hint names the folder, not the id with its weights revision
    assert f"--model {toy['out'].resolve()} --out" in rebuild_command("idx", meta)


@pytest.mark.parametrize("damage", ["missing", "broken", "schema", "weights"])
def test_a_damaged_manifest_or_model_is_refused_naming_the_file(toy, tmp_path, damage):
    """Guards the manifest check on load: a deleted, unreadable or edited meta.json, or weights
    changed after training, fail with an EmbeddingError naming the file, not a silent load."""
    copy = shutil.copytree(toy["out"], tmp_path / "copy")
    manifest = copy / MANIFEST
    if damage == "missing":
        manifest.unlink()
        expect = f"{manifest}: manifest missing"
    elif damage == "broken":
        manifest.write_text("{not json")
        expect = f"{manifest}: unreadable manifest"
    elif damage == "schema":
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "schema_version": 99}))
        expect = f"{manifest}: schema_version 99"
    else:
        weights = next(copy.glob("*.safetensors"))
        data = bytearray(weights.read_bytes())
        data[-1] ^= 0xFF
        weights.write_bytes(bytes(data))
        expect = f"weight file {weights} is changed"
    with pytest.raises(EmbeddingError, match=re.escape(expect)):
        load_embedder(str(copy), "cpu").encode(["x"])
    with pytest.raises(EmbeddingError, match=re.escape(expect)):
        check_model_dir(copy)


def test_plain_sentence_transformers_folders_need_no_manifest(toy):
    """Guards the other models: a folder not written by the fine-tuner loads without a manifest."""
    assert check_model_dir(toy["base"]) is None
    assert load_embedder(str(toy["base"]), "cpu").encode(["w1"]).shape == (1, 32)


def test_bad_training_inputs_are_named(tmp_path, toy):
    """Guards clear errors for empty rows, unknown or missing columns, blank fields, mixed rows,
    an occupied output folder and bad step settings -- before any model loads."""
    good = [{"anchor": "a", "positive": "b"}]
    cases = [
        ([], "no training rows"),
        ([{"anchor": "a", "positive": "b", "label": 1}], "row 0: unknown column(s) ['label']"),
        ([{"anchor": "a"}], "row 0: column 'positive' is missing"),
        ([*good, {"anchor": "a", "positive": " "}], "row 1: field 'positive' must be a non-empty string"),
        ([*good, {"anchor": "a", "positive": "b", "negative": "c"}], "row 1: columns"),
    ]
    for rows, message in cases:
        with pytest.raises(EmbeddingError, match=re.escape(message)):
            finetune_embedder(str(toy["base"]), rows, tmp_path / "o")
    assert validate_rows([{"negative": "c", "positive": "b", "anchor": "a"}]) == ("anchor", "positive", "negative")
    with pytest.raises(EmbeddingError, match="max_steps must be an integer >= 1"):
        finetune_embedder(str(toy["base"]), good, tmp_path / "o", max_steps=0)
    with pytest.raises(EmbeddingError, match="batch_size must be an integer >= 2"):
        finetune_embedder(str(toy["base"]), good, tmp_path / "o", batch_size=1)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    with pytest.raises(EmbeddingError, match="busy: exists and is not an empty folder"):
        finetune_embedder(str(toy["base"]), good, tmp_path / "busy")


def test_holdout_split_keeps_conversations_whole_and_checks_its_share():
    """Guards the split: no conversation on both sides, the share honoured, bad shares named."""
    rows = [PairRow(f"c{i % 10}", f"a{i}", f"p{i}") for i in range(50)]
    train, held = split_holdout(rows, 0.2, seed=1)
    assert {r.group for r in train}.isdisjoint({r.group for r in held})
    assert len({r.group for r in held}) == 2 and len(train) + len(held) == 50
    assert split_holdout(rows, 0.2, seed=1) == (train, held)
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(EvaluationError, match=re.escape(f"--holdout must be between 0 and 1 (exclusive), got {bad}")):
            split_holdout(rows, bad)
    with pytest.raises(EvaluationError, match="at least 2 conversations"):
        split_holdout(rows[:1], 0.5)


class _TableEmbedder:
    """Fixed 2-d vectors per text: every score in the metric test is known by hand."""

    model_id, dimension = "table", 2
    VECTORS = {"q-heist": (1.0, 0.0), "q-space": (0.0, 1.0), "q-mixed": (0.8, 0.6),
               "heist": (1.0, 0.0), "space": (0.0, 1.0), "mixed": (0.6, 0.8), "twin": (0.6, 0.8)}

    def encode(self, texts, *, show_progress=False):
        return np.array([self.VECTORS[t] for t in texts], dtype=np.float32)


def test_retrieval_metrics_rank_exactly_with_exclusions():
    """Guards the metric: the rank of the positive among candidates, ties counted against it,
    earlier mentions excluded, positives outside the candidates added."""
    emb = _TableEmbedder()
    rows = [PairRow("c", "q-space", "space"),  # rank 0
            PairRow("c", "q-heist", "space"),  # heist, mixed, twin score higher: rank 3
            PairRow("c", "q-heist", "space", exclude=("heist",)),  # rank 2
            PairRow("c", "q-mixed", "mixed")]  # ties with twin (0.96 each), heist 0.8: rank 1
    m = retrieval_metrics(emb, rows, ["heist", "space", "twin"], ks=(1, 2, 3))
    assert m["candidates"] == 4 and m["n"] == 4  # "mixed" joined the candidates
    assert (m["recall@1"], m["recall@2"], m["recall@3"]) == (0.25, 0.5, 0.75)
    assert m["mrr"] == pytest.approx((1 + 1 / 4 + 1 / 3 + 1 / 2) / 4, abs=1e-4)
    with pytest.raises(EvaluationError, match="no samples"):
        retrieval_metrics(emb, [], ["heist"])


def test_redial_pairs_use_the_request_in_context_and_exclude_earlier_mentions(tiny_catalog):
    """Guards ReDial -> pairs: the anchor is the seeker's words with titles for @ids, the
    positive the named movie's catalogue text, earlier mentions excluded, grouped by dialogue."""
    from workbench.catalog import render_text

    dialogue = {"conversationId": "77", "initiatorWorkerId": 1, "messages": [
        {"senderWorkerId": 1, "text": "hi"},
        {"senderWorkerId": 2, "text": "hello, what do you like?"},
        {"senderWorkerId": 1, "text": "I loved @3 , any crime film?"},
        {"senderWorkerId": 2, "text": "Try @5 or @3"},
    ]}
    rows = redial_rows([dialogue], tiny_catalog)
    assert rows == [PairRow("77", "hi\nI loved Heat , any crime film?", render_text(tiny_catalog["5"]),
                            (render_text(tiny_catalog["3"]),))]


def test_cli_parses_the_finetune_retriever_command():
    """Guards the command's shape: one source required, defaults as documented."""
    args = build_parser().parse_args(["finetune", "retriever", "--redial", "train.jsonl", "--out", "m"])
    assert (args.epochs, args.max_steps, args.holdout, args.batch_size, args.json_out) == (1, None, 0.2, 32, None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["finetune", "retriever", "--out", "m"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["finetune", "retriever", "--redial", "a", "--feedback", "b", "--out", "m"])


def test_cli_finetunes_on_feedback_and_reports_base_vs_finetuned(tmp_path, tiny_catalog, capsys):
    """Guards `python -m workbench finetune retriever --feedback DIR` end to end on a tiny model:
    records -> session-split triplets -> fine-tune -> table and JSON; and a bad holdout is named."""
    from workbench.catalog import render_text
    from workbench.feedback.record import make_record
    from workbench.feedback.store import JsonlFeedbackStore

    catalog_file = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(catalog_file)
    requests = ["a heist film", "something scary", "space adventure", "family animation"]
    liked = ["3", "6", "8", "1"]
    records = []
    for s in range(8):
        message, like = requests[s % 4], liked[s % 4]
        slate = [like, "11", "12"]
        records.append(make_record(
            annotator="ana", session_id=f"s{s}", turn_index=0, conversation=[], user_message=message,
            reply="r", generator_backend="template", generator_model="",
            slate=[{"item_id": i, "title": tiny_catalog[i].display_title, "rank": r + 1, "score": 1.0,
                    "sources": {}} for r, i in enumerate(slate)],
            judgements={like: {"label": "like"}, "11": {"label": "dislike"}}, reply_label=None, comment="",
        ))
    JsonlFeedbackStore(tmp_path / "fb").append_many(records)
    texts = requests + [render_text(i) for i in tiny_catalog]
    base = _tiny_model(tmp_path / "base", texts)
    argv = ["finetune", "retriever", "--feedback", str(tmp_path / "fb"), "--catalog", str(catalog_file),
            "--model", str(base), "--out", str(tmp_path / "tuned"), "--max-steps", "2", "--batch-size", "4",
            "--device", "cpu", "--holdout", "0.25", "--json", str(tmp_path / "r.json")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert re.search(r"holdout\s+base\s+2\s", out) and re.search(r"holdout\s+fine-tuned\s+2\s", out)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["train_conversations"] == 6 and report["holdout_conversations"] == 2
    assert report["manifest"]["steps"] == 2 and report["catalogue_items"] == 12
    assert set(report["results"]["holdout"]) == {"base", "fine-tuned"}
    assert read_manifest(tmp_path / "tuned")["columns"] == ["anchor", "positive", "negative"]

    assert main([*argv[:-4], "--holdout", "1.5"]) == 2
    assert "--holdout must be between 0 and 1 (exclusive), got 1.5" in capsys.readouterr().err
