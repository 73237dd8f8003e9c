"""Issue 14 part 1 through the API, as the issue's check runs it: a live server, ``gradio_client``.

``/chat`` "I loved Heat", then ``/feedback`` dislike of item 1 and like of item 2, then ``/chat``
"more like that please": item 1 is not on the new slate and a reason on it names item 2's title.
Then "more like <title>" through ``/chat`` is the "More like this" button's turn. The server runs
the real engine (tiny catalogue, hash embeddings, the template generator).
"""

from __future__ import annotations

import pytest
from ui_support import real_engine_services, serve_client


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    services = real_engine_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path_factory.mktemp("feedback"))
    with serve_client(services) as client:
        yield services, client


def test_feedback_on_cards_changes_the_next_turn(live):
    services, client = live
    out = client.predict("I loved Heat", "", 3, api_name="/chat")
    sid = out["session_id"]
    item1, item2 = out["items"][0], out["items"][1]
    client.predict(sid, out["turn"], "alice", {item1["item_id"]: {"label": "dislike"}}, api_name="/feedback")
    client.predict(sid, out["turn"], "alice", {item2["item_id"]: {"label": "like"}}, api_name="/feedback")
    nxt = client.predict("more like that please", sid, 3, api_name="/chat")
    assert nxt["intent"] == "more_like" and nxt["items"]
    assert item1["item_id"] not in [i["item_id"] for i in nxt["items"]]
    assert any(item2["title"] in i["reason"] for i in nxt["items"]), [i["reason"] for i in nxt["items"]]
    assert any(f"you liked {item2['title']} on the last slate" in i["reason"] for i in nxt["items"])
    # both judgements were saved as feedback too, one record per call
    saved = [r for r in services.store.read() if r.session_id == sid]
    assert sorted((j.item_id, j.label) for r in saved for j in r.slate if j.judged) == sorted(
        [(item1["item_id"], "dislike"), (item2["item_id"], "like")])


def test_a_rating_counts_and_more_like_title_anchors_on_that_item(live):
    _, client = live
    out = client.predict("I loved Alien", "", 3, api_name="/chat")
    sid, low, pick = out["session_id"], out["items"][0], out["items"][1]
    client.predict(sid, 0, "bob", {low["item_id"]: {"rating": 1}}, api_name="/feedback")
    nxt = client.predict(f"more like {pick['title']}", sid, 3, api_name="/chat")
    assert nxt["intent"] == "more_like"
    ids = [i["item_id"] for i in nxt["items"]]
    assert low["item_id"] not in ids and pick["item_id"] not in ids
    assert any(f"more like {pick['title']}" in i["reason"] for i in nxt["items"]), [i["reason"] for i in nxt["items"]]
