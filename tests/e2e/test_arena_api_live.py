"""``/arena_pair`` and ``/arena_vote`` through ``gradio_client`` against a live server (template generators).

Guards the issue's exact shapes: the pair JSON names no system (no name, id or hash anywhere, items
without scores or sources); the vote JSON reveals both names; a second vote by the same annotator is
an ``AppError`` that writes nothing; errors come back as messages naming the field.
"""

from __future__ import annotations

import pytest
from arena_support import arena_services, strings_of
from gradio_client.exceptions import AppError
from ui_support import serve_client


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    services = arena_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path_factory.mktemp("feedback"))
    with serve_client(services) as client:
        yield services, client


def test_pair_then_vote_then_second_vote_refused(live):
    services, client = live
    out = client.predict("I loved Toy Story, something funny?", "", "alice", api_name="/arena_pair")
    assert set(out) == {"pair_session_id", "pair_id", "a", "b"}
    assert all(set(out[s]) == {"reply", "items"} and out[s]["reply"] for s in ("a", "b"))
    assert all(not {"score", "sources"} & set(i) for s in ("a", "b") for i in out[s]["items"])
    assert all(i["item_id"] in services.catalog for s in ("a", "b") for i in out[s]["items"])
    text = " ".join(strings_of(out)).lower()
    assert "default" not in text and "baseline" not in text and "@" not in text
    item = out["a"]["items"][0]["item_id"]
    saved = client.predict(out["pair_id"], "alice", "a", "A listened", {"a": {item: {"label": "like"}}},
                           api_name="/arena_vote")
    assert saved["saved"] is True and {saved["a_system"], saved["b_system"]} == {"default", "baseline"}
    records = [r for r in services.store.read().records if r.arena_pair == out["pair_id"]]
    assert len(records) == 2 and {r.arena_vote for r in records} == {"a"}
    with pytest.raises(AppError, match="already voted"):
        client.predict(out["pair_id"], "alice", "b", "", None, api_name="/arena_vote")
    assert len([r for r in services.store.read().records if r.arena_pair == out["pair_id"]]) == 2
    # the conversation continues with the same pair
    more = client.predict("something darker", out["pair_session_id"], "alice", api_name="/arena_pair")
    assert more["pair_session_id"] == out["pair_session_id"] and more["pair_id"] != out["pair_id"]
    again = client.predict(more["pair_id"], "alice", "both_bad", "", None, api_name="/arena_vote")
    assert (again["a_system"], again["b_system"]) == (saved["a_system"], saved["b_system"])


@pytest.mark.parametrize("args, message", [
    (("p", "alice", "maybe", "", None), "vote: must be one of a, b, tie, both_bad"),
    (("nope", "alice", "a", "", None), "pair_id: no pair 'nope'"),
    (("nope", "", "a", "", None), "annotator"),
])
def test_bad_votes_are_messages(live, args, message):
    services, client = live
    before = len(services.store.read().records)
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/arena_vote")
    assert len(services.store.read().records) == before


def test_unknown_pair_session_is_refused(live):
    _services, client = live
    with pytest.raises(AppError, match="pair_session_id: no arena conversation"):
        client.predict("hello", "not-a-session", "", api_name="/arena_pair")


def test_endpoint_signatures(live):
    """The issue's argument names and order; request/profile are not inputs."""
    _services, client = live
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [p["parameter_name"] for p in api["/arena_pair"]["parameters"]] == [
        "message", "pair_session_id", "annotator"]
    assert [p["parameter_name"] for p in api["/arena_vote"]["parameters"]] == [
        "pair_id", "annotator", "vote", "comment", "judgements"]


def test_readme_arena_snippet_runs(live, capsys):
    """Keeps docs/arena.md honest: its client snippet runs as written against a live server."""
    import re

    from ui_support import PROJECT_ROOT

    services, client = live
    section = (PROJECT_ROOT / "docs" / "arena.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "/arena_pair" in snippet and "/arena_vote" in snippet
    before = len(services.store.read().records)
    exec(snippet.replace("http://127.0.0.1:7860/", client.src), {})  # noqa: S102 (our own docs)
    assert "'saved': True" in capsys.readouterr().out
    assert len(services.store.read().records) == before + 2
