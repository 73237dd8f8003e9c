"""API sessions in PostgreSQL, so that every app replica can continue every ``/chat`` session.

:class:`SharedSessionRegistry` is a :class:`~workbench.chat.session.SessionRegistry` whose
sessions are also rows of ``api_sessions`` (migration 2 of :mod:`workbench.database`): the
session's owner, a version number and its state as JSON (:func:`session_to_dict`: the engine's
conversation with its undo stack, the exchanges shown with their slates, the judgements and
what of them is saved). A replica that does not hold a session in memory, or holds an older
version of it, loads it from the database; after each turn or judgement the registry writes it
back under the version it read (optimistic concurrency), so two replicas racing on one session
cannot silently drop a turn: the loser's request fails with a message and its copy is reloaded.

Limits (``max_per_owner``, ``max_sessions``) and idle expiry apply to each replica's memory as in
the embedded registry; rows idle for longer than ``ttl_s`` are not loaded and are deleted on the
next :meth:`SharedSessionRegistry.create`.

It knows sessions, JSON and SQL; it does not know gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from workbench.chat.session import CardJudgement, ChatSession, Exchange, SessionRegistry, TurnJudgement
from workbench.database import Database
from workbench.dialogue.state import ConversationState
from workbench.dialogue.types import Turn, TurnResult
from workbench.errors import WorkbenchError

#: Bump when the JSON form of a session changes meaning.
SESSION_FORMAT = 2  # 2: results in TurnResult.to_dict form (readings, fallback_reason kept)


# ---------------------------------------------------------------------------
# the JSON form


def _turns(turns: Any) -> list[dict[str, str]]:
    return [{"role": t.role, "text": t.text} for t in turns]


def _exchange_to_dict(ex: Exchange) -> dict[str, Any]:
    result = None if ex.result is None else ex.result.to_dict()  # the engine's own form of a result
    return {"ref": ex.uid, "index": ex.index, "session_id": ex.session_id, "user": ex.user,
            "history": _turns(ex.history), "reply": ex.reply, "result": result}


def _exchange_from_dict(d: Mapping[str, Any], catalog: Any) -> Exchange:
    # an item that left the catalogue under a live session is dropped from its slate
    result = None if d.get("result") is None else TurnResult.from_dict(d["result"], catalog)
    return Exchange(d["index"], d["session_id"], d["user"], tuple(Turn(t["role"], t["text"]) for t in d["history"]),
                    d["reply"], result)


def _judgement_to_dict(j: TurnJudgement) -> dict[str, Any]:
    return {"items": [[i, c.verdict, c.rating] for i, c in j.items], "reply": j.reply, "comment": j.comment}


def _judgement_from_dict(d: Mapping[str, Any]) -> TurnJudgement:
    return TurnJudgement(tuple((i, CardJudgement(v, r)) for i, v, r in d["items"]), d["reply"], d["comment"])


def session_to_dict(session: ChatSession) -> dict[str, Any]:
    """Everything a replica needs to continue ``session`` (JSON-ready)."""
    with session._jlock:
        judged = list(session._judged.values())
        saved = dict(session._saved)
        problems = dict(session.save_problems)
    shown = {ex.uid for ex in session.exchanges}
    off_view = {ex.uid: ex for ex, _ in judged if ex.uid not in shown}  # dropped by undo, still saveable
    return {
        "format": SESSION_FORMAT,
        "session_id": session.session_id,
        "conversation": session.conversation.to_dict(include_undo=True),
        "exchanges": [_exchange_to_dict(ex) for ex in session.exchanges],
        "off_view": [_exchange_to_dict(ex) for ex in off_view.values()],
        "judged": [[ex.uid, _judgement_to_dict(j)] for ex, j in judged],
        "saved": [[uid, _judgement_to_dict(j)] for uid, j in saved.items()],
        "problems": [[uid, why] for uid, why in problems.items()],
        "annotator": session.annotator,
        "saved_records": session.saved_records,
    }


def session_from_dict(d: Mapping[str, Any], catalog: Any) -> ChatSession:
    """The session :func:`session_to_dict` described (item ids resolved in ``catalog``).

    Raises:
        WorkbenchError: the stored form is from another format version.
    """
    if d.get("format") != SESSION_FORMAT:
        raise WorkbenchError(f"stored API session: format {d.get('format')!r}, this code reads {SESSION_FORMAT}")
    session = ChatSession(ConversationState.from_dict(d["conversation"]), d["session_id"])
    by_ref: dict[int, Exchange] = {}
    for e in d["exchanges"]:
        session.exchanges.append(by_ref.setdefault(e["ref"], _exchange_from_dict(e, catalog)))
    for e in d["off_view"]:
        by_ref.setdefault(e["ref"], _exchange_from_dict(e, catalog))
    for ref, j in d["judged"]:
        ex = by_ref[ref]
        session._judged[ex.uid] = (ex, _judgement_from_dict(j))
    for ref, j in d["saved"]:
        if ref in by_ref:
            session._saved[by_ref[ref].uid] = _judgement_from_dict(j)
    for ref, why in d["problems"]:
        if ref in by_ref:
            session.save_problems[by_ref[ref].uid] = why
    session.annotator = d["annotator"]
    session.saved_records = d["saved_records"]
    return session


# ---------------------------------------------------------------------------
# the registry


class SharedSessionRegistry(SessionRegistry):
    """A :class:`SessionRegistry` backed by the ``api_sessions`` table (see the module docstring)."""

    def __init__(self, factory: Callable[[str], ChatSession], database: Database, catalog: Any, **limits: Any):
        super().__init__(factory, **limits)
        self.db = database
        self.catalog = catalog
        self._versions: dict[str, int] = {}  # session id -> the version this replica's copy is

    def create(self, owner: str = "") -> ChatSession:
        session = super().create(owner)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM api_sessions WHERE updated_at < %s", (time.time() - self.ttl_s,))
            conn.execute("INSERT INTO api_sessions (session_id, owner, version, state, updated_at) "
                         "VALUES (%s, %s, 1, %s, %s)", (session.session_id, owner, _json(session_to_dict(session)),
                                                        time.time()))
        self._versions[session.session_id] = 1
        return session

    def find(self, session_id: str, owner: str = "") -> ChatSession:
        session_id = (session_id or "").strip()
        with self.db.transaction() as conn:
            row = conn.execute("SELECT owner, version, updated_at FROM api_sessions WHERE session_id = %s",
                               (session_id,)).fetchone()
            if row is not None and row[0] == owner and time.time() - row[2] <= self.ttl_s \
                    and self._versions.get(session_id) != row[1]:
                # not here, or changed on another replica since: take the stored copy
                state = conn.execute("SELECT state, version FROM api_sessions WHERE session_id = %s",
                                     (session_id,)).fetchone()
                self._adopt(session_from_dict(state[0], self.catalog), owner, state[1])
        return super().find(session_id, owner)

    def _adopt(self, session: ChatSession, owner: str, version: int) -> None:
        with self._lock:
            self._sessions[session.session_id] = session
            self._sessions.move_to_end(session.session_id)
            self._owners[session.session_id] = owner
            session.last_used = time.monotonic()
            self._versions[session.session_id] = version

    def persist(self, session: ChatSession) -> None:
        """Write ``session`` back after a change, under the version this replica read.

        Raises:
            WorkbenchError: another replica changed the session meanwhile (this copy is dropped, so
                the next request continues from the stored one).
        """
        sid = session.session_id
        version = self._versions.get(sid, 0)
        with self.db.transaction() as conn:
            cur = conn.execute("UPDATE api_sessions SET state = %s, version = version + 1, updated_at = %s "
                               "WHERE session_id = %s AND version = %s",
                               (_json(session_to_dict(session)), time.time(), sid, version))
            updated = cur.rowcount == 1
        if not updated:
            with self._lock:
                self._drop_locked(sid)
                self._versions.pop(sid, None)
            raise WorkbenchError(f"session_id {sid[:12]}...: changed by another request at the same time; "
                                 "send it again")
        self._versions[sid] = version + 1


def _json(value: Any) -> Any:
    from psycopg.types.json import Json

    return Json(value)
