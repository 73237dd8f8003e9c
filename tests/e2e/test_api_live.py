"""The named API endpoints through ``gradio_client`` against a live server on a free port.

Runs docs/client-api.md's client snippet for real: ``/chat`` (message + session -> reply + items as
JSON), ``/feedback`` (one record through the store), ``/status``; plus isolation between two
clients and errors that come back as messages, not tracebacks.
"""

from __future__ import annotations

import gradio_client
import pytest
from gradio_client.exceptions import AuthenticationError
from ui_support import free_port, make_services, serve


@pytest.fixture(scope="module")
def live(tiny_catalog_module, tmp_path_factory):
    from workbench.ui import build_demo

    services = make_services(tiny_catalog_module, tmp_path_factory.mktemp("feedback"))
    with serve(build_demo(services)) as url:
        yield services, url


@pytest.fixture(scope="module")
def tiny_catalog_module():
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    return Catalog(TINY_ITEMS, source="tiny")


def client(url: str):
    return gradio_client.Client(url, verbose=False, analytics_enabled=False, download_files=False)


def test_readme_snippet_chat_then_feedback(live):
    services, url = live
    # --- the docs/client-api.md snippet, verbatim apart from the URL ---
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
    api = client(url).view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(api) == {"/chat", "/feedback", "/status", "/next_task", "/submit_task", "/skip_task",
                        "/arena_pair", "/arena_vote", "/next_review", "/submit_review"}
    # the signatures stay as they were (plus the optional idempotency key); request/profile are not inputs
    assert [p["parameter_name"] for p in api["/chat"]["parameters"]] == ["message", "session_id", "k"]
    assert [p["parameter_name"] for p in api["/feedback"]["parameters"]] == [
        "session_id", "turn", "annotator", "judgements", "reply_label", "comment", "idempotency_key"]
    assert [p["parameter_name"] for p in api["/next_task"]["parameters"]] == ["project", "annotator"]
    assert [p["parameter_name"] for p in api["/submit_task"]["parameters"]] == [
        "project", "task_id", "annotator", "judgements", "reply_label", "comment"]
    assert [p["parameter_name"] for p in api["/skip_task"]["parameters"]] == [
        "project", "task_id", "annotator", "reason"]


def test_password_auth_protects_page_and_api(tiny_catalog_module, tmp_path):
    """Self-hosting with WORKBENCH_AUTH=user:password: app.py passes settings.auth_pair to launch."""
    import urllib.error
    import urllib.request

    from workbench.config import Settings
    from workbench.ui import build_demo, serving_options

    settings = Settings(auth="ann:s3cret")
    services = make_services(tiny_catalog_module, tmp_path / "fb")
    demo = build_demo(services)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **serving_options(settings))
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


# ---------------------------------------------------------------------------
# issue 19: hardening (sessions, identity, bad values, queue, login, idempotency)


def test_client_chosen_session_id_is_refused_and_issued_ids_are_unguessable(live):
    """Item 1: a second client sending the same chosen id (``demo``) used to land in the first one's
    conversation; now only ids the server issued (256 random bits) address a session."""
    services, url = live
    a, b = client(url), client(url)
    with pytest.raises(Exception, match="unknown or expired.*issued by the server"):
        a.predict("Toy Story", "demo", api_name="/chat")
    with pytest.raises(Exception, match="unknown or expired"):
        b.predict("Heat", "demo", api_name="/chat")
    ids = {a.predict("Toy Story", "", api_name="/chat")["session_id"] for _ in range(3)}
    assert len(ids) == 3 and all(len(i) >= 43 for i in ids)  # secrets.token_urlsafe(32)
    with pytest.raises(Exception, match="unknown or expired"):
        b.predict("demo", 0, "mallory", {}, "like", "", api_name="/feedback")


@pytest.fixture(scope="module")
def live_small(tiny_catalog_module, tmp_path_factory):
    """A server with tiny limits: 2 sessions per client, a queue of 1."""
    from workbench.ui import build_demo

    services = make_services(tiny_catalog_module, tmp_path_factory.mktemp("fb-small"),
                             api_sessions_per_client=2, max_api_sessions=3, max_queue=1)
    with serve(build_demo(services)) as url:
        yield services, url


def test_sessions_are_bounded_per_client_and_evict_its_own_oldest(live_small):
    """Item 2: one client creating many sessions evicts its own oldest, not only everyone's."""
    _, url = live_small
    c = client(url)
    first = c.predict("Toy Story", "", api_name="/chat")["session_id"]
    second = c.predict("Heat", "", api_name="/chat")["session_id"]
    third = c.predict("Up", "", api_name="/chat")["session_id"]
    with pytest.raises(Exception, match="unknown or expired"):  # its own oldest went first
        c.predict("more", first, api_name="/chat")
    assert c.predict("more", second, api_name="/chat")["turn"] == 1
    assert c.predict("more", third, api_name="/chat")["turn"] == 1


BAD_FEEDBACK = [
    ({"judgements": ["like"]}, r"judgements: expected an object.*list \['like'\]"),
    ({"judgements": "like"}, r"judgements: expected an object.*str 'like'"),
    ({"label": ["like"]}, r"label: expected text, got list \['like'\]"),
    ({"annotator": 42}, r"annotator: expected text, got int 42"),
    ({"session_id": ["x"]}, r"session_id: expected text, got list"),
    ({"turn": "0"}, r"turn: expected an integer"),
    ({"rating": 0}, r"rating: expected an integer 1-5, got 0"),
    ({"rating": 6}, r"rating: expected an integer 1-5, got 6"),
    ({"rating": 4.5}, r"rating: expected an integer 1-5, got 4.5"),
    ({"rating": True}, r"rating: expected an integer 1-5, got True"),
    ({"reply_label": 1}, r"reply_label: expected text, got int 1"),
    ({"idempotency_key": "\x1b[31m"}, r"idempotency_key: expected 1-200 printable"),
]


@pytest.mark.parametrize("bad,message", BAD_FEEDBACK, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in
                                                             enumerate(BAD_FEEDBACK)])
def test_feedback_with_bad_values_names_the_field_and_value(live, bad, message):
    """Item 9: wrong types and NaN/Infinity/0 ratings used to answer "The upstream Gradio app has raised
    an exception" (or an error event with a null message), and a rating of 0 was saved."""
    services, url = live
    c = client(url)
    out = c.predict("Heat", "", api_name="/chat")
    item = out["items"][0]["item_id"]
    before = len(services.store.read().records)
    card = {"label": bad.get("label", "like"), "rating": bad.get("rating", 4)}
    args = {"session_id": out["session_id"], "turn": 0, "annotator": "bob",
            "judgements": {item: card}, "reply_label": "", "comment": "", "idempotency_key": ""}
    args.update({k: v for k, v in bad.items() if k in args})
    with pytest.raises(Exception, match=message):
        c.predict(*args.values(), api_name="/feedback")
    assert len(services.store.read().records) == before  # nothing saved


def raw_call(url: str, endpoint: str, data_json: str) -> str:
    """POST a raw JSON body (which gradio_client cannot send: NaN, 1e400, lone surrogates); the event stream."""
    import json
    import urllib.request

    req = urllib.request.Request(url + f"gradio_api/call/{endpoint}", ('{"data": ' + data_json + '}').encode(),
                                 {"Content-Type": "application/json"})
    event_id = json.load(urllib.request.urlopen(req, timeout=10))["event_id"]
    return urllib.request.urlopen(url + f"gradio_api/call/{endpoint}/{event_id}", timeout=30).read().decode()


RAW_BAD = [
    ("feedback", '[SID, 0, "bob", {ITEM: {"label": "like", "rating": NaN}}, "", "", ""]', "got nan"),
    ("feedback", '[SID, 0, "bob", {ITEM: {"label": "like", "rating": Infinity}}, "", "", ""]', "got inf"),
    ("feedback", '[SID, 0, "bob", {ITEM: {"label": "like", "rating": 1e400}}, "", "", ""]', "got inf"),
    ("feedback", '[SID, 0, "bob", {ITEM: {"label": "like", "rating": 0}}, "", "", ""]', "1-5, got 0"),
    ("feedback", '[SID, 0, "bob", {}, "like", "bad \\ud800", ""]', "comment: invalid Unicode"),
    ("chat", '["Heat \\ud800", "", 0]', "message: invalid Unicode (a lone surrogate) at character 5"),
    ("chat", '["Heat", "", NaN]', "k: expected an integer 0-50"),
]


@pytest.mark.parametrize("endpoint,body,message", RAW_BAD, ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(RAW_BAD)])
def test_non_finite_numbers_and_lone_surrogates_get_a_message(live, endpoint, body, message):
    """Item 9: ``NaN``, ``Infinity``, ``1e400`` and a lone surrogate came back as an error event whose
    message was null; a rating of 0 was saved. Each is refused naming the field and the value."""
    import json

    services, url = live
    out = client(url).predict("Heat", "", api_name="/chat")
    body = body.replace("SID", json.dumps(out["session_id"])).replace("ITEM", json.dumps(out["items"][0]["item_id"]))
    before = len(services.store.read().records)
    stream = raw_call(url, endpoint, body)
    assert "event: error" in stream and message in stream, stream
    assert len(services.store.read().records) == before


BAD_CHAT = [
    ({"message": ["hi"]}, r"message: expected text, got list"),
    ({"message": 3}, r"message: expected text, got int 3"),
    ({"session_id": ["x"]}, r"session_id: expected text, got list"),
    ({"session_id": 7}, r"session_id: expected text, got int 7"),
    ({"k": "5"}, r"k: expected an integer 0-50"),
    ({"k": 51}, r"k: expected an integer 0-50.*got 51"),
]


@pytest.mark.parametrize("bad,message", BAD_CHAT, ids=[f"chat-{i}" for i in range(len(BAD_CHAT))])
def test_chat_with_bad_values_names_the_field_and_value(live, bad, message):
    _, url = live
    args = {"message": "Heat", "session_id": "", "k": 0, **bad}
    with pytest.raises(Exception, match=message):
        client(url).predict(*args.values(), api_name="/chat")


def test_feedback_idempotency_key_saves_once_even_after_a_restart(live, tiny_catalog_module):
    """A retry of an unacknowledged /feedback (same key) returns the first record id and writes nothing;
    a store opened afresh on the same directory (a restarted server) still finds the key's record."""
    from workbench.feedback import JsonlFeedbackStore

    services, url = live
    c = client(url)
    out = c.predict("Toy Story", "", api_name="/chat")
    item = out["items"][0]["item_id"]
    args = (out["session_id"], 0, "carol", {item: {"label": "like", "rating": 5}}, "", "")
    first = c.predict(*args, "key-1", api_name="/feedback")
    again = c.predict(*args, "key-1", api_name="/feedback")
    assert again["record_id"] == first["record_id"] and not first["replayed"] and again["replayed"]
    lines = sum(p.read_text().count("\n") for p in services.store.shards())
    assert c.predict(*args, "key-1", api_name="/feedback")["record_id"] == first["record_id"]
    assert sum(p.read_text().count("\n") for p in services.store.shards()) == lines  # nothing new written
    other = c.predict(*args, "key-2", api_name="/feedback")
    assert other["record_id"] != first["record_id"]
    c.predict(*args, api_name="/feedback")  # no key: positional calls keep working, a new record each
    restarted = JsonlFeedbackStore(services.store.data_dir, catalog=tiny_catalog_module)
    record = next(r for r in services.store.read().records if r.record_id == first["record_id"])
    assert restarted.append_once(record) == (first["record_id"], False)


def test_a_full_queue_refuses_with_a_message(live_small):
    """Item 13: 200 queued /chat calls from one client failed with an empty error; past
    WORKBENCH_MAX_QUEUE they are refused and the client is told the queue is full."""
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    services, url = live_small
    c = client(url)
    jobs = [c.submit(f"Heat {i}", "", api_name="/chat") for i in range(40)]
    errors = []
    for job in jobs:
        try:
            job.result(timeout=60)
        except (QueueError, AppError, Exception) as exc:  # noqa: BLE001 - we want to see every kind
            errors.append(exc)
    assert errors, "a queue of 1 with 40 calls at once must refuse some"
    assert all(str(e).strip() for e in errors), [repr(e) for e in errors]
    assert any("queue is full" in str(e).lower() for e in errors), [repr(e) for e in errors]
    assert c.predict(api_name="/status")["items"] == 12


def test_failed_logins_are_rate_limited(tiny_catalog_module, tmp_path):
    """Item 5: 30 wrong passwords in a row were answered at full speed; after 5 failures the user (and
    the address) is locked out for the window, the right password included, and failures are slowed."""
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    from workbench.config import Settings
    from workbench.ui import build_demo, serving_options

    settings = Settings(auth="ann:s3cret")
    demo = build_demo(make_services(tiny_catalog_module, tmp_path / "fb"))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **serving_options(settings))

    def login(user: str, password: str) -> int:
        data = urllib.parse.urlencode({"username": user, "password": password}).encode()
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/login", data, timeout=30).status
        except urllib.error.HTTPError as err:
            return err.code

    try:
        assert login("ann", "s3cret") == 200
        t0 = time.monotonic()
        assert [login("ann", f"guess{i}") for i in range(5)] == [400] * 5
        assert time.monotonic() - t0 >= 5 * 0.4  # each failure is slowed down
        assert login("ann", "s3cret") == 400  # locked out: the right password is refused too
        assert login("someone-else", "x") == 400  # and so is this address, whatever the username
    finally:
        demo.close()
