"""``build_demo(services)``: the Gradio Blocks app. It builds and wires; it never launches.

Layout: a header with the status line; a Chat tab (the chat panel beside the
recommendation slate and its feedback bar; a collapsible settings panel); an Annotate tab
(:mod:`workbench.ui.annotate_tab`: a project's tasks one after another); a Dashboard tab
(:mod:`workbench.ui.dashboard_tab`: judgements, like-rates, a project's agreement); an Arena tab
(:mod:`workbench.ui.arena_tab`: two anonymous systems side by side, a vote, the leaderboard); the named
API endpoints (``/chat``, ``/feedback``, ``/status``; ``/next_task``, ``/submit_task``, ``/skip_task``;
``/next_review``, ``/submit_review``; ``/arena_pair``, ``/arena_vote``); a Review tab
(:mod:`workbench.ui.review_tab`: a reviewer settles disputed project tasks). Each panel module
builds its widgets and wires its own events; this module lays them out. Each browser tab
owns one :class:`~workbench.chat.session.ChatSession` in a ``gr.State``, so two
users never see each other's turns, slates or judgements.

:func:`launch_options` holds what Gradio 6 takes at ``launch()`` (theme, CSS,
favicon), so ``app.py``, the tests and the benchmarks start the same page.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from workbench.arena.service import open_arena
from workbench.chat.judgements import autosave_on_close
from workbench.config import ASSETS_DIR, Settings
from workbench.login import ClientHostMiddleware, LoginGuard
from workbench.monitoring.http import metrics_route
from workbench.services import Services
from workbench.ui import annotate_tab, arena_tab, chat_panel, dashboard_tab, feedback_panel, settings_panel
from workbench.ui import slate as slate_panel
from workbench.ui.api import make_registry, register_api
from workbench.ui.arena_api import register_arena_api
from workbench.ui.mcp_tools import only_agent_tools, register_mcp_tools
from workbench.ui.projects_api import register_projects_api
from workbench.ui.queue_stream import HoldQueueStream
from workbench.ui.rest import ApiBackends, rest_routes
from workbench.ui.review_api import register_review_api
from workbench.ui.review_tab import build_review_tab
from workbench.ui.review_tab import wire as wire_review_tab

ASSETS = ASSETS_DIR / "ui"
#: How often the header re-checks a loading LLM (seconds).
STATUS_POLL_S = 2.0


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``demo.launch`` that style the page (theme, CSS, favicon)."""
    opts: dict[str, Any] = {
        "theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="pink", neutral_hue="slate"),
        "css_paths": [ASSETS / "style.css"],
        "footer_links": ["api", "gradio"],
    }
    # Ask before leaving a page with unsaved judgements (the browser shows its own wording).
    opts["head"] = (
        "<script>window.addEventListener('beforeunload', (e) => {"
        "const p = document.querySelector('#wb-pending');"
        "if (p && p.innerText.includes('unsaved')) { e.preventDefault(); e.returnValue = ''; }"
        "});</script>"
    ) + annotate_tab.shortcuts_head()
    if (ASSETS / "logo.svg").exists():
        opts["favicon_path"] = ASSETS / "logo.svg"
    return opts


AUTH_MESSAGE = "Chat-Rec Workbench: sign in with the user and password you were given."


def serving_options(settings: Settings, services: Services | None = None, demo: gr.Blocks | None = None
                    ) -> dict[str, Any]:
    """Keyword arguments for ``demo.launch`` that guard and extend the server.

    Always: :class:`~workbench.ui.queue_stream.HoldQueueStream`, which keeps a client's queue stream
    open a moment after its last event (else a call joined in that instant is cancelled by
    ``gradio_client``). With ``WORKBENCH_AUTH``: the rate-limited login (:class:`~workbench.login.LoginGuard`) and
    the middleware that tells it each client's address. With ``services`` and
    ``WORKBENCH_METRICS`` (the default): the ``/metrics`` route over their recorder's registry,
    added to the FastAPI app Gradio creates. With ``demo`` (a :func:`build_demo`): the JSON API
    under ``/api/v1`` (:mod:`workbench.ui.rest`), sharing the demo's API sessions. Always ``show_error``: an unexpected exception in a
    handler shows its message in the page (and reaches API clients), never a bare "Error" (issue 16,
    item 1); our own errors are warnings already (:mod:`workbench.ui.boundary`).
    """
    from starlette.middleware import Middleware

    opts: dict[str, Any] = {"show_error": True}
    # a client's queue stream closes only after a quiet moment, so none of its calls is cancelled (issue 27)
    app_kwargs: dict[str, Any] = {"middleware": [Middleware(HoldQueueStream)]}
    if settings.auth_pair is not None:
        guard = LoginGuard(*settings.auth_pair)
        opts |= {"auth": guard.check, "auth_message": AUTH_MESSAGE}
        app_kwargs["middleware"].append(Middleware(ClientHostMiddleware))
    if services is not None and settings.metrics:
        app_kwargs["routes"] = [metrics_route(services.monitor.registry)]
    backends = getattr(demo, "workbench_api", None)
    if backends is not None:  # the JSON API (workbench.ui.rest) with its own schema at /openapi.json
        app_kwargs["routes"] = app_kwargs.get("routes", []) + rest_routes(backends)
        app_kwargs["openapi_url"] = None  # FastAPI's would list Gradio's internal routes
    if settings.mcp:  # WORKBENCH_MCP: the agent tools of workbench.ui.mcp_tools at /gradio_api/mcp/
        opts["mcp_server"] = True
        app_kwargs["lifespan"] = only_agent_tools
    opts["app_kwargs"] = app_kwargs
    return opts


def header_meta(services: Services) -> str:
    """The header's right-hand line; in demo mode without the index id (an internal detail)."""
    if not services.settings.demo_mode:
        return services.describe()
    return " · ".join(p for p in services.describe().split(" · ") if not p.startswith("index "))


def header_html(services: Services) -> str:
    esc = html.escape
    return (
        '<div id="wb-header">'
        '<div class="wb-brand"><span class="wb-logo">🎬</span>'
        "<div><h1>Chat-Rec Workbench</h1>"
        "<p>Talk about films; get recommendations from the catalogue with reasons; rate them.</p></div></div>"
        f'<div class="wb-meta">{esc(header_meta(services))}</div>'
        "</div>"
    )


def paint_status(demo: gr.Blocks, component: gr.components.Component, text: str) -> None:
    """Make ``text`` the value that the next page load paints first (the served page config).

    Gradio serves each page from the config it computed at launch, so a status line built while
    the models loaded would first paint "loading" long after they were ready (issue 16, item 15).
    """
    component.value = text  # what a config computed from here on holds (Blocks builds it on exit)
    for block in (getattr(demo, "config", None) or {}).get("components", ()):
        if block.get("id") == component._id:
            block.setdefault("props", {})["value"] = text


def wire_status(services: Services, demo: gr.Blocks, generator_status: gr.Markdown) -> None:
    """Refresh the status line on load and, while something loads in the background, every few seconds.

    Each refresh also becomes what the next page paints first (:func:`paint_status`), and so does
    every change of state in the background (a model loaded or failed, the recommenders fitted), so a
    page opened after start-up paints "ready" at once, not the "loading" of launch time.
    """
    timer = gr.Timer(STATUS_POLL_S, active=services.busy)

    def poll() -> tuple[str, Any]:
        text = services.status()
        paint_status(demo, generator_status, text)
        return text, gr.Timer(active=services.busy)

    services.on_status_change(lambda: paint_status(demo, generator_status, services.status()))
    timer.tick(poll, None, [generator_status, timer], queue=False, show_progress="hidden",
               api_visibility="private")
    demo.load(poll, None, [generator_status, timer], queue=False, api_visibility="private")


def build_demo(services: Services) -> gr.Blocks:
    """The whole app for ``services``. Never launches; the caller does."""
    arena = open_arena(services)  # a bad systems file stops here, before anything is served
    with gr.Blocks(title="Chat-Rec Workbench", fill_width=True, analytics_enabled=False) as demo:
        def on_session_end(session: Any) -> None:
            autosave_on_close(services, session)

        # A plain function, not functools.partial: Gradio deep-copies component configs on every
        # page load, and a partial would drag the whole Services (catalogue, models) into that copy.
        state = gr.State(None, delete_callback=on_session_end)
        gr.HTML(header_html(services), elem_id="wb-header-block")
        generator_status = gr.Markdown(services.status(), elem_id="wb-generator-status",
                                       elem_classes=["wb-status"])
        with gr.Tabs(elem_id="wb-tabs") as tabs:
            with gr.Tab("Chat", id="chat", elem_id="wb-chat-tab"):
                with gr.Row(equal_height=False, elem_id="wb-main"):
                    with gr.Column(scale=6, min_width=380, elem_id="wb-chat-col"):
                        chat = chat_panel.build_chat_panel()
                    with gr.Column(scale=5, min_width=340, elem_id="wb-slate-col"):
                        slate = slate_panel.build_slate()
                        feedback = feedback_panel.build_feedback_bar(services)
                settings = settings_panel.build_settings_panel(services)
            with gr.Tab("Annotate", id="annotate", elem_id="wb-ann-tab"):
                annotate = annotate_tab.build_annotate_tab(services)
            with gr.Tab("Dashboard", id="dashboard", elem_id="wb-dash-tab") as dash_tab:
                dashboard = dashboard_tab.build_dashboard_tab(services)
            with gr.Tab("Arena", id="arena", elem_id="wb-arena-tab"):
                arena_ui = arena_tab.build_arena_tab(services, arena)
            with gr.Tab("Review", id="review", elem_id="wb-review-tab"):
                review = build_review_tab(services)
        with gr.Accordion("About this app and its API", open=False, elem_id="wb-about"):
            gr.Markdown(ABOUT)

        slate_panel.wire(slate)
        settings_panel.wire(services, settings)
        chat_panel.wire(services, state, chat, slate, settings, feedback)
        tab_sessions = chat_panel.make_tab_registry(services)
        chat_panel.wire_restore(services, demo, state, tab_sessions, chat, slate, feedback)
        feedback_panel.wire(services, demo, state, feedback, slate)
        wire_status(services, demo, generator_status)
        annotate_tab.wire(services, demo, annotate, tabs)
        dashboard_tab.wire(services, demo, dashboard, dash_tab)
        api_sessions = make_registry(services)
        register_api(services, api_sessions)
        register_projects_api(services)
        wire_review_tab(services, demo, review)
        register_review_api(services)
        arena_tab.wire(services, arena, demo, arena_ui)
        register_arena_api(services, arena)
        if services.settings.mcp:
            register_mcp_tools(services)
    # Past max_queue waiting requests gradio refuses with "Queue is full" (gradio_client: QueueError).
    # How many turns run at once: setting turn_concurrency (measured against the CPU count in bench/app_load.py).
    demo.queue(default_concurrency_limit=services.settings.resolved_turn_concurrency,
               max_size=services.settings.max_queue)
    quiet_queue_analytics(demo)
    demo.workbench_sessions = (tab_sessions, api_sessions)  # what live_sessions reads at shutdown
    demo.workbench_api = ApiBackends(services, api_sessions, arena)  # what serving_options mounts at /api/v1
    paint_status(demo, generator_status, services.status())  # a job may have ended while the page was built
    return demo


#: Gradio's defaults for its queue's event analytics (``GRADIO_ANALYTICS_CACHE_FREQUENCY``,
#: ``GRADIO_ANALYTICS_MAX_EVENTS``), and what the app uses unless someone set those variables.
_GRADIO_ANALYTICS_DEFAULTS = (1, 10_000)
ANALYTICS_EVERY_EVENTS = 500
ANALYTICS_MAX_EVENTS = 2_000


def quiet_queue_analytics(demo: gr.Blocks) -> None:
    """Make Gradio's queue summarise its past events every 500 events instead of after every one.

    After each event Gradio's queue rebuilds a pandas summary of up to 10,000 past events for its
    ``/monitoring`` page, which this app does not use: 9-14 ms of CPU per event on the project's
    CPU (300 to 10,000 events), taken from the turns' cores after every event. With these values a turn pays it once
    per 500 events and the queue keeps 2,000 events' records instead of 10,000. A value someone set
    through Gradio's own variables (anything but its default) is left alone.
    """
    queue = getattr(demo, "_queue", None)
    if queue is None or not all(hasattr(queue, a) for a in ("ANAYLTICS_CACHE_FREQUENCY", "ANALYTICS_MAX_EVENTS")):
        return  # (sic: Gradio's spelling) another Gradio version: leave it as it is
    if (queue.ANAYLTICS_CACHE_FREQUENCY, queue.ANALYTICS_MAX_EVENTS) == _GRADIO_ANALYTICS_DEFAULTS:
        queue.ANAYLTICS_CACHE_FREQUENCY = ANALYTICS_EVERY_EVENTS
        queue.ANALYTICS_MAX_EVENTS = ANALYTICS_MAX_EVENTS


def live_sessions(demo: gr.Blocks) -> list[Any]:
    """Every live session of ``demo`` (browser tabs' and API clients'), for saving at shutdown."""
    return [s for registry in getattr(demo, "workbench_sessions", ()) for s in registry.sessions()]


ABOUT = """
**How it works.** Each message is understood (films you name and how you feel about them, genres,
decades, people), candidates come from collaborative filtering, content similarity and a FAISS
semantic index over the catalogue, and the hybrid ranks them. The reply is written around that slate
by the generator you choose; every title in it is checked against the slate, so it never names a
film that is not in the catalogue.

**Annotating.** Like, dislike, rate 1-5 or mark *haven't seen it* on each card, like or dislike a
reply with the thumbs under it, add a comment, then press **Save**. Sending your next message also
saves what is pending when your name is set; without a name you are warned and nothing is lost.

**API.** `/chat` (message, session_id) returns the reply and the items as JSON; `/feedback` saves a
judgement for a turn; `/status` describes the server; `/next_task`, `/submit_task` and `/skip_task`
work through an annotation project (the **Annotate** tab); `/arena_pair` and `/arena_vote` run the
blind side-by-side **Arena**. See "Use via API" at the bottom of the page.
"""
