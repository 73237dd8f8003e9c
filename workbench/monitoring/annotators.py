"""Per-annotator quality as Prometheus gauges, computed when ``/metrics`` is scraped.

:class:`AnnotatorQualityCollector` is a custom prometheus_client collector: at each scrape it
asks a callable for the quality reports of every project (the dicts of
:func:`workbench.quality.annotators.project_quality`) and yields one gauge family per figure,
labelled ``project`` and ``annotator``. The answers and gold tasks live in the project store, not
in this process, so every replica serves the same numbers. Reports are cached for ``ttl_s``
seconds: a scrape every few seconds does not recompute alpha each time.

It knows metric names and report keys; it does not know the project store or gradio.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

#: How long a computed set of reports is served before it is computed again (seconds).
QUALITY_TTL_S = 30.0
#: (metric name, help, report key) of the per-annotator gauges.
GAUGES = (
    ("workbench_annotator_gold_accuracy", "Share of gold-task judgements the annotator matched.", "gold_accuracy"),
    ("workbench_annotator_gold_seen", "Gold tasks the annotator submitted.", "gold_seen"),
    ("workbench_annotator_submitted", "Ordinary (not gold) tasks the annotator submitted.", "submitted"),
    ("workbench_annotator_agreement_delta", "The project's Krippendorff alpha minus its alpha without the "
     "annotator (negative: the others agree more without them).", "agreement"),
    ("workbench_annotator_median_seconds", "Median seconds from claiming a task to submitting it.", "median_seconds"),
    ("workbench_annotator_flagged", "1 when the annotator is flagged (gold accuracy, agreement or "
     "straight-lining), else 0.", "flagged"),
)


class AnnotatorQualityCollector:
    """Gauges of ``reports()`` (an iterable of quality report dicts), cached for ``ttl_s`` seconds."""

    def __init__(self, reports: Callable[[], Iterable[Mapping[str, Any]]], *, ttl_s: float = QUALITY_TTL_S,
                 clock: Callable[[], float] = time.monotonic):
        self.reports = reports
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Mapping[str, Any]]] | None = None

    def describe(self) -> list[Any]:
        return []  # nothing is computed when the collector is registered

    def _current(self) -> list[Mapping[str, Any]]:
        with self._lock:
            now = self.clock()
            if self._cached is None or now - self._cached[0] >= self.ttl_s:
                try:
                    self._cached = (now, list(self.reports()))
                except Exception:  # a scrape must not fail because one project store hiccuped
                    log.exception("annotator quality metrics: could not compute the reports")
                    return self._cached[1] if self._cached else []
            return self._cached[1]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reports = self._current()
        for name, help_text, key in GAUGES:
            family = GaugeMetricFamily(name, help_text, labels=["project", "annotator"])
            for report in reports:
                for annotator, row in report["annotators"].items():
                    value = row.get(key)
                    if value is not None:
                        family.add_metric([report["project"], annotator], float(value))
            yield family
