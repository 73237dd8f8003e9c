"""The turn recorder (:mod:`workbench.monitoring`): exact counts under concurrent turns, the
operations summary, and alerts that fire and clear once per crossing (issue 13)."""

from __future__ import annotations

import dataclasses
import logging
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families
from ui_support import make_services

from workbench.config import Settings
from workbench.dialogue.types import TurnResult
from workbench.errors import ConfigError
from workbench.monitoring import AlertThresholds, TurnRecorder
from workbench.monitoring.recorder import fallback_reason


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def scrape(recorder: TurnRecorder) -> dict[tuple[str, tuple], float]:
    """Every sample of the recorder's registry, by (sample name, sorted labels)."""
    from prometheus_client import generate_latest

    text = generate_latest(recorder.registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def total(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items())


def ok_turn(fixes: int = 0) -> TurnResult:
    return TurnResult("fine", intent="recommend", generator="transformers:fake",
                      grounding_fixes=fixes, grounding_fixes_by_kind={"title": fixes} if fixes else {})


def failed_turn() -> TurnResult:
    """What the engine returns when the fake LLM raised and the template answered."""
    return TurnResult("template reply", intent="recommend", generator="template", fell_back=True,
                      notes=("transformers:fake fell back to the template generator "
                             "(transformers:fake failed: RuntimeError: boom).",))


def test_counts_are_exact_with_concurrent_turns_from_threads():
    """prometheus_client and the window's lock keep every one of 8 x 250 concurrent turns."""
    rec = TurnRecorder()
    threads = [threading.Thread(target=lambda: [rec.record_turn(ok_turn(fixes=1), engine_s=0.01, generator_s=0.02)
                                                for _ in range(250)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples = scrape(rec)
    assert total(samples, "workbench_turns_total") == 2000
    for stage in ("engine", "generator", "turn"):
        assert total(samples, "workbench_turn_seconds_count", stage=stage) == 2000
    assert total(samples, "workbench_grounding_fixes_total", kind="title") == 2000
    summary = rec.operations_summary(3600)
    assert summary["turns"] == 2000 and summary["fixes_per_reply"] == 1.0 and summary["fallbacks"] == 0
    assert summary["latency_s"]["turn"]["p95"] == pytest.approx(0.03)


def test_watch_times_stages_and_counts_errors_once():
    rec = TurnRecorder()
    pieces = list(rec.watch(iter(["a", "b", ok_turn()])))
    assert pieces[:2] == ["a", "b"] and isinstance(pieces[2], TurnResult)

    def broken():
        yield "a"
        raise RuntimeError("mid-stream")

    with pytest.raises(RuntimeError):
        list(rec.watch(broken()))
    abandoned = rec.watch(iter(["a", "b", ok_turn()]))
    next(abandoned)
    abandoned.close()  # a client that went away: neither a turn nor an error
    samples = scrape(rec)
    assert total(samples, "workbench_turns_total") == 1
    assert total(samples, "workbench_errors_total", where="turn") == 1
    assert rec.operations_summary(60)["errors_by_where"] == {"turn": 1}


def test_fallback_label_is_the_reason_the_turn_declares():
    assert fallback_reason(TurnResult("r", fell_back=True, fallback_reason="timeout")) == "timeout"
    assert fallback_reason(TurnResult("r", fell_back=True)) == "error"  # an undeclared reason still counts


def test_fallback_alert_fires_once_and_clears_when_the_generator_recovers(tiny_catalog, tmp_path, caplog):
    """A fake LLM failing in more than 20% of the last 15 minutes' turns: one WARNING, a warning on the
    status line; after it recovers and the failures age out: one INFO, and the status line is clean."""
    clock = FakeClock()
    rec = TurnRecorder(AlertThresholds(fallback_share=0.2, window_s=900, min_turns=5), clock=clock)
    services = dataclasses.replace(make_services(tiny_catalog, tmp_path), monitor=rec)
    with caplog.at_level(logging.INFO, logger="workbench.monitoring.recorder"):
        for _ in range(8):
            rec.record_turn(ok_turn(), engine_s=0.1)
            clock.now += 10
        assert rec.alerts() == [] and "⚠" not in services.status()
        for _ in range(4):  # 4 of 12 = 33% fell back
            rec.record_turn(failed_turn(), engine_s=0.1)
            clock.now += 10
        for _ in range(3):  # still over the limit: asked again and again, logged once
            assert [a.name for a in rec.alerts()] == ["fallback_share"]
            assert "⚠ generator fallbacks 33% of turns over the last 15 min" in services.status()
        assert total(scrape(rec), "workbench_generator_fallbacks_total", reason="error") == 4
        clock.now += 900  # the failures age out of the window while the recovered LLM answers
        for _ in range(6):
            rec.record_turn(ok_turn(), engine_s=0.1)
        assert rec.alerts() == [] and "⚠" not in services.status()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    cleared = [r for r in caplog.records if r.levelno == logging.INFO and "alert cleared" in r.getMessage()]
    assert len(warnings) == 1 and "generator fallbacks" in warnings[0].getMessage()
    assert len(cleared) == 1


def test_latency_and_fixes_alerts_and_zero_switches_off():
    clock = FakeClock()
    rec = TurnRecorder(AlertThresholds(fallback_share=0, p95_turn_s=2.0, fixes_per_reply=1.0, min_turns=3),
                       clock=clock)
    for _ in range(5):
        rec.record_turn(failed_turn(), engine_s=1.0, generator_s=2.0)  # fallbacks: not judged (limit 0)
    assert [a.name for a in rec.alerts()] == ["p95_turn_s"]
    for _ in range(10):
        rec.record_turn(ok_turn(fixes=3), engine_s=0.1)
    assert sorted(a.name for a in rec.alerts()) == ["fixes_per_reply", "p95_turn_s"]


def test_too_few_turns_raise_no_alert():
    rec = TurnRecorder(AlertThresholds(min_turns=5))
    for _ in range(4):
        rec.record_turn(failed_turn(), engine_s=0.1)
    assert rec.alerts() == []


def test_operations_summary_and_per_minute_cover_only_the_window():
    clock = FakeClock(6000.0)
    rec = TurnRecorder(clock=clock)
    clock.now = 6000.0 + 3600
    rec.record_turn(ok_turn(), engine_s=0.5)
    clock.now += 120
    rec.record_turn(failed_turn(), engine_s=0.5, generator_s=0.5)
    rec.record_error("feedback")
    s = rec.operations_summary(60)
    assert s["turns"] == 1 and s["fallbacks"] == 1 and s["fallback_share"] == 1.0 and s["errors"] == 1
    assert s["turns_per_minute"] == 1.0
    assert s["latency_s"]["generator"] == {"p50": 0.5, "p95": 0.5}
    empty = TurnRecorder(clock=clock).operations_summary(60)
    assert empty["turns"] == 0 and empty["fallback_share"] is None and empty["latency_s"]["turn"]["p95"] is None
    assert [r["turns"] for r in rec.per_minute(3600)] == [1, 1]


def test_each_services_has_its_own_registry_and_llm_gauge(tiny_catalog, tmp_path):
    """Two apps in one process must not collide in prometheus_client's global registry."""
    a = make_services(tiny_catalog, tmp_path / "a")
    b = make_services(tiny_catalog, tmp_path / "b")
    assert a.monitor.registry is not b.monitor.registry
    assert total(scrape(a.monitor), "workbench_llm_ready") == 1.0  # the template answers
    llm = make_services(tiny_catalog, tmp_path / "c", generator="transformers")
    assert total(scrape(llm.monitor), "workbench_llm_ready") == 0.0  # nothing loaded yet
    llm.generators.start(wait=True)
    assert total(scrape(llm.monitor), "workbench_llm_ready") == 1.0


def test_metrics_route_only_when_switched_on(tiny_catalog, tmp_path):
    from workbench.ui import serving_options

    services = make_services(tiny_catalog, tmp_path)
    assert [r.path for r in serving_options(services.settings, services)["app_kwargs"]["routes"]] == ["/metrics"]
    off = dataclasses.replace(services.settings, metrics=False)
    assert "routes" not in serving_options(off, services)["app_kwargs"]
    assert "routes" not in serving_options(services.settings)["app_kwargs"]  # no routes without services


@pytest.mark.parametrize("bad", [{"alert_window_s": 0}, {"alert_fallback_share": -0.1},
                                 {"alert_p95_turn_s": float("nan")}, {"alert_min_turns": 0}])
def test_alert_settings_are_checked(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        Settings(**bad)
