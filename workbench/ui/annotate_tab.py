"""The Annotate tab: judge a project's prepared tasks, one after another, keyboard first.

An annotator picks a project (or opens ``/?project=NAME``), reads the guidelines, and gets the
next task: the conversation (read-only), the reply and slate the engine gave when the project was
created, with the same per-card controls as the chat tab (like / dislike / haven't seen it, a
1-5 rating), a like/dislike for the reply and a comment. Submit saves and opens the next task;
Skip passes it on (with an optional reason); Back reopens the previous answer to change it.

Every handler here parses widget values, calls one
:class:`~workbench.projects.service.ProjectService` method and formats what it returns (the
``*_task`` functions are plain functions the tests call without a browser). Errors are
``WorkbenchError`` s shown through :func:`~workbench.ui.boundary.shows_errors`. The keyboard
shortcuts are a small script (``assets/ui/annotate.js``, loaded through :func:`shortcuts_head`)
that clicks these widgets by their ``elem_id``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.chat.identity import hf_login_available, identify, resolve_annotator
from workbench.config import ASSETS_DIR
from workbench.errors import ProjectError
from workbench.limits import MAX_ANNOTATOR_CHARS, MAX_COMMENT_CHARS, MAX_SLATE, MAX_TEXT_CHARS
from workbench.projects.summary import progress_line
from workbench.services import Services
from workbench.ui.boundary import shows_errors
from workbench.ui.format import VERDICT_BUTTONS

ASSETS = ASSETS_DIR / "ui"
#: The rating buttons on a card.
RATINGS = ("1", "2", "3", "4", "5")
#: Reply verdicts, as the radio under the reply offers them.
REPLY_CHOICES = [("👍 Good reply", "like"), ("👎 Bad reply", "dislike")]
#: The URL query parameter that opens a project (``/?project=NAME``).
PROJECT_PARAM = "project"
#: Widgets per card slot in :attr:`AnnotateTab.values`.
FIELDS_PER_CARD = 2

SHORTCUTS = """
| Key | Does |
|---|---|
| **J** / **K** | next / previous card |
| **1**-**5** | rate the focused card |
| **L** / **D** | like / dislike the focused card |
| **N** | haven't seen the focused card |
| **Enter** | submit and open the next task |
| **S** | skip the task |
| **B** | back to your previous task |
| **Esc** | leave a text field (keys do nothing while you type) |
"""
NO_TASK = '<div class="wb-empty">Pick a project, enter your name and press <b>Start</b> (or Enter).</div>'
DONE = '<div class="wb-empty">🎉 Nothing left for you in this project. Thank you!</div>'


# --------------------------------------------------------------------------------------------
# plain functions: parse, call one service method, format


def _service(services: Services) -> Any:
    if services.projects is None:
        raise ProjectError("annotation projects are not available on this server (no project store)")
    return services.projects


def annotator_of(name: str | None, profile: Any = None, *, services: Services | None = None,
                 request: Any = None) -> str:
    """Who judges: with sign-in on (``services`` given), the signed-in user, full stop
    (:func:`~workbench.chat.identity.identify`); else the Hugging Face username or the typed
    name. An error when there is neither."""
    who = identify(services, name, profile, request) if services is not None else resolve_annotator(name, profile)
    if not who:
        raise ProjectError("annotator: enter your name (or sign in with Hugging Face) before the first task")
    return who


def project_names(services: Services) -> list[str]:
    """The projects the tab offers: every project in the data directory, now."""
    return [p["name"] for p in services.projects.list_projects()] if services.projects is not None else []


def pick_project(services: Services, wanted: str | None) -> tuple[list[str], str | None]:
    """Dropdown choices and the selected one (``wanted``, from ``?project=``, when it exists)."""
    names = project_names(services)
    wanted = (wanted or "").strip()
    if wanted and wanted not in names:
        raise ProjectError(f"unknown project {wanted!r} in the address (projects: {', '.join(names) or 'none'})")
    return names, wanted or None


def project_intro(services: Services, project: str | None, annotator: str = "") -> tuple[str, str]:
    """(guidelines Markdown, progress line) of ``project``; placeholders without one."""
    if not project:
        return "*Pick a project to see its guidelines.*", ""
    svc = _service(services)
    guidelines = svc.guidelines(project).strip() or "*This project has no guidelines.*"
    return guidelines, progress_line(svc.progress(project), annotator)


def card_judgements(item_ids: Sequence[str], values: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Card widget values (verdict, rating per slot) -> ``/feedback``-style judgements of the slate.

    The service checks labels and ratings against the task; this only turns widget values
    (a radio's ``"4"``) into the API's types and drops untouched cards.
    """
    out: dict[str, dict[str, Any]] = {}
    for slot, item_id in enumerate(item_ids):
        verdict, rating = values[slot * FIELDS_PER_CARD: (slot + 1) * FIELDS_PER_CARD]
        try:
            stars = int(rating) if rating not in (None, "") else None
        except (TypeError, ValueError):
            raise ProjectError(f"card {slot + 1} ({item_id}): rating must be 1-5, got {rating!r}") from None
        if verdict or stars:
            out[item_id] = {"label": verdict or None, "rating": stars}
    return out


def _current(current: Any) -> dict[str, Any]:
    if not isinstance(current, Mapping) or not current.get("task_id"):
        raise ProjectError("no task is open: pick a project and press Start")
    return dict(current)


def open_next_task(services: Services, project: str | None, annotator: str) -> tuple[dict | None, dict]:
    """Claim the next task of ``project`` for ``annotator``: (the open task, the service's view)."""
    if not project:
        raise ProjectError("pick a project first")
    view = _service(services).next_task(project, annotator)
    return _opened(project, annotator, view), view


def back_task(services: Services, project: str | None, annotator: str) -> tuple[dict | None, dict]:
    """Reopen ``annotator``'s previous task (with their answer filled in)."""
    if not project:
        raise ProjectError("pick a project first")
    view = _service(services).back(project, annotator)
    if view.get("done"):
        raise ProjectError(f"nothing to go back to: {annotator!r} has not answered a task of {project!r} yet")
    return _opened(project, annotator, view), view


def _opened(project: str, annotator: str, view: Mapping[str, Any]) -> dict | None:
    if view.get("done"):
        return None
    return {"project": project, "task_id": view["task_id"], "annotator": annotator,
            "items": [i["item_id"] for i in view.get("items", [])]}


def submit_task(services: Services, current: Any, reply_label: str | None, comment: str | None,
                card_values: Sequence[Any]) -> dict[str, Any]:
    """Submit the open task's judgements (saved under the annotator who claimed it)."""
    cur = _current(current)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ProjectError(f"comment has {len(comment)} characters (limit {MAX_COMMENT_CHARS})")
    marks = card_judgements(cur["items"], card_values)
    return _service(services).submit_task(cur["project"], cur["task_id"], cur["annotator"], marks,
                                          reply_label or "", comment)


def skip_task(services: Services, current: Any, reason: str | None) -> dict[str, Any]:
    """Pass on the open task with an optional reason; it goes to other annotators."""
    cur = _current(current)
    return _service(services).skip_task(cur["project"], cur["task_id"], cur["annotator"], (reason or "").strip())


def conversation(view: Mapping[str, Any]) -> list[dict[str, str]]:
    """The task's turns and its stored reply as Chatbot messages (escaped: shown, never run)."""
    msgs = [{"role": m["role"], "content": html.escape(str(m["content"]), quote=False)}
            for m in view.get("messages", [])]
    if view.get("reply"):
        msgs.append({"role": "assistant", "content": html.escape(str(view["reply"]), quote=False)})
    return msgs


def item_card_html(item: Mapping[str, Any]) -> str:
    """One stored slate item as a card (the chat slate's look and classes), every field escaped."""
    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    year = f' <span class="wb-year">({e(item["year"])})</span>' if item.get("year") else ""
    parts = [f'<div class="wb-card" data-item-id="{e(item.get("item_id", ""))}">',
             f'<div class="wb-card-head"><span class="wb-rank">{e(item.get("rank", ""))}</span>'
             f'<span class="wb-title">{e(item.get("title", item.get("item_id", "")))}</span>{year}</div>']
    if item.get("genres"):
        parts.append(f'<div class="wb-genres">{e(", ".join(item["genres"]))}</div>')
    people = []
    if item.get("directors"):
        people.append(f"<b>Director</b> {e(', '.join(item['directors'][:2]))}")
    if item.get("cast"):
        people.append(f"<b>Cast</b> {e(', '.join(item['cast'][:3]))}")
    if people:
        parts.append('<div class="wb-people">' + " · ".join(people) + "</div>")
    if item.get("reason"):
        parts.append(f'<div class="wb-reason">{e(item["reason"])}</div>')
    sources = sorted((item.get("sources") or {}).items(), key=lambda kv: (-float(kv[1]), kv[0]))
    rows = "".join(f"<tr><td>{e(k)}</td><td>{float(v):.3g}</td></tr>" for k, v in sources)
    try:
        score = f"{float(item.get('score', 0.0)):.3f}"
    except (TypeError, ValueError):
        score = e(item.get("score"))
    parts.append(f'<details class="wb-scores"><summary>Score {score}</summary>'
                 + (f"<table>{rows}</table>" if rows else "<p>No per-source scores.</p>") + "</details></div>")
    return "".join(parts)


def render_task(current: dict | None, view: Mapping[str, Any] | None, annotator: str = "") -> list[Any]:
    """Values for :attr:`AnnotateTab.outputs` showing ``view`` (a next_task/back answer, or nothing)."""
    view = view or {}
    previous = view.get("previous") or {}
    # the engine's suggestions (a project's suggested share) pre-fill the cards; an earlier answer wins
    marks = previous.get("judgements") or {i: {"label": v} for i, v in (view.get("suggestions") or {}).items()}
    items = view.get("items", []) if current else []
    progress = progress_line(view["progress"], annotator, done=current is None) if view.get("progress") else ""
    if current and previous.get("version"):
        progress += " · changing your earlier answer"
    elif current and view.get("suggestions"):
        progress += " · the cards start from the engine's suggestions: change what you disagree with"
    notice = DONE if view.get("done") else ("" if current else NO_TASK)
    out: list[Any] = [
        current, progress, conversation(view) if current else [],
        gr.update(value=notice, visible=bool(notice)),
        gr.update(value=previous.get("reply_label") or None, interactive=current is not None),
        gr.update(value=previous.get("comment", ""), interactive=current is not None),
        gr.update(value=previous.get("reason", "") if previous.get("skipped") else ""),
    ]
    for slot in range(MAX_SLATE):
        if slot < len(items):
            mark = marks.get(items[slot]["item_id"]) or {}
            rating = mark.get("rating")
            out += [gr.update(visible=True), item_card_html(items[slot]), mark.get("label"),
                    str(rating) if rating else None]
        else:
            out += [gr.update(visible=False), "", None, None]
    return out


def shortcuts_head() -> str:
    """The ``<script>`` with the Annotate tab's keyboard shortcuts, for ``launch(head=...)``."""
    path = ASSETS / "annotate.js"
    return f"<script>{path.read_text(encoding='utf-8')}</script>" if path.exists() else ""


# --------------------------------------------------------------------------------------------
# widgets


@dataclass
class TaskCard:
    group: gr.Group
    html: gr.HTML
    verdict: gr.Radio
    rating: gr.Radio


@dataclass
class AnnotateTab:
    current: gr.State
    project: gr.Dropdown
    name: gr.Textbox
    login: gr.LoginButton | None
    start: gr.Button
    progress: gr.Markdown
    guidelines: gr.Markdown
    chat: gr.Chatbot
    notice: gr.HTML
    reply_label: gr.Radio
    cards: list[TaskCard]
    comment: gr.Textbox
    reason: gr.Textbox
    submit: gr.Button
    skip: gr.Button
    back: gr.Button

    @property
    def values(self) -> list[gr.components.Component]:
        """Reply label, comment, then every card's verdict and rating."""
        return [self.reply_label, self.comment] + [w for c in self.cards for w in (c.verdict, c.rating)]

    @property
    def outputs(self) -> list[gr.components.Component]:
        """What :func:`render_task` fills, in its order."""
        out: list[gr.components.Component] = [self.current, self.progress, self.chat, self.notice,
                                              self.reply_label, self.comment, self.reason]
        for c in self.cards:
            out += [c.group, c.html, c.verdict, c.rating]
        return out


def build_annotate_tab(services: Services) -> AnnotateTab:
    """The Annotate tab's widgets (call inside a ``gr.Tab``)."""
    current = gr.State(None)
    with gr.Row(equal_height=True, elem_id="wb-ann-top"):
        project = gr.Dropdown([], value=None, label="Project", scale=2, elem_id="wb-ann-project",
                              allow_custom_value=False)
        # One sign-in button per page (the Chat tab's): the OAuth profile is the page's, not the tab's.
        login = None
        name = gr.Textbox(label="Annotator", placeholder="Your name (required; Enter starts)", scale=2,
                          max_length=MAX_ANNOTATOR_CHARS, elem_id="wb-ann-annotator",
                          info=("Signed in with Hugging Face (on the Chat tab)? You are recorded by username"
                                if hf_login_available(services) else None))
        start = gr.Button("▶ Start", variant="primary", scale=1, elem_id="wb-ann-start")
    progress = gr.Markdown("", elem_id="wb-ann-progress", elem_classes=["wb-status"])
    with gr.Accordion("Guidelines", open=False, elem_id="wb-ann-guidelines-box"):
        guidelines = gr.Markdown("*Pick a project to see its guidelines.*", elem_id="wb-ann-guidelines")
    with gr.Accordion("Keyboard shortcuts", open=False, elem_id="wb-ann-shortcuts"):
        gr.Markdown(SHORTCUTS)
    with gr.Row(equal_height=False, elem_id="wb-ann-main"):
        with gr.Column(scale=6, min_width=380):
            chat = gr.Chatbot([], label="Conversation (read-only)", elem_id="wb-ann-chat", height=460,
                              sanitize_html=True, allow_tags=False, buttons=[])
            reply_label = gr.Radio(REPLY_CHOICES, value=None, label="The reply (last message)",
                                   interactive=False, elem_id="wb-ann-reply-label")
        with gr.Column(scale=5, min_width=340, elem_id="wb-ann-cards"):
            notice = gr.HTML(NO_TASK, elem_id="wb-ann-notice")
            cards = []
            for slot in range(MAX_SLATE):
                with gr.Group(visible=False, elem_classes=["wb-card-slot", "wb-ann-card"],
                              elem_id=f"wb-ann-card-{slot}") as group:
                    card_html = gr.HTML("", elem_classes=["wb-card-html"])
                    with gr.Row(elem_classes=["wb-feedback-row"], equal_height=True):
                        verdict = gr.Radio([(label, key) for key, label in VERDICT_BUTTONS.items()], value=None,
                                           show_label=False, container=False, scale=3, min_width=300,
                                           elem_classes=["wb-verdict", "wb-ann-verdict"],
                                           elem_id=f"wb-ann-verdict-{slot}")
                        rating = gr.Radio(list(RATINGS), value=None, show_label=False, container=False,
                                          scale=2, min_width=250, elem_classes=["wb-rating", "wb-ann-rating"],
                                          elem_id=f"wb-ann-rating-{slot}")
                cards.append(TaskCard(group, card_html, verdict, rating))
            comment = gr.Textbox("", placeholder="Comment on this task (optional)", show_label=False, lines=2,
                                 max_length=MAX_COMMENT_CHARS, interactive=False, elem_id="wb-ann-comment")
            reason = gr.Textbox("", placeholder="Why skip? (optional)", show_label=False,
                                max_length=MAX_TEXT_CHARS, elem_id="wb-ann-skip-reason")
            with gr.Row():
                back = gr.Button("◀ Back", elem_id="wb-ann-back", scale=1)
                skip = gr.Button("Skip", elem_id="wb-ann-skip", scale=1)
                submit = gr.Button("✔ Submit", variant="primary", elem_id="wb-ann-submit", scale=2)
    return AnnotateTab(current, project, name, login, start, progress, guidelines, chat, notice, reply_label,
                       cards, comment, reason, submit, skip, back)


def wire(services: Services, demo: gr.Blocks, tab: AnnotateTab, tabs: gr.Tabs | None = None,
         tab_id: str = "annotate") -> None:
    """Bind the tab: projects listed on load (``?project=`` selects one and this tab), Start,
    Submit, Skip, Back, and each card kept consistent (a film you haven't seen has no rating)."""
    n_out = len(tab.outputs)
    keep = lambda *_a, **_k: [gr.skip()] * n_out  # noqa: E731  (an error leaves the screen as it was)

    @shows_errors(lambda *_a, **_k: [gr.skip()] * 4)
    def on_load(request: gr.Request):
        wanted = (request.query_params.get(PROJECT_PARAM) if request is not None else None) or ""
        names, chosen = pick_project(services, wanted)
        guidelines, line = project_intro(services, chosen)
        selected = gr.Tabs(selected=tab_id) if chosen and tabs is not None else gr.skip()
        return gr.Dropdown(choices=names, value=chosen), guidelines, line, selected

    demo.load(on_load, None, [tab.project, tab.guidelines, tab.progress, tabs if tabs is not None else tab.notice],
              api_visibility="private", queue=False)

    @shows_errors(lambda *_a, **_k: (gr.skip(), gr.skip()))
    def on_project(project: str | None, profile: gr.OAuthProfile | None, name: str):
        return project_intro(services, project, resolve_annotator(name, profile))

    # .input, not .change: the load handler sets the value too, and a .change fired by it would clear
    # a task the annotator had already opened (a race the browser test caught)
    tab.project.input(on_project, [tab.project, tab.name], [tab.guidelines, tab.progress],
                       api_visibility="private").then(lambda: render_task(None, None), None, tab.outputs,
                                                      api_visibility="private")

    @shows_errors(keep)
    def start(project: str | None, profile: gr.OAuthProfile | None, name: str, request: gr.Request):
        who = annotator_of(name, profile, services=services, request=request)
        current, view = open_next_task(services, project, who)
        return render_task(current, view, who)

    for trigger in (tab.start.click, tab.name.submit):
        trigger(start, [tab.project, tab.name], tab.outputs, api_visibility="private")

    @shows_errors(keep)
    def submit(current: Any, reply_label: str | None, comment: str | None, *card_values: Any):
        saved = submit_task(services, current, reply_label, comment, card_values)
        gr.Info(f"Saved ✓ ({saved['record_id'][:8]})")
        cur, view = open_next_task(services, current["project"], current["annotator"])
        return render_task(cur, view, current["annotator"])

    tab.submit.click(submit, [tab.current, *tab.values], tab.outputs, api_visibility="private")

    @shows_errors(keep)
    def skip(current: Any, reason: str | None):
        skip_task(services, current, reason)
        cur, view = open_next_task(services, current["project"], current["annotator"])
        return render_task(cur, view, current["annotator"])

    tab.skip.click(skip, [tab.current, tab.reason], tab.outputs, api_visibility="private")

    @shows_errors(keep)
    def back(current: Any, project: str | None, profile: gr.OAuthProfile | None, name: str, request: gr.Request):
        who = (current["annotator"] if isinstance(current, Mapping)
               else annotator_of(name, profile, services=services, request=request))
        cur, view = back_task(services, project, who)
        return render_task(cur, view, who)

    tab.back.click(back, [tab.current, tab.project, tab.name], tab.outputs, api_visibility="private")

    for card in tab.cards:
        card.verdict.input(lambda v: None if v == "not_seen" else gr.skip(), card.verdict, card.rating,
                           queue=False, show_progress="hidden", api_visibility="private")
        card.rating.input(lambda v, r: None if r and v == "not_seen" else gr.skip(), [card.verdict, card.rating],
                          card.verdict, queue=False, show_progress="hidden", api_visibility="private")
