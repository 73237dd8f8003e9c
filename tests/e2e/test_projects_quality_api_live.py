"""Gold tasks, guidelines versions and per-annotator quality through a live server.

Guards issue 28 on the wire: through ``gradio_client``'s ``/next_task`` and ``/submit_task`` each
annotator meets every gold task exactly once and a gold task comes back in exactly the shape of
any other task; the progress the client sees does not count gold tasks; each submission records
the guidelines version it was made under (also after a new version mid-way); and ``/metrics``
serves each annotator's gold accuracy, gold tasks seen and flag from the project store.
"""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from quality_support import seed_team_project
from ui_support import make_services, serve

from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore

TASK_KEYS = {"task_id", "messages", "reply", "items", "progress"}
GOLD = ("t000", "t001")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import gradio_client
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog
    from workbench.ui import build_demo, serving_options

    feedback = tmp_path_factory.mktemp("feedback")
    services = make_services(Catalog(TINY_ITEMS, source="tiny"), feedback)
    services.projects = ProjectService(SQLiteProjectStore(projects_path(feedback)), services.store)
    truths = seed_team_project(services.projects.store, "g", tasks=6, gold=len(GOLD), overlap=2, gold_rate=0.5)
    with serve(build_demo(services), **serving_options(services.settings, services)) as url:
        yield services, url, gradio_client.Client(url, verbose=False, analytics_enabled=False,
                                                  download_files=False), truths


def _scrape(url: str) -> dict[tuple[str, str], dict[str, float]]:
    with urllib.request.urlopen(url + "metrics", timeout=10) as response:
        text = response.read().decode()
    out: dict[tuple[str, str], dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.startswith("workbench_annotator_") and s.labels.get("project") == "g":
                out.setdefault((s.name, s.labels["annotator"]), {})["value"] = s.value
    return {k: v["value"] for k, v in out.items()}


def _flip(truth: dict) -> dict:
    opposite = {"like": "dislike", "dislike": "like", "not_seen": "like"}
    return {i: {"label": opposite[m["label"]]} for i, m in truth["judgements"].items()}


def test_gold_tasks_on_the_wire_versions_and_metrics(live):
    services, url, client, truths = live
    seen: dict[str, list[str]] = {"alice": [], "bob": []}
    for step in range(6):
        if step == 2:  # new guidelines mid-way: later answers record version 2
            services.projects.store.add_guidelines("g", "# v2")
        for who in ("alice", "bob"):
            task = client.predict("g", who, api_name="/next_task")
            if task.get("done"):
                continue
            assert set(task) == TASK_KEYS and len(task["items"]) == 3
            assert task["progress"]["tasks"] == 6 - len(GOLD)
            truth = truths[task["task_id"]]
            marks = truth["judgements"] if who == "alice" else _flip(truth)
            client.predict("g", task["task_id"], who, marks, truth["reply_label"] if who == "alice" else "",
                           "", api_name="/submit_task")
            seen[who].append(task["task_id"])
    for who, tasks in seen.items():
        assert sorted(tasks) == sorted(truths), who  # with two annotators and overlap 2 each sees every task
        assert sum(t in GOLD for t in tasks) == len(GOLD)
    versions = sorted((s.annotator, s.guidelines_version) for s in services.projects.store.submissions("g"))
    assert versions == [("alice", 1)] * 2 + [("alice", 2)] * 4 + [("bob", 1)] * 2 + [("bob", 2)] * 4

    metrics = _scrape(url)
    assert metrics[("workbench_annotator_gold_accuracy", "alice")] == 1.0
    assert metrics[("workbench_annotator_gold_accuracy", "bob")] < 0.5
    assert metrics[("workbench_annotator_gold_seen", "alice")] == metrics[("workbench_annotator_gold_seen", "bob")] == 2
    assert metrics[("workbench_annotator_submitted", "alice")] == 4
    assert metrics[("workbench_annotator_flagged", "alice")] == 0.0
    # bob is not flagged yet: 2 gold tasks are under min_gold_tasks (3), and with two annotators the
    # alpha without one of them is undefined, so there is no agreement drop to judge
    assert metrics[("workbench_annotator_flagged", "bob")] == 0.0
    assert ("workbench_annotator_agreement_delta", "bob") not in metrics
