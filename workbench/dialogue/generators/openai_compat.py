"""A generator over an OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, TGI, Ollama, OpenAI).

Requests ``stream: true`` and reads the server-sent events with the standard
library (``http.client``), so it needs no SDK. Connection errors, 429 and 5xx
answers are retried with exponential backoff, but only before the first piece
of text arrived (a retry after that would repeat text the user already saw).
Timeouts (per read and for the whole reply) raise :class:`GenerationError`.

The API key is sent as a bearer token and never appears in errors or logs.

It knows HTTP and the chat-completions wire format; it does not know the catalogue, grounding or gradio.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.prompts import build_messages
from workbench.errors import GenerationError

log = logging.getLogger(__name__)

#: First retry waits this long; each further retry doubles it.
BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
#: HTTP statuses worth retrying.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
#: Bytes of an error body quoted in an error message.
MAX_ERROR_BODY = 300


class _Retryable(Exception):
    pass


class OpenAIGenerator:
    """Streams replies from an OpenAI-compatible chat-completions server.

    Args:
        base_url: server root, with or without ``/v1`` (``http://localhost:8000/v1``).
        model: model name to request.
        api_key: bearer token (may be empty for local servers).
        timeout_s: seconds for connecting and for each read; the whole reply may take
            ``timeout_s * 4``.
        retries: extra attempts after a connection error, 429 or 5xx.
        max_new_tokens: ``max_tokens`` of the request.
        temperature: sampling temperature.
        example: include the worked example in the prompt (useful for small models).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        *,
        timeout_s: float = 30.0,
        retries: int = 2,
        max_new_tokens: int = 160,
        temperature: float = 0.3,
        example: bool = True,
    ):
        if not base_url:
            raise GenerationError("openai generator: base URL is empty (setting openai_base_url)")
        if not model:
            raise GenerationError("openai generator: model is empty (setting openai_model)")
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise GenerationError(
                f"openai generator: base URL must start with http:// or https://, got {base_url!r}"
            )
        if retries < 0:
            raise GenerationError(f"openai generator: retries must be >= 0, got {retries}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.example = example
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        path = parts.path
        if not path.endswith("/v1"):
            path += "/v1"
        self._path = path + "/chat/completions"

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def ready(self) -> bool:
        return True  # the server holds the model

    def load(self) -> OpenAIGenerator:
        return self

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIGenerator(base_url={self.base_url!r}, model={self.model!r})"

    def _payload(self, request: GenerationRequest) -> bytes:
        body = {
            "model": self.model,
            "messages": [dict(m) for m in request.messages] or build_messages(request, example=self.example),
            "stream": True,
            "max_tokens": self.max_new_tokens,
            "temperature": self.temperature,
        }
        return json.dumps(body).encode()

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._netloc, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self._netloc, timeout=self.timeout_s)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the pieces of the reply as the server streams them."""
        payload = self._payload(request)
        deadline = time.monotonic() + self.timeout_s * 4
        attempt = 0
        while True:
            yielded = False
            try:
                for piece in self._attempt(payload, deadline):
                    yielded = True
                    yield piece
                return
            except _Retryable as exc:
                if yielded or attempt >= self.retries:
                    raise GenerationError(
                        f"{self.name} at {self.base_url}: {exc} (after {attempt + 1} attempt(s))"
                    ) from None
                wait = min(MAX_BACKOFF_S, BACKOFF_S * 2**attempt)
                if time.monotonic() + wait > deadline:
                    raise GenerationError(f"{self.name} at {self.base_url}: {exc}; no time left to retry") from None
                log.warning("%s: %s; retrying in %.1fs", self.name, exc, wait)
                time.sleep(wait)
                attempt += 1

    def _attempt(self, payload: bytes, deadline: float) -> Iterator[str]:
        conn = self._connect()
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            try:
                conn.request("POST", self._path, body=payload, headers=headers)
                response = conn.getresponse()
            except TimeoutError:
                raise _Retryable(f"no answer within {self.timeout_s:g}s") from None
            except (ConnectionError, OSError, http.client.HTTPException) as exc:
                raise _Retryable(f"cannot connect ({exc.__class__.__name__}: {exc})") from None
            if response.status != 200:
                body = response.read(MAX_ERROR_BODY).decode("utf-8", "replace").strip()
                message = f"HTTP {response.status} {response.reason}: {body}"
                if response.status in RETRY_STATUSES:
                    raise _Retryable(message)
                raise GenerationError(f"{self.name} at {self.base_url}: {message}")
            yield from self._read_events(response, deadline)
        finally:
            conn.close()

    def _read_events(self, response: http.client.HTTPResponse, deadline: float) -> Iterator[str]:
        got_any = False
        while True:
            if time.monotonic() > deadline:
                raise GenerationError(
                    f"{self.name}: reply took longer than {self.timeout_s * 4:g}s; stopped"
                )
            try:
                raw = response.readline()
            except TimeoutError:
                if got_any:
                    raise GenerationError(f"{self.name}: stream stalled for {self.timeout_s:g}s") from None
                raise _Retryable(f"no answer within {self.timeout_s:g}s") from None
            except (ConnectionError, OSError, http.client.HTTPException) as exc:
                if got_any:
                    raise GenerationError(f"{self.name}: connection lost mid-reply ({exc})") from None
                raise _Retryable(f"connection lost ({exc})") from None
            if not raw:
                return  # server closed the stream
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue  # comments, event names, keep-alives, blank separators
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except json.JSONDecodeError:
                raise GenerationError(f"{self.name}: malformed stream event {data[:100]!r}") from None
            if "error" in event:
                raise GenerationError(f"{self.name}: server error {str(event['error'])[:MAX_ERROR_BODY]}")
            piece = _delta_text(event)
            if piece:
                got_any = True
                yield piece

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))


def _delta_text(event: dict[str, Any]) -> str:
    choices = event.get("choices") or []
    if not choices:
        return ""
    choice = choices[0]
    delta = choice.get("delta") or {}
    content = delta.get("content")
    if content is None:  # some servers send whole messages or text completions
        content = (choice.get("message") or {}).get("content") or choice.get("text")
    return content or ""
