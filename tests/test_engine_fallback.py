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
