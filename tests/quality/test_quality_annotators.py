"""Per-annotator quality: gold scoring, the Wilson interval, leave-one-out alpha, straight runs,
the Dashboard's frames and empty-state lines, and the ``/metrics`` collector.

Guards issue 28 parts 1 and 3: a random annotator among careful ones is flagged by gold accuracy
and by leave-one-out agreement on every store (SQLite and PostgreSQL); scoring counts every
expected judgement once and a blank as a miss; the interval brackets the share and narrows with
more judgements; the Dashboard shows rounded figures and a line instead of empty axes; the
collector serves the reports' numbers and recomputes them only after its TTL.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from projects_support import STORES, feedback, seed_project, use_kind
from quality_support import Clock, seed_team_project, simulate_team

from workbench.feedback import JsonlFeedbackStore
from workbench.projects.gold import gold_due, score_gold, wilson_interval
from workbench.projects.service import ProjectService
from workbench.quality.agreement import Judgement
from workbench.quality.annotators import leave_one_out, longest_straight_run, project_quality
from workbench.quality.dashboard import SHOWN_DIGITS, operations_frame, quality_frames

TEAM = {"ann": "careful", "bob": "careful", "cy": "careful", "dee": "random"}


@pytest.fixture(params=sorted(STORES))
def kind(request, tmp_path) -> str:
    return use_kind(request, request.param, tmp_path)


def test_a_random_annotator_is_flagged_by_gold_and_agreement_on_every_store(kind, tmp_path):
    clock = Clock()
    svc = ProjectService(STORES[kind](tmp_path, clock), feedback(kind, tmp_path))
    truths = seed_team_project(svc.store, tasks=24, gold=6, overlap=3, gold_rate=0.25)
    simulate_team(svc, "team", truths, TEAM, clock)
    report = project_quality(svc.store, "team")
    flagged = {name for name, row in report["annotators"].items() if row["flagged"]}
    assert flagged == {"dee"}
    reasons = " | ".join(report["annotators"]["dee"]["reasons"])
    assert "gold accuracy" in reasons and "higher without them" in reasons
    assert all(row["gold_seen"] == 6 for row in report["annotators"].values())


def test_gold_scoring_counts_every_expected_judgement_and_a_blank_misses():
    gold = {"judgements": {"1": {"label": "like", "rating": 5}, "3": {"label": "not_seen"}}, "reply_label": "like"}
    payload = {"slate": [{"item_id": "1", "label": "like", "rating": 4}, {"item_id": "3", "label": "not_seen"},
                         {"item_id": "8", "label": "dislike"}], "reply_label": None}
    assert score_gold(gold, payload) == (2, 4)  # label 1 and label 3 matched; rating 4 != 5; no reply label


def test_wilson_interval_brackets_the_share_and_narrows_with_n():
    assert wilson_interval(0, 0) is None
    lo, hi = wilson_interval(8, 10)
    assert lo < 0.8 < hi and 0 <= lo and hi <= 1
    lo2, hi2 = wilson_interval(80, 100)
    assert hi2 - lo2 < hi - lo
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and wilson_interval(0, 10)[0] == pytest.approx(0.0)
    assert math.isclose(wilson_interval(5, 10)[0], 0.2366, abs_tol=1e-3)  # the textbook value


def test_gold_due_keeps_one_gold_task_per_round_at_an_unpredictable_position():
    for who in ("ann", "bob", "cy"):
        gold = 0
        positions = []
        for answered in range(50):
            if gold_due("p", who, answered, gold, 0.2):
                gold += 1
                positions.append(answered % 5)
        assert gold == 10  # one per round of five
    assert not gold_due("p", "ann", 0, 0, 0.0)
    slots = {tuple(i for i in range(5) if gold_due("p", w, i, 0, 0.2)) for w in map(str, range(20))}
    assert len(slots) > 1  # the position within the round differs between annotators


def _j(task, who, value, q="item_label"):
    return Judgement(q, task, "1", who, value)


def test_leave_one_out_is_alpha_with_minus_alpha_without():
    judgements = []
    for t in range(10):
        truth = ["like", "dislike"][t % 2]
        judgements += [_j(f"t{t}", "a", truth), _j(f"t{t}", "b", truth), _j(f"t{t}", "c", truth)]
        judgements.append(_j(f"t{t}", "x", ["like", "dislike", "not_seen"][t % 3]))
    loo = leave_one_out(judgements)
    assert loo["x"]["by_question"]["item_label"]["alpha_without"] == 1.0
    assert loo["x"]["agreement"] < -0.1 < loo["a"]["agreement"]
    assert loo["x"]["agreement"] == pytest.approx(loo["x"]["by_question"]["item_label"]["alpha_all"] - 1.0)


def test_longest_straight_run_needs_the_same_answer_on_every_card():
    same = {"slate": [{"item_id": i, "label": "like", "rating": 5} for i in "138"]}
    mixed = {"slate": [{"item_id": "1", "label": "like"}, {"item_id": "3", "label": "dislike"}]}
    other = {"slate": [{"item_id": i, "label": "dislike"} for i in "13"]}
    assert longest_straight_run([same, same, mixed, same, same, same]) == 3
    assert longest_straight_run([same, other, same]) == 1  # uniform, but not the same answer each time
    assert longest_straight_run([{"slate": [{"item_id": "1"}, {"item_id": "3"}]}] * 4) == 0  # nothing judged


def test_quality_frames_round_every_figure_and_the_tab_shows_empty_lines(tmp_path):
    from workbench.projects.service import projects_path
    from workbench.projects.store import SQLiteProjectStore
    from workbench.ui.dashboard_tab import NOTED, refresh

    clock = Clock()
    svc = ProjectService(SQLiteProjectStore(projects_path(tmp_path), clock=clock), JsonlFeedbackStore(tmp_path))
    truths = seed_team_project(svc.store, tasks=12, gold=3, overlap=3, gold_rate=0.25)
    simulate_team(svc, "team", truths, TEAM, clock)
    frames = quality_frames(project_quality(svc.store, "team"))
    table = frames["quality"]
    assert list(table["annotator"]) == ["ann", "bob", "cy", "dee"]
    for column in ("gold accuracy", "agreement (Δα)", "not seen"):
        assert all(v is None or round(v, 2) == v for v in table[column])
    assert all(isinstance(v, int) for v in table["median s"])
    assert table.set_index("annotator").loc["dee", "flag"].startswith("⚑")
    assert set(frames["labels"]["label"]) == {"like", "dislike", "not_seen"}

    services = SimpleNamespace(store=JsonlFeedbackStore(tmp_path / "empty"), projects=svc)
    out = refresh(services, "team")
    notes = dict(zip(NOTED, out[-len(NOTED):], strict=True))
    assert out[0].visible is False and notes["per_day"] == "*No judgements saved yet.*"  # no axes, a line
    assert out[11].visible is True and notes["gold_accuracy"] == ""
    seed_project(svc.store, "fresh", tasks=2, overlap=1)
    notes = dict(zip(NOTED, refresh(services, "fresh")[-len(NOTED):], strict=True))
    assert notes["quality"] == "*No submissions in this project yet.*" and "project gold" in notes["gold_accuracy"]


def test_operations_figures_are_rounded():
    summary = {"turns": 3, "turns_per_minute": 5.319053172999929, "fallbacks": 0, "fixes_per_reply": 0.3333333333,
               "errors": 0, "alerts": [],
               "latency_s": {s: {"p50": 0.123456789, "p95": 12.3456789} for s in ("turn", "engine", "generator")}}
    monitor = SimpleNamespace(operations_summary=lambda window: summary)
    frame = operations_frame(SimpleNamespace(monitor=monitor)).set_index("metric")
    assert frame.loc["turns per minute", "last_hour"] == 5.32
    assert frame.loc["turn latency p50 (s)", "last_hour"] == 0.123
    assert frame.loc["turn latency p95 (s)", "last_hour"] == 12.3
    assert frame.loc["grounding fixes per reply", "last_hour"] == 0.33
    for value in frame["last_hour"]:
        assert value is None or len(repr(float(value)).split(".")[1]) <= SHOWN_DIGITS


def test_metrics_collector_serves_the_reports_and_caches_them():
    from prometheus_client import CollectorRegistry, generate_latest

    from workbench.monitoring.annotators import AnnotatorQualityCollector

    calls, now = [], [0.0]
    report = {"project": "p", "annotators": {"ann": {"gold_accuracy": 0.75, "gold_seen": 4, "submitted": 9,
                                                     "agreement": None, "median_seconds": 31.0, "flagged": True}}}

    def reports():
        calls.append(1)
        return [report]

    registry = CollectorRegistry()
    registry.register(AnnotatorQualityCollector(reports, ttl_s=30, clock=lambda: now[0]))
    assert calls == []  # nothing computed at registration
    text = generate_latest(registry).decode()
    assert 'workbench_annotator_gold_accuracy{annotator="ann",project="p"} 0.75' in text
    assert 'workbench_annotator_flagged{annotator="ann",project="p"} 1.0' in text
    assert "workbench_annotator_agreement_delta{" not in text  # undefined: no sample rather than a fake 0
    generate_latest(registry)
    now[0] = 31.0
    generate_latest(registry)
    assert len(calls) == 2


def test_the_dashboard_splits_agreement_by_guidelines_version():
    from workbench.ui.dashboard_tab import versions_lines

    assert versions_lines({"1": {"submissions": 3, "alpha": {"item_label": 0.5}}}) == []  # one version: nothing
    lines = versions_lines({"1": {"submissions": 3, "alpha": {"item_label": 0.5123}},
                            "2": {"submissions": 4, "alpha": {"item_label": None}}})
    assert lines[-2:] == ["- version 1: 3 submissions; alpha item_label 0.51",
                          "- version 2: 4 submissions; alpha item_label n/a"]
