"""The Dashboard tab: judgements over time, like-rates per system, a project's agreement and its annotators.

Every number comes from :func:`workbench.quality.dashboard.dashboard_data` (gradio-free, the same
code the CLI and tests call); this module lays out Gradio's native plots and tables and refreshes
them when the tab opens, on page load and on **Refresh**. A plot with nothing to show is hidden
and a line says why (:func:`~workbench.quality.dashboard.empty_note`), instead of empty axes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from workbench.quality.dashboard import (
    AGREEMENT_COLUMNS,
    DISAGREEMENT_COLUMNS,
    GOLD_COLUMNS,
    LABEL_COLUMNS,
    QUALITY_COLUMNS,
    SECONDS_COLUMNS,
    dashboard_data,
    empty_note,
    operations_frame,
    project_names,
)
from workbench.services import Services
from workbench.ui.boundary import shows_errors


@dataclass
class DashboardTab:
    refresh: gr.Button
    per_day: gr.BarPlot
    per_annotator: gr.BarPlot
    item_like_rate: gr.LinePlot
    reply_like_rate: gr.LinePlot
    project: gr.Dropdown
    progress: gr.Markdown
    agreement: gr.Dataframe
    disagreements: gr.Dataframe
    operations: gr.Dataframe
    alerts: gr.Markdown
    notes: dict[str, gr.Markdown]  # per plot or table: the line shown when it is empty
    quality: gr.Dataframe
    gold_accuracy: gr.BarPlot
    labels: gr.BarPlot
    seconds: gr.BarPlot

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.per_day, self.per_annotator, self.item_like_rate, self.reply_like_rate, self.project,
                self.progress, self.agreement, self.disagreements, self.operations, self.alerts,
                self.quality, self.gold_accuracy, self.labels, self.seconds, *self.notes.values()]


#: The frames that are hidden with a note when empty, in the order of ``DashboardTab.notes``.
NOTED = ("per_day", "per_annotator", "item_like_rate", "reply_like_rate", "quality", "gold_accuracy", "labels",
         "seconds")
#: Frames of the chosen project (no note while no project is picked: the progress line asks for one).
PROJECT_FRAMES = ("quality", "gold_accuracy", "labels", "seconds")


def _note(name: str) -> gr.Markdown:
    return gr.Markdown("", elem_id=f"wb-dash-empty-{name.replace('_', '-')}")


def build_dashboard_tab(services: Services) -> DashboardTab:
    """The tab's widgets (empty until the first refresh)."""
    refresh = gr.Button("Refresh", size="sm", elem_id="wb-dash-refresh")
    notes: dict[str, gr.Markdown] = {}
    with gr.Row():
        with gr.Column():
            per_day = gr.BarPlot(x="day", y="judgements", title="Judgements per day", elem_id="wb-dash-per-day")
            notes["per_day"] = _note("per_day")
        with gr.Column():
            per_annotator = gr.BarPlot(x="annotator", y="judgements", title="Judgements per annotator",
                                       elem_id="wb-dash-per-annotator")
            notes["per_annotator"] = _note("per_annotator")
    with gr.Row():
        with gr.Column():
            item_like = gr.LinePlot(x="day", y="like_rate", color="system", title="Like-rate of recommended items",
                                    y_lim=[0, 1], elem_id="wb-dash-item-like")
            notes["item_like_rate"] = _note("item_like_rate")
        with gr.Column():
            reply_like = gr.LinePlot(x="day", y="like_rate", color="system", title="Like-rate of replies",
                                     y_lim=[0, 1], elem_id="wb-dash-reply-like")
            notes["reply_like_rate"] = _note("reply_like_rate")
    gr.Markdown("### Project")
    project = gr.Dropdown(label="Project", choices=[], value=None, elem_id="wb-dash-project")
    progress = gr.Markdown("", elem_id="wb-dash-progress")
    agreement = gr.Dataframe(pd.DataFrame(columns=AGREEMENT_COLUMNS), label="Krippendorff's alpha per question",
                             interactive=False, elem_id="wb-dash-agreement")
    disagreements = gr.Dataframe(pd.DataFrame(columns=DISAGREEMENT_COLUMNS), label="Most split units",
                                 interactive=False, elem_id="wb-dash-disagreements")
    gr.Markdown("#### Annotators\nGold accuracy (share of gold judgements matched), agreement (Δα: the project's "
                "alpha minus its alpha without them; clearly negative means the others agree more without them), "
                "median seconds from claim to submit, share of \"haven't seen it\", and flags (see "
                "docs/annotation-quality.md).")
    quality = gr.Dataframe(pd.DataFrame(columns=QUALITY_COLUMNS), label="Per-annotator quality", interactive=False,
                           elem_id="wb-dash-quality")
    notes["quality"] = _note("quality")
    with gr.Row():
        with gr.Column():
            gold = gr.BarPlot(x="annotator", y="gold_accuracy", title="Gold accuracy", y_lim=[0, 1],
                              elem_id="wb-dash-gold")
            notes["gold_accuracy"] = _note("gold_accuracy")
        with gr.Column():
            labels = gr.BarPlot(x="annotator", y="share", color="label", title="Item labels given",
                                y_lim=[0, 1], elem_id="wb-dash-labels")
            notes["labels"] = _note("labels")
        with gr.Column():
            seconds = gr.BarPlot(x="annotator", y="median_seconds", title="Median seconds per task",
                                 elem_id="wb-dash-seconds")
            notes["seconds"] = _note("seconds")
    gr.Markdown("### Operations (this process)")
    alerts = gr.Markdown("", elem_id="wb-dash-alerts")
    operations = gr.Dataframe(pd.DataFrame(columns=["metric", "last_hour", "last_day"]), interactive=False,
                              label="Turns, latency, fallbacks, grounding fixes, errors", elem_id="wb-dash-operations")
    return DashboardTab(refresh, per_day, per_annotator, item_like, reply_like, project, progress, agreement,
                        disagreements, operations, alerts, notes, quality, gold, labels, seconds)


def progress_markdown(overview: dict[str, Any] | None) -> str:
    if overview is None:
        return "*Pick a project to see its progress and agreement.*"
    p = overview["progress"]
    lines = [f"**{p['project']}**: {p['complete']} of {p['tasks']} tasks complete, overlap {p['overlap']}; "
             f"{p['submissions']} submissions, {p['skipped']} skipped"]
    for name, row in overview["per_annotator"].items():
        share = row["agreement_with_majority"]
        lines.append(f"- {name}: {row['units']} units, agreement with the majority "
                     f"{'n/a' if share is None else f'{share:.0%}'}")
    lines += versions_lines(overview.get("quality_report", {}).get("versions", {}))
    return "\n".join(lines)


def versions_lines(versions: dict[str, Any]) -> list[str]:
    """Alpha per guidelines version, once there is more than one (agreement split by version)."""
    if len(versions) < 2:
        return []
    out = ["", "Agreement by guidelines version:"]
    for version, row in versions.items():
        alphas = ", ".join(f"{q} {'n/a' if a is None else f'{a:.2f}'}" for q, a in row["alpha"].items())
        out.append(f"- version {version}: {row['submissions']} submissions; alpha {alphas}")
    return out


def frames(services: Services, project: str | None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every frame the tab shows for ``project`` (``None`` or a vanished one: the project part is
    empty) and the operations frame: the gradio-free half of :func:`refresh`."""
    chosen = project if project in project_names(services.projects) else None
    data = dashboard_data(services.store, services.projects, chosen)
    overview = data["overview"] or {}
    for name, columns in (("agreement", AGREEMENT_COLUMNS), ("disagreements", DISAGREEMENT_COLUMNS),
                          ("quality", QUALITY_COLUMNS), ("gold_accuracy", GOLD_COLUMNS), ("labels", LABEL_COLUMNS),
                          ("seconds", SECONDS_COLUMNS)):
        data[name] = overview.get(name, pd.DataFrame(columns=columns))
    data["chosen"] = chosen
    return data, operations_frame(services)


def refresh(services: Services, project: str | None) -> list[Any]:
    """The tab's outputs for ``project`` (kept while it exists; else none is shown)."""
    data, ops = frames(services, project)

    def plot(kind: type, name: str) -> Any:
        return kind(value=data[name], visible=not data[name].empty)

    notes = [empty_note(data[name], name) if data["chosen"] or name not in PROJECT_FRAMES else "" for name in NOTED]
    return [plot(gr.BarPlot, "per_day"), plot(gr.BarPlot, "per_annotator"), plot(gr.LinePlot, "item_like_rate"),
            plot(gr.LinePlot, "reply_like_rate"), gr.Dropdown(choices=data["projects"], value=data["chosen"]),
            progress_markdown(data["overview"]), data["agreement"], data["disagreements"], ops, alerts_markdown(ops),
            gr.Dataframe(value=data["quality"], visible=not data["quality"].empty),
            plot(gr.BarPlot, "gold_accuracy"), plot(gr.BarPlot, "labels"), plot(gr.BarPlot, "seconds"), *notes]


def alerts_markdown(ops: pd.DataFrame) -> str:
    """Active alerts, marked; the note when there are no numbers; else nothing."""
    if ops.attrs.get("note"):
        return f"*{ops.attrs['note']}*"
    return "\n".join(f"⚠ **{html.escape(a)}**" for a in ops.attrs.get("alerts", ()))


def wire(services: Services, demo: gr.Blocks, dash: DashboardTab, tab: gr.Tab) -> None:
    """Refresh on page load, when the tab is opened, on Refresh and when the project changes."""
    n_out = len(dash.outputs)

    @shows_errors(lambda *_a, **_k: [gr.skip()] * n_out)
    def on_refresh(project: str | None) -> list[Any]:
        return refresh(services, project)

    for event in (demo.load, tab.select, dash.refresh.click, dash.project.input):
        event(on_refresh, [dash.project], dash.outputs, api_visibility="private", show_progress="hidden")
