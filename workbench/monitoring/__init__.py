"""Live monitoring: per-process Prometheus metrics, a window of recent turns, and alerts.

:class:`~workbench.monitoring.recorder.TurnRecorder` is what the turn code calls once per
finished turn; it feeds the ``/metrics`` endpoint, :func:`operations_summary` for the dashboard
and the alert thresholds shown on the status line. It knows turn results and clocks; it does not
know gradio or the web server.
"""

from workbench.monitoring.recorder import AlertThresholds, TurnRecorder, TurnSample

__all__ = ["AlertThresholds", "TurnRecorder", "TurnSample"]
