"""The OpenAI-compatible backend against a small local chat-completions server started by the test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import TINY_ITEMS
from tests.generator_fixtures import PIECES, FakeServer
from workbench.config import Settings
from workbench.dialogue.generators import (
    FALLBACK_NOTICE,
    FallbackGenerator,
    GenerationRequest,
    OpenAIGenerator,
    TemplateGenerator,
    load_generator,
)
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import GenerationError

BY_ID = {item.item_id: item for item in TINY_ITEMS}
RECS = (Recommendation(BY_ID["5"], 1, 0.9, reason="A tense taxi thriller"),)
REQUEST = GenerationRequest(turns=(Turn("user", "Something tense?"),), recommendations=RECS)
SECRET = "sk-test-secret-123"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.close()


def test_streams_server_sent_events_in_order(server: FakeServer) -> None:
    """Pieces arrive as the server sends them; they join to generate(); the request is well formed."""
    gen = OpenAIGenerator(server.url, "tiny-chat", SECRET, timeout_s=5)
    assert list(gen.stream(REQUEST)) == PIECES
    assert gen.generate(REQUEST) == "".join(PIECES)
    body = server.requests[0]
    assert body["model"] == "tiny-chat" and body["stream"] is True
    assert body["messages"][0]["role"] == "system"
    assert "Collateral (2004)" in body["messages"][-1]["content"]
    assert server.headers[0]["Authorization"] == f"Bearer {SECRET}"
    assert gen.name == "openai:tiny-chat"


def test_base_url_without_v1_is_accepted(server: FakeServer) -> None:
    """`http://host:port` and `http://host:port/v1` reach the same endpoint."""
    gen = OpenAIGenerator(server.url.removesuffix("/v1"), "m", timeout_s=5)
    assert gen.generate(REQUEST) == "".join(PIECES)


def test_retries_after_a_500_then_succeeds(server: FakeServer) -> None:
    """A 500 is retried with backoff; the second attempt's reply is returned."""
    server.fail_statuses = [500]
    gen = OpenAIGenerator(server.url, "m", timeout_s=5, retries=2)
    assert gen.generate(REQUEST) == "".join(PIECES)
    assert len(server.requests) == 2


def test_gives_up_after_the_configured_retries(server: FakeServer) -> None:
    """Repeated 503s fail with GenerationError after retries + 1 attempts."""
    server.fail_statuses = [503, 503, 503]
    gen = OpenAIGenerator(server.url, "m", timeout_s=5, retries=1)
    with pytest.raises(GenerationError, match="HTTP 503"):
        gen.generate(REQUEST)
    assert len(server.requests) == 2


def test_client_errors_are_not_retried_and_hide_the_key(server: FakeServer) -> None:
    """A 401 fails at once (no retry) with the status in the message and never the API key."""
    server.fail_statuses = [401]
    gen = OpenAIGenerator(server.url, "m", SECRET, timeout_s=5, retries=3)
    with pytest.raises(GenerationError, match="HTTP 401") as info:
        gen.generate(REQUEST)
    assert SECRET not in str(info.value) and SECRET not in repr(gen)
    assert len(server.requests) == 1


def test_timeout_raises_generation_error(server: FakeServer) -> None:
    """A server that does not answer within timeout_s raises GenerationError (no hang)."""
    server.delay_s = 2
    gen = OpenAIGenerator(server.url, "m", timeout_s=0.3, retries=0)
    start = time.monotonic()
    with pytest.raises(GenerationError, match="no answer within 0.3s"):
        gen.generate(REQUEST)
    assert time.monotonic() - start < 1.5


def test_timeout_falls_back_to_the_template_generator(server: FakeServer) -> None:
    """Through the fallback wrapper, a slow server yields the notice plus the template reply."""
    server.delay_s = 2
    gen = FallbackGenerator(OpenAIGenerator(server.url, "m", timeout_s=5, retries=0),
                            first_token_timeout_s=0.3)
    stream = gen.stream(REQUEST)
    text = "".join(stream)
    assert text == FALLBACK_NOTICE + " " + TemplateGenerator().generate(REQUEST)
    assert stream.fell_back and stream.generator == "template"


def test_stall_mid_stream_is_an_error_not_a_retry(server: FakeServer) -> None:
    """Once text has arrived, a stalled stream fails instead of retrying (which would repeat text)."""
    server.stall_after = 2
    gen = OpenAIGenerator(server.url, "m", timeout_s=0.5, retries=3)
    got: list[str] = []
    with pytest.raises(GenerationError, match="stalled"):
        for piece in gen.stream(REQUEST):
            got.append(piece)
    assert got == PIECES[:2] and len(server.requests) == 1


def test_connection_refused_is_a_generation_error() -> None:
    """Nothing listening: GenerationError that names the URL, after the retries."""
    gen = OpenAIGenerator("http://127.0.0.1:9/v1", "m", timeout_s=1, retries=1)
    with pytest.raises(GenerationError, match=r"127\.0\.0\.1:9.*cannot connect"):
        gen.generate(REQUEST)


def test_factory_reads_openai_settings(server: FakeServer) -> None:
    """generator=openai with base URL, model and key from Settings streams from the server."""
    settings = Settings.from_env({"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.url,
                                  "WORKBENCH_GENERATOR": "openai", "WORKBENCH_OPENAI_MODEL": "served"})
    gen = load_generator(settings)
    stream = gen.stream(REQUEST)
    assert "".join(stream) == "".join(PIECES) and not stream.fell_back
    assert server.requests[0]["model"] == "served"
    assert server.headers[0]["Authorization"] == f"Bearer {SECRET}"


def test_bad_base_url_is_rejected() -> None:
    """A base URL without http(s) fails at construction, naming it."""
    with pytest.raises(GenerationError, match="ftp://x"):
        OpenAIGenerator("ftp://x", "m")
