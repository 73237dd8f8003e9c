"""workbench.manifest: the one meta.json helper every saved artifact uses."""

from __future__ import annotations

import json

import pytest

from workbench.errors import ItemIndexError
from workbench.manifest import (
    MANIFEST,
    built_with,
    mismatches,
    peek_manifest,
    read_manifest,
    rebuild_hint,
    write_manifest,
)


def test_write_then_read_round_trips_and_leaves_no_temp_file(tmp_path):
    """Guards the atomic write: the manifest reads back as written and no .tmp is left behind."""
    path = write_manifest(tmp_path, {"kind": "flat", "title": "Amélie"})
    assert path == tmp_path / MANIFEST and [p.name for p in tmp_path.iterdir()] == [MANIFEST]
    assert read_manifest(tmp_path, error=ItemIndexError, fix="x", required=("kind",))["title"] == "Amélie"


@pytest.mark.parametrize(("content", "message"), [
    (None, "manifest missing"), ("{not json", "unreadable manifest"), ("[1]", "manifest must be a JSON object"),
    (json.dumps({"other": 1}), "manifest field 'kind' is missing"),
])
def test_read_errors_name_the_file_and_the_fix(tmp_path, content, message):
    """Guards one error style: every failure names the manifest's path, what is wrong and the fix,
    in the caller's error type; peek_manifest never raises."""
    if content is not None:
        (tmp_path / MANIFEST).write_text(content)
    fix = rebuild_hint("python -m workbench index build --out ix")
    with pytest.raises(ItemIndexError) as exc:
        read_manifest(tmp_path, error=ItemIndexError, fix=fix, required=("kind",))
    assert str(exc.value).startswith(f"{tmp_path / MANIFEST}: {message}")
    assert str(exc.value).endswith("; rebuild with: python -m workbench index build --out ix")
    assert peek_manifest(tmp_path) in (None, {"other": 1})


def test_mismatches_and_the_built_with_message():
    """Guards the comparison: only differing expected fields are listed, in one message style."""
    problems = mismatches({"model_id": "a", "count": 3}, {"model_id": "b", "count": 3}, "index")
    assert problems == ["model_id: index has 'a', expected 'b'"]
    assert built_with("index ix", problems, "CMD") == (
        "index ix was built with other inputs: model_id: index has 'a', expected 'b'. Rebuild it with: CMD"
    )
