"""Chat-Rec Workbench: ``python app.py`` serves the app (also what Hugging Face Spaces runs).

Settings come from the environment (``WORKBENCH_*``; see docs/configuration.md), so this file stays tiny:
settings -> services -> demo -> launch. At shutdown (Ctrl-C, SIGTERM) every live session's
pending judgements that have an annotator are saved.
"""

import atexit
import logging
import signal

from workbench.chat.judgements import autosave_sessions
from workbench.config import Settings
from workbench.errors import WorkbenchError
from workbench.services import build_services
from workbench.ui import build_demo, launch_options, serving_options
from workbench.ui.app import live_sessions


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # Gradio's launch closes the server on it; then atexit saves


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        services = build_services(settings)
        demo = build_demo(services)  # reads the arena's systems file
    except WorkbenchError as exc:  # a bad setting or data file: say what, not a traceback
        raise SystemExit(f"error: {exc}") from None
    atexit.register(lambda: autosave_sessions(services, live_sessions(demo)))
    signal.signal(signal.SIGTERM, _stop)
    demo.launch(
        server_name=settings.resolved_host,
        server_port=settings.port,
        **serving_options(settings, services, demo),
        **launch_options(),
    )
