"""Issue 25 through the API: a live server, ``gradio_client``, the real engine (tiny catalogue,
hash embeddings, the template generator).

``/chat`` answers a question about the slate it just showed (``act`` "answer", ``answer`` with the
catalogue's values, no new items, the slate kept for the next pointer), a question about a named
film, a closing, "what can you do?" and off-topic talk (steered once, then a neutral reply); a
feedback record saved on an answer turn carries its act and answer.
"""

from __future__ import annotations

import json

import pytest
from ui_support import real_engine_services, serve_client


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    services = real_engine_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path_factory.mktemp("feedback"))
    with serve_client(services) as client:
        yield services, client


def test_questions_about_the_slate_are_answered_and_keep_it(live):
    services, client = live
    out = client.predict("I loved Heat", "", 3, api_name="/chat")
    sid, slate = out["session_id"], [i["item_id"] for i in out["items"]]
    assert out["act"] == "recommend" and out["answer"] is None and len(slate) == 3
    third = services.catalog[slate[2]]
    ans = client.predict("who directed the third one?", sid, 3, api_name="/chat")
    assert (ans["intent"], ans["act"], ans["items"]) == ("ask_fact", "answer", [])
    assert ans["answer"] == {"item_id": third.item_id, "attribute": "director", "values": list(third.directors)}
    assert third.directors[0] in ans["reply"]
    newest = client.predict("which of these is the newest?", sid, 3, api_name="/chat")
    best = max((services.catalog[i] for i in slate), key=lambda it: it.year or 0)
    assert newest["act"] == "answer" and newest["answer"]["item_id"] == best.item_id
    assert newest["answer"]["attribute"] == "newest" and best.title in newest["reply"]
    # the slate survived two answers: "the second one" still points into it
    more = client.predict("more like the second one", sid, 3, api_name="/chat")
    assert more["intent"] == "more_like" and more["act"] == "recommend"
    assert services.catalog[slate[1]].display_title in " ".join(i["reason"] for i in more["items"])
    saved = client.predict(sid, ans["turn"], "alice", None, "like", api_name="/feedback")
    (rec,) = [r for r in services.store.read() if r.record_id == saved["record_id"]]
    assert (rec.act, rec.answer_item_id, rec.answer_attribute) == ("answer", third.item_id, "director")
    assert json.loads(rec.answer_values) == list(third.directors)


def test_a_named_film_a_closing_capabilities_and_off_topic(live):
    _, client = live
    year = client.predict("when was Star Wars made?", "", 3, api_name="/chat")
    assert year["act"] == "answer" and year["answer"] == {"item_id": "8", "attribute": "year", "values": ["1977"]}
    assert "1977" in year["reply"] and year["items"] == []
    sid = year["session_id"]
    caps = client.predict("what are you for?", sid, 3, api_name="/chat")
    assert (caps["intent"], caps["act"], caps["items"]) == ("capabilities", "introduce", [])
    assert "film" in caps["reply"].lower() and "sorry" not in caps["reply"].lower()
    steer = client.predict("what's the weather like?", sid, 3, api_name="/chat")
    again = client.predict("who won the game last night?", sid, 3, api_name="/chat")
    assert (steer["act"], again["act"]) == ("steer", "chat") and steer["reply"] != again["reply"]
    assert steer["items"] == again["items"] == []
    bye = client.predict("ok great, that's it for tonight", sid, 3, api_name="/chat")
    assert (bye["intent"], bye["act"], bye["items"]) == ("thanks_bye", "close", [])
    assert "loosen" not in bye["reply"].lower() and "stick to" not in bye["reply"].lower()
