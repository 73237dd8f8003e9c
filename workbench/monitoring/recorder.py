"""The turn recorder: Prometheus metrics for one process, a window of recent turns, alerts.

The turn code calls :meth:`TurnRecorder.watch` around an engine turn's stream (or
:meth:`TurnRecorder.record_turn` with timings it measured itself) once per turn. The recorder

* counts into its own :class:`prometheus_client.CollectorRegistry` (one per
  :class:`~workbench.services.Services`, never the global default registry, so several apps in
  one process do not collide); the web server exposes it at ``/metrics``;
* keeps a bounded window of recent turns (:class:`TurnSample`) and errors, from which
  :meth:`~TurnRecorder.operations_summary` computes what the dashboard shows;
* checks the :class:`AlertThresholds` over the last ``window_s`` seconds after every turn and
  whenever :meth:`~TurnRecorder.alerts` is asked, writing one WARNING log line when a threshold
  is crossed and one INFO line when it clears.

prometheus_client's metrics are thread-safe, and the window is guarded by a lock, so concurrent
turns are counted exactly. It knows turn results, clocks and metric names; it does not know gradio,
the web server or the feedback store.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter as Tally
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from workbench.dialogue.types import TurnResult

log = logging.getLogger(__name__)

#: Recent turns kept for the dashboard and the alerts (older ones drop off first).
MAX_RECENT_TURNS = 20_000
#: Recent errors kept likewise.
MAX_RECENT_ERRORS = 2_000
#: Longest label value (a generator's ``backend:model``) put on a metric.
MAX_LABEL_CHARS = 120
#: The stages of ``workbench_turn_seconds``: until the first reply piece (understanding, ranking,
#: explaining and the generator's first piece), from there to the end of the reply, and both.
STAGES = ("engine", "generator", "turn")
#: Histogram buckets of ``workbench_turn_seconds`` (seconds).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
#: ``workbench_generator_fallbacks_total`` reasons, read from the fallback note of a turn.
FALLBACK_REASONS = ("timeout", "empty", "error", "grounding")


@dataclass(frozen=True)
class TurnSample:
    """One finished turn, as the window keeps it."""

    at: float  # the recorder's clock when the turn ended (seconds since the epoch by default)
    engine_s: float
    generator_s: float
    generator: str
    intent: str
    fell_back: bool
    fixes: int  # grounding fixes of every kind

    @property
    def turn_s(self) -> float:
        return self.engine_s + self.generator_s


@dataclass(frozen=True)
class AlertThresholds:
    """When the status line warns. A limit of 0 switches that alert off.

    Each is judged over the turns of the last ``window_s`` seconds, and only once at least
    ``min_turns`` turns ended there (one fallback in one turn is not a 100% fallback rate).
    """

    fallback_share: float = 0.2
    p95_turn_s: float = 30.0
    fixes_per_reply: float = 1.0
    window_s: float = 900.0
    min_turns: int = 5

    @classmethod
    def from_settings(cls, settings: Any) -> AlertThresholds:
        """The thresholds of :class:`~workbench.config.Settings` (``alert_*``)."""
        return cls(
            fallback_share=settings.alert_fallback_share, p95_turn_s=settings.alert_p95_turn_s,
            fixes_per_reply=settings.alert_fixes_per_reply, window_s=settings.alert_window_s,
            min_turns=settings.alert_min_turns,
        )


#: Alert names, what each measures, and how its value is shown.
_ALERTS: dict[str, tuple[str, Callable[[float], str]]] = {
    "fallback_share": ("generator fallbacks", lambda v: f"{v:.0%} of turns"),
    "p95_turn_s": ("p95 turn latency", lambda v: f"{v:.1f}s"),
    "fixes_per_reply": ("grounding fixes", lambda v: f"{v:.2f} per reply"),
}


@dataclass(frozen=True)
class Alert:
    """A threshold crossed: its name (an :class:`AlertThresholds` field), the value and the limit."""

    name: str
    value: float
    limit: float
    window_s: float
    turns: int

    def message(self) -> str:
        what, show = _ALERTS[self.name]
        return (f"{what} {show(self.value)} over the last {_duration(self.window_s)} "
                f"({self.turns} turns; limit {show(self.limit)})")


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def fallback_reason(result: TurnResult) -> str:
    """Why a turn fell back, as a ``workbench_generator_fallbacks_total`` label (:data:`FALLBACK_REASONS`):
    the reason the generator layer (or the engine, for an emptied reply) declared on the result."""
    return result.fallback_reason or "error"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values`` by linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class TurnRecorder:
    """Metrics, recent turns and alerts of one app (see the module docstring).

    Args:
        thresholds: when to warn (default: :class:`AlertThresholds`' defaults).
        clock: wall-clock time in seconds, for the window (tests inject a fake one).
        max_turns: how many recent turns the window keeps.
    """

    def __init__(self, thresholds: AlertThresholds | None = None, *, clock: Callable[[], float] = time.time,
                 max_turns: int = MAX_RECENT_TURNS):
        self.thresholds = thresholds or AlertThresholds()
        self.clock = clock
        self.started = clock()
        self.registry = CollectorRegistry()
        r = self.registry
        self.turns = Counter("workbench_turns", "Finished dialogue turns.", ["generator", "intent"], registry=r)
        self.turn_seconds = Histogram(
            "workbench_turn_seconds", "Turn latency by stage: engine (until the first reply piece), "
            "generator (the rest of the reply), turn (both).", ["stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.fallbacks = Counter("workbench_generator_fallbacks", "Turns where the template generator "
                                 "took over from an LLM, by reason.", ["reason"], registry=r)
        self.grounding_fixes = Counter("workbench_grounding_fixes", "Sentences or titles the grounder "
                                       "removed or corrected, by kind.", ["kind"], registry=r)
        self.feedback_records = Counter("workbench_feedback_records", "Feedback records saved, by kind "
                                        "(chat, project).", ["kind"], registry=r)
        self.errors = Counter("workbench_errors", "Failures, by where they happened.", ["where"], registry=r)
        self.llm_ready = Gauge("workbench_llm_ready", "1 when the configured generator answers turns, "
                               "0 while its LLM loads or after it failed.", registry=r)
        self._turns: deque[TurnSample] = deque(maxlen=max_turns)
        self._errors: deque[tuple[float, str]] = deque(maxlen=MAX_RECENT_ERRORS)
        self._lock = threading.Lock()  # guards both windows
        self._alert_lock = threading.Lock()  # one log line per crossing, however many threads check
        self._active: dict[str, Alert] = {}

    # recording ----------------------------------------------------------
    def watch(self, pieces: Iterable[Any]) -> Iterator[Any]:
        """Pass an engine turn's stream through unchanged, recording the turn at its :class:`TurnResult`.

        The time until the first piece is the ``engine`` stage, the rest the ``generator`` stage.
        An exception is counted in ``workbench_errors_total{where="turn"}`` and re-raised; a stream
        abandoned by its consumer records nothing.
        """
        start = time.perf_counter()
        first: float | None = None
        try:
            for piece in pieces:
                now = time.perf_counter()
                if first is None:
                    first = now
                if isinstance(piece, TurnResult):
                    self.record_turn(piece, engine_s=first - start, generator_s=now - first)
                yield piece
        except Exception:
            self.record_error("turn")
            raise

    def record_turn(self, result: TurnResult, *, engine_s: float, generator_s: float = 0.0) -> None:
        """Count one finished turn that took ``engine_s`` + ``generator_s`` seconds."""
        generator = str(result.generator)[:MAX_LABEL_CHARS]
        self.turns.labels(generator, result.intent).inc()
        for stage, seconds in zip(STAGES, (engine_s, generator_s, engine_s + generator_s), strict=True):
            self.turn_seconds.labels(stage).observe(seconds)
        if result.fell_back:
            self.fallbacks.labels(fallback_reason(result)).inc()
        by_kind = {k: n for k, n in result.grounding_fixes_by_kind.items() if n > 0}
        for kind, n in by_kind.items():
            self.grounding_fixes.labels(kind).inc(n)
        sample = TurnSample(self.clock(), engine_s, generator_s, generator, result.intent, result.fell_back,
                            sum(by_kind.values()) if by_kind else result.grounding_fixes)
        with self._lock:
            self._turns.append(sample)
        self.alerts()

    def record_error(self, where: str) -> None:
        """Count one failure at ``where`` (``turn``, ``feedback``...)."""
        self.errors.labels(where).inc()
        with self._lock:
            self._errors.append((self.clock(), where))

    def record_feedback(self, records: Iterable[Any]) -> None:
        """Count saved feedback records: kind ``project`` for a project's, else ``chat``.

        The feedback store calls this after each durable write (``JsonlFeedbackStore.on_append``).
        """
        for record in records:
            self.feedback_records.labels("project" if getattr(record, "project", "") else "chat").inc()

    def watch_llm(self, ready: Callable[[], bool]) -> None:
        """Let ``workbench_llm_ready`` ask ``ready()`` at every scrape."""
        self.llm_ready.set_function(lambda: 1.0 if ready() else 0.0)

    # reading ------------------------------------------------------------
    def recent(self, window_s: float) -> list[TurnSample]:
        """The turns that ended in the last ``window_s`` seconds, oldest first."""
        since = self.clock() - window_s
        with self._lock:
            return [s for s in self._turns if s.at >= since]

    def _recent_errors(self, window_s: float) -> list[str]:
        since = self.clock() - window_s
        with self._lock:
            return [where for at, where in self._errors if at >= since]

    def operations_summary(self, window_s: float = 3600.0) -> dict[str, Any]:
        """What the dashboard shows for the last ``window_s`` seconds.

        Returns a dict: ``window_s``, ``turns``, ``turns_per_minute`` (over the window, or the
        time since start-up when shorter), ``latency_s`` (``{stage: {"p50", "p95"}}``, None
        without turns), ``fallbacks``, ``fallback_share``, ``grounding_fixes``,
        ``fixes_per_reply`` (None without turns), ``errors``, ``errors_by_where`` and ``alerts``
        (the messages of the alerts active now, judged over the alert window).
        """
        samples = self.recent(window_s)
        errors = self._recent_errors(window_s)
        n = len(samples)
        span = max(1e-9, min(window_s, self.clock() - self.started))
        stage_values = {"engine": [s.engine_s for s in samples], "generator": [s.generator_s for s in samples],
                        "turn": [s.turn_s for s in samples]}
        fallbacks = sum(s.fell_back for s in samples)
        fixes = sum(s.fixes for s in samples)
        return {
            "window_s": window_s,
            "turns": n,
            "turns_per_minute": n * 60.0 / span,
            "latency_s": {stage: {"p50": percentile(v, 50), "p95": percentile(v, 95)}
                          for stage, v in stage_values.items()},
            "fallbacks": fallbacks,
            "fallback_share": fallbacks / n if n else None,
            "grounding_fixes": fixes,
            "fixes_per_reply": fixes / n if n else None,
            "errors": len(errors),
            "errors_by_where": dict(Tally(errors)),
            "alerts": [a.message() for a in self.alerts()],
        }

    def per_minute(self, window_s: float = 3600.0) -> list[dict[str, Any]]:
        """One row per minute with turns in the last ``window_s`` seconds, for plots.

        Each row: ``minute`` (clock seconds at the minute's start), ``turns``, ``fallbacks``,
        ``grounding_fixes``, ``p95_turn_s``.
        """
        rows: dict[int, list[TurnSample]] = {}
        for s in self.recent(window_s):
            rows.setdefault(int(s.at // 60) * 60, []).append(s)
        return [{"minute": m, "turns": len(ss), "fallbacks": sum(s.fell_back for s in ss),
                 "grounding_fixes": sum(s.fixes for s in ss), "p95_turn_s": percentile([s.turn_s for s in ss], 95)}
                for m, ss in sorted(rows.items())]

    # alerts -------------------------------------------------------------
    def _values(self, samples: Sequence[TurnSample]) -> Mapping[str, float]:
        n = len(samples)
        return {
            "fallback_share": sum(s.fell_back for s in samples) / n,
            "p95_turn_s": percentile([s.turn_s for s in samples], 95) or 0.0,
            "fixes_per_reply": sum(s.fixes for s in samples) / n,
        }

    def alerts(self) -> list[Alert]:
        """The thresholds crossed now, over the alert window.

        Logs a WARNING when one is newly crossed and an INFO when one clears, once per change
        however many threads ask.
        """
        t = self.thresholds
        samples = self.recent(t.window_s)
        crossed: dict[str, Alert] = {}
        if len(samples) >= max(1, t.min_turns):
            for name, value in self._values(samples).items():
                limit = getattr(t, name)
                if limit > 0 and value > limit:
                    crossed[name] = Alert(name, value, limit, t.window_s, len(samples))
        with self._alert_lock:
            for name, alert in crossed.items():
                if name not in self._active:
                    log.warning("alert: %s", alert.message())
            for name, was in self._active.items():
                if name not in crossed:
                    log.info("alert cleared: %s (was %s)", _ALERTS[name][0], was.message())
            self._active = crossed
        return list(crossed.values())
