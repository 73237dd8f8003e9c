"""The Dashboard tab: judgements over time, like-rates per system, and a project's agreement.

Every number comes from :func:`workbench.quality.dashboard.dashboard_data` (gradio-free, the same
code the CLI and tests call); this module lays out Gradio's native plots and tables and refreshes
them when the tab opens, on page load and on **Refresh**.
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
    dashboard_data,
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

    @property
    def outputs(self) -> list[gr.components.Component]:
        return [self.per_day, self.per_annotator, self.item_like_rate, self.reply_like_rate, self.project,
                self.progress, self.agreement, self.disagreements, self.operations, self.alerts]


def build_dashboard_tab(services: Services) -> DashboardTab:
    """The tab's widgets (empty until the first refresh)."""
    refresh = gr.Button("Refresh", size="sm", elem_id="wb-dash-refresh")
    with gr.Row():
        per_day = gr.BarPlot(x="day", y="judgements", title="Judgements per day", elem_id="wb-dash-per-day")
        per_annotator = gr.BarPlot(x="annotator", y="judgements", title="Judgements per annotator",
                                   elem_id="wb-dash-per-annotator")
    with gr.Row():
        item_like = gr.LinePlot(x="day", y="like_rate", color="system", title="Like-rate of recommended items",
                                y_lim=[0, 1], elem_id="wb-dash-item-like")
        reply_like = gr.LinePlot(x="day", y="like_rate", color="system", title="Like-rate of replies",
                                 y_lim=[0, 1], elem_id="wb-dash-reply-like")
    gr.Markdown("### Project")
    project = gr.Dropdown(label="Project", choices=[], value=None, elem_id="wb-dash-project")
    progress = gr.Markdown("", elem_id="wb-dash-progress")
    agreement = gr.Dataframe(pd.DataFrame(columns=AGREEMENT_COLUMNS), label="Krippendorff's alpha per question",
                             interactive=False, elem_id="wb-dash-agreement")
    disagreements = gr.Dataframe(pd.DataFrame(columns=DISAGREEMENT_COLUMNS), label="Most split units",
                                 interactive=False, elem_id="wb-dash-disagreements")
    gr.Markdown("### Operations (this process)")
    alerts = gr.Markdown("", elem_id="wb-dash-alerts")
    operations = gr.Dataframe(pd.DataFrame(columns=["metric", "last_hour", "last_day"]), interactive=False,
                              label="Turns, latency, fallbacks, grounding fixes, errors", elem_id="wb-dash-operations")
    return DashboardTab(refresh, per_day, per_annotator, item_like, reply_like, project, progress, agreement,
                        disagreements, operations, alerts)


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
    return "\n".join(lines)


def refresh(services: Services, project: str | None) -> list[Any]:
    """The tab's outputs for ``project`` (kept while it exists; else none is shown)."""
    chosen = project if project in project_names(services.projects) else None
    data = dashboard_data(services.store, services.projects, chosen)
    ops = operations_frame(services)
    overview = data["overview"]
    agreement = overview["agreement"] if overview else pd.DataFrame(columns=AGREEMENT_COLUMNS)
    split = overview["disagreements"] if overview else pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    return [data["per_day"], data["per_annotator"], data["item_like_rate"], data["reply_like_rate"],
            gr.Dropdown(choices=data["projects"], value=chosen), progress_markdown(overview), agreement, split,
            ops, alerts_markdown(ops)]


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
