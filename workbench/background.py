"""Start-up work on daemon threads: named jobs with a status, and listeners told when one ends.

:class:`BackgroundTasks` runs the jobs the services start at start-up (the recommender fit, the
embedder warm-up); :func:`notify` calls status listeners without letting one break the job that
called it. Threads start only when a job is run, never at import.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def notify(listeners: list[Callable[[], None]]) -> None:
    for listener in list(listeners):
        try:
            listener()
        except Exception:  # a listener (the page's status line) must never break a load
            log.exception("status listener failed")


class BackgroundTasks:
    """Named start-up jobs on daemon threads (embedder warm-up, recommender fit), with a status."""

    def __init__(self) -> None:
        self._state: dict[str, str] = {}  # name -> running | done | failed: reason
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        #: called (on the job's thread) after each job ends, done or failed
        self.on_change: list[Callable[[], None]] = []

    def run(self, name: str, fn: Callable[[], Any], label: str = "") -> None:
        def target() -> None:
            t0 = time.monotonic()
            try:
                fn()
                self._state[name] = "done"
                log.info("%s done in %.1fs", name, time.monotonic() - t0)
            except Exception as exc:
                self._state[name] = f"failed: {exc}"
                log.warning("%s failed: %s", name, exc)
            notify(self.on_change)

        with self._lock:
            self._state[name] = "running"
            thread = threading.Thread(target=target, name=f"startup-{name}", daemon=True)
            self._threads[name] = thread
        thread.start()

    def state(self, name: str) -> str | None:
        return self._state.get(name)

    @property
    def running(self) -> list[str]:
        return [n for n, s in self._state.items() if s == "running"]

    def wait_for(self, name: str, timeout: float | None = None) -> bool:
        """Block until job ``name`` has finished (or was never started); True when it is not running."""
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)
        return self._state.get(name) != "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job has finished; True when none is still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self._threads.values()):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.running
