"""build_demo smoke tests over fake services: it builds, exposes only the named API, is safe to serve."""

from __future__ import annotations

import copy

import gradio as gr
import pytest
from ui_support import make_services

from workbench.limits import MAX_SLATE
from workbench.ui import build_demo, launch_options


class NeverCopy:
    """Deep-copying this means something dragged the services into per-page-load work."""

    def __deepcopy__(self, memo):
        raise AssertionError("the page config references the services")


@pytest.fixture
def services(tiny_catalog, tmp_path):
    return make_services(tiny_catalog, tmp_path / "feedback")


def blocks_of(demo, kind):
    return [b for b in demo.blocks.values() if isinstance(b, kind)]


def test_build_demo_returns_blocks_without_launching(services):
    demo = build_demo(services)
    assert isinstance(demo, gr.Blocks)
    assert not getattr(demo, "is_running", False)
    (chatbot,) = [c for c in blocks_of(demo, gr.Chatbot) if c.elem_id == "wb-chat"]
    assert chatbot.sanitize_html and chatbot.allow_tags is False  # no raw HTML from messages
    assert chatbot.feedback_options == ("Like", "Dislike")
    sliders = blocks_of(demo, gr.Slider)
    assert [s.maximum for s in sliders] == [MAX_SLATE]
    assert not demo.expects_oauth  # no LoginButton off a Space


def test_only_the_named_api_is_public(services):
    demo = build_demo(services)
    assert set(demo.get_api_info()["named_endpoints"]) == {"/chat", "/feedback", "/status",
                                                              "/next_task", "/submit_task", "/skip_task",
                                                              "/arena_pair", "/arena_vote",
                                                              "/next_review", "/submit_review"}


def test_page_config_does_not_reference_services(services):
    """Regression: a functools.partial(…, services) in a component made every page load deep-copy
    the catalogue and models (seconds per request on the real app)."""
    services.sentinel = NeverCopy()
    demo = build_demo(services)
    copy.deepcopy(demo.config)  # what gradio does for every GET /


def test_sign_in_with_hugging_face_only_on_a_space_with_oauth(tiny_catalog, tmp_path, monkeypatch):
    import importlib.util

    from workbench.chat.identity import hf_login_available

    plain = make_services(tiny_catalog, tmp_path / "fb2", on_space=True)  # a Space without hf_oauth
    assert not hf_login_available(plain) and not build_demo(plain).expects_oauth
    oauth = make_services(tiny_catalog, tmp_path / "fb", on_space=True, oauth_client_id="abc")
    extras = all(importlib.util.find_spec(m) for m in ("authlib", "itsdangerous"))
    assert hf_login_available(oauth) == extras  # without gradio[oauth] it falls back to the name field
    if extras:
        import gradio.oauth

        monkeypatch.setattr(gradio.oauth, "_get_mocked_oauth_info", lambda: {"userinfo": {}})
        demo = build_demo(oauth)
        assert demo.expects_oauth and len(blocks_of(demo, gr.LoginButton)) == 1
    else:
        assert not build_demo(oauth).expects_oauth  # and the app still starts


def test_launch_options_point_at_existing_assets():
    opts = launch_options()
    assert all(p.exists() for p in opts["css_paths"])
    assert isinstance(opts["theme"], gr.themes.Base)


def test_demo_mode_header_hides_the_index_id(tiny_catalog, tmp_path):
    """Issue 16 item 14: a stakeholder demo showed the internal index id in the header."""
    from workbench.ui.app import header_html

    annotator = make_services(tiny_catalog, tmp_path / "a")
    demo = make_services(tiny_catalog, tmp_path / "d", demo_mode=True)
    assert "index test-index" in header_html(annotator)
    assert "test-index" not in header_html(demo) and "movies" in header_html(demo)


def test_an_unexpected_exception_in_a_handler_shows_its_message(tmp_path):
    """Issue 16 item 1: a Gradio-level error showed as a bare "Error" (``show_error=False``):
    the launch options now show an unexpected exception's message."""
    from gradio_client import Client
    from ui_support import free_port

    from workbench.config import Settings
    from workbench.ui import serving_options

    def broken(text: str) -> str:
        raise RuntimeError(f"the scorer fell over on {text!r}")

    with gr.Blocks() as blocks:
        box = gr.Textbox()
        box.submit(broken, box, box, api_name="broken")
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                  **serving_options(Settings()))
    try:
        with pytest.raises(Exception, match="the scorer fell over on 'x'"):
            Client(f"http://127.0.0.1:{port}/", verbose=False).predict("x", api_name="/broken")
    finally:
        blocks.close()


def test_the_next_page_paints_the_real_status_not_the_one_at_build_time(services):
    """Issue 16 item 15: a page opened after everything was ready first showed "loading" for 2 s
    (the served config kept the status computed at build time); each status refresh repaints it."""
    demo = build_demo(services)
    demo.config = demo.get_config_file()  # what launch() serves every page from
    (status,) = [c for c in demo.config["components"] if c.get("props", {}).get("elem_id") == "wb-generator-status"]
    status["props"]["value"] = "Loading the language model…"  # as it was while the models loaded
    poll = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "poll")
    text, _timer = poll()
    assert text == services.status() and status["props"]["value"] == text


def test_a_model_that_finishes_loading_repaints_the_first_page_without_any_poll(tiny_catalog, tmp_path):
    """Issue 16 item 15, the rest: the served page kept "loading" until some page polled; now the end
    of each background load repaints it, so the first page opened after start-up paints "ready"."""
    import threading
    import time

    from ui_support import FakeLLM

    from workbench.services import GeneratorPool

    gate = threading.Event()

    class SlowLLM(FakeLLM):
        def load(self) -> None:
            gate.wait(30)
            super().load()

    services = make_services(tiny_catalog, tmp_path / "feedback", generator="transformers")
    services.generators = GeneratorPool(services.settings, services.generators.template,
                                        make=lambda backend, model: SlowLLM(f"{backend}:{model}"))
    services.generators.start()
    demo = build_demo(services)

    def painted() -> str:
        (status,) = [c for c in demo.config["components"]
                     if c.get("props", {}).get("elem_id") == "wb-generator-status"]
        return status["props"]["value"]

    assert services.busy and painted() == services.status() and "loading" in painted().lower()
    gate.set()
    assert services.generators.wait(timeout=30)
    ready = "Generator: transformers:" + services.settings.generator_model
    deadline = time.monotonic() + 10  # the repaint runs on the loading thread, just after the load
    while painted() != ready and time.monotonic() < deadline:
        time.sleep(0.02)
    assert painted() == services.status() == ready


def test_the_queue_summarises_its_analytics_every_500_events_unless_gradios_knobs_were_set():
    """Gradio rebuilt a pandas summary of up to 10,000 past events after every event (9-14 ms a turn)."""
    import gradio as gr

    from workbench.ui.app import ANALYTICS_EVERY_EVENTS, quiet_queue_analytics

    with gr.Blocks() as demo:
        gr.Markdown("x")
    demo.queue()
    quiet_queue_analytics(demo)
    queue = demo._queue
    assert (queue.ANAYLTICS_CACHE_FREQUENCY, queue.ANALYTICS_MAX_EVENTS) == (ANALYTICS_EVERY_EVENTS, 2_000)
    records = [{"time": 0.0, "status": "success", "process_time": 0.01, "function": "chat"}]
    queue.events_recorded = 1  # one event since start: the cached (empty) summary stands
    assert queue.compute_analytics_summary(records) == {"functions": {}}
    queue.events_recorded = ANALYTICS_EVERY_EVENTS
    assert queue.compute_analytics_summary(records)["functions"]["chat"]["total_requests"] >= 1

    with gr.Blocks() as other:
        gr.Markdown("y")
    other.queue()
    other._queue.ANAYLTICS_CACHE_FREQUENCY = 7  # as GRADIO_ANALYTICS_CACHE_FREQUENCY=7 would
    quiet_queue_analytics(other)
    assert other._queue.ANAYLTICS_CACHE_FREQUENCY == 7
