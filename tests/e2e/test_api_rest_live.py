"""The JSON API (``/api/v1``) against a live server, side by side with the ``gradio_client`` endpoints.

Guards the parity issue 27 asks for: ``POST /api/v1/chat`` returns exactly ``/chat``'s JSON, a
session started on one path continues on the other (one registry, one owner rule), every refusal
reads the same on both paths (HTTP 400 ``{"error": message}`` here, an ``AppError`` there), a
judgement saved through either path is the same record, sign-in guards both, the project
endpoints are reachable under ``/api/v1/projects/{name}/...``, and the schema lists every route.
"""

from __future__ import annotations

import gradio_client
import httpx
import pytest
from gradio_client.exceptions import AppError
from projects_support import seed_project
from ui_support import free_port, make_services

from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore

CHAT_KEYS = {"session_id", "turn", "reply", "items", "intent", "generator", "fell_back", "grounding_fixes",
             "grounding_fixes_by_kind", "notes", "readings", "question"}


def launch(services, settings=None):
    """``services``' demo live with ``serving_options`` (as ``app.py`` serves it); returns (demo, url)."""
    from workbench.ui import build_demo, serving_options

    demo = build_demo(services)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **serving_options(settings or services.settings, services, demo))
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    feedback = tmp_path_factory.mktemp("feedback")
    services = make_services(Catalog(TINY_ITEMS, source="tiny"), feedback)
    services.projects = ProjectService(SQLiteProjectStore(projects_path(feedback)), services.store)
    seed_project(services.projects.store, "p", tasks=4, overlap=2)
    demo, url = launch(services)
    try:
        with httpx.Client(base_url=url + "api/v1", timeout=30) as http:
            yield services, gradio_client.Client(url, verbose=False, download_files=False), http
    finally:
        demo.close()


def test_chat_returns_the_gradio_json_and_sessions_cross_paths(live):
    _, client, http = live
    r = http.post("/chat", json={"message": "Toy Story please", "session_id": "", "k": 3})
    assert r.status_code == 200, r.text
    rest = r.json()
    grad = client.predict("Toy Story please", "", 3, api_name="/chat")
    assert set(rest) == set(grad) and CHAT_KEYS <= set(rest)  # whatever /chat returns, both return
    strip = lambda out: {k: v for k, v in out.items() if k != "session_id"}  # noqa: E731
    assert strip(rest) == strip(grad)  # the same turn on a fresh session: the same answer
    # a session begun over REST continues through gradio_client and back (same owner: 127.0.0.1)
    second = client.predict("more please", rest["session_id"], api_name="/chat")
    third = http.post("/chat", json={"message": "and again", "session_id": rest["session_id"]}).json()
    assert (second["turn"], third["turn"]) == (1, 2) and third["session_id"] == rest["session_id"]


REFUSALS = [
    ("/chat", {"message": "   "}),
    ("/chat", {"message": "x" * 2001}),
    ("/chat", {"message": "Heat", "k": 51}),
    ("/chat", {"message": "Heat", "k": "3"}),
    ("/chat", {"message": "Heat", "session_id": "not-issued"}),
    ("/chat", {"message": ["Heat"]}),
    ("/feedback", {"session_id": "nope", "turn": 0, "annotator": "bob"}),
    ("/feedback", {"session_id": "{sid}", "turn": 0, "annotator": "bob", "judgements": {"{item}": {"label": "love"}}}),
    ("/feedback", {"session_id": "{sid}", "turn": 0, "annotator": "bob", "judgements": {"{other}": {"label": "like"}}}),
    ("/feedback", {"session_id": "{sid}", "turn": 0, "annotator": 42}),
    ("/feedback", {"session_id": "{sid}", "turn": 7, "annotator": "bob"}),
    ("/feedback", {"session_id": "{sid}", "turn": 0, "annotator": ""}),
    ("/projects/nope/next_task", {"annotator": "bob"}),
    ("/projects/p/submit_task", {"task_id": "t99", "annotator": "bob", "judgements": {"1": {"label": "like"}}}),
    ("/arena/vote", {"pair_id": "nope", "annotator": "bob", "vote": "a"}),
]


def _fill(value, names):
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {_fill(k, names): _fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("path", "body"), REFUSALS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(REFUSALS)])
def test_refusals_read_the_same_on_both_paths(live, path, body):
    services, client, http = live
    out = client.predict("Heat", "", api_name="/chat")
    shown = {i["item_id"] for i in out["items"]}
    names = {"{sid}": out["session_id"], "{item}": out["items"][0]["item_id"],
             "{other}": next(i.item_id for i in services.catalog if i.item_id not in shown)}
    body = _fill(body, names)
    before = len(services.store.read())
    r = http.post(path, json=body)
    assert r.status_code == 400 and set(r.json()) == {"error"}, r.text
    api_name, args = _gradio_call(path, body)
    with pytest.raises(AppError) as err:
        client.predict(*args, api_name=api_name)
    assert str(err.value) == r.json()["error"]
    assert len(services.store.read()) == before  # neither path wrote anything


def _gradio_call(path: str, body: dict) -> tuple[str, list]:
    """The ``gradio_client`` call that ``path`` with ``body`` mirrors (positional, with the defaults)."""
    from workbench.ui.rest import ENDPOINTS, client_fields, path_fields

    for ep in ENDPOINTS:
        parts, given = ep.path.strip("/").split("/"), path.strip("/").split("/")
        if len(parts) == len(given) and all(a == b or a.startswith("{") for a, b in zip(parts, given, strict=True)):
            values = dict(body)
            values.update({path_fields(ep.path)[a[1:-1]]: b for a, b in zip(parts, given, strict=True) if a.startswith("{")})
            args = [values.get(p.name, p.default) for p in client_fields(ep.call)]
            return "/" + ep.call.__name__.removesuffix("_api"), args
    raise AssertionError(f"no endpoint for {path}")


def test_feedback_saves_the_same_record_on_both_paths(live):
    services, client, http = live

    def judge(via: str) -> dict:
        chat = http.post("/chat", json={"message": "Star Wars and jedi"}).json()
        item = chat["items"][0]["item_id"]
        args = [chat["session_id"], 0, "alice", {item: {"label": "like", "rating": 4}}, "like", f"via {via}", ""]
        if via == "rest":
            r = http.post("/feedback", json=dict(zip(["session_id", "turn", "annotator", "judgements", "reply_label",
                                                      "comment", "idempotency_key"], args, strict=True)))
            assert r.status_code == 200, r.text
            return r.json()
        return client.predict(*args, api_name="/feedback")

    a, b = judge("rest"), judge("gradio")
    assert set(a) == set(b) == {"saved", "record_id", "session_id", "turn", "replayed"}
    records = {r.record_id: r for r in services.store.read()}
    ra, rb = records[a["record_id"]].to_dict(), records[b["record_id"]].to_dict()
    differ = {k for k in ra if ra[k] != rb[k]}
    assert differ <= {"record_id", "session_id", "timestamp", "comment", "created_at", "conversation_id"}, differ
    assert (ra["comment"], rb["comment"]) == ("via rest", "via gradio")


def test_idempotency_key_replays_over_rest(live):
    _, _, http = live
    chat = http.post("/chat", json={"message": "Inception"}).json()
    body = {"session_id": chat["session_id"], "turn": 0, "annotator": "eve", "reply_label": "like",
            "idempotency_key": "retry-1"}
    first, again = http.post("/feedback", json=body).json(), http.post("/feedback", json=body).json()
    assert (first["replayed"], again["replayed"]) == (False, True) and first["record_id"] == again["record_id"]


def test_projects_round_trip_under_the_project_path(live):
    services, _, http = live
    task = http.post("/projects/p/next_task", json={"annotator": "carol"}).json()
    assert {"task_id", "items", "progress"} <= set(task)
    saved = http.post("/projects/p/submit_task", json={"task_id": task["task_id"], "annotator": "carol",
                                                        "judgements": {"1": {"label": "like"}}}).json()
    assert saved["saved"] is True
    (record,) = [r for r in services.store.read() if r.record_id == saved["record_id"]]
    assert (record.project, record.annotator) == ("p", "carol")


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "not JSON"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (b'{"message": "Heat", "colour": "red"}', 400, "colour: not a field of /api/v1/chat"),
    (b'{"session_id": ""}', 400, "message: required"),
])
def test_malformed_bodies_are_400_with_a_message(live, body, status, message):
    _, _, http = live
    r = http.post("/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status and message in r.json()["error"]


def test_status_and_schema(live):
    services, client, http = live
    assert http.get("/status").json() == client.predict(api_name="/status")
    schema = httpx.get(str(http.base_url).removesuffix("api/v1") + "openapi.json").json()
    assert {"/api/v1/chat", "/api/v1/feedback", "/api/v1/status", "/api/v1/projects/{name}/next_task",
            "/api/v1/projects/{name}/submit_task", "/api/v1/projects/{name}/skip_task"} <= set(schema["paths"])
    chat = schema["paths"]["/api/v1/chat"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert list(chat["properties"]) == ["message", "session_id", "k"] and chat["required"] == ["message"]
    submit = schema["paths"]["/api/v1/projects/{name}/submit_task"]["post"]
    assert "project" not in submit["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert not [p for p in schema["paths"] if p.startswith("/gradio_api")]  # only the JSON API


def test_sign_in_guards_the_json_api(tmp_path):
    """With ``WORKBENCH_AUTH`` the JSON API refuses callers who have not signed in (401), accepts
    Gradio's login cookie and HTTP Basic credentials, and saves under the signed-in user."""
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    services = make_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path / "fb", auth="ann:s3cret")
    demo, url = launch(services)
    try:
        r = httpx.post(url + "api/v1/chat", json={"message": "Heat"})
        assert r.status_code == 401 and "sign in" in r.json()["error"]
        bad = httpx.post(url + "api/v1/chat", json={"message": "Heat"}, auth=("ann", "wrong"))
        assert bad.status_code == 401
        chat = httpx.post(url + "api/v1/chat", json={"message": "Heat"}, auth=("ann", "s3cret"))
        assert chat.status_code == 200, chat.text
        with httpx.Client(base_url=url) as browser:  # Gradio's own login form sets the cookie
            assert browser.post("login", data={"username": "ann", "password": "s3cret"}).status_code == 200
            chat = browser.post("api/v1/chat", json={"message": "Heat"}).json()
            other = browser.post("api/v1/feedback", json={"session_id": chat["session_id"], "turn": 0,
                                                          "annotator": "mallory", "reply_label": "like"})
            assert other.status_code == 400 and "is not the signed-in user 'ann'" in other.json()["error"]
            saved = browser.post("api/v1/feedback", json={"session_id": chat["session_id"], "turn": 0,
                                                          "annotator": "", "reply_label": "like"}).json()
        (record,) = [r for r in services.store.read() if r.record_id == saved["record_id"]]
        assert record.annotator == "ann"
    finally:
        demo.close()


def test_turn_gate_refuses_past_running_plus_waiting():
    """More turns than run at once plus may wait: a clear 503 ``busy``, never a hung or cancelled call."""
    import asyncio
    import threading

    from workbench.ui.rest import ApiRefusal, TurnGate

    gate, release = TurnGate(running=1, waiting=1), threading.Event()

    async def main() -> list:
        calls = [asyncio.create_task(gate.run(lambda: release.wait(5) and {"ok": 1})) for _ in range(3)]
        await asyncio.sleep(0.2)
        release.set()
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert [r for r in results if isinstance(r, dict)] == [{"ok": 1}, {"ok": 1}]
    (refused,) = [r for r in results if isinstance(r, ApiRefusal)]
    assert refused.status == 503 and "busy" in str(refused)


def test_reviews_under_the_project_path(live):
    """Issue 28's review use cases are two rows of the route table: same JSON, same refusals."""
    from workbench.projects.review_service import set_reviewers

    services, _, http = live
    svc = services.projects
    seed_project(svc.store, "d", tasks=1, overlap=2)
    set_reviewers(svc.store, "d", "rita")
    for who, label in (("ann", "like"), ("bob", "dislike")):
        t = svc.next_task("d", who)["task_id"]
        svc.submit_task("d", t, who, {"1": {"label": label}}, "", "")
    task = http.post("/projects/d/next_review", json={"reviewer": "rita"}).json()
    assert set(task) == {"task_id", "messages", "items", "answers"} and len(task["answers"]) == 2
    refused = http.post("/projects/d/next_review", json={"reviewer": "mallory"})
    assert refused.status_code == 400 and "'mallory' is not a reviewer of project 'd'" in refused.json()["error"]
    saved = http.post("/projects/d/submit_review", json={"task_id": task["task_id"], "reviewer": "rita",
                                                          "judgements": {"1": {"label": "like"}}, "note": "ok"}).json()
    assert set(saved) == {"saved", "record_id"} and svc.store.final_answer("d", "t00").note == "ok"
    assert http.post("/projects/d/next_review", json={"reviewer": "rita"}).json() == {"done": True}
