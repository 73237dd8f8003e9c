"""The named API endpoints through ``gradio_client`` against a live server on a free port.

Runs the README's client snippet for real: ``/chat`` (message + session -> reply + items as
JSON), ``/feedback`` (one record through the store), ``/status``; plus isolation between two
clients and errors that come back as messages, not tracebacks.
"""

from __future__ import annotations

import socket

import gradio_client
import pytest
from gradio_client.exceptions import AuthenticationError
from ui_support import make_services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tiny_catalog_module, tmp_path_factory):
    from workbench.ui import build_demo

    services = make_services(tiny_catalog_module, tmp_path_factory.mktemp("feedback"))
    demo = build_demo(services)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield services, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def tiny_catalog_module():
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    return Catalog(TINY_ITEMS, source="tiny")


def client(url: str):
    return gradio_client.Client(url, verbose=False, analytics_enabled=False, download_files=False)


def test_readme_snippet_chat_then_feedback(live):
    services, url = live
    # --- the README snippet, verbatim apart from the URL ---
    from gradio_client import Client

    client = Client(url)
    out = client.predict("I loved Toy Story and Up, something for a family night?", "", api_name="/chat")
    print(out["reply"])
    for item in out["items"]:
        print(item["rank"], item["title"], item["reason"])
    out2 = client.predict("no horror please", out["session_id"], api_name="/chat")
    first = out["items"][0]["item_id"]
    saved = client.predict(
        out["session_id"], out2["turn"] - 1, "alice",
        {first: {"label": "like", "rating": 5}}, "like", "great start",
        api_name="/feedback",
    )
    # --- end of snippet ---
    assert out["turn"] == 0 and out2["turn"] == 1 and out2["session_id"] == out["session_id"]
    assert out["items"] and all(i["item_id"] in services.catalog for i in out["items"])
    assert {"title", "year", "genres", "directors", "cast", "score", "sources", "reason"} <= set(out["items"][0])
    assert saved["saved"] == 1 and saved["turn"] == 0
    records = [r for r in services.store.read() if r.record_id == saved["record_id"]]
    (rec,) = records
    assert rec.annotator == "alice" and rec.reply_label == "like" and rec.comment == "great start"
    assert rec.user_message.startswith("I loved Toy Story")
    assert [(j.label, j.rating) for j in rec.slate if j.item_id == first] == [("like", 5)]


def test_two_clients_have_separate_conversations(live):
    _, url = live
    a, b = client(url), client(url)
    ra = a.predict("Toy Story", "", api_name="/chat")
    rb = b.predict("Heat", "", api_name="/chat")
    assert ra["session_id"] != rb["session_id"]
    ra2 = a.predict("more please", ra["session_id"], api_name="/chat")
    assert ra2["turn"] == 1
    assert not {i["item_id"] for i in ra2["items"]} & {i["item_id"] for i in ra["items"]}  # not repeated
    rb2 = b.predict("more please", rb["session_id"], api_name="/chat")
    assert rb2["turn"] == 1  # b's turn count is its own


def test_errors_come_back_as_messages(live):
    services, url = live
    c = client(url)
    with pytest.raises(Exception, match="type a message first"):
        c.predict("   ", "", api_name="/chat")
    out = c.predict("Heat", "", api_name="/chat")
    with pytest.raises(Exception, match="label.*must be one of like, dislike, not_seen"):
        c.predict(out["session_id"], 0, "bob", {out["items"][0]["item_id"]: {"label": "love"}}, "", "",
                  api_name="/feedback")
    with pytest.raises(Exception, match="unknown or expired"):
        c.predict("no-such-session", 0, "bob", {}, "like", "", api_name="/feedback")
    shown = {i["item_id"] for i in out["items"]}
    other = next(item.item_id for item in services.catalog if item.item_id not in shown)
    with pytest.raises(Exception, match="was not in the slate"):
        c.predict(out["session_id"], 0, "bob", {other: {"label": "like"}}, "", "", api_name="/feedback")
    assert c.predict(api_name="/status")["items"] == 12  # the server is still fine


def test_ui_handlers_are_not_public_api(live):
    _, url = live
    endpoints = set(client(url).view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert endpoints == {"/chat", "/feedback", "/status"}


def test_password_auth_protects_page_and_api(tiny_catalog_module, tmp_path):
    """Self-hosting with WORKBENCH_AUTH=user:password: app.py passes settings.auth_pair to launch."""
    import urllib.error
    import urllib.request

    from workbench.config import Settings
    from workbench.ui import build_demo

    settings = Settings(auth="ann:s3cret")
    services = make_services(tiny_catalog_module, tmp_path / "fb")
    demo = build_demo(services)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                auth=settings.auth_pair)
    url = f"http://127.0.0.1:{port}/"
    try:
        with pytest.raises(AuthenticationError, match="credentials"):
            gradio_client.Client(url, verbose=False, download_files=False)
        with pytest.raises(urllib.error.HTTPError) as err:  # no component config without login
            urllib.request.urlopen(url + "config", timeout=10)
        assert err.value.code == 401
        c = gradio_client.Client(url, auth=settings.auth_pair, verbose=False, download_files=False)
        assert c.predict("Toy Story", "", api_name="/chat")["items"]
    finally:
        demo.close()
