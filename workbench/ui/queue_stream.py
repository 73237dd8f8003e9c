"""Keep a client's queue stream open a moment after its last event, so no call of it is lost.

Why (issue 27): one ``gradio_client.Client`` reads the results of all its calls from one
server-sent-event stream per session (``GET /gradio_api/queue/data``). Gradio's queue ends that
stream with a ``close_stream`` message as soon as every event of the session it knows of has
completed (``routes.py``, ``queue_data_helper``). A call the client submits in that instant is
joined on the server after the decision to close, but the client registers it under the stream
that is closing (it has not read ``close_stream`` yet; ``Client.send_data``); when that stream
ends, ``gradio_client`` puts ``None`` in the queue of every event registered under it
(``close_stream`` callback), and ``utils.stream_sse_v1plus`` turns that ``None`` into
``concurrent.futures.CancelledError``. So the *client* cancels, on a race the server's early
close opens; the server did run the call, and its answer is sent to a stream nobody reads.
200 calls submitted at once by one client hit the instant now and then (2 of 200 in the issue).

The fix here is on the server, for every client: :class:`HoldQueueStream` wraps the app and,
when Gradio's stream for a session is about to close, holds the ``close_stream`` message back for
:data:`CLOSE_GRACE_S`. If the session joins another event meanwhile, Gradio's stream handler is run
again on the same HTTP response, so the new event's messages reach the reader that is still open;
only after a quiet grace period does the client see ``close_stream``. A call joined later than
that is registered by the client under a new stream (it has read the close by then), which was
always safe. The JSON API (:mod:`workbench.ui.rest`) has no shared stream at all.

It knows ASGI and where Gradio's queue keeps a session's pending events; nothing else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

#: Seconds a session's stream stays open after its last event completed, waiting for the next.
CLOSE_GRACE_S = 2.0
#: How often the grace period checks for a newly joined event (seconds).
POLL_S = 0.02
QUEUE_DATA_PATH = "/gradio_api/queue/data"
CLOSE_MESSAGE = b'"msg":"close_stream"'

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class HoldQueueStream:
    """ASGI middleware: ``/gradio_api/queue/data`` closes only after :data:`CLOSE_GRACE_S` without events."""

    def __init__(self, app: Any, grace_s: float = CLOSE_GRACE_S):
        self.app = app
        self.grace_s = grace_s

    def _pending(self, scope: Scope, session_hash: str) -> bool:
        """Whether the session has an event joined and not yet completed (Gradio's own bookkeeping)."""
        blocks = scope["app"].get_blocks() if "app" in scope else None
        queue = getattr(blocks, "_queue", None)
        if queue is None or getattr(queue, "stopped", False):
            return False
        return bool(queue.pending_event_ids_session.get(session_hash))

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path", "").rstrip("/") != QUEUE_DATA_PATH:
            await self.app(scope, receive, send)
            return
        session_hash = (parse_qs(scope.get("query_string", b"").decode()).get("session_hash") or [""])[0]
        started = False
        held: list[bytes] = []

        async def forward(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if not started:  # a second round runs on the response already started
                    started = True
                    await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            if CLOSE_MESSAGE in body:
                held.append(body)  # sent later, unless another event of the session comes first
                body = b""
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})

        while True:
            held.clear()
            await self.app(scope, receive, forward)
            if not held or not session_hash or not started:
                break  # ended for another reason (an error, a disconnect): end as Gradio did
            deadline = time.monotonic() + self.grace_s
            while time.monotonic() < deadline and not self._pending(scope, session_hash):
                await asyncio.sleep(POLL_S)
            if not self._pending(scope, session_hash):
                break  # quiet: now the close goes out
        if started:
            await send({"type": "http.response.body", "body": b"".join(held), "more_body": False})
