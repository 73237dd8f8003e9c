"""Fake services for the UI/API tests: a scripted engine over the tiny catalogue, a real store.

The fake engine follows the real engine's contract (``new_state``, ``stream`` yielding
text pieces then a ``TurnResult``, a state whose ``undo`` returns the undone message,
commit only when a turn completes) so that handler tests exercise the UI code, not a model.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbench.catalog import Catalog
from workbench.config import Settings
from workbench.dialogue.state import ConversationState
from workbench.dialogue.types import Recommendation, TurnResult
from workbench.errors import GenerationError
from workbench.feedback import JsonlFeedbackStore
from workbench.filters import ItemFilter
from workbench.services import GeneratorPool, Services


class FakeTemplate:
    name = "template"


class FakeLLM:
    def __init__(self, name: str = "transformers:fake"):
        self.name = name
        self.ready = False

    def load(self) -> None:
        self.ready = True


class FakeEngine:
    """Recommends tiny-catalogue items sharing a word with the message (else by popularity).

    A message containing ``boom`` raises :class:`GenerationError` mid-stream (after a piece).
    """

    def __init__(self, catalog: Catalog, *, reason_prefix: str = "because you asked"):
        self.catalog = catalog
        self.reason_prefix = reason_prefix
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def new_state(self, session_id: str) -> ConversationState:
        return ConversationState(session_id)

    def _rank(self, message: str, state: ConversationState, k: int, filters: ItemFilter | None) -> list:
        words = set(re.findall(r"\w+", message.lower()))
        done = set(state.recommended)
        scored = []
        for item in self.catalog:
            if item.item_id in done or (filters is not None and not filters.matches(item)):
                continue
            text = " ".join([item.title, *item.genres, *item.directors, *item.cast]).lower()
            overlap = len(words & set(re.findall(r"\w+", text)))
            scored.append((overlap + item.mentions / 1000.0, overlap, item))
        scored.sort(key=lambda t: (-t[0], t[2].item_id))
        return scored[:k]

    def stream(self, state: ConversationState, message: str, *, k: int | None = None,
               filters: ItemFilter | None = None, generator: Any = None) -> Iterator[str | TurnResult]:
        with self.lock:
            self.calls.append({"message": message, "k": k, "filters": filters, "generator": generator})
        work = state.copy()
        work.push_undo()
        picks = self._rank(message, work, k or 5, filters)
        recs = tuple(
            Recommendation(item, rank, round(score, 4), {"content": float(overlap), "popularity": item.mentions / 100},
                           f"{self.reason_prefix}: {item.genres[0] if item.genres else item.title}")
            for rank, (score, overlap, item) in enumerate(picks, start=1)
        )
        pieces = ["Here are some ideas: "] + [
            f"{r.item.display_title}{', ' if i < len(recs) - 1 else '.'}" for i, r in enumerate(recs)
        ]
        yield pieces[0]
        if "boom" in message:
            raise GenerationError("the fake generator exploded (test)")
        yield from pieces[1:]
        reply = "".join(pieces)
        work.add_turn("user", message)
        work.add_turn("assistant", reply)
        work.record_slate(r.item.item_id for r in recs)
        from workbench.dialogue.state import TurnLog

        work.log.append(TurnLog(message, "recommend", [r.item.item_id for r in recs]))
        state.commit(work)
        yield TurnResult(reply, recs, "recommend", generator=getattr(generator, "name", "template"))


def make_services(catalog: Catalog, feedback_dir: Path, **settings: Any) -> Services:
    s = Settings(feedback_dir=str(feedback_dir), generator=settings.pop("generator", "template"), **settings)
    pool = GeneratorPool(s, FakeTemplate(), make=lambda backend, model: FakeLLM(f"{backend}:{model}"))
    return Services(
        settings=s,
        catalog=catalog,
        engine=FakeEngine(catalog),
        store=JsonlFeedbackStore(feedback_dir, catalog=catalog),
        generators=pool,
        index_id="test-index",
    )


def real_engine_services(catalog: Catalog, feedback_dir: Path, **settings: Any) -> Services:
    """:func:`make_services` with the real engine over the tiny catalogue (hash embeddings, k=3) and the
    real template generator: for tests whose reasons and slates must be the engine's."""
    from dialogue_fixtures import tiny_engine

    from workbench.dialogue.generators.template import TemplateGenerator
    from workbench.retrieval.embed import HashEmbedder

    services = make_services(catalog, feedback_dir, **settings)
    services.engine = tiny_engine(catalog, HashEmbedder(dimension=64), k=3)
    services.generators = GeneratorPool(services.settings, TemplateGenerator(),
                                        make=lambda backend, model: FakeLLM(f"{backend}:{model}"))
    return services


# ---------------------------------------------------------------------------
# a real `python app.py` on a free port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(demo: Any, **launch: Any) -> Iterator[str]:
    """``demo`` live on a free local port (extra ``launch`` options, e.g. ``serving_options``); yields its URL."""
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextmanager
def serve_client(services: Services) -> Iterator[Any]:
    """The app of ``services`` live on a free port, and a ``gradio_client.Client`` for its API."""
    import gradio_client

    from workbench.ui import build_demo

    with serve(build_demo(services)) as url:
        yield gradio_client.Client(url, verbose=False, analytics_enabled=False, download_files=False)


def run_turn(services: Services, session: Any, message: str, prefs: Any = None) -> list[str]:
    """Drive one UI/API turn (``stream_turn``) to the end; return the reply text seen at each step."""
    from workbench.chat.turns import TurnPrefs, stream_turn

    return [exchange.reply for exchange, _choice in stream_turn(services, session, message, prefs or TurnPrefs(k=3))]


class AppProcess:
    """``python app.py`` in a subprocess with the given ``WORKBENCH_*`` settings; stopped on exit."""

    def __init__(self, log_path: Path, **settings: str):
        import os
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "WORKBENCH_PORT": str(self.port),
                    "WORKBENCH_HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"})
        env.update({f"WORKBENCH_{k.upper()}": v for k, v in settings.items()})
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_served(self, timeout: float = 180.0) -> float:
        """Seconds until ``GET /`` answered 200; raises with the log tail if the app died or timed out."""
        import time
        import urllib.request

        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"app.py did not serve {self.url} within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_bytes()[-n:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except Exception:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
