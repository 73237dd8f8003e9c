"""Generators: the template generator, the fallback wrapper, the factory, and the shared contract."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import PROJECT_ROOT, TINY_ITEMS
from workbench.catalog import Catalog
from workbench.config import Settings
from workbench.dialogue.generators import (
    FALLBACK_NOTICE,
    FALLBACK_NOTICE_MIDWAY,
    FallbackGenerator,
    GenerationRequest,
    TemplateGenerator,
    TransformersGenerator,
    load_generator,
)
from workbench.dialogue.generators.template import INTENTS
from workbench.dialogue.grounding import Grounder
from workbench.dialogue.prompts import build_messages, reply_prefix
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import ConfigError

BY_ID = {item.item_id: item for item in TINY_ITEMS}
CATALOG = Catalog(TINY_ITEMS, source="tiny")
RECS = (
    Recommendation(BY_ID["5"], 1, 0.9, {"cf": 0.9}, "Directed by Michael Mann, like Heat (1995)"),
    Recommendation(BY_ID["10"], 2, 0.8, {"content": 0.8}, "A heist thriller with Leonardo DiCaprio"),
    Recommendation(BY_ID["7"], 3, 0.7, {"search": 0.7}, ""),
)


def request(intent: str = "recommend", text: str = "I loved Heat. Something tense?",
            recs: tuple[Recommendation, ...] = RECS, notes: tuple[str, ...] = ()) -> GenerationRequest:
    return GenerationRequest(turns=(Turn("user", text),), recommendations=recs, intent=intent, notes=notes)


# ---------------------------------------------------------------------------
# template generator


def test_template_is_deterministic_and_stream_joins_to_generate() -> None:
    """Same request, same reply (also from a fresh instance); stream() pieces join to generate()."""
    req = request(notes=("I took 'Heat' as Heat (1995).",))
    a, b = TemplateGenerator(), TemplateGenerator()
    assert a.generate(req) == b.generate(req) == a.generate(req)
    pieces = list(a.stream(req))
    assert len(pieces) > 10  # word by word, not one blob
    assert "".join(pieces) == a.generate(req)


@pytest.mark.parametrize("intent", [*INTENTS, "something-unknown"])
def test_template_covers_every_intent(intent: str) -> None:
    """Every intent gets a non-empty reply naming each slate item, its reason and the notes."""
    note = "I took 'Heat' as Heat (1995)."
    text = TemplateGenerator().generate(request(intent, notes=(note,)))
    for rec in RECS:
        assert rec.item.display_title in text, (intent, text)
    assert note in text
    if intent == "why":
        assert "because" in text.lower()
        assert "directed by Michael Mann, like Heat (1995)" in text
    else:
        assert "Michael Mann, like Heat (1995)" in text


@pytest.mark.parametrize("intent", ["greeting", "chitchat", "feedback", "other", "why"])
def test_template_without_a_slate_names_no_film(intent: str) -> None:
    """Without a slate the reply asks a question and names no title."""
    text = TemplateGenerator().generate(request(intent, text="hello there", recs=()))
    assert "?" in text
    assert Grounder(CATALOG).mentions(text) == ()


def test_template_says_when_nothing_matched() -> None:
    """A recommend request with an empty slate explains that nothing matched (no made-up titles)."""
    text = TemplateGenerator().generate(request("recommend", recs=()))
    assert any(w in text.lower() for w in ("loosen", "relax", "drop"))


def test_template_phrasing_varies_across_requests_and_seeds() -> None:
    """Different requests (and seeds) get different phrasings: at least 4 distinct openings."""
    openings = {TemplateGenerator().generate(request(text=f"message {i}")).split(".")[0] for i in range(30)}
    assert len(openings) >= 4
    req = request()
    assert len({TemplateGenerator(seed=s).generate(req) for s in range(10)}) >= 3


def test_template_replies_need_no_grounding_fixes() -> None:
    """Template replies only name slate items (and items the reasons name), so grounding changes nothing."""
    grounder = Grounder(CATALOG)
    for intent in INTENTS:
        for i in range(5):
            text = TemplateGenerator(seed=i).generate(request(intent))
            allowed = [i for r in RECS for i in grounder.mentions(r.reason)]
            out = grounder.ground(text, RECS, allowed=allowed)
            assert out.fixes == 0 and out.text == text, (intent, text, out.events)
            assert out.names_slate_item


# ---------------------------------------------------------------------------
# prompts


def test_prompt_lists_exactly_the_slate_and_the_conversation() -> None:
    """The LLM prompt holds a system prompt, one worked example, each candidate with its reason, and the turns."""
    msgs = build_messages(request())
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    last = msgs[-1]["content"]
    for rec in RECS:
        assert rec.item.display_title in last
    assert "Reason: Directed by Michael Mann" in last
    assert "User: I loved Heat. Something tense?" in last
    assert reply_prefix(request()) == "You might enjoy Collateral (2004)"
    assert reply_prefix(request(recs=())) == ""


# ---------------------------------------------------------------------------
# fallback wrapper


class ScriptedGenerator:
    """A primary that yields scripted pieces, optionally sleeping or raising (to exercise the wrapper)."""

    def __init__(self, pieces: list[str], *, delay: float = 0.0, fail_after: int | None = None):
        self.pieces, self.delay, self.fail_after = pieces, delay, fail_after
        self.closed = threading.Event()
        self.produced = 0

    @property
    def name(self) -> str:
        return "scripted:test"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        try:
            for i, piece in enumerate(self.pieces):
                if self.fail_after is not None and i >= self.fail_after:
                    raise RuntimeError("model exploded")
                time.sleep(self.delay)
                self.produced += 1
                yield piece
        finally:
            self.closed.set()

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_fallback_passes_a_working_primary_through() -> None:
    """A primary that answers in time is used as is; the stream says it did not fall back."""
    gen = FallbackGenerator(ScriptedGenerator(["Try ", "Collateral."]), first_token_timeout_s=5)
    stream = gen.stream(request())
    assert "".join(stream) == "Try Collateral."
    assert not stream.fell_back and stream.generator == "scripted:test" and stream.error == ""


def test_fallback_when_primary_raises_before_any_text() -> None:
    """A primary that fails answers with the notice plus the template reply, flagged as a fallback."""
    gen = FallbackGenerator(ScriptedGenerator(["x"], fail_after=0), first_token_timeout_s=5)
    stream = gen.stream(request())
    text = "".join(stream)
    assert text == FALLBACK_NOTICE + " " + TemplateGenerator().generate(request())
    assert stream.fell_back and stream.generator == "template" and "model exploded" in stream.error


def test_fallback_when_first_token_is_late_and_primary_is_stopped() -> None:
    """Missing the first-token deadline falls back quickly and asks the slow primary to stop."""
    primary = ScriptedGenerator(["late ", "words ", "here."], delay=1.0)
    gen = FallbackGenerator(primary, first_token_timeout_s=0.1, total_timeout_s=5)
    stream = gen.stream(request())
    first = next(stream)
    assert primary.produced == 0  # the fallback spoke before the slow model's first piece
    text = first + "".join(stream)
    assert text.startswith(FALLBACK_NOTICE) and "late words" not in text
    assert stream.fell_back and "did not start within 0.1s" in stream.error
    assert primary.closed.wait(5) and primary.produced <= 1


def test_fallback_midway_keeps_text_and_appends_summary() -> None:
    """A primary that fails after writing keeps its text, then the midway notice and the template."""
    gen = FallbackGenerator(ScriptedGenerator(["Try ", "Collateral. ", "And"], fail_after=2),
                            first_token_timeout_s=5)
    stream = gen.stream(request())
    text = "".join(stream)
    assert text.startswith("Try Collateral. \n\n" + FALLBACK_NOTICE_MIDWAY)
    assert stream.fell_back


def test_fallback_on_total_deadline() -> None:
    """A reply that starts but runs past the total deadline is cut and summarised."""
    primary = ScriptedGenerator(["a "] * 50, delay=0.05)
    stream = FallbackGenerator(primary, first_token_timeout_s=1, total_timeout_s=0.3).stream(request())
    text = "".join(stream)
    assert FALLBACK_NOTICE_MIDWAY in text and stream.fell_back and "did not finish" in stream.error


def test_fallback_on_empty_reply() -> None:
    """An LLM that returns nothing is treated as a failure."""
    stream = FallbackGenerator(ScriptedGenerator([]), first_token_timeout_s=5).stream(request())
    assert "".join(stream).startswith(FALLBACK_NOTICE) and stream.fell_back


def test_closing_the_stream_stops_the_primary() -> None:
    """A consumer that stops reading (user pressed stop) stops the LLM too."""
    primary = ScriptedGenerator(["w "] * 100, delay=0.01)
    stream = FallbackGenerator(primary, first_token_timeout_s=5).stream(request())
    next(stream)
    stream.close()
    assert primary.closed.wait(2)
    assert primary.produced < 100


# ---------------------------------------------------------------------------
# factory


def test_factory_template_and_openai_validation(tmp_path) -> None:
    """`template` gives the template generator; `openai` without URL/model fails naming the setting."""
    assert isinstance(load_generator(Settings(generator="template")), TemplateGenerator)
    with pytest.raises(ConfigError, match="openai_base_url"):
        load_generator(Settings(generator="openai", openai_model="m"))
    with pytest.raises(ConfigError, match="openai_model"):
        load_generator(Settings(generator="openai", openai_base_url="http://127.0.0.1:9"))


def test_factory_auto_picks_template_when_no_model_is_at_hand(tmp_path) -> None:
    """`auto` with a model that is neither bundled nor local (and no Hub) falls to the template."""
    gen = load_generator(Settings(generator="auto", generator_model="someone/unknown-model"))
    assert isinstance(gen, TemplateGenerator)


def test_factory_auto_picks_a_local_model_without_loading_it(tmp_path) -> None:
    """`auto` with a local model directory gives a wrapped transformers generator; nothing loads yet."""
    gen = load_generator(Settings(generator="auto", generator_model=str(tmp_path), cache_dir=str(tmp_path),
                                  generator_timeout_s=7))
    assert isinstance(gen, FallbackGenerator) and isinstance(gen.primary, TransformersGenerator)
    assert not gen.ready and gen.first_token_timeout_s == 7
    assert gen.name == f"transformers:{tmp_path}"


def test_importing_generators_loads_no_heavy_library() -> None:
    """Importing the generators and grounding must not import torch or transformers (fast, side-effect free)."""
    code = ("import sys, workbench.dialogue.generators, workbench.dialogue.grounding; "
            "print(sorted(m for m in ('torch', 'transformers', 'rapidfuzz') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                         check=True)
    assert out.stdout.strip() == "[]"
