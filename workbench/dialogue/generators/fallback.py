"""Falling back to the template generator when a language model fails or is too slow.

:class:`FallbackGenerator` runs its primary generator in a worker thread and
waits for each piece with two deadlines: the first piece must arrive within
``first_token_timeout_s`` (this includes a model that is still loading), the
whole reply within ``total_timeout_s``. When the primary raises or misses a
deadline, the reply continues with a short notice and the fallback (template)
generator's reply, and the stream says so:

    stream = generator.stream(request)
    text = "".join(stream)
    stream.fell_back      # True when the template generator answered
    stream.generator      # name of whichever generator wrote the reply
    stream.error          # what went wrong, as text ("" when nothing did)

These three are the declared attributes callers read (the chat engine reports them with every
turn); ``fell_back`` turns true as the stream hands over the fallback's first piece, which is how
the engine knows where a midway fallback starts (:mod:`workbench.dialogue.restart`). This wrapper
is the one place a reply gets a deadline. A primary that *is* the fallback
runs directly, without a worker thread or deadline.

A primary that missed a deadline is asked to stop (its stream is closed from
the worker thread, which stops ``model.generate``); a model that is still
loading keeps loading, so the next reply can use it.

It knows generators and time; it does not know models, HTTP or gradio.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator

from workbench.dialogue.generators.base import GenerationRequest, Generator
from workbench.dialogue.generators.template import TemplateGenerator

log = logging.getLogger(__name__)

#: Opens the reply when the LLM gave nothing usable.
FALLBACK_NOTICE = "(The language model did not answer in time, so here is a quick summary.)"
#: Opens the fallback part when the LLM failed after it had started writing.
FALLBACK_NOTICE_MIDWAY = "(The language model stopped early, so here is a quick summary.)"

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class FallbackStream:
    """The iterator :meth:`FallbackGenerator.stream` returns; see the module docstring."""

    def __init__(self, owner: FallbackGenerator, request: GenerationRequest):
        self._owner = owner
        self._request = request
        self.fell_back: bool = False
        self.error: str = ""
        #: why it fell back: "timeout", "empty" or "error" ("" while it has not)
        self.reason: str = ""
        self.generator: str = owner.primary.name
        self._cancel = threading.Event()
        self._it = self._run()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._it)

    def close(self) -> None:
        self._cancel.set()
        self._it.close()

    def _worker(self, out: queue.Queue) -> None:
        it: Iterator[str] | None = None
        try:
            it = iter(self._owner.primary.stream(self._request))
            for piece in it:
                if self._cancel.is_set():
                    break
                out.put(piece)
            else:
                out.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which falls back
            out.put(_Failed(exc))
        finally:
            close = getattr(it, "close", None) if it is not None else None
            if close is not None:
                close()  # stops a transformers generate() that is still running

    def _run(self) -> Iterator[str]:
        owner = self._owner
        if owner.primary is owner.fallback:  # nothing to fall back to: no worker, no deadline
            yield from owner.fallback.stream(self._request)
            return
        out: queue.Queue = queue.Queue()
        worker = threading.Thread(target=self._worker, args=(out,), name="generator", daemon=True)
        start = time.monotonic()
        worker.start()
        first_deadline = start + owner.first_token_timeout_s
        total_deadline = start + owner.total_timeout_s
        produced = False
        problem = reason = ""
        try:
            while True:
                deadline = total_deadline if produced else min(first_deadline, total_deadline)
                try:
                    item = out.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    limit = owner.total_timeout_s if produced else owner.first_token_timeout_s
                    what = "finish" if produced else "start"
                    problem, reason = f"{owner.primary.name} did not {what} within {limit:g}s", "timeout"
                    break
                if item is _DONE:
                    if produced:
                        return
                    problem, reason = f"{owner.primary.name} returned an empty reply", "empty"
                    break
                if isinstance(item, _Failed):
                    problem, reason = f"{owner.primary.name} failed: {item.error}", "error"
                    break
                if item:
                    produced = True
                    yield item
        finally:
            self._cancel.set()
        log.warning("falling back to %s: %s", owner.fallback.name, problem)
        self.fell_back = True
        self.error, self.reason = problem, reason
        self.generator = owner.fallback.name
        notice = FALLBACK_NOTICE_MIDWAY if produced else FALLBACK_NOTICE
        yield ("\n\n" if produced else "") + notice + " "
        yield from owner.fallback.stream(self._request)


class FallbackGenerator:
    """A primary generator with a deadline, backed by a fallback (the template generator).

    Args:
        primary: the language-model generator.
        fallback: answers when the primary fails; default :class:`TemplateGenerator`.
        first_token_timeout_s: most seconds until the primary's first piece.
        total_timeout_s: most seconds for the primary's whole reply
            (default: ``first_token_timeout_s``).
    """

    def __init__(
        self,
        primary: Generator,
        fallback: Generator | None = None,
        *,
        first_token_timeout_s: float = 30.0,
        total_timeout_s: float | None = None,
    ):
        self.primary = primary
        self.fallback = fallback if fallback is not None else TemplateGenerator()
        self.first_token_timeout_s = first_token_timeout_s
        self.total_timeout_s = total_timeout_s if total_timeout_s is not None else first_token_timeout_s

    @classmethod
    def around(cls, generator: Generator, fallback: Generator | None = None, *,
               timeout_s: float = 30.0) -> FallbackGenerator:
        """``generator`` behind a deadline of ``timeout_s`` (first piece and whole reply) and ``fallback``.

        One already wrapped is returned as it is; the fallback itself runs without a deadline (the
        deadline is kept for the generators :meth:`guard` puts behind it).
        """
        if isinstance(generator, FallbackGenerator):
            return generator
        return cls(generator, generator if generator is fallback else fallback,
                   first_token_timeout_s=timeout_s, total_timeout_s=timeout_s)

    def guard(self, generator: Generator) -> FallbackGenerator:
        """``generator`` behind this wrapper's fallback and deadlines (what a turn that asks for
        another generator runs). One already wrapped is returned as it is; the fallback runs directly."""
        if isinstance(generator, FallbackGenerator):
            return generator
        return FallbackGenerator(generator, self.fallback, first_token_timeout_s=self.first_token_timeout_s,
                                 total_timeout_s=self.total_timeout_s)

    @property
    def name(self) -> str:
        return self.primary.name

    @property
    def ready(self) -> bool:
        return self.primary.ready

    def load(self) -> FallbackGenerator:
        """Load the primary's weights now (for a background thread at start-up)."""
        self.primary.load()
        return self

    def stream(self, request: GenerationRequest) -> FallbackStream:
        return FallbackStream(self, request)

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))
