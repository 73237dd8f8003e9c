"""The Blocks boundary: where a :class:`~workbench.errors.WorkbenchError` becomes something shown.

Handlers and use cases raise ``WorkbenchError`` with a message a user can act
on; they never catch it to show it. The decorators here are the one place that
does:

* :func:`shows_errors` for Blocks event handlers (plain or streaming): the
  message becomes a ``gr.Warning`` toast (or nothing, with ``toast=False``) and
  the handler returns (or yields) ``fallback(*args, **kwargs)`` instead.
* :func:`as_app_error` for the named API endpoints: the message becomes a
  ``gr.Error``, which ``gradio_client`` raises as an ``AppError`` carrying it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from workbench.errors import WorkbenchError

F = TypeVar("F", bound=Callable[..., Any])


def shows_errors(fallback: Callable[..., Any] | None = None, *, toast: bool = True) -> Callable[[F], F]:
    """Decorator: a ``WorkbenchError`` from the handler is shown as a warning toast.

    Args:
        fallback: called with the handler's arguments; its value is what the handler
            returns (a generator handler yields it as its last update). ``None``: return ``None``.
        toast: ``False`` swallows the error without a toast (a best-effort refresh).

    The wrapper keeps the handler's signature and kind (Gradio reads both: special
    arguments such as ``gr.OAuthProfile`` by annotation, streaming by generator function).
    """

    def show(exc: WorkbenchError, args: tuple, kwargs: dict) -> Any:
        if toast:
            gr.Warning(str(exc))
        return fallback(*args, **kwargs) if fallback is not None else None

    def decorate(fn: F) -> F:
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def stream(*args: Any, **kwargs: Any) -> Any:
                try:
                    yield from fn(*args, **kwargs)
                except WorkbenchError as exc:
                    yield show(exc, args, kwargs)

            return stream  # type: ignore[return-value]

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except WorkbenchError as exc:
                return show(exc, args, kwargs)

        return call  # type: ignore[return-value]

    return decorate


def as_app_error(fn: F) -> F:
    """Decorator for API endpoints: a ``WorkbenchError`` becomes ``gr.Error`` (an ``AppError`` for clients)."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WorkbenchError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return call  # type: ignore[return-value]
