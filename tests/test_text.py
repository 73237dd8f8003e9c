"""The text layer's one-place rules (issue 29): "Title (Year)" reading and the message check."""

from __future__ import annotations

import pytest

from workbench.errors import DialogueError, WorkbenchError
from workbench.limits import MAX_MESSAGE_CHARS
from workbench.text import check_message, split_title_year


@pytest.mark.parametrize(("text", "expected"), [
    ("Heat (1995)", ("Heat", 1995)),
    ("  Heat ( 1995 )  ", ("Heat", 1995)),
    ("Heat [1995]", ("Heat", 1995)),
    ("Heat (1995 film)", ("Heat", 1995)),
    ("Blade Runner 2049 (2017)", ("Blade Runner 2049", 2017)),
    ("2001: A Space Odyssey", ("2001: A Space Odyssey", None)),
    ("Heat (19955)", ("Heat (19955)", None)),
    ("Heat (1995) sequel", ("Heat (1995) sequel", None)),
])
def test_split_title_year_reads_the_one_title_year_form(text, expected):
    """Guards the single parser that replaced six regexes (catalogue files, ReDial, MovieLens, tools, grounding)."""
    assert split_title_year(text) == expected


def test_check_message_strips_and_refuses_with_one_wording():
    assert check_message("  hi  ") == "hi"
    assert check_message("x" * MAX_MESSAGE_CHARS) == "x" * MAX_MESSAGE_CHARS
    with pytest.raises(WorkbenchError, match="type a message first"):
        check_message(" \n ")
    with pytest.raises(WorkbenchError, match="message: expected text, got list"):
        check_message(["hi"])
    with pytest.raises(DialogueError, match=f"{MAX_MESSAGE_CHARS + 1:,} characters; the limit is {MAX_MESSAGE_CHARS:,}"):
        check_message("x" * (MAX_MESSAGE_CHARS + 1), error=DialogueError)
