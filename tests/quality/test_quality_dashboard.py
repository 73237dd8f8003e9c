"""The Dashboard's numbers (gradio-free frames) on a seeded store and project, and the tab's refresh
handler called as a plain function (the frames it returns are what the plots show)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from test_quality_agreement import seeded_project

from workbench.feedback import JsonlFeedbackStore
from workbench.feedback.record import make_record
from workbench.quality.dashboard import (
    dashboard_data,
    feedback_frames,
    operations_frame,
    project_overview,
    system_of,
)


def chat_record(annotator: str, day: str, backend: str, item_labels: list[str], reply_label: str | None):
    rec = make_record(annotator=annotator, session_id=f"s-{annotator}", turn_index=0, conversation=[],
                      user_message="hi", reply="Try these.", generator_backend=backend, generator_model="",
                      slate=[{"item_id": str(i), "title": f"Film {i}", "rank": i + 1, "score": 1.0}
                             for i in range(len(item_labels))],
                      judgements={str(i): {"label": lab} for i, lab in enumerate(item_labels)},
                      reply_label=reply_label, index_id="idx@1")
    return dataclasses.replace(rec, created_at=f"{day}T12:00:00+00:00")


RECORDS = [
    chat_record("ann", "2024-03-01", "template", ["like", "dislike", "not_seen"], "like"),
    chat_record("bob", "2024-03-01", "template", ["like", "like"], "dislike"),
    chat_record("ann", "2024-03-02", "transformers", ["dislike"], None),
]


def test_judgements_per_day_and_per_annotator():
    frames = feedback_frames(RECORDS)
    assert frames["per_day"].to_dict("records") == [{"day": "2024-03-01", "judgements": 2},
                                                    {"day": "2024-03-02", "judgements": 1}]
    assert frames["per_annotator"].to_dict("records") == [{"annotator": "ann", "judgements": 2},
                                                          {"annotator": "bob", "judgements": 1}]


def test_like_rates_per_day_and_system_ignore_not_seen():
    frames = feedback_frames(RECORDS)
    items = frames["item_like_rate"].to_dict("records")
    assert items == [{"day": "2024-03-01", "system": "template @ idx@1", "like_rate": pytest.approx(0.75),
                      "judged": 4},
                     {"day": "2024-03-02", "system": "transformers @ idx@1", "like_rate": 0.0, "judged": 1}]
    replies = frames["reply_like_rate"].to_dict("records")
    assert replies == [{"day": "2024-03-01", "system": "template @ idx@1", "like_rate": 0.5, "judged": 2}]
    assert system_of(RECORDS[0]) == "template @ idx@1"


def test_empty_store_gives_empty_frames_with_their_columns():
    frames = feedback_frames([])
    assert all(f.empty for f in frames.values())
    assert list(frames["item_like_rate"].columns) == ["day", "system", "like_rate", "judged"]
    assert operations_frame(None).empty and operations_frame(None).attrs["note"]


def test_project_overview_and_dashboard_data_on_a_seeded_project(tmp_path):
    svc = seeded_project(tmp_path)
    overview = project_overview(svc, "p")
    assert overview["progress"]["complete"] == 3
    assert list(overview["agreement"]["question"]) == ["item_label", "item_rating", "reply_label"]
    assert list(overview["agreement"]["units"]) == [6, 3, 3]
    split = overview["disagreements"]
    assert {"t02"} <= set(split["task_id"]) and "(reply)" in set(split["item_id"])
    data = dashboard_data(JsonlFeedbackStore(tmp_path), svc, "p")
    assert data["projects"] == ["p"] and int(data["per_annotator"]["judgements"].sum()) == 6
    assert data["overview"]["progress_frame"].to_dict("records") == [
        {"annotator": "a", "submitted": 3, "skipped": 0}, {"annotator": "b", "submitted": 3, "skipped": 0}]


def test_tab_refresh_handler_returns_the_core_frames(tmp_path):
    from workbench.ui.dashboard_tab import refresh

    svc = seeded_project(tmp_path)
    services = SimpleNamespace(store=JsonlFeedbackStore(tmp_path), projects=svc)
    per_day, per_annotator, _items, _replies, dropdown, progress, agreement, split, ops, alerts = \
        refresh(services, "p")[:10]
    assert isinstance(per_day.value, dict) and per_day.visible is True
    assert "3 of 3 tasks complete" in progress and "agreement with the majority" in progress
    assert len(agreement) == 3 and not split.empty
    assert refresh(services, "gone")[5].startswith("*Pick a project")
    assert ops.empty and alerts.startswith("*No turn recorder")  # a server without a recorder says so


def test_operations_panel_reads_the_turn_recorder(tiny_catalog, tmp_path):
    """The Dashboard's operations table counts the turns this process ran (UI and /chat code path)."""
    from ui_support import make_services

    from workbench.chat.turns import TurnPrefs, new_session, stream_turn

    services = make_services(tiny_catalog, tmp_path / "feedback")
    session = new_session(services)
    for message in ("Toy Story", "something like Heat"):
        for _ in stream_turn(services, session, message, TurnPrefs(k=3)):
            pass
    frame = operations_frame(services).set_index("metric")
    assert frame.loc["turns", "last_hour"] == 2 and frame.loc["turns", "last_day"] == 2
    assert frame.loc["turn latency p95 (s)", "last_hour"] >= frame.loc["turn latency p50 (s)", "last_hour"] > 0
    assert frame.loc["errors", "last_hour"] == 0
    assert "note" not in frame.attrs and frame.attrs["alerts"] == []
