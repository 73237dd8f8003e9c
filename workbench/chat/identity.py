"""Who is annotating: the signed-in user when there is sign-in, else the name typed in the field.

On a Space with ``hf_oauth: true`` (and gradio's OAuth extras installed) the UI
offers sign-in with Hugging Face; with ``WORKBENCH_AUTH`` everyone logs in. With
either on, the annotator is the signed-in user, full stop: a typed name never
overrides it, and without sign-in nothing is saved (:func:`identify`). Elsewhere
annotators type a name. This module decides which identity a judgement is saved
under; it draws no widgets and reads the request and profile by duck typing.
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


def signed_in_user(profile: Any = None, request: Any = None) -> str:
    """The authenticated username: the password login's (``request.username``), else the OAuth profile's."""
    user = getattr(request, "username", None)
    if user:
        return str(user)
    return resolve_annotator("", profile) if profile is not None else ""


def sign_in_required(services: Services) -> bool:
    """Judgements are attributed to signed-in users only (auth or Hugging Face sign-in is on)."""
    return bool(services.settings.auth) or hf_login_available(services)


def identify(services: Services, name: Any, profile: Any = None, request: Any = None, *,
             refuse_other_name: bool = False, required: bool = True) -> str:
    """Who a judgement is saved under.

    With sign-in on (:func:`sign_in_required`) it is the signed-in user: a typed ``name`` is
    ignored, or refused when ``refuse_other_name`` (the API, where a differing name is a caller's
    mistake worth saying), and with nobody signed in this raises (or returns ``""`` when not
    ``required``: a turn may run, nothing is attributed). Without sign-in it is ``name``.

    Raises:
        FeedbackError: naming the problem (not signed in, a name that is not the signed-in user).
    """
    if name is not None and not isinstance(name, str):
        raise FeedbackError(f"annotator: expected a name (text), got {type(name).__name__} {name!r:.80}")
    user = signed_in_user(profile, request)
    if not sign_in_required(services):
        return resolve_annotator(name) if not user else user
    if not user:
        if not required:
            return ""
        raise FeedbackError(
            "annotator: sign in first; on this server judgements are saved under the signed-in user"
        )
    typed = " ".join((name or "").split())
    if refuse_other_name and typed and typed != user:
        raise FeedbackError(
            f"annotator: {typed[:80]!r} is not the signed-in user {user!r}; "
            "leave it empty (judgements are saved under the signed-in user)"
        )
    return user


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
