"""The Blocks boundary (workbench.ui.boundary): a WorkbenchError is shown once, never a traceback.

Guards: a failing handler warns and returns its fallback; a streaming handler keeps its updates
and ends with the fallback; ``toast=False`` stays quiet; other exceptions are not swallowed; the
wrapper keeps what Gradio reads (generator kind, the ``gr.OAuthProfile`` annotation); API
endpoints turn the error into ``gr.Error`` with the message.
"""

from __future__ import annotations

import inspect

import gradio as gr
import pytest
from gradio import utils

from workbench.errors import FeedbackError, WorkbenchError
from workbench.ui import boundary


@pytest.fixture
def toasts(monkeypatch):
    shown = []
    monkeypatch.setattr(boundary.gr, "Warning", lambda message: shown.append(message))
    return shown


def test_a_failing_handler_warns_and_returns_its_fallback(toasts):
    @boundary.shows_errors(lambda x: ("fallback", x))
    def handler(x):
        raise FeedbackError(f"bad {x}")

    assert handler(3) == ("fallback", 3)
    assert toasts == ["bad 3"]


def test_a_working_handler_is_untouched(toasts):
    @boundary.shows_errors(lambda x: "fallback")
    def handler(x):
        return x * 2

    assert handler(4) == 8 and toasts == []


def test_a_streaming_handler_keeps_its_updates_and_ends_with_the_fallback(toasts):
    @boundary.shows_errors(lambda n: "recovered")
    def stream(n):
        yield from range(n)
        raise WorkbenchError("mid-stream")

    assert inspect.isgeneratorfunction(stream)  # Gradio streams only generator functions
    assert list(stream(2)) == [0, 1, "recovered"]
    assert toasts == ["mid-stream"]


def test_quiet_boundary_and_no_fallback_return_none_without_a_toast(toasts):
    @boundary.shows_errors(toast=False)
    def handler():
        raise WorkbenchError("ignored")

    assert handler() is None and toasts == []


def test_bugs_are_not_swallowed(toasts):
    @boundary.shows_errors(lambda: "fallback")
    def handler():
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        handler()
    assert toasts == []


def test_wrapper_keeps_the_annotations_gradio_reads():
    def handler(profile: gr.OAuthProfile | None, name: str) -> str:
        return name

    wrapped = boundary.shows_errors()(handler)
    assert list(inspect.signature(wrapped).parameters) == ["profile", "name"]
    assert utils.get_type_hints(wrapped)["profile"] == gr.OAuthProfile | None


def test_api_errors_become_gr_error_with_the_message():
    def endpoint():
        raise FeedbackError("label: must be one of like, dislike")

    with pytest.raises(gr.Error, match="label: must be one of"):
        boundary.as_app_error(endpoint)()
