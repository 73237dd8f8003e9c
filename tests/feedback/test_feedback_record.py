"""FeedbackRecord: building, validation at the boundary, and the dict form."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime, timezone

import numpy as np
import pytest

from workbench.catalog import Item
from workbench.dialogue.types import Recommendation, Turn
from workbench.errors import FeedbackError
from workbench.feedback.record import (
    MAX_COMMENT_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SLATE_ITEMS,
    MAX_TEXT_CHARS,
    SCHEMA_VERSION,
    FeedbackRecord,
    ItemJudgement,
    make_record,
    validate_record,
)

SLATE = [
    {"item_id": "3", "title": "Heat (1995)", "rank": 1, "score": 0.9, "sources": {"cf": 0.5, "content": 0.4}},
    {"item_id": "5", "title": "Collateral (2004)", "rank": 2, "score": 0.7, "sources": {"cf": 0.7}},
    {"item_id": "10", "title": "Inception (2010)", "rank": 3, "score": 0.5, "sources": {}},
]


def build(**overrides):
    kwargs = dict(
        annotator="ana",
        session_id="s-1",
        turn_index=1,
        conversation=[{"role": "user", "text": "hi"}, {"role": "assistant", "text": "Hello! What do you like?"}],
        user_message="a heist film please",
        reply="Try Heat (1995).",
        generator_backend="template",
        generator_model="",
        slate=SLATE,
        judgements={"3": {"label": "like", "rating": 5}, "5": {"label": "dislike"}},
    )
    kwargs.update(overrides)
    return make_record(**kwargs)


def test_make_record_fills_ids_time_version_and_judgements():
    """Guards the record's identity fields and that judgements land on the right slate items."""
    r = build(reply_label="like", comment="good")
    uuid.UUID(r.record_id)
    created = datetime.fromisoformat(r.created_at)
    assert created.utcoffset() == timezone.utc.utcoffset(None)
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 60
    assert r.schema_version == SCHEMA_VERSION
    by_id = {j.item_id: j for j in r.slate}
    assert (by_id["3"].label, by_id["3"].rating) == ("like", 5)
    assert (by_id["5"].label, by_id["5"].rating) == ("dislike", None)
    assert not by_id["10"].judged
    assert by_id["3"].sources == {"cf": 0.5, "content": 0.4}
    assert [j.rank for j in r.slate] == [1, 2, 3]
    assert r.judged_items == (by_id["3"], by_id["5"])


def test_two_records_get_distinct_ids():
    """Guards against a shared default record_id (a dedupe-by-id store would drop the second)."""
    assert build().record_id != build().record_id


def test_dict_form_round_trips_and_matches_features():
    """Guards that to_dict/from_dict are inverse and that to_dict has the schema's keys in order."""
    from workbench.feedback.record import FEEDBACK_FEATURES

    r = build(reply_label="dislike", comment="meh", catalog_hash="abc", index_id="idx-1")
    d = r.to_dict()
    assert list(d) == list(FEEDBACK_FEATURES)
    assert list(d["slate"][0]) == list(FEEDBACK_FEATURES["slate"].feature)
    assert FeedbackRecord.from_dict(d) == r
    # sources are stored as an ordered list of pairs (a dict of arbitrary keys is not a datasets type)
    assert d["slate"][0]["sources"] == [{"source": "cf", "score": 0.5}, {"source": "content", "score": 0.4}]


def test_accepts_engine_types_and_ui_values():
    """Guards the adapters for Turn/Recommendation objects, numpy scores and slider floats."""
    item = Item("3", "Heat", 1995)
    rec = Recommendation(item=item, rank=1, score=np.float32(0.25), sources={"cf": np.float32(0.5)},
                         reason="crime like you asked")
    r = make_record(
        annotator="  ana  ", session_id="s", turn_index=0,
        conversation=[Turn("user", "hello"), Turn("assistant", "hi!")],
        user_message="crime", reply="Heat (1995)", generator_backend="template", generator_model="",
        slate=[rec], judgements={"3": {"rating": 4.0, "label": ""}},
    )
    j = r.slate[0]
    assert (j.title, j.score, j.sources, j.rating, j.label, j.reason) == (
        "Heat (1995)", 0.25, {"cf": 0.5}, 4, None, "crime like you asked"
    )
    assert type(j.score) is float and type(j.rating) is int
    assert r.annotator == "ana"
    assert r.conversation == ({"role": "user", "text": "hello"}, {"role": "assistant", "text": "hi!"})


def test_current_turn_is_not_stored_twice_in_the_conversation():
    """Guards against SFT rows repeating the last message when the caller passes the history including it."""
    base = [{"role": "user", "text": "hi"}, {"role": "assistant", "text": "Hello!"}]
    with_msg = build(conversation=[*base, {"role": "user", "content": "a heist film please"}])
    with_both = build(conversation=[*base, {"role": "user", "text": "a heist film please"},
                                    {"role": "assistant", "text": "Try Heat (1995)."}])
    assert with_msg.conversation == with_both.conversation == tuple(base)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"judgements": {"3": {"rating": 6}}}, "rating' (item '3'): must be 1-5, got 6"),
        ({"judgements": {"3": {"rating": 0}}}, "must be 1-5, got 0"),
        ({"judgements": {"3": {"rating": 3.5}}}, "must be an integer 1-5, got 3.5"),
        ({"judgements": {"3": {"label": "love"}}}, "must be one of like, dislike, not_seen"),
        ({"judgements": {"3": {"label": "not_seen", "rating": 2}}}, "not_seen cannot be rated"),
        ({"judgements": {"99": {"label": "like"}}}, "item '99' was not in the slate"),
        ({"judgements": {"3": {"stars": 2}}}, "unknown key 'stars'"),
        ({"reply_label": "meh"}, "field 'reply_label': must be one of like, dislike"),
        ({"comment": "x" * (MAX_COMMENT_CHARS + 1)},
         f"field 'comment': {MAX_COMMENT_CHARS + 1} characters (limit {MAX_COMMENT_CHARS})"),
        ({"user_message": "x" * (MAX_MESSAGE_CHARS + 1)}, f"(limit {MAX_MESSAGE_CHARS})"),
        ({"reply": "y" * (MAX_TEXT_CHARS + 1)}, "field 'reply'"),
        ({"conversation": [{"role": "user", "text": "z" * (MAX_TEXT_CHARS + 1)}]}, "conversation[0].text"),
        ({"conversation": [{"role": "robot", "text": "hi"}]}, "role must be one of user, assistant, system"),
        ({"annotator": "   "}, "field 'annotator': must not be empty"),
        ({"session_id": ""}, "field 'session_id': must not be empty"),
        ({"user_message": " "}, "field 'user_message': must not be empty"),
        ({"turn_index": -1}, "field 'turn_index'"),
        ({"comment": "bad \ud800 surrogate"}, "not encodable as UTF-8"),
        ({"judgements": {}}, "nothing to save"),
        ({"slate": [*SLATE, dict(SLATE[0], rank=9)]}, "appears twice in the slate"),
        ({"slate": [dict(SLATE[0], score=float("nan"))], "judgements": {"3": {"label": "like"}}},
         "slate[0].score': must be a finite number"),
        ({"slate": [dict(SLATE[0], sources={"cf": float("inf")})], "judgements": {"3": {"label": "like"}}},
         "slate[0].sources['cf']': must be a finite number"),
        ({"slate": [dict(SLATE[0], item_id=str(i), rank=i + 1) for i in range(MAX_SLATE_ITEMS + 1)],
          "judgements": {"0": {"label": "like"}}}, f"(limit {MAX_SLATE_ITEMS})"),
    ],
)
def test_invalid_input_is_refused_naming_field_and_limit(overrides, message):
    """Guards every boundary check: the error names the field and the limit or allowed values."""
    with pytest.raises(FeedbackError) as err:
        build(**overrides)
    assert message in str(err.value)


def test_limits_are_inclusive():
    """Guards off-by-one errors: a comment of exactly MAX_COMMENT_CHARS is accepted."""
    r = build(comment="é" * MAX_COMMENT_CHARS, user_message="m" * MAX_MESSAGE_CHARS)
    assert len(r.comment) == MAX_COMMENT_CHARS


def test_comment_or_reply_label_alone_is_a_judgement():
    """Guards that a reply-only or comment-only save is accepted (no item judged)."""
    assert build(judgements={}, reply_label="dislike").reply_label == "dislike"
    assert build(judgements={}, comment="the list ignored my request").comment


def test_item_ids_checked_against_the_catalogue(tiny_catalog):
    """Guards that a slate item missing from the catalogue is refused, and aliases are accepted."""
    ok = build(slate=[dict(SLATE[0], item_id="80")], judgements={"80": {"label": "like"}}, catalog=tiny_catalog)
    assert ok.slate[0].item_id == "80"
    with pytest.raises(FeedbackError, match=r"item '404' is not in the catalogue tiny"):
        build(slate=[dict(SLATE[0], item_id="404")], judgements={"404": {"label": "like"}}, catalog=tiny_catalog)


def test_validate_record_checks_directly_built_records():
    """Guards that a record built without make_record still meets the limits before storage."""
    good = build()
    bad = FeedbackRecord(**{**good.__dict__, "slate": (ItemJudgement("3", "Heat", 1, 0.1, {}, "like", 9),)})
    with pytest.raises(FeedbackError, match="must be 1-5, got 9"):
        validate_record(bad)
    with pytest.raises(FeedbackError, match="created_at.*must be UTC"):
        validate_record(FeedbackRecord(**{**good.__dict__, "created_at": "2026-01-01T00:00:00"}))
    with pytest.raises(FeedbackError, match="record_id.*not a UUID"):
        validate_record(FeedbackRecord(**{**good.__dict__, "record_id": "1"}))


def test_from_dict_rejects_malformed_rows_by_field():
    """Guards reading: a damaged row gives an error naming the field, and a newer schema is refused."""
    d = build().to_dict()
    with pytest.raises(FeedbackError, match="missing field 'reply'"):
        FeedbackRecord.from_dict({k: v for k, v in d.items() if k != "reply"})
    with pytest.raises(FeedbackError, match="unknown field 'mood'"):
        FeedbackRecord.from_dict({**d, "mood": 1})
    with pytest.raises(FeedbackError, match="slate\\[0\\]: field 'rank' must be an integer"):
        FeedbackRecord.from_dict({**d, "slate": [{**d["slate"][0], "rank": "1"}]})
    with pytest.raises(FeedbackError, match="newer than this workbench"):
        FeedbackRecord.from_dict({**d, "schema_version": SCHEMA_VERSION + 1})


def test_importing_feedback_does_not_import_datasets_or_the_hub():
    """Guards import-time side effects: the UI imports records without paying for datasets/hub."""
    code = (
        "import sys, workbench.feedback, workbench.feedback.store, workbench.feedback.export, "
        "workbench.feedback.stats, workbench.feedback.hub, workbench.cli.feedback; "
        "print(sorted(m for m in ('datasets', 'huggingface_hub', 'gradio') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _v1_dict(record: FeedbackRecord) -> dict:
    """``record`` as schema version 1 stored it: no ``project`` / ``task_id``."""
    d = record.to_dict()
    del d["project"], d["task_id"]
    d["schema_version"] = 1
    return d


def test_schema_v1_records_still_read():
    """Guards old shards: a version-1 record (written before project/task_id existed) reads, with
    both fields empty and its version kept, and writes back with the current keys."""
    assert SCHEMA_VERSION >= 2
    d = _v1_dict(build(comment="old"))
    r = FeedbackRecord.from_dict(d)
    assert (r.project, r.task_id, r.schema_version, r.comment) == ("", "", 1, "old")
    validate_record(r)
    assert {k: v for k, v in r.to_dict().items() if k not in ("project", "task_id")} == d


def test_project_and_task_round_trip_and_are_limited():
    """Guards the schema-2 fields: they round-trip through the dict form and are held to MAX_ID_CHARS."""
    from workbench.limits import MAX_ID_CHARS

    r = build(project="heist-study", task_id="t-0042")
    assert (r.project, r.task_id, r.schema_version) == ("heist-study", "t-0042", SCHEMA_VERSION)
    assert FeedbackRecord.from_dict(r.to_dict()) == r
    for name in ("project", "task_id"):
        with pytest.raises(FeedbackError, match=f"field '{name}': {MAX_ID_CHARS + 1} characters"):
            build(**{name: "x" * (MAX_ID_CHARS + 1)})
        with pytest.raises(FeedbackError, match=f"field '{name}' must be text"):
            FeedbackRecord.from_dict({**r.to_dict(), name: 7})


def test_every_derived_form_covers_every_declared_field():
    """Guards the one declaration: features, to_dict and from_dict all follow the dataclass fields,
    so a field added there cannot be forgotten in one of them."""
    from dataclasses import fields

    from workbench.feedback.record import FEEDBACK_FEATURES

    names = [f.name for f in fields(FeedbackRecord)]
    r = build(project="p", task_id="t", comment="c", catalog_hash="h", index_id="i")
    assert list(FEEDBACK_FEATURES) == list(r.to_dict()) == names
    assert list(FEEDBACK_FEATURES["slate"].feature) == [f.name for f in fields(ItemJudgement)]
    assert FeedbackRecord.from_dict(r.to_dict()) == r
