"""Feedback: annotators' judgements as records, a crash-safe store, and dataset exports.

``record`` (the :class:`FeedbackRecord` and its ``datasets`` schema), ``store``
(append-only JSONL shards, optional Hub sync), ``export`` (hf, parquet, jsonl,
sft, dpo, triplets) and ``stats`` (counts). Importing this package imports
neither ``datasets`` nor ``huggingface_hub``.
"""

from __future__ import annotations

from typing import Any

from workbench.feedback.record import (
    ITEM_LABELS,
    MAX_COMMENT_CHARS,
    MAX_MESSAGE_CHARS,
    RATING_MAX,
    RATING_MIN,
    REPLY_LABELS,
    SCHEMA_VERSION,
    FeedbackRecord,
    ItemJudgement,
    make_record,
    validate_record,
)
from workbench.feedback.store import BadLine, JsonlFeedbackStore, ReadResult, open_store

__all__ = [
    "FEEDBACK_FEATURES",
    "ITEM_LABELS",
    "MAX_COMMENT_CHARS",
    "MAX_MESSAGE_CHARS",
    "RATING_MAX",
    "RATING_MIN",
    "REPLY_LABELS",
    "SCHEMA_VERSION",
    "BadLine",
    "FeedbackRecord",
    "JsonlFeedbackStore",
    "ItemJudgement",
    "ReadResult",
    "make_record",
    "open_store",
    "validate_record",
]


def __getattr__(name: str) -> Any:  # FEEDBACK_FEATURES imports datasets: build it on first use
    if name == "FEEDBACK_FEATURES":
        from workbench.feedback import record

        return record.FEEDBACK_FEATURES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
