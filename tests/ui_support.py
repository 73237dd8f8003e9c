"""Fake services for the UI/API tests: a scripted engine over the tiny catalogue, a real store.

The fake engine follows the real engine's contract (``new_state``, ``stream`` yielding
text pieces then a ``TurnResult``, a state whose ``undo`` returns the undone message,
commit only when a turn completes) so that handler tests exercise the UI code, not a model.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.catalog import Catalog
from workbench.config import Settings
from workbench.dialogue.state import ConversationState
from workbench.dialogue.types import Recommendation, TurnResult
from workbench.errors import GenerationError
from workbench.feedback import FeedbackStore
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
        store=FeedbackStore(feedback_dir, catalog=catalog),
        generators=pool,
        index_id="test-index",
    )
