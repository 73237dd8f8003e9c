"""Annotator names are printable text, and the CLI never prints record text raw to a terminal.

Guards issue 19 item 10: ESC, BEL, NUL and a right-to-left override in an annotator name were
saved verbatim, and `python -m workbench feedback stats` wrote them raw to the terminal (an ESC
sequence can clear the screen or retitle the window; RLO makes one name display as another).
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from workbench.cli import main
from workbench.cli.output import json_safe, terminal_safe
from workbench.errors import FeedbackError
from workbench.feedback.record import make_record
from workbench.feedback.store import JsonlFeedbackStore, encode_line

SLATE = [{"item_id": "3", "title": "Heat (1995)", "rank": 1, "score": 0.9, "sources": {}}]


def build(annotator: str = "ana"):
    return make_record(
        annotator=annotator, session_id="s-1", turn_index=0,
        conversation=[], user_message="a heist film please", reply="Try Heat (1995).",
        generator_backend="template", generator_model="", slate=SLATE,
        judgements={"3": {"label": "like"}},
    )


@pytest.mark.parametrize(
    "name, shown",
    [
        ("ev\x1b[2Jil", r"\x1b"),  # ESC: terminal escape sequence
        ("bell\x07", r"\x07"),  # BEL
        ("nul\x00", r"\x00"),  # NUL
        ("abc\u202edef", r"\u202e"),  # right-to-left override
        ("a\u2066b", r"\u2066"),  # left-to-right isolate (bidi, Cf)
        ("zero\u200bwidth", r"\u200b"),  # zero-width space (Cf)
        ("two\nlines", r"\n"),
    ],
)
def test_annotator_name_with_control_characters_is_refused(name, shown):
    """The error names the field and shows the offending character escaped."""
    with pytest.raises(FeedbackError, match=r"field 'annotator': must be printable text") as caught:
        build(annotator=name)
    message = str(caught.value)
    assert shown in message and name not in message


@pytest.mark.parametrize("name", ["ana", "José García", "李小龍", "Ana\u00a0Lúcia", "ann-2 (QA)"])
def test_printable_names_in_any_script_are_accepted(name):
    assert build(annotator=name).annotator == name


def _write_raw(tmp_path, *records) -> None:
    """Records as an older version saved them (before names were checked): straight to a shard."""
    (tmp_path / "shard-old-1-x.jsonl").write_bytes(b"".join(encode_line(r) for r in records))


def test_feedback_stats_escapes_what_it_prints_from_records(tmp_path, capsys):
    evil = "ev\x1b]0;pwned\x07il\u202e"
    old = dataclasses.replace(build(), annotator=evil)
    old = dataclasses.replace(old, slate=(dataclasses.replace(old.slate[0], title="Heat\x1b[31m (1995)"),))
    _write_raw(tmp_path, old)
    assert [r.annotator for r in JsonlFeedbackStore(tmp_path).read()] == [evil]  # still readable
    assert main(["feedback", "stats", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert r"ev\x1b]0;pwned\x07il\u202e" in out and r"Heat\x1b[31m (1995)" in out

    assert main(["feedback", "stats", "--dir", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert evil in json.loads(out)["annotators"]  # escaped for the terminal, same JSON values


def test_terminal_and_json_escaping_helpers():
    assert terminal_safe("plain text, café") == "plain text, café"
    assert terminal_safe("a\x1bb\nc", keep="\n") == "a\\x1bb\nc"
    text = json.dumps({"k": "x\u202e\U000e0001\x1b", "ok": "été"}, ensure_ascii=False, indent=2)
    safe = json_safe(text)
    assert json.loads(safe) == json.loads(text) and "\u202e" not in safe and "été" in safe
