"""The engine reports a fallback truthfully when the generators' own FallbackGenerator steps in.

Regression: FallbackGenerator recovers without raising, so the engine used to report
``fell_back=False`` and name the LLM although the template had written the reply.
"""

from __future__ import annotations

from collections.abc import Iterator

from tests.dialogue_fixtures import tiny_engine
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.generators.fallback import FallbackGenerator


class BrokenLLM:
    name = "fake:broken-llm"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        raise ConnectionError("endpoint unreachable")
        yield ""  # pragma: no cover - makes this a generator

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_wrapped_llm_failure_is_reported_as_a_fallback(tiny_catalog, hash_embedder):
    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    state = engine.new_state("s")
    result = engine.respond(state, "I loved Heat", generator=FallbackGenerator(BrokenLLM()))
    assert result.fell_back
    assert result.generator.startswith("template")
    assert result.recommendations
    assert any("fell back" in note for note in result.notes)
    assert state.log[-1].fell_back


def test_healthy_llm_is_not_reported_as_a_fallback(tiny_catalog, hash_embedder):
    class GoodLLM:
        name = "fake:good"

        def stream(self, request: GenerationRequest) -> Iterator[str]:
            yield f"You might enjoy {request.recommendations[0].item.display_title}."

        def generate(self, request: GenerationRequest) -> str:
            return "".join(self.stream(request))

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    result = engine.respond(engine.new_state("s"), "I loved Heat", generator=FallbackGenerator(GoodLLM()))
    assert not result.fell_back and result.generator == "fake:good"


class HalfWrittenLLM:
    """Writes a sentence and half another, then fails (a model that stops mid-reply)."""

    name = "fake:half-written"

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        yield f"{request.recommendations[0].item.display_title} is a great pick for you. It "
        raise ConnectionError("the model stopped")

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def test_a_midway_fallback_is_one_typed_restart_event_and_the_text_after_it_is_the_reply(tiny_catalog, hash_embedder):
    """Issue 29: consumers found the midway fallback by searching the text for the notice (the arena did
    not, and showed the half-written text); the stream now says so with one ReplyRestart."""
    from workbench.dialogue.generators.fallback import FALLBACK_NOTICE_MIDWAY
    from workbench.dialogue.types import ReplyRestart, TurnResult

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    state = engine.new_state("s")
    pieces = list(engine.stream(state, "I loved Heat", generator=FallbackGenerator(HalfWrittenLLM())))
    restarts = [i for i, p in enumerate(pieces) if isinstance(p, ReplyRestart)]
    assert len(restarts) == 1 and pieces[restarts[0]].reason == "error"
    before = "".join(p for p in pieces[: restarts[0]] if isinstance(p, str))
    after = "".join(p for p in pieces[restarts[0] + 1:] if isinstance(p, str))
    assert "great pick" in before  # the model's sentence was streamed, then withdrawn
    result = pieces[-1]
    assert isinstance(result, TurnResult) and result.fell_back
    assert after.strip() == result.reply and result.reply.startswith(FALLBACK_NOTICE_MIDWAY)
    assert "great pick" not in result.reply and state.turns[-1].text == result.reply


def test_a_healthy_or_late_starting_model_streams_no_restart(tiny_catalog, hash_embedder):
    """Only text that was streamed is withdrawn: a model that fails before writing needs no restart."""
    from workbench.dialogue.types import ReplyRestart

    engine = tiny_engine(tiny_catalog, hash_embedder, k=3)
    for generator in (None, FallbackGenerator(BrokenLLM())):
        pieces = list(engine.stream(engine.new_state("s"), "I loved Heat", generator=generator))
        assert not any(isinstance(p, ReplyRestart) for p in pieces)
