"""Checks of the judgement values a client sends, shared by every endpoint that takes them.

``/feedback`` (:mod:`workbench.ui.api`) and the project endpoints and commands
(:mod:`workbench.projects.service`) both take judgements as JSON,
``item_id -> {"label": "like" | "dislike" | "not_seen", "rating": 1-5}``. JSON may carry anything
(a list for a label, ``true`` or ``NaN`` for a rating), so each value is checked here, in one
place and with one wording, and the message names the field and the value it refused.
The record's own checks (:func:`~workbench.feedback.record.validate_record`) still run when the
record is built; these come first because they can name the field the client typed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import FeedbackError, WorkbenchError
from workbench.feedback.record import ITEM_LABELS, RATING_MAX, RATING_MIN

__all__ = ["CARD_KEYS", "check_int", "check_judgement", "check_judgements", "check_text", "shown"]

#: The keys one item's judgement may have.
CARD_KEYS = ("label", "rating")


def shown(value: Any) -> str:
    """``value`` as a message shows it: its repr, cut at 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_text(field: str, value: Any, *, optional: bool = True,
               error: type[WorkbenchError] = WorkbenchError) -> str:
    """``value`` as text: a string (``None`` is empty when ``optional``) of valid Unicode."""
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise error(f"{field}: expected text, got {type(value).__name__} {shown(value)}")
    bad = next((i for i, ch in enumerate(value) if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if bad is not None:  # a lone surrogate cannot be encoded in the reply or a record
        raise error(f"{field}: invalid Unicode (a lone surrogate) at character {bad}")
    return value


def check_int(field: str, value: Any, lo: int, hi: int, hint: str = "",
              error: type[WorkbenchError] = WorkbenchError) -> int:
    """``value`` as an integer in ``lo..hi`` (an integral float such as ``2.0`` is accepted; a bool is not)."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and int(value) == value
        and lo <= value <= hi
    )
    if not ok:
        raise error(f"{field}: expected an integer {lo}-{hi}{hint}, got {shown(value)}")
    return int(value)


def check_judgement(where: str, item_id: Any, value: Any,
                    error: type[WorkbenchError] = FeedbackError) -> tuple[str | None, int | None]:
    """One item's judgement ``{"label", "rating"}`` as ``(label, rating)``; either may be ``None``.

    An empty label or rating (``None`` or ``""``) means "not given"; a rating of 0 is refused, as
    is any value outside :data:`~workbench.feedback.record.ITEM_LABELS` or 1-5.
    """
    at = f"{where}[{shown(item_id)}]"
    if not isinstance(item_id, str):
        raise error(f"{at}: item ids must be strings")
    if not isinstance(value, Mapping):
        raise error(f"{at}: expected {{\"label\": ..., \"rating\": ...}}, got {shown(value)}")
    unknown = set(value) - set(CARD_KEYS)
    if unknown:
        raise error(f"{at}: unknown key {sorted(map(str, unknown))[0]!r} (allowed: {', '.join(CARD_KEYS)})")
    label = check_text(f"{at}.label", value.get("label"), error=error) or None
    if label is not None and label not in ITEM_LABELS:
        raise error(f"{at}.label: must be one of {', '.join(ITEM_LABELS)}, got {shown(label)}")
    rating = value.get("rating")
    rating = None if rating in (None, "") else check_int(f"{at}.rating", rating, RATING_MIN, RATING_MAX,
                                                          error=error)
    return label, rating


def check_judgements(judgements: Any, where: str = "judgements", *, slate: Sequence[str] | None = None,
                     slate_name: str = "this slate",
                     error: type[WorkbenchError] = FeedbackError) -> list[tuple[str, str | None, int | None]]:
    """``item_id -> {"label", "rating"}`` as ``[(item_id, label, rating)]``, judged items only.

    ``None`` or ``""`` is no judgements. With ``slate``, an item not on it is refused by name
    (``slate_name`` says which slate, e.g. "this task's slate").
    """
    if judgements in (None, ""):
        return []
    if not isinstance(judgements, Mapping):
        raise error(f"{where}: expected an object item_id -> {{\"label\": ..., \"rating\": ...}}, "
                    f"got {type(judgements).__name__} {shown(judgements)}")
    out = []
    for item_id, value in judgements.items():
        label, rating = check_judgement(where, item_id, value, error)
        if slate is not None and item_id not in slate:
            raise error(f"{where}[{shown(item_id)}]: item {item_id!r} is not on {slate_name} ({', '.join(slate)})")
        if label is not None or rating is not None:
            out.append((item_id, label, rating))
    return out
