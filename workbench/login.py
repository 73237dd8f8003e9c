"""Password login for ``WORKBENCH_AUTH``: constant-time checks and a limit on failed attempts.

:class:`LoginGuard` is what Gradio's ``auth=`` receives (its :meth:`~LoginGuard.check`, a
coroutine, so a slowed-down failure never blocks the server's event loop). After
``max_failures`` failed logins for one username, or from one client address, within
``window_s`` seconds, every login for that username or from that address is refused until the
window has passed, the right password included, and each failure answers only after a short
delay. Gradio's auth hook is given the username and password only; the client's address comes
from :data:`CLIENT_HOST`, which the small ASGI middleware :class:`ClientHostMiddleware` sets for
each request.

It knows credentials and clocks; it does not know gradio.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import logging
import threading
import time
from collections import defaultdict, deque
from typing import Any

log = logging.getLogger(__name__)

#: Failed logins (per username, and per client address) allowed within the window.
MAX_LOGIN_FAILURES = 5
#: The window (seconds): past the limit, logins wait until the oldest failure is this old.
LOGIN_WINDOW_S = 300.0
#: How long a failed login takes to answer (seconds).
LOGIN_FAILURE_DELAY_S = 0.5

#: The address of the client whose request is being handled (set by :class:`ClientHostMiddleware`).
CLIENT_HOST: contextvars.ContextVar[str] = contextvars.ContextVar("client_host", default="")


class LoginGuard:
    """Checks ``user:password`` logins in constant time and rate-limits failures."""

    def __init__(self, username: str, password: str, *, max_failures: int = MAX_LOGIN_FAILURES,
                 window_s: float = LOGIN_WINDOW_S, delay_s: float = LOGIN_FAILURE_DELAY_S):
        self._user = username.encode()
        self._password = password.encode()
        self.max_failures = max_failures
        self.window_s = window_s
        self.delay_s = delay_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, username: str) -> list[str]:
        host = CLIENT_HOST.get()
        return [f"user:{username}"] + ([f"ip:{host}"] if host else [])

    def locked(self, username: str) -> bool:
        """Too many recent failures for ``username`` or from this client."""
        now = time.monotonic()
        with self._lock:
            for key in self._keys(username):
                times = self._failures.get(key)
                while times and now - times[0] > self.window_s:
                    times.popleft()
                if times is not None and len(times) >= self.max_failures:
                    return True
        return False

    def verify(self, username: str, password: str) -> bool:
        """The pair matches (constant time: both halves are always compared)."""
        user_ok = hmac.compare_digest(username.encode(), self._user)
        password_ok = hmac.compare_digest(password.encode(), self._password)
        return user_ok and password_ok

    async def check(self, username: str, password: str) -> bool:
        """Gradio's auth hook: True to let the login through."""
        if self.locked(username):
            log.warning("login refused: too many failed logins for %r or from %s", username[:80],
                        CLIENT_HOST.get() or "an unknown address")
            await asyncio.sleep(self.delay_s)
            return False
        if self.verify(username, password):
            return True
        now = time.monotonic()
        with self._lock:
            for key in self._keys(username):
                self._failures[key].append(now)
        await asyncio.sleep(self.delay_s)
        return False


class ClientHostMiddleware:
    """ASGI middleware: records each HTTP request's client address in :data:`CLIENT_HOST`."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("client"):
            token = CLIENT_HOST.set(str(scope["client"][0]))
            try:
                await self.app(scope, receive, send)
            finally:
                CLIENT_HOST.reset(token)
            return
        await self.app(scope, receive, send)
