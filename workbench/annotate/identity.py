"""Who is annotating: the signed-in Hugging Face username, else the name typed in the field.

On a Space with ``hf_oauth: true`` (and gradio's OAuth extras installed) the UI
offers sign-in with Hugging Face; elsewhere annotators type a name. This module
decides which identity a judgement is saved under; it draws no widgets.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from workbench.errors import FeedbackError
from workbench.limits import MAX_ANNOTATOR_CHARS
from workbench.services import Services

log = logging.getLogger(__name__)


def resolve_annotator(name: str | None, profile: Any = None) -> str:
    """The signed-in Hugging Face username if any, else the name typed in the field."""
    if profile is not None:
        username = getattr(profile, "username", None)
        if username is None and isinstance(profile, dict):
            username = profile.get("preferred_username") or profile.get("username")
        if username:
            return str(username)
    name = " ".join((name or "").split())
    if len(name) > MAX_ANNOTATOR_CHARS:
        raise FeedbackError(f"annotator name has {len(name)} characters (limit {MAX_ANNOTATOR_CHARS})")
    return name


def hf_login_available(services: Services) -> bool:
    """Sign-in with Hugging Face: on a Space with ``hf_oauth: true`` and gradio's OAuth extras installed.

    Without the extras (``pip install "gradio[oauth]"``; Spaces install them), Gradio would fail
    at start-up, so the app falls back to the name field and logs why.
    """
    if not services.settings.use_hf_login:
        return False
    missing = [m for m in ("authlib", "itsdangerous") if importlib.util.find_spec(m) is None]
    if missing:
        log.warning("hf_oauth is on but %s is not installed (pip install 'gradio[oauth]'); "
                    "annotators type their name instead", ", ".join(missing))
        return False
    return True
