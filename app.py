"""Chat-Rec Workbench: ``python app.py`` serves the app (also what Hugging Face Spaces runs).

Settings come from the environment (``WORKBENCH_*``; see the README), so this file stays tiny:
settings -> services -> demo -> launch.
"""

import logging

from workbench.config import Settings
from workbench.errors import WorkbenchError
from workbench.services import build_services
from workbench.ui import build_demo, launch_options, serving_options

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        services = build_services(settings)
    except WorkbenchError as exc:  # a bad setting or data file: say what, not a traceback
        raise SystemExit(f"error: {exc}") from None
    demo = build_demo(services)
    demo.launch(
        server_name=settings.resolved_host,
        server_port=settings.port,
        show_error=False,
        **serving_options(settings, services),
        **launch_options(),
    )
