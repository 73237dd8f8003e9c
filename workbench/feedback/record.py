"""One saved judgement: :class:`FeedbackRecord`, its ``datasets`` schema, and validation.

A record holds what the annotator saw (conversation, message, reply, generator, the slate with its
per-source scores, catalogue hash, index id) and what they said (per-item like / dislike / not seen /
rating 1-5, per-reply like / dislike, a comment).

The record is declared once: each dataclass field carries a :class:`Column` (its
stored type, its length limit, whether a stored record must have it). The
``datasets`` features, :meth:`FeedbackRecord.to_dict`, :meth:`FeedbackRecord.from_dict`
and the type and limit checks are all derived from those declarations.

The dict form (:meth:`FeedbackRecord.to_dict`) is the one representation used everywhere: a JSONL
line, a row of every raw export, :data:`FEEDBACK_FEATURES` field for field. Schema version 2 added
``project`` and ``task_id``; version 3 the arena's ``system_*`` and ``arena_*`` fields (one record
per side of a blind vote, see :mod:`workbench.arena.votes`); older records read with them empty.

It knows records and their limits; it does not know files, the Hub or gradio.
``FEEDBACK_FEATURES`` is built on first access so that importing this module
does not import ``datasets``.
"""

from __future__ import annotations

import functools
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
    MAX_DISPLAY_TITLE_CHARS,
    MAX_ID_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_RANK,
    MAX_SLATE_ITEMS,
    MAX_SOURCES,
    MAX_TEXT_CHARS,
    MAX_TURN_INDEX,
)

if TYPE_CHECKING:
    import datasets

    from workbench.catalog import Catalog

#: Bumped whenever a field is added, removed or changes meaning. 2: ``project``, ``task_id``.
#: 3: ``system_id``, ``system_hash``, ``system_config``, ``arena_pair``, ``arena_side``, ``arena_vote``.
SCHEMA_VERSION = 3

RATING_MIN, RATING_MAX = 1, 5

ITEM_LABELS = ("like", "dislike", "not_seen")
REPLY_LABELS = ("like", "dislike")
ROLES = ("user", "assistant", "system")
#: An arena vote: the reply shown as A (left) is better, B (right) is, a tie, or both bad.
ARENA_VOTES = ("a", "b", "tie", "both_bad")
ARENA_SIDES = ("a", "b")


@dataclass(frozen=True)
class Column:
    """How one record field is stored and checked.

    ``kind`` is its stored type: ``text``, ``int``, ``float``, ``label`` (text or null),
    ``rating`` (integer or null), ``sources``, ``turns`` or ``slate``. ``limit`` is the most
    characters a text may have (``0``: not checked here); ``nonempty`` texts must not be blank;
    a ``stored`` field must be present in every stored record (the others have defaults).
    """

    kind: str
    limit: int = 0
    nonempty: bool = False
    stored: bool = False


def _col(kind: str, limit: int = 0, *, nonempty: bool = False, stored: bool = False, **kw: Any) -> Any:
    """A dataclass field declaring its :class:`Column`."""
    return field(metadata={"column": Column(kind, limit, nonempty, stored)}, **kw)


@functools.cache
def columns(cls: type) -> tuple[tuple[str, Column], ...]:
    """``(name, Column)`` of every field of a record class, in declaration (= stored) order."""
    return tuple((f.name, f.metadata["column"]) for f in fields(cls))


def _features_of(cls: type) -> dict[str, Any]:
    from datasets import List, Value

    kinds = {"text": Value("string"), "label": Value("string"), "int": Value("int64"),
             "rating": Value("int64"), "float": Value("float64"),
             "sources": List({"source": Value("string"), "score": Value("float64")}),
             "turns": List({"role": Value("string"), "text": Value("string")})}
    return {name: List(_features_of(ItemJudgement)) if col.kind == "slate" else kinds[col.kind]
            for name, col in columns(cls)}


def _build_features() -> datasets.Features:
    from datasets import Features

    return Features(_features_of(FeedbackRecord))


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
    """One shown slate entry and its judgement: ``sources`` maps a scorer name (``"cf"``...) to its
    score; ``label`` is one of :data:`ITEM_LABELS` or ``None``; ``rating`` is 1-5 or ``None``;
    ``reason`` is the explanation shown beside the item, if any."""

    item_id: str = _col("text", MAX_ID_CHARS, nonempty=True, stored=True)
    title: str = _col("text", MAX_DISPLAY_TITLE_CHARS, nonempty=True, stored=True)
    rank: int = _col("int", stored=True)
    score: float = _col("float", stored=True)
    sources: Mapping[str, float] = _col("sources", default_factory=dict)
    label: str | None = _col("label", default=None)
    rating: int | None = _col("rating", default=None)
    reason: str = _col("text", MAX_TEXT_CHARS, default="")

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
        out = {name: getattr(self, name) for name, _ in columns(ItemJudgement)}
        out["sources"] = [{"source": k, "score": v} for k, v in self.sources.items()]
        return out


@dataclass(frozen=True, kw_only=True)
class FeedbackRecord:
    """One saved judgement of one dialogue turn. Build with :func:`make_record`.

    ``conversation`` holds the turns *before* this one as ``{"role", "text"}`` dicts;
    ``user_message`` and ``reply`` are this turn. ``created_at`` is UTC ISO-8601.
    """

    record_id: str = _col("text", stored=True, default_factory=lambda: str(uuid.uuid4()))
    created_at: str = _col("text", stored=True, default_factory=lambda: utc_now())
    annotator: str = _col("text", MAX_ID_CHARS, nonempty=True, stored=True)
    session_id: str = _col("text", MAX_ID_CHARS, nonempty=True, stored=True)
    turn_index: int = _col("int", stored=True)
    conversation: Sequence[Mapping[str, str]] = _col("turns", default=())
    user_message: str = _col("text", MAX_MESSAGE_CHARS, nonempty=True, stored=True)
    reply: str = _col("text", MAX_TEXT_CHARS, nonempty=True, stored=True)
    generator_backend: str = _col("text", MAX_ID_CHARS, nonempty=True, stored=True)
    generator_model: str = _col("text", MAX_ID_CHARS, default="")
    slate: Sequence[ItemJudgement] = _col("slate", default=())
    reply_label: str | None = _col("label", default=None)
    comment: str = _col("text", MAX_COMMENT_CHARS, default="")
    app_version: str = _col("text", MAX_ID_CHARS, default=__version__)
    catalog_hash: str = _col("text", MAX_ID_CHARS, default="")
    index_id: str = _col("text", MAX_ID_CHARS, default="")
    #: The annotation project and its task this judgement belongs to (schema 2; empty outside one).
    project: str = _col("text", MAX_ID_CHARS, default="")
    task_id: str = _col("text", MAX_ID_CHARS, default="")
    #: The arena (schema 3): the system that wrote this reply (``name@hash``), its hash and resolved
    #: configuration (JSON); the blind pair it was shown in, as side ``a`` (left) or ``b``, and the vote.
    system_id: str = _col("text", MAX_ID_CHARS, default="")
    system_hash: str = _col("text", MAX_ID_CHARS, default="")
    system_config: str = _col("text", MAX_TEXT_CHARS, default="")
    arena_pair: str = _col("text", MAX_ID_CHARS, default="")
    arena_side: str = _col("text", MAX_ID_CHARS, default="")
    arena_vote: str = _col("text", MAX_ID_CHARS, default="")
    #: The question the engine asked after the slate (schema 3; empty when none): the attribute it
    #: asked about, its text and its expected information gain in bits (issue 15's provenance).
    question_attribute: str = _col("text", MAX_ID_CHARS, default="")
    question: str = _col("text", MAX_TEXT_CHARS, default="")
    question_gain: float = _col("float", default=0.0)
    #: What the reply did (schema 3; empty in older records): one of ``workbench.dialogue.types.ACTS``;
    #: for an answer, the film, the attribute asked about and the catalogue's values (a JSON list).
    act: str = _col("text", MAX_ID_CHARS, default="")
    answer_item_id: str = _col("text", MAX_ID_CHARS, default="")
    answer_attribute: str = _col("text", MAX_ID_CHARS, default="")
    answer_values: str = _col("text", MAX_TEXT_CHARS, default="")
    schema_version: int = _col("int", default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        # Freeze the containers so that equality and the stored form never drift.
        object.__setattr__(
            self, "conversation", tuple(_turn_dict(t, i) for i, t in enumerate(self.conversation))
        )
        object.__setattr__(self, "slate", tuple(self.slate))

    # dict form --------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The plain, JSON-ready form matching :data:`FEEDBACK_FEATURES` (same keys, same order)."""
        out = {name: getattr(self, name) for name, _ in columns(FeedbackRecord)}
        out["conversation"] = [dict(t) for t in self.conversation]
        out["slate"] = [j.to_dict() for j in self.slate]
        return out

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
        cols = columns(cls)
        for name, col in cols:
            if col.stored and name not in data:
                raise FeedbackError(f"{where}: missing field {name!r}")
        conversation = data.get("conversation") or []
        if not isinstance(conversation, list):
            raise FeedbackError(f"{where}: field 'conversation' must be a list")
        slate_rows = data.get("slate") or []
        if not isinstance(slate_rows, list):
            raise FeedbackError(f"{where}: field 'slate' must be a list")
        slate = [_judgement_from_dict(row, f"{where}: slate[{i}]") for i, row in enumerate(slate_rows)]
        values = {  # absent optional fields (older schemas, sparse rows) take their empty value
            name: data[name] if col.stored else data.get(name) if col.kind == "label" else data.get(name) or ""
            for name, col in cols if col.kind == "text" or col.kind == "label" or col.stored
        }
        values.update({name: _plain_number(data[name]) if data.get(name) is not None else 0.0
                       for name, col in cols if col.kind == "float" and not col.stored})
        values.update(
            conversation=[_turn_dict(t, i, where) for i, t in enumerate(conversation)],
            slate=slate,
            schema_version=version,
        )
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
    project: str = "",
    task_id: str = "",
    catalog: Catalog | None = None,
    extra: Mapping[str, Any] | None = None,
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
        project, task_id: the annotation project and task the turn was judged for (empty outside one).
        catalog: when given, every item id must exist in it.
        extra: other record fields, as stored (``record_id``, the arena's ``system_*`` and ``arena_*``).

    Raises:
        FeedbackError: naming the field and the limit; nothing is built.
    """
    stored = dict(extra or {})
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
        project=project or "",
        task_id=task_id or "",
        **stored,
    )
    validate_record(record, catalog)
    return record


def validate_records(records: Sequence[FeedbackRecord], catalog: Catalog | None = None) -> None:
    """:func:`validate_record` on each of ``records`` before any is saved (every store's batch rule).

    Raises:
        FeedbackError: naming the record ("record 2 of 3: ...") and saying that nothing was saved.
    """
    for i, record in enumerate(records):
        try:
            validate_record(record, catalog)
        except FeedbackError as exc:
            where = f"record {i + 1} of {len(records)}: " if len(records) > 1 else ""
            raise FeedbackError(f"{where}{exc}; nothing was saved") from None


def validate_record(record: FeedbackRecord, catalog: Catalog | None = None) -> None:
    """Check every field of ``record`` against the types, labels and limits.

    Raises:
        FeedbackError: naming the first bad field, its value or length, and the limit.
    """
    if not isinstance(record, FeedbackRecord):
        raise FeedbackError(f"expected a FeedbackRecord, got {type(record).__name__}")
    _check_types(record, "record")
    for name, col in columns(FeedbackRecord):
        if name == "annotator":
            _check_annotator(record.annotator)
        elif col.kind == "text" and col.limit:
            _check_text(name, getattr(record, name), col.limit, required=col.nonempty)
        elif name == "turn_index" and not 0 <= record.turn_index <= MAX_TURN_INDEX:
            raise FeedbackError(f"field 'turn_index': must be 0-{MAX_TURN_INDEX}, got {record.turn_index}")
        elif col.kind == "turns":
            if len(record.conversation) > MAX_CONVERSATION_TURNS:
                raise FeedbackError(
                    f"field 'conversation': {len(record.conversation)} turns (limit {MAX_CONVERSATION_TURNS})"
                )
            for i, turn in enumerate(record.conversation):
                _check_text(f"conversation[{i}].text", turn["text"], MAX_TEXT_CHARS)
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
        for name, col in columns(ItemJudgement):
            if col.kind == "text" and col.limit:
                _check_text(f"{where}.{name}", getattr(j, name), col.limit, required=col.nonempty)
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
    _check_arena(record)
    if not (record.reply_label or record.comment.strip() or record.arena_vote
            or any(j.judged for j in record.slate)):
        raise FeedbackError(
            "nothing to save: judge the reply or an item (like, dislike, not seen, rating) or write a comment"
        )
    try:
        uuid.UUID(record.record_id)
    except ValueError:
        raise FeedbackError(f"field 'record_id': not a UUID: {record.record_id!r}") from None
    _parse_time(record.created_at, "field 'created_at'")


def _check_arena(record: FeedbackRecord) -> None:
    """An arena record names its pair, its side, the vote and its system; other records none of them."""
    if not (record.arena_pair or record.arena_side or record.arena_vote):
        return
    if record.arena_side not in ARENA_SIDES:
        raise FeedbackError(f"field 'arena_side': must be one of {', '.join(ARENA_SIDES)}, got {record.arena_side!r}")
    if record.arena_vote not in ARENA_VOTES:
        raise FeedbackError(f"field 'arena_vote': must be one of {', '.join(ARENA_VOTES)}, got {record.arena_vote!r}")
    for name in ("arena_pair", "system_id", "system_hash"):
        if not getattr(record, name).strip():
            raise FeedbackError(f"field {name!r}: an arena vote must have it")


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


#: What each scalar kind of :class:`Column` accepts, and how its error names the type.
_SCALAR_CHECKS: dict[str, tuple[Any, str]] = {
    "text": (lambda v: isinstance(v, str), "text"),
    "label": (lambda v: v is None or isinstance(v, str), "text or null"),
    "int": (lambda v: _is_int(v), "an integer"),
    "rating": (lambda v: v is None or _is_int(v), "an integer or null"),
    "float": (lambda v: _is_number(v), "a number"),
}
#: Kinds checked in this order (text first), so the first error reported stays the same.
_CHECK_ORDER = ("text", "int", "float", "label", "rating")


def _check_fields(obj: Any, where: str) -> None:
    """Every scalar field of ``obj`` has the type its :class:`Column` declares."""
    cols = columns(type(obj))
    for kind in _CHECK_ORDER:
        ok, what = _SCALAR_CHECKS[kind]
        for name, col in cols:
            if col.kind == kind and not ok(value := getattr(obj, name)):
                raise FeedbackError(f"{where}: field {name!r} must be {what}, got {value!r}")


def _check_types(record: FeedbackRecord, where: str) -> None:
    """Structural checks shared by reading and validating: every field has its declared type."""
    _check_fields(record, where)
    for i, j in enumerate(record.slate):
        at = f"{where}: slate[{i}]"
        if not isinstance(j, ItemJudgement):
            raise FeedbackError(f"{at}: expected an ItemJudgement, got {type(j).__name__}")
        _check_fields(j, at)
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
    cols = columns(ItemJudgement)
    unknown = set(row) - {name for name, _ in cols}
    if unknown:
        raise FeedbackError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    for name, col in cols:
        if col.stored and name not in row:
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
        extra = set(entry) - {name for name, _ in columns(ItemJudgement)}
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
