"""The ``/metrics`` route: one recorder's registry in Prometheus' text format.

A plain Starlette route, so that it can go into the FastAPI app Gradio creates at launch
(``app_kwargs={"routes": [...]}``, see :func:`workbench.ui.app.serving_options`). It knows the
registry and HTTP; it does not know gradio or what the metrics mean.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

#: Where the metrics are served.
METRICS_PATH = "/metrics"


def metrics_route(registry: CollectorRegistry, path: str = METRICS_PATH) -> Any:
    """A ``starlette.routing.Route`` serving ``registry`` at ``path`` (GET)."""
    from starlette.responses import Response
    from starlette.routing import Route

    def metrics(request: Any) -> Response:  # sync: Starlette runs it in its thread pool
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route(path, metrics, methods=["GET"], include_in_schema=False)
