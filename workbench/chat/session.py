"""Per-user app sessions: one conversation, the exchanges shown, and unsaved judgements.

A :class:`ChatSession` is what one browser tab (a ``gr.State``, also kept in a
:class:`SessionRegistry` under the id the browser stores, so a reload finds it) or one API
client (a ``session_id`` in another :class:`SessionRegistry`) owns: the engine's
conversation state, the exchanges displayed (each with the slate it showed),
and the annotator's *unsaved* judgements. A judgement keeps a reference to the
exchange it was made on, so undo, retry or a new conversation never orphan it:
it stays saveable until saved. Saving is the feedback store's job; this module
only keeps track of what is pending (:mod:`workbench.chat.judgements` saves).

Pure Python: no gradio, no storage, no models.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

from workbench.dialogue.types import Recommendation, Turn, TurnResult
from workbench.errors import WorkbenchError
from workbench.feedback.record import REPLY_LABELS

_exchange_ids = itertools.count(1)


def new_session_id() -> str:
    """An unguessable session id (256 random bits): knowing it is what grants access to a session."""
    return secrets.token_urlsafe(32)


@dataclass(eq=False)
class Exchange:
    """One user message, the reply shown for it and the slate (the engine's result)."""

    index: int  # 0-based turn index within its conversation
    session_id: str
    user: str
    history: tuple[Turn, ...]  # the conversation before this exchange
    reply: str = ""
    result: TurnResult | None = None
    uid: int = field(default_factory=lambda: next(_exchange_ids))

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def recommendations(self) -> tuple[Recommendation, ...]:
        return self.result.recommendations if self.result else ()

    def turns(self) -> tuple[Turn, ...]:
        """This exchange as turns (the assistant turn only once it has text)."""
        out = [Turn("user", self.user)]
        if self.reply:
            out.append(Turn("assistant", self.reply))
        return tuple(out)


@dataclass(frozen=True)
class CardJudgement:
    """What the annotator set on one slate card: a verdict and/or a 1-5 rating."""

    verdict: str | None = None  # one of feedback.record.ITEM_LABELS
    rating: int | None = None  # 1-5

    @property
    def empty(self) -> bool:
        return self.verdict is None and self.rating is None


@dataclass(frozen=True)
class TurnJudgement:
    """Everything the annotator said about one exchange: its items, its reply, a comment.

    This is what one feedback record stores. ``items`` holds only judged items.
    """

    items: tuple[tuple[str, CardJudgement], ...] = ()
    reply: str | None = None  # "like" / "dislike"
    comment: str = ""

    @property
    def empty(self) -> bool:
        return not self.items and self.reply is None and not self.comment.strip()

    def item(self, item_id: str) -> CardJudgement:
        return dict(self.items).get(item_id, CardJudgement())

    @property
    def count(self) -> int:
        """How many judgements this holds (items, reply, comment each count once)."""
        return len(self.items) + (self.reply is not None) + bool(self.comment.strip())


class ChatSession:
    """One user's conversation and unsaved judgements. Not shared between users."""

    def __init__(self, conversation: Any, session_id: str | None = None):
        self.session_id = session_id or new_session_id()
        self.conversation = conversation  # the engine's ConversationState
        self.exchanges: list[Exchange] = []
        self.annotator = ""  # last identity seen, for saving when the session ends
        self._judged: dict[int, tuple[Exchange, TurnJudgement]] = {}  # exchange uid -> current
        self._saved: dict[int, TurnJudgement] = {}  # exchange uid -> last saved
        self.saved_records = 0
        self.save_problems: dict[int, str] = {}  # exchange uid -> why its judgement could not be saved
        # card judgements the conversation state takes in (workbench.chat.live), by exchange uid
        self.live_cards: dict[int, dict[str, CardJudgement]] = {}
        self.carried_cards: dict[int, dict[str, CardJudgement]] = {}  # a retried turn's, from the slate it replaced
        self.retry_cards: tuple[int, dict[str, CardJudgement]] | None = None  # waiting for the retried turn
        self.lock = threading.Lock()  # one turn at a time per session (API clients may race)
        # Save, like and send events of one tab may run at once: judgements change under this lock.
        self._jlock = threading.RLock()
        self.save_lock = threading.Lock()  # snapshot -> write -> mark saved, never twice at once
        self.last_used = time.monotonic()

    # conversation -------------------------------------------------------
    def turns(self) -> list[Turn]:
        return [t for ex in self.exchanges for t in ex.turns()]

    def begin(self, message: str) -> Exchange:
        ex = Exchange(len(self.exchanges), self.session_id, message, tuple(self.turns()))
        self.exchanges.append(ex)
        return ex

    def drop_last(self) -> Exchange | None:
        """Remove the last exchange from view (undo/retry/failed turn); its judgements stay pending."""
        return self.exchanges.pop() if self.exchanges else None

    def reset(self, conversation: Any, session_id: str | None = None) -> None:
        """Start a new conversation; unsaved judgements are kept."""
        self.conversation = conversation
        self.session_id = session_id or new_session_id()
        self.exchanges = []
        self.live_cards, self.carried_cards, self.retry_cards = {}, {}, None

    @property
    def slate_exchange(self) -> Exchange | None:
        """The exchange whose slate is on screen: the last one that recommended something.

        A turn without recommendations (chit-chat, a question) leaves the previous slate
        up, so the annotator can keep judging it.
        """
        for ex in reversed(self.exchanges):
            if ex.recommendations:
                return ex
        return None

    def exchange(self, index: int) -> Exchange:
        if not 0 <= index < len(self.exchanges):
            raise WorkbenchError(
                f"turn {index} does not exist in session {self.session_id!r} "
                f"(it has {len(self.exchanges)} turn(s), numbered from 0)"
            )
        return self.exchanges[index]

    # judgements ---------------------------------------------------------
    def judgement(self, exchange: Exchange) -> TurnJudgement:
        """What is currently set on ``exchange`` (saved or not)."""
        current = self._judged.get(exchange.uid)
        return current[1] if current else self._saved.get(exchange.uid, TurnJudgement())

    def _set(self, exchange: Exchange, judgement: TurnJudgement) -> None:
        with self._jlock:
            self._judged[exchange.uid] = (exchange, judgement)

    def set_slate_judgements(
        self, exchange: Exchange, cards: Iterable[CardJudgement], comment: str | None = None
    ) -> None:
        """Sync the on-screen cards (in slate order) and the turn comment into ``exchange``'s judgement."""
        recs = exchange.recommendations
        cards = list(cards)
        if len(cards) < len(recs):
            raise WorkbenchError(f"expected {len(recs)} card judgements, got {len(cards)}")
        items = tuple((r.item.item_id, c) for r, c in zip(recs, cards, strict=False) if not c.empty)
        with self._jlock:
            old = self.judgement(exchange)
            self._set(exchange, replace(old, items=items, comment=old.comment if comment is None else comment.strip()))

    def set_reply_judgement(self, exchange: Exchange, verdict: str | None) -> None:
        if verdict is not None and verdict not in REPLY_LABELS:
            raise WorkbenchError(f"reply judgement must be one of {REPLY_LABELS}, got {verdict!r}")
        with self._jlock:
            self._set(exchange, replace(self.judgement(exchange), reply=verdict))

    @property
    def pending(self) -> list[tuple[Exchange, TurnJudgement]]:
        """Unsaved judgements (non-empty and different from what was saved), oldest first."""
        with self._jlock:
            return [
                (ex, j) for ex, j in self._judged.values()
                if not j.empty and self._saved.get(ex.uid) != j
            ]

    @property
    def pending_count(self) -> int:
        return sum(j.count for _, j in self.pending)

    def mark_saved(self, saved: Iterable[tuple[Exchange, TurnJudgement]]) -> None:
        with self._jlock:
            for ex, j in saved:
                self._saved[ex.uid] = j
                self.saved_records += 1

    def is_saved(self, exchange: Exchange) -> bool:
        """The exchange's current judgement is saved (nothing pending on it)."""
        saved = self._saved.get(exchange.uid)
        return saved is not None and saved == self.judgement(exchange)


#: How long an idle session lives (seconds), for the API's, the browser tabs' and the arena's registries alike.
SESSION_TTL_S = 6 * 3600


class Session(Protocol):
    """What a registry keeps: a :class:`ChatSession`, or an arena conversation."""

    @property
    def session_id(self) -> str: ...

    last_used: float


S = TypeVar("S", bound=Session)


class SessionRegistry(Generic[S]):
    """Sessions by server-issued id: bounded per owner and in total, expiring after ``ttl_s``.

    Only :meth:`create` makes a session, and it picks the id (:func:`new_session_id`), so an id
    is a capability: a client that did not get it from the server cannot guess it. Each session
    belongs to an ``owner`` (the signed-in user, else the client's address); another owner's
    request on it is refused as if the id were unknown, and when an owner holds more than
    ``max_per_owner`` sessions (or the registry more than ``max_sessions``) that owner's
    least recently used session goes first, so one client cannot push out everyone else's.

    The API's and the browser tabs' registries hold :class:`ChatSession` objects (made by
    ``factory``); the arena's holds its conversations, which it makes itself and passes to :meth:`add`.
    """

    def __init__(
        self, factory: Callable[[str], S] | None = None, *, max_sessions: int = 1000, ttl_s: float = SESSION_TTL_S,
        max_per_owner: int | None = None,
    ):
        self._factory = factory
        self._sessions: OrderedDict[str, S] = OrderedDict()  # least recently used first
        self._owners: dict[str, str] = {}  # session id -> owner
        self._lock = threading.Lock()
        self.max_sessions = max_sessions
        self.max_per_owner = max_per_owner or max_sessions
        self.ttl_s = ttl_s

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, owner: str = "") -> S:
        """A new session with a fresh id (made by the registry's ``factory``), owned by ``owner``."""
        if self._factory is None:
            raise WorkbenchError("this session registry makes no sessions itself; add() them")
        return self.add(self._factory(new_session_id()), owner)

    def add(self, session: S, owner: str = "") -> S:
        """Keep ``session`` (its id from :func:`new_session_id`) for ``owner``; evicts ``owner``'s oldest first."""
        now = time.monotonic()
        with self._lock:
            self._expire_locked(now)
            self._sessions[session.session_id] = session
            self._owners[session.session_id] = owner
            session.last_used = now
            mine = [sid for sid in self._sessions if self._owners[sid] == owner]
            for sid in mine[: max(0, len(mine) - self.max_per_owner)]:
                self._drop_locked(sid)
            while len(self._sessions) > self.max_sessions:
                # the registry is full: the owner holding the most sessions gives up its oldest
                counts: dict[str, int] = {}
                for o in self._owners.values():
                    counts[o] = counts.get(o, 0) + 1
                biggest = max(counts, key=lambda o: counts[o])
                self._drop_locked(next(sid for sid in self._sessions if self._owners[sid] == biggest))
            return session

    def get(self, session_id: str = "", owner: str = "") -> S:
        """The session ``session_id`` of ``owner`` (used now); a new one when ``session_id`` is empty."""
        if not (session_id or "").strip():
            return self.create(owner)
        session = self.find(session_id, owner)
        with self._lock:
            key = session_id.strip()  # the id it was issued under (a new conversation gives it a new one)
            if key in self._sessions:
                self._sessions.move_to_end(key)
            session.last_used = time.monotonic()
        return session

    def resume(self, session_id: str, owner: str = "") -> tuple[S, str]:
        """The session issued as ``session_id`` (a browser tab's, after a reload), else a new one.

        Returns the session and the id to keep for the next time (``session_id`` itself when it
        was still live; the new session's id when it was empty, unknown, expired or someone else's).
        """
        if (session_id or "").strip():
            try:
                return self.get(session_id, owner), session_id.strip()
            except WorkbenchError:
                pass  # expired or evicted: a fresh conversation, as on a first visit
        session = self.create(owner)
        return session, session.session_id

    def persist(self, session: S) -> None:
        """Write ``session`` back after a turn or a judgement (here it lives in memory: nothing to do;
        :class:`~workbench.chat.shared_sessions.SharedSessionRegistry` stores it for other replicas)."""

    def sessions(self) -> list[S]:
        """Every live session (for saving what is pending at shutdown)."""
        with self._lock:
            return list(self._sessions.values())

    def find(self, session_id: str, owner: str = "") -> S:
        """An existing session of ``owner`` (raises when unknown, expired or someone else's)."""
        session_id = (session_id or "").strip()
        with self._lock:
            self._expire_locked(time.monotonic())
            session = self._sessions.get(session_id)
            if session is not None and self._owners.get(session_id) != owner:
                session = None  # someone else's: refused exactly like an unknown id, so ids cannot be probed
        if session is None:
            raise WorkbenchError(
                f"session_id {session_id[:80]!r} is unknown or expired: session ids are issued by the "
                "server; call /chat with an empty session_id to start a session and use the id it returns"
            )
        return session

    def _expire_locked(self, now: float) -> None:
        for sid in [s for s, sess in self._sessions.items() if now - sess.last_used > self.ttl_s]:
            self._drop_locked(sid)

    def _drop_locked(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
        self._owners.pop(session_id, None)
