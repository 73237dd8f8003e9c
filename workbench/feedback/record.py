"""One saved judgement: :class:`FeedbackRecord`, its ``datasets`` schema, and validation.

A record holds everything needed to reproduce what the annotator saw (the
conversation so far, the message, the reply, the generator, the slate with
its per-source scores, the catalogue hash and index id) and what they said
about it (per-item like / dislike / not seen / rating 1-5, per-reply like /
dislike, a free-text comment).

The dict form (:meth:`FeedbackRecord.to_dict`) is the one representation used
everywhere: it is a line of a JSONL shard, a row of every raw export, and it
matches :data:`FEEDBACK_FEATURES` field for field.

It knows records and their limits; it does not know files, the Hub or gradio.
``FEEDBACK_FEATURES`` is built on first access so that importing this module
does not import ``datasets``.
"""

from __future__ import annotations

import math
import numbers
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from workbench import __version__
from workbench.errors import FeedbackError
from workbench.limits import (
    MAX_COMMENT_CHARS,
    MAX_CONVERSATION_TURNS,
    MAX_ID_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_RANK,
    MAX_SLATE_ITEMS,
    MAX_SOURCES,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MAX_TURN_INDEX,
)

if TYPE_CHECKING:
    import datasets

    from workbench.catalog import Catalog

#: Bumped whenever a field is added, removed or changes meaning.
SCHEMA_VERSION = 1

RATING_MIN, RATING_MAX = 1, 5

ITEM_LABELS = ("like", "dislike", "not_seen")
REPLY_LABELS = ("like", "dislike")
ROLES = ("user", "assistant", "system")


def _build_features() -> datasets.Features:
    from datasets import Features, List, Value

    return Features(
        {
            "record_id": Value("string"),
            "created_at": Value("string"),
            "annotator": Value("string"),
            "session_id": Value("string"),
            "turn_index": Value("int64"),
            "conversation": List({"role": Value("string"), "text": Value("string")}),
            "user_message": Value("string"),
            "reply": Value("string"),
            "generator_backend": Value("string"),
            "generator_model": Value("string"),
            "slate": List(
                {
                    "item_id": Value("string"),
                    "title": Value("string"),
                    "rank": Value("int64"),
                    "score": Value("float64"),
                    "sources": List({"source": Value("string"), "score": Value("float64")}),
                    "label": Value("string"),
                    "rating": Value("int64"),
                    "reason": Value("string"),
                }
            ),
            "reply_label": Value("string"),
            "comment": Value("string"),
            "app_version": Value("string"),
            "catalog_hash": Value("string"),
            "index_id": Value("string"),
            "schema_version": Value("int64"),
        }
    )


_FEATURES: datasets.Features | None = None


def __getattr__(name: str) -> Any:  # PEP 562: build FEEDBACK_FEATURES lazily
    global _FEATURES
    if name == "FEEDBACK_FEATURES":
        if _FEATURES is None:
            _FEATURES = _build_features()
        return _FEATURES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------
# value types


@dataclass(frozen=True)
class ItemJudgement:
    """One shown slate entry and the annotator's judgement of it.

    ``sources`` maps a scorer name (``"cf"``, ``"content"``...) to the score it gave;
    ``label`` is ``"like"``, ``"dislike"``, ``"not_seen"`` or ``None``; ``rating`` is 1-5 or ``None``.
    ``reason`` is the explanation shown beside the item, if any.
    """

    item_id: str
    title: str
    rank: int
    score: float
    sources: Mapping[str, float] = field(default_factory=dict)
    label: str | None = None
    rating: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        # numpy scalars from the scorers become plain Python numbers (JSON-ready, exact).
        object.__setattr__(
            self, "sources", {k: _plain_number(v) for k, v in dict(self.sources).items()}
        )
        object.__setattr__(self, "score", _plain_number(self.score))
        if isinstance(self.rank, numbers.Integral) and not isinstance(self.rank, bool):
            object.__setattr__(self, "rank", int(self.rank))

    @property
    def judged(self) -> bool:
        """Whether the annotator said anything about this item."""
        return self.label is not None or self.rating is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "title": self.title,
            "rank": self.rank,
            "score": self.score,
            "sources": [{"source": k, "score": v} for k, v in self.sources.items()],
            "label": self.label,
            "rating": self.rating,
            "reason": self.reason,
        }


@dataclass(frozen=True, kw_only=True)
class FeedbackRecord:
    """One saved judgement of one dialogue turn. Build with :func:`make_record`.

    ``conversation`` holds the turns *before* this one as ``{"role", "text"}`` dicts;
    ``user_message`` and ``reply`` are this turn. ``created_at`` is UTC ISO-8601.
    """

    record_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=lambda: utc_now())
    annotator: str
    session_id: str
    turn_index: int
    conversation: Sequence[Mapping[str, str]] = ()
    user_message: str
    reply: str
    generator_backend: str
    generator_model: str = ""
    slate: Sequence[ItemJudgement] = ()
    reply_label: str | None = None
    comment: str = ""
    app_version: str = __version__
    catalog_hash: str = ""
    index_id: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        # Freeze the containers so that equality and the stored form never drift.
        object.__setattr__(
            self, "conversation", tuple(_turn_dict(t, i) for i, t in enumerate(self.conversation))
        )
        object.__setattr__(self, "slate", tuple(self.slate))

    # dict form --------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The plain, JSON-ready form matching :data:`FEEDBACK_FEATURES` (same keys, same order)."""
        return {
            "record_id": self.record_id,
            "created_at": self.created_at,
            "annotator": self.annotator,
            "session_id": self.session_id,
            "turn_index": self.turn_index,
            "conversation": [dict(t) for t in self.conversation],
            "user_message": self.user_message,
            "reply": self.reply,
            "generator_backend": self.generator_backend,
            "generator_model": self.generator_model,
            "slate": [j.to_dict() for j in self.slate],
            "reply_label": self.reply_label,
            "comment": self.comment,
            "app_version": self.app_version,
            "catalog_hash": self.catalog_hash,
            "index_id": self.index_id,
            "schema_version": self.schema_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "record") -> FeedbackRecord:
        """Parse the dict form (a shard line or a dataset row), checking structure and types.

        Limits are *not* re-checked here, so records saved under older limits stay
        readable; :func:`validate_record` checks them at the boundary.

        Raises:
            FeedbackError: naming ``where`` and the field that is missing or ill-typed.
        """
        if not _is_mapping(data):
            raise FeedbackError(f"{where}: expected an object, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise FeedbackError(f"{where}: unknown field {unknown[0]!r}")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not _is_int(version) or version < 1:
            raise FeedbackError(f"{where}: field 'schema_version' must be a positive integer, got {version!r}")
        if version > SCHEMA_VERSION:
            raise FeedbackError(
                f"{where}: schema_version {version} is newer than this workbench understands "
                f"({SCHEMA_VERSION}); upgrade the workbench to read it"
            )
        for name in ("record_id", "created_at", "annotator", "session_id", "turn_index",
                     "user_message", "reply", "generator_backend"):
            if name not in data:
                raise FeedbackError(f"{where}: missing field {name!r}")
        conversation = data.get("conversation") or []
        if not isinstance(conversation, list):
            raise FeedbackError(f"{where}: field 'conversation' must be a list")
        slate_rows = data.get("slate") or []
        if not isinstance(slate_rows, list):
            raise FeedbackError(f"{where}: field 'slate' must be a list")
        slate = [_judgement_from_dict(row, f"{where}: slate[{i}]") for i, row in enumerate(slate_rows)]
        values = {
            "record_id": data["record_id"],
            "created_at": data["created_at"],
            "annotator": data["annotator"],
            "session_id": data["session_id"],
            "turn_index": data["turn_index"],
            "conversation": [_turn_dict(t, i, where) for i, t in enumerate(conversation)],
            "user_message": data["user_message"],
            "reply": data["reply"],
            "generator_backend": data["generator_backend"],
            "generator_model": data.get("generator_model") or "",
            "slate": slate,
            "reply_label": data.get("reply_label"),
            "comment": data.get("comment") or "",
            "app_version": data.get("app_version") or "",
            "catalog_hash": data.get("catalog_hash") or "",
            "index_id": data.get("index_id") or "",
            "schema_version": version,
        }
        record = cls(**values)
        _check_types(record, where)
        return record

    # conveniences -----------------------------------------------------
    @property
    def created(self) -> datetime:
        """``created_at`` as an aware UTC datetime."""
        return _parse_time(self.created_at, "record")

    @property
    def judged_items(self) -> tuple[ItemJudgement, ...]:
        return tuple(j for j in self.slate if j.judged)


def utc_now() -> str:
    """The current time as UTC ISO-8601 with microseconds (``2026-01-31T12:00:00.000000+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


# ---------------------------------------------------------------------------
# building and validating


def make_record(
    *,
    annotator: str,
    session_id: str,
    turn_index: int,
    conversation: Iterable[Any],
    user_message: str,
    reply: str,
    generator_backend: str,
    generator_model: str,
    slate: Iterable[Any],
    judgements: Mapping[str, Mapping[str, Any]],
    reply_label: str | None = None,
    comment: str = "",
    catalog_hash: str = "",
    index_id: str = "",
    catalog: Catalog | None = None,
) -> FeedbackRecord:
    """Build and validate a record for one turn.

    Args:
        conversation: the turns before this one: ``{"role", "text"}`` dicts (``"content"`` is
            accepted for ``"text"``) or objects with ``role``/``text`` (``dialogue.types.Turn``).
            If it already ends with this turn's user message (and reply), those are dropped so
            that the turn is not stored twice.
        slate: the items shown, in order: ``dialogue.types.Recommendation`` objects,
            :class:`ItemJudgement` objects, or dicts with ``item_id, title, rank, score, sources``
            (and optionally ``reason``).
        judgements: ``item_id -> {"label": ..., "rating": ...}`` for the items judged; every key
            must be an item of the slate.
        catalog: when given, every item id must exist in it.

    Raises:
        FeedbackError: naming the field and the limit; nothing is built.
    """
    turns = [_turn_dict(t, i) for i, t in enumerate(conversation)]
    if len(turns) >= 2 and turns[-2] == {"role": "user", "text": user_message} and turns[-1] == {
        "role": "assistant", "text": reply
    }:
        turns = turns[:-2]
    elif turns and turns[-1] == {"role": "user", "text": user_message}:
        turns = turns[:-1]
    shown = [_slate_entry(entry, i) for i, entry in enumerate(slate)]
    if not isinstance(judgements, Mapping):
        raise FeedbackError(f"field 'judgements' must be a mapping item_id -> judgement, got {judgements!r}")
    by_id = {j.item_id: j for j in shown}
    for item_id, judgement in judgements.items():
        if item_id not in by_id:
            raise FeedbackError(
                f"field 'judgements': item {item_id!r} was not in the slate shown "
                f"({', '.join(by_id) or 'empty slate'})"
            )
        if not isinstance(judgement, Mapping):
            raise FeedbackError(f"field 'judgements[{item_id!r}]': expected a mapping, got {judgement!r}")
        extra = set(judgement) - {"label", "rating"}
        if extra:
            raise FeedbackError(f"field 'judgements[{item_id!r}]': unknown key {sorted(extra)[0]!r}")
    merged = []
    for j in shown:
        given = judgements.get(j.item_id, {})
        label = given.get("label", j.label)
        rating = _rating(given["rating"], j.item_id) if "rating" in given else j.rating
        merged.append(
            ItemJudgement(j.item_id, j.title, j.rank, j.score, j.sources, label or None, rating, j.reason)
        )
    record = FeedbackRecord(
        annotator=annotator.strip() if isinstance(annotator, str) else annotator,
        session_id=session_id,
        turn_index=turn_index,
        conversation=turns,
        user_message=user_message,
        reply=reply,
        generator_backend=generator_backend,
        generator_model=generator_model or "",
        slate=merged,
        reply_label=reply_label or None,
        comment=comment or "",
        catalog_hash=catalog_hash or "",
        index_id=index_id or "",
    )
    validate_record(record, catalog)
    return record


def validate_record(record: FeedbackRecord, catalog: Catalog | None = None) -> None:
    """Check every field of ``record`` against the types, labels and limits.

    Raises:
        FeedbackError: naming the first bad field, its value or length, and the limit.
    """
    if not isinstance(record, FeedbackRecord):
        raise FeedbackError(f"expected a FeedbackRecord, got {type(record).__name__}")
    _check_types(record, "record")
    _check_annotator(record.annotator)
    _check_text("session_id", record.session_id, MAX_ID_CHARS, required=True)
    if not 0 <= record.turn_index <= MAX_TURN_INDEX:
        raise FeedbackError(f"field 'turn_index': must be 0-{MAX_TURN_INDEX}, got {record.turn_index}")
    if len(record.conversation) > MAX_CONVERSATION_TURNS:
        raise FeedbackError(
            f"field 'conversation': {len(record.conversation)} turns (limit {MAX_CONVERSATION_TURNS})"
        )
    for i, turn in enumerate(record.conversation):
        _check_text(f"conversation[{i}].text", turn["text"], MAX_TEXT_CHARS)
    _check_text("user_message", record.user_message, MAX_MESSAGE_CHARS, required=True)
    _check_text("reply", record.reply, MAX_TEXT_CHARS, required=True)
    _check_text("generator_backend", record.generator_backend, MAX_ID_CHARS, required=True)
    _check_text("generator_model", record.generator_model, MAX_ID_CHARS)
    _check_text("comment", record.comment, MAX_COMMENT_CHARS)
    _check_text("app_version", record.app_version, MAX_ID_CHARS)
    _check_text("catalog_hash", record.catalog_hash, MAX_ID_CHARS)
    _check_text("index_id", record.index_id, MAX_ID_CHARS)
    if record.reply_label is not None and record.reply_label not in REPLY_LABELS:
        raise FeedbackError(
            f"field 'reply_label': must be one of {', '.join(REPLY_LABELS)} or empty, got {record.reply_label!r}"
        )
    if len(record.slate) > MAX_SLATE_ITEMS:
        raise FeedbackError(f"field 'slate': {len(record.slate)} items (limit {MAX_SLATE_ITEMS})")
    seen_ids: set[str] = set()
    seen_ranks: set[int] = set()
    for i, j in enumerate(record.slate):
        where = f"slate[{i}]"
        _check_text(f"{where}.item_id", j.item_id, MAX_ID_CHARS, required=True)
        _check_text(f"{where}.title", j.title, MAX_TITLE_CHARS, required=True)
        _check_text(f"{where}.reason", j.reason, MAX_TEXT_CHARS)
        if j.item_id in seen_ids:
            raise FeedbackError(f"field '{where}.item_id': item {j.item_id!r} appears twice in the slate")
        seen_ids.add(j.item_id)
        if not 1 <= j.rank <= MAX_RANK:
            raise FeedbackError(f"field '{where}.rank': must be 1-{MAX_RANK}, got {j.rank}")
        if j.rank in seen_ranks:
            raise FeedbackError(f"field '{where}.rank': rank {j.rank} appears twice in the slate")
        seen_ranks.add(j.rank)
        if not math.isfinite(j.score):
            raise FeedbackError(f"field '{where}.score': must be a finite number, got {j.score!r}")
        if len(j.sources) > MAX_SOURCES:
            raise FeedbackError(f"field '{where}.sources': {len(j.sources)} sources (limit {MAX_SOURCES})")
        for name, value in j.sources.items():
            _check_text(f"{where}.sources key", name, MAX_ID_CHARS, required=True)
            if not math.isfinite(value):
                raise FeedbackError(
                    f"field '{where}.sources[{name!r}]': must be a finite number, got {value!r}"
                )
        if j.label is not None and j.label not in ITEM_LABELS:
            raise FeedbackError(
                f"field '{where}.label' (item {j.item_id!r}): must be one of {', '.join(ITEM_LABELS)} "
                f"or empty, got {j.label!r}"
            )
        if j.rating is not None and not RATING_MIN <= j.rating <= RATING_MAX:
            raise FeedbackError(
                f"field '{where}.rating' (item {j.item_id!r}): must be {RATING_MIN}-{RATING_MAX}, got {j.rating}"
            )
        if j.label == "not_seen" and j.rating is not None:
            raise FeedbackError(
                f"field '{where}.rating' (item {j.item_id!r}): an item marked not_seen cannot be rated"
            )
        if catalog is not None and j.item_id not in catalog:
            raise FeedbackError(
                f"field '{where}.item_id': item {j.item_id!r} is not in the catalogue {catalog.source}"
            )
    if not (record.reply_label or record.comment.strip() or any(j.judged for j in record.slate)):
        raise FeedbackError(
            "nothing to save: judge the reply or an item (like, dislike, not seen, rating) or write a comment"
        )
    try:
        uuid.UUID(record.record_id)
    except ValueError:
        raise FeedbackError(f"field 'record_id': not a UUID: {record.record_id!r}") from None
    _parse_time(record.created_at, "field 'created_at'")


# ---------------------------------------------------------------------------
# helpers


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # fast path: the ABC check is slow


def _is_int(value: Any) -> bool:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _is_number(value: Any) -> bool:
    t = type(value)
    if t is float or t is int:  # fast path; the ABC check below is slow
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_text(name: str, value: str, limit: int, *, required: bool = False) -> None:
    if required and not value.strip():
        raise FeedbackError(f"field {name!r}: must not be empty")
    if len(value) > limit:
        raise FeedbackError(f"field {name!r}: {len(value)} characters (limit {limit})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise FeedbackError(
            f"field {name!r}: not encodable as UTF-8 (character {value[exc.start]!r} at {exc.start})"
        ) from None


def _check_annotator(name: str) -> None:
    """An annotator name is printable text: no control, format or bidi characters.

    ESC, BEL or NUL in a name reached terminals raw (``feedback stats``), and a right-to-left
    override makes one name display as another. Spaces of any kind are fine.
    """
    _check_text("annotator", name, MAX_ID_CHARS, required=True)
    for i, ch in enumerate(name):
        if not ch.isprintable() and unicodedata.category(ch) != "Zs":
            raise FeedbackError(
                f"field 'annotator': must be printable text, got {ascii(ch)} "
                f"({unicodedata.name(ch, unicodedata.category(ch))}) at {i}"
            )


def _check_types(record: FeedbackRecord, where: str) -> None:
    """Structural checks shared by reading and validating: every field has its declared type."""
    for name in ("record_id", "created_at", "annotator", "session_id", "user_message", "reply",
                 "generator_backend", "generator_model", "comment", "app_version", "catalog_hash",
                 "index_id"):
        value = getattr(record, name)
        if not isinstance(value, str):
            raise FeedbackError(f"{where}: field {name!r} must be text, got {value!r}")
    if not _is_int(record.turn_index):
        raise FeedbackError(f"{where}: field 'turn_index' must be an integer, got {record.turn_index!r}")
    if not _is_int(record.schema_version):
        raise FeedbackError(f"{where}: field 'schema_version' must be an integer, got {record.schema_version!r}")
    if record.reply_label is not None and not isinstance(record.reply_label, str):
        raise FeedbackError(f"{where}: field 'reply_label' must be text or null, got {record.reply_label!r}")
    for i, j in enumerate(record.slate):
        at = f"{where}: slate[{i}]"
        if not isinstance(j, ItemJudgement):
            raise FeedbackError(f"{at}: expected an ItemJudgement, got {type(j).__name__}")
        for name in ("item_id", "title", "reason"):
            if not isinstance(getattr(j, name), str):
                raise FeedbackError(f"{at}: field {name!r} must be text, got {getattr(j, name)!r}")
        if not _is_int(j.rank):
            raise FeedbackError(f"{at}: field 'rank' must be an integer, got {j.rank!r}")
        if not _is_number(j.score):
            raise FeedbackError(f"{at}: field 'score' must be a number, got {j.score!r}")
        if j.label is not None and not isinstance(j.label, str):
            raise FeedbackError(f"{at}: field 'label' must be text or null, got {j.label!r}")
        if j.rating is not None and not _is_int(j.rating):
            raise FeedbackError(f"{at}: field 'rating' must be an integer or null, got {j.rating!r}")
        for key, value in j.sources.items():
            if not isinstance(key, str) or not _is_number(value):
                raise FeedbackError(f"{at}: field 'sources' must map names to numbers, got {key!r}: {value!r}")


def _turn_dict(turn: Any, i: int, where: str = "field 'conversation'") -> dict[str, str]:
    if _is_mapping(turn):
        role = turn.get("role")
        text = turn["text"] if "text" in turn else turn.get("content")
    else:
        role = getattr(turn, "role", None)
        text = getattr(turn, "text", None)
    if role not in ROLES:
        raise FeedbackError(f"{where}[{i}]: role must be one of {', '.join(ROLES)}, got {role!r}")
    if not isinstance(text, str):
        raise FeedbackError(f"{where}[{i}]: text must be a string, got {text!r}")
    return {"role": role, "text": text}


def _plain_number(value: Any) -> Any:
    if type(value) is float:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, float)):
        return float(value)
    return value


def _rating(value: Any, item_id: str) -> int | None:
    """A UI rating: ``None``/``""`` (no rating), an int, or an integral float (sliders give floats)."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise FeedbackError(
        f"field 'judgements[{item_id!r}].rating': must be an integer {RATING_MIN}-{RATING_MAX}, got {value!r}"
    )


def _number(value: Any, where: str) -> float:
    if not _is_number(value):
        raise FeedbackError(f"{where}: must be a number, got {value!r}")
    return float(value)


def _sources(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if _is_mapping(value):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for s in value:
            if not _is_mapping(s) or set(s) != {"source", "score"}:
                raise FeedbackError(f"{where}: each source must be {{'source', 'score'}}, got {s!r}")
            pairs.append((s["source"], s["score"]))
    else:
        raise FeedbackError(f"{where}: must be a mapping or a list of {{'source', 'score'}}, got {value!r}")
    out: dict[str, float] = {}
    for name, score in pairs:
        if not isinstance(name, str):
            raise FeedbackError(f"{where}: source names must be text, got {name!r}")
        if name in out:
            raise FeedbackError(f"{where}: source {name!r} appears twice")
        out[name] = _number(score, f"{where}[{name!r}]")
    return out


def _judgement_from_dict(row: Any, where: str) -> ItemJudgement:
    if not _is_mapping(row):
        raise FeedbackError(f"{where}: expected an object, got {type(row).__name__}")
    unknown = set(row) - {"item_id", "title", "rank", "score", "sources", "label", "rating", "reason"}
    if unknown:
        raise FeedbackError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    for name in ("item_id", "title", "rank", "score"):
        if name not in row:
            raise FeedbackError(f"{where}: missing field {name!r}")
    return ItemJudgement(
        item_id=row["item_id"],
        title=row["title"],
        rank=row["rank"],
        score=_number(row["score"], f"{where}.score"),
        sources=_sources(row.get("sources"), f"{where}.sources"),
        label=row.get("label"),
        rating=row.get("rating"),
        reason=row.get("reason") or "",
    )


def _slate_entry(entry: Any, i: int) -> ItemJudgement:
    where = f"field 'slate[{i}]'"
    if isinstance(entry, ItemJudgement):
        return entry
    if isinstance(entry, Mapping):
        extra = set(entry) - {"item_id", "title", "rank", "score", "sources", "reason", "label", "rating"}
        if extra:
            raise FeedbackError(f"{where}: unknown key {sorted(extra)[0]!r}")
        return _judgement_from_dict(dict(entry), where)
    item = getattr(entry, "item", None)  # dialogue.types.Recommendation
    if item is not None and hasattr(entry, "rank"):
        return ItemJudgement(
            item_id=item.item_id,
            title=item.display_title,
            rank=entry.rank,
            score=_number(entry.score, f"{where}.score"),
            sources=_sources(dict(entry.sources), f"{where}.sources"),
            reason=getattr(entry, "reason", "") or "",
        )
    raise FeedbackError(f"{where}: expected a Recommendation, an ItemJudgement or a mapping, got {entry!r}")


def _parse_time(value: str, where: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise FeedbackError(f"{where}: not an ISO-8601 time: {value!r}") from None
    if when.tzinfo is None or when.utcoffset() != timezone.utc.utcoffset(None):
        raise FeedbackError(f"{where}: must be UTC (ending +00:00), got {value!r}")
    return when
