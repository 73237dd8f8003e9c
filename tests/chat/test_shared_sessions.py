"""API sessions in PostgreSQL (issue 18): a ``/chat`` session continues on any replica.

Two :class:`SharedSessionRegistry` objects on one database stand for two app replicas. Guards: a
session started on one continues on the other with its conversation (nothing recommended twice,
turn numbers go on) and can be judged through ``/feedback`` on either; another owner is refused as
if the id were unknown; two replicas changing one session at once cannot drop a turn silently (the
stale write fails and that replica reloads); the JSON form round-trips a session with judgements,
saved marks and an exchange dropped by undo.
"""

from __future__ import annotations

import pytest
from conftest import TINY_ITEMS
from ui_support import make_services

from workbench.catalog import Catalog
from workbench.chat.session import CardJudgement, TurnJudgement
from workbench.chat.shared_sessions import SharedSessionRegistry, session_from_dict, session_to_dict
from workbench.chat.turns import new_session
from workbench.database import Database
from workbench.errors import WorkbenchError
from workbench.ui.api import chat_api, feedback_api


@pytest.fixture
def replicas(pg_url, tmp_path):
    services = make_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path / "fb")

    def registry() -> SharedSessionRegistry:  # each replica has its own pool and memory
        return SharedSessionRegistry(lambda sid: new_session(services, sid), Database(pg_url).open(),
                                     services.catalog, max_sessions=100, ttl_s=3600)

    return services, registry(), registry()


def test_a_session_started_on_one_replica_continues_on_the_other(replicas):
    services, a, b = replicas
    first = chat_api(services, a, "a crime thriller like heat", "", 3)  # owner "": no address (no request)
    second = chat_api(services, b, "another crime thriller", first["session_id"], 3)
    assert second["session_id"] == first["session_id"] and second["turn"] == 1
    ids = [i["item_id"] for i in first["items"]] + [i["item_id"] for i in second["items"]]
    assert len(ids) == len(set(ids)) == 6  # the conversation came along: nothing recommended twice
    # a judgement of the turn made on b, sent to a (which must notice its copy is stale)
    item = second["items"][0]["item_id"]
    saved = feedback_api(services, a, first["session_id"], 1, "ann", {item: {"label": "like"}}, "like", "",
                         "key-1")
    (record,) = services.store.read().records
    assert record.record_id == saved["record_id"] and record.turn_index == 1
    assert record.user_message == "another crime thriller" and record.slate[0].item_id == item
    assert feedback_api(services, b, first["session_id"], 1, "ann", {item: {"label": "like"}}, "like", "",
                        "key-1")["replayed"] is True  # the retry on the other replica saves nothing new
    third = chat_api(services, b, "one more", first["session_id"], 3)
    assert third["turn"] == 2


def test_another_owner_is_refused_on_every_replica(replicas):
    services, a, b = replicas
    sid = chat_api(services, a, "heat", "", 3, owner="10.0.0.1")["session_id"]
    with pytest.raises(WorkbenchError, match="unknown or expired"):
        chat_api(services, b, "heat again", sid, 3, owner="10.6.6.6")
    with pytest.raises(WorkbenchError, match="unknown or expired"):
        chat_api(services, b, "made-up id", "x" * 43, 3, owner="10.0.0.1")


def test_two_replicas_changing_one_session_at_once_cannot_drop_a_turn(replicas):
    services, a, b = replicas
    sid = chat_api(services, a, "heat", "", 3, owner="o")["session_id"]
    on_a, on_b = a.find(sid, "o"), b.find(sid, "o")  # both hold the same version
    a.persist(on_a)
    with pytest.raises(WorkbenchError, match="changed by another request at the same time"):
        b.persist(on_b)
    assert b.find(sid, "o") is not on_b  # b dropped its copy and reads the stored one


def test_the_json_form_round_trips_judgements_and_undone_exchanges(replicas):
    services, a, _ = replicas
    out = chat_api(services, a, "a crime thriller", "", 3, owner="o")
    chat_api(services, a, "something scary", out["session_id"], 3, owner="o")
    session = a.find(out["session_id"], "o")
    first, second = session.exchanges
    session._set(first, TurnJudgement(((first.recommendations[0].item.item_id, CardJudgement("like", 4)),)))
    session._set(second, TurnJudgement((("6", CardJudgement("dislike", None)),), "dislike", "too scary"))
    session.mark_saved([(second, session.judgement(second))])
    session.drop_last()  # undo: the second exchange leaves the view, its judgement stays
    d = session_to_dict(session)
    again = session_from_dict(d, services.catalog)
    assert _without_refs(session_to_dict(again)) == _without_refs(d)
    assert [e.user for e in again.exchanges] == ["a crime thriller"]
    ((ex, judgement),) = [(e, j) for e, j in again._judged.values() if e.user == "something scary"]
    assert judgement.comment == "too scary" and again.is_saved(ex)
    assert again.conversation.to_dict(include_undo=True) == session.conversation.to_dict(include_undo=True)


def _without_refs(d: dict) -> dict:
    """The JSON form with the process-local exchange ids renumbered in order of appearance."""
    refs: dict[int, int] = {}
    for e in [*d["exchanges"], *d["off_view"]]:
        refs.setdefault(e["ref"], len(refs))
    return {**d,
            "exchanges": [{**e, "ref": refs[e["ref"]]} for e in d["exchanges"]],
            "off_view": [{**e, "ref": refs[e["ref"]]} for e in d["off_view"]],
            "judged": sorted([refs[r], j] for r, j in d["judged"]),
            "saved": sorted([refs[r], j] for r, j in d["saved"] if r in refs),
            "problems": sorted([refs[r], w] for r, w in d["problems"] if r in refs)}
