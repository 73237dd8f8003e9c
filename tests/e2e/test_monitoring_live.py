"""``/metrics`` on a live server: N turns through ``gradio_client``'s ``/chat`` give
``workbench_turns_total`` N and a turn-latency histogram of count N (issue 13)."""

from __future__ import annotations

import urllib.request

import gradio_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from ui_support import make_services, serve

N_TURNS = 3


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog
    from workbench.ui import build_demo, serving_options

    services = make_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path_factory.mktemp("feedback"))
    with serve(build_demo(services), **serving_options(services.settings, services)) as url:
        yield services, url


def scrape(url: str) -> dict[str, list]:
    with urllib.request.urlopen(url + "metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def test_metrics_count_turns_and_feedback_through_the_api(live):
    services, url = live
    client = gradio_client.Client(url, verbose=False, analytics_enabled=False, download_files=False)
    out = None
    for i in range(N_TURNS):
        out = client.predict(f"something like Toy Story, take {i}", out["session_id"] if out else "",
                             api_name="/chat")
    first = out["items"][0]["item_id"]
    client.predict(out["session_id"], out["turn"], "alice", {first: {"label": "like", "rating": 5}}, "like", "",
                   api_name="/feedback")
    metrics = scrape(url)
    assert sum(s.value for s in metrics["workbench_turns_total"]) == N_TURNS
    assert {s.labels["generator"] for s in metrics["workbench_turns_total"]} == {"template"}
    counts = {s.labels["stage"]: s.value for s in metrics["workbench_turn_seconds_count"]}
    assert counts == {"engine": N_TURNS, "generator": N_TURNS, "turn": N_TURNS}
    assert [(s.labels, s.value) for s in metrics["workbench_feedback_records_total"]] == [({"kind": "chat"}, 1)]
    assert [s.value for s in metrics["workbench_llm_ready"]] == [1.0]
    assert services.monitor.operations_summary(600)["turns"] == N_TURNS
