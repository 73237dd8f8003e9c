"""The Review tab: a reviewer settles the tasks a project's annotators disagreed on.

A reviewer picks a project, enters their name (with sign-in on: the signed-in user) and presses
**Next disputed task** (or types a task id and presses **Pull** to review any task). The tab shows
the conversation with the engine's reply, every annotator's answer side by side (who said what:
one row per slate item, one column per annotator, then the reply label and the comments), and
the final-answer controls pre-filled with the majority. **Save final answer** stores it with the
note and opens the next disputed task.

Every handler parses widget values, calls one use case of
:mod:`workbench.projects.review_service` and formats what it returns; the plain functions here
are what the tests call without a browser. Errors are ``WorkbenchError`` s shown through
:func:`~workbench.ui.boundary.shows_errors`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.errors import ProjectError
from workbench.limits import MAX_ANNOTATOR_CHARS, MAX_COMMENT_CHARS, MAX_ID_CHARS, MAX_SLATE
from workbench.projects import review_service
from workbench.projects.review import majority
from workbench.services import Services
from workbench.ui.annotate_tab import (
    FIELDS_PER_CARD,
    RATINGS,
    REPLY_CHOICES,
    annotator_of,
    card_judgements,
    item_card_html,
    project_names,
)
from workbench.ui.boundary import shows_errors
from workbench.ui.format import VERDICT_BUTTONS

NO_REVIEW = '<div class="wb-empty">Pick a project, enter your name and press <b>Next disputed task</b>.</div>'
DONE = '<div class="wb-empty">Nothing left to review in this project: no open disagreements.</div>'
LABEL_MARKS = {"like": "👍", "dislike": "👎", "not_seen": "not seen"}


# --------------------------------------------------------------------------------------------
# plain functions: parse, call one use case, format


def _service(services: Services) -> Any:
    if services.projects is None:
        raise ProjectError("annotation projects are not available on this server (no project store)")
    return services.projects


def open_review(services: Services, project: str | None, reviewer: str,
                task_id: str | None = None) -> tuple[dict | None, dict]:
    """The next disputed task of ``project`` for ``reviewer`` (or ``task_id``, pulled): (current, view)."""
    if not project:
        raise ProjectError("pick a project first")
    svc = _service(services)
    wanted = (task_id or "").strip()
    if wanted:
        if len(wanted) > MAX_ID_CHARS:
            raise ProjectError(f"task id: {len(wanted)} characters (limit {MAX_ID_CHARS})")
        view = review_service.pull_review(svc, project, wanted, reviewer)
    else:
        view = review_service.next_review(svc, project, reviewer)
    if view.get("done"):
        return None, view
    return {"project": project, "task_id": view["task_id"], "reviewer": reviewer,
            "items": [i["item_id"] for i in view.get("items", [])]}, view


def save_final(services: Services, current: Any, reply_label: str | None, note: str | None,
               card_values: Sequence[Any]) -> dict[str, Any]:
    """Save the open task's final answer and note (as the reviewer who opened it)."""
    if not isinstance(current, Mapping) or not current.get("task_id"):
        raise ProjectError("no task is open: press Next disputed task")
    marks = card_judgements(current["items"], card_values)
    return review_service.submit_review(_service(services), current["project"], current["task_id"],
                                        current["reviewer"], marks, reply_label or "", (note or "").strip())


def majority_of(answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The majority of ``/next_review``'s answers (what the final-answer controls start from)."""
    payloads = [{"slate": [{"item_id": i, **m} for i, m in (a.get("judgements") or {}).items()],
                 "reply_label": a.get("reply_label") or ""} for a in answers]
    return majority(payloads)


def _mark(mark: Mapping[str, Any] | None) -> str:
    if not mark:
        return "—"
    parts = [LABEL_MARKS.get(str(mark.get("label")), str(mark.get("label")))] if mark.get("label") else []
    if mark.get("rating"):
        parts.append(f"{int(mark['rating'])}★")
    return " ".join(parts) or "—"


def answers_table(view: Mapping[str, Any]) -> str:
    """Who said what: one row per slate item (and the reply, and comments), one column per annotator."""
    answers = view.get("answers") or []
    if not answers:
        return '<p class="wb-empty">No annotator has submitted this task yet.</p>'
    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    head = "".join(f"<th>{e(a['annotator'])}</th>" for a in answers)
    rows = []
    for item in view.get("items", []):
        cells = "".join(f"<td>{e(_mark((a.get('judgements') or {}).get(item['item_id'])))}</td>" for a in answers)
        rows.append(f'<tr data-item-id="{e(item["item_id"])}"><th>{e(item.get("title", item["item_id"]))}</th>'
                    f"{cells}</tr>")
    reply = "".join(f"<td>{e(LABEL_MARKS.get(a.get('reply_label') or '', '—'))}</td>" for a in answers)
    rows.append(f'<tr class="wb-review-reply"><th>The reply</th>{reply}</tr>')
    notes = "".join(f"<td>{e(a.get('comment') or '')}</td>" for a in answers)
    rows.append(f'<tr class="wb-review-comments"><th>Comment</th>{notes}</tr>')
    return (f'<table class="wb-review-answers" id="wb-review-answers-table"><thead><tr><th>Item</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def review_conversation(view: Mapping[str, Any]) -> list[dict[str, str]]:
    """The conversation (the engine's reply last) as Chatbot messages, escaped."""
    return [{"role": m["role"], "content": html.escape(str(m["content"]), quote=False)}
            for m in view.get("messages", [])]


def render_review(current: dict | None, view: Mapping[str, Any] | None) -> list[Any]:
    """Values for :attr:`ReviewTab.outputs` showing ``view`` (a next/pull answer, or nothing)."""
    view = view or {}
    items = view.get("items", []) if current else []
    start = majority_of(view.get("answers") or []) if current else {"judgements": {}, "reply_label": ""}
    notice = DONE if view.get("done") else ("" if current else NO_REVIEW)
    status = (f"Reviewing task **{current['task_id']}** of {current['project']} "
              f"({len(view.get('answers') or [])} answers)" if current else "")
    out: list[Any] = [
        current, status, review_conversation(view) if current else [],
        gr.update(value=notice, visible=bool(notice)), answers_table(view) if current else "",
        gr.update(value=start["reply_label"] or None, interactive=current is not None),
        gr.update(value="", interactive=current is not None),
    ]
    for slot in range(MAX_SLATE):
        if slot < len(items):
            mark = start["judgements"].get(items[slot]["item_id"]) or {}
            rating = mark.get("rating")
            out += [gr.update(visible=True), item_card_html(items[slot]), mark.get("label"),
                    str(rating) if rating else None]
        else:
            out += [gr.update(visible=False), "", None, None]
    return out


# --------------------------------------------------------------------------------------------
# widgets


@dataclass
class FinalCard:
    group: gr.Group
    html: gr.HTML
    verdict: gr.Radio
    rating: gr.Radio


@dataclass
class ReviewTab:
    current: gr.State
    project: gr.Dropdown
    name: gr.Textbox
    next_button: gr.Button
    task_id: gr.Textbox
    pull: gr.Button
    status: gr.Markdown
    chat: gr.Chatbot
    notice: gr.HTML
    answers: gr.HTML
    reply_label: gr.Radio
    note: gr.Textbox
    cards: list[FinalCard]
    save: gr.Button

    @property
    def values(self) -> list[gr.components.Component]:
        """Reply label, note, then every card's verdict and rating."""
        return [self.reply_label, self.note] + [w for c in self.cards for w in (c.verdict, c.rating)]

    @property
    def outputs(self) -> list[gr.components.Component]:
        """What :func:`render_review` fills, in its order."""
        out: list[gr.components.Component] = [self.current, self.status, self.chat, self.notice, self.answers,
                                              self.reply_label, self.note]
        for c in self.cards:
            out += [c.group, c.html, c.verdict, c.rating]
        return out


def build_review_tab(services: Services) -> ReviewTab:
    """The Review tab's widgets (call inside a ``gr.Tab``)."""
    current = gr.State(None)
    with gr.Row(equal_height=True, elem_id="wb-review-top"):
        project = gr.Dropdown([], value=None, label="Project", scale=2, elem_id="wb-review-project",
                              allow_custom_value=False)
        name = gr.Textbox(label="Reviewer", placeholder="Your name (one of the project's reviewers)", scale=2,
                          max_length=MAX_ANNOTATOR_CHARS, elem_id="wb-review-reviewer")
        next_button = gr.Button("▶ Next disputed task", variant="primary", scale=1, elem_id="wb-review-next")
    with gr.Row(equal_height=True):
        task_id = gr.Textbox(label="Or review any task", placeholder="task id", scale=3, max_length=MAX_ID_CHARS,
                             elem_id="wb-review-task-id")
        pull = gr.Button("Pull", scale=1, elem_id="wb-review-pull")
    status = gr.Markdown("", elem_id="wb-review-status", elem_classes=["wb-status"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=360):
            chat = gr.Chatbot([], label="Conversation and reply (read-only)", elem_id="wb-review-chat", height=380,
                              sanitize_html=True, allow_tags=False, buttons=[])
            notice = gr.HTML(NO_REVIEW, elem_id="wb-review-notice")
            gr.Markdown("**Who said what**")
            answers = gr.HTML("", elem_id="wb-review-answers")
        with gr.Column(scale=5, min_width=340, elem_id="wb-review-final"):
            gr.Markdown("**Final answer** (starts from the majority)")
            reply_label = gr.Radio(REPLY_CHOICES, value=None, label="The reply", interactive=False,
                                   elem_id="wb-review-reply-label")
            cards = []
            for slot in range(MAX_SLATE):
                with gr.Group(visible=False, elem_classes=["wb-card-slot"], elem_id=f"wb-review-card-{slot}") as g:
                    card_html = gr.HTML("", elem_classes=["wb-card-html"])
                    with gr.Row(elem_classes=["wb-feedback-row"], equal_height=True):
                        verdict = gr.Radio([(label, key) for key, label in VERDICT_BUTTONS.items()], value=None,
                                           show_label=False, container=False, scale=3, min_width=300,
                                           elem_classes=["wb-verdict"], elem_id=f"wb-review-verdict-{slot}")
                        rating = gr.Radio(list(RATINGS), value=None, show_label=False, container=False, scale=2,
                                          min_width=250, elem_classes=["wb-rating"],
                                          elem_id=f"wb-review-rating-{slot}")
                cards.append(FinalCard(g, card_html, verdict, rating))
            note = gr.Textbox("", placeholder="Note: why this is the final answer (optional)", show_label=False,
                              lines=2, max_length=MAX_COMMENT_CHARS, interactive=False, elem_id="wb-review-note")
            save = gr.Button("✔ Save final answer", variant="primary", elem_id="wb-review-save")
    return ReviewTab(current, project, name, next_button, task_id, pull, status, chat, notice, answers,
                     reply_label, note, cards, save)


def wire(services: Services, demo: gr.Blocks, tab: ReviewTab) -> None:
    """Bind the tab: projects listed on load, Next, Pull, Save, and each card kept consistent."""
    keep = lambda *_a, **_k: [gr.skip()] * len(tab.outputs)  # noqa: E731  (an error leaves the screen as it was)
    assert len(tab.values) == 2 + FIELDS_PER_CARD * MAX_SLATE

    demo.load(lambda: gr.Dropdown(choices=project_names(services)), None, tab.project,
              api_visibility="private", queue=False)
    tab.project.input(lambda: render_review(None, None), None, tab.outputs, api_visibility="private")

    @shows_errors(keep)
    def open_next(project: str | None, name: str, task_id: str | None, profile: gr.OAuthProfile | None,
                  request: gr.Request):
        who = annotator_of(name, profile, services=services, request=request)
        return render_review(*open_review(services, project, who, task_id))

    def open_queued(project: str | None, name: str, profile: gr.OAuthProfile | None, request: gr.Request):
        return open_next(project, name, None, profile, request)

    for trigger in (tab.next_button.click, tab.name.submit):
        trigger(open_queued, [tab.project, tab.name], tab.outputs, api_visibility="private")
    for trigger in (tab.pull.click, tab.task_id.submit):
        trigger(open_next, [tab.project, tab.name, tab.task_id], tab.outputs, api_visibility="private")

    @shows_errors(keep)
    def save(current: Any, reply_label: str | None, note: str | None, *card_values: Any):
        saved = save_final(services, current, reply_label, note, card_values)
        gr.Info(f"Final answer saved ✓ ({saved['record_id'][:8]})")
        return render_review(*open_review(services, current["project"], current["reviewer"]))

    tab.save.click(save, [tab.current, *tab.values], tab.outputs, api_visibility="private")

    for card in tab.cards:
        card.verdict.input(lambda v: None if v == "not_seen" else gr.skip(), card.verdict, card.rating,
                           queue=False, show_progress="hidden", api_visibility="private")
