"""What the in-process language-model backends (``transformers``, ``llamacpp``, ``openvino``) share: checking
their limits, running a decoding thread (:func:`threaded_reply`), and turning the pieces it produces
into a reply that starts with the primed opening, stops after ``max_sentences`` sentences and keeps to
its deadlines.

It knows text pieces and deadlines; it does not know torch, llama.cpp or the engine.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from workbench.errors import GenerationError

#: A sentence ends at ., ! or ? followed by a space, a closing quote or bracket, or the end.
SENTENCE_END_RE = re.compile(r"[.!?](?=[\s\"')\]]|$)")


def check_limits(max_new_tokens: int, timeout_s: float) -> None:
    """Refuse a token limit or a deadline that no reply could keep (:class:`GenerationError`)."""
    if max_new_tokens < 1:
        raise GenerationError(f"max_new_tokens must be positive, got {max_new_tokens}")
    if timeout_s <= 0:
        raise GenerationError(f"timeout_s must be positive, got {timeout_s}")


def capped_reply(pieces: Iterable[str], prefix: str, *, name: str, timeout_s: float,
                 max_sentences: int) -> Iterator[str]:
    """``prefix``, then ``pieces`` until the reply has ``max_sentences`` sentences (0: no cap).

    ``pieces`` raises :class:`queue.Empty` when no piece came within ``timeout_s``; the whole reply
    may take ``timeout_s * 4``. Both become a :class:`GenerationError` naming the setting.
    """
    if prefix:
        yield prefix
    deadline = time.monotonic() + timeout_s * 4
    sentences = len(SENTENCE_END_RE.findall(prefix))
    try:
        for piece in pieces:
            if piece:
                yield piece
                sentences += len(SENTENCE_END_RE.findall(piece))
                if max_sentences and sentences >= max_sentences:
                    return
            if time.monotonic() > deadline:
                raise GenerationError(f"{name}: reply took longer than {timeout_s * 4:.0f}s; stopped")
    except queue.Empty:
        raise GenerationError(f"{name}: no text within {timeout_s:g}s (setting generator_timeout_s)") from None


#: What a decode worker emits: a text piece.
Emit = Callable[[str], object]


def threaded_reply(run: Callable[[Emit, threading.Event], None], prefix: str, *, name: str, timeout_s: float,
                   max_sentences: int, thread_name: str) -> Iterator[str]:
    """Run ``run(emit, stop)`` in a daemon thread and yield what it emits as a :func:`capped_reply`.

    ``run`` decodes and calls ``emit`` with each text piece; it should stop soon after ``stop`` is set,
    which happens when the consumer stops reading (a cap, a deadline, a cancelled turn). An exception
    in ``run`` reaches the consumer as a :class:`GenerationError` naming ``name``.
    """
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    end = object()

    def work() -> None:
        try:
            run(out.put, stop)
        except BaseException as exc:  # surfaced to the consumer
            out.put(exc)
        finally:
            out.put(end)

    threading.Thread(target=work, name=thread_name, daemon=True).start()

    def pieces() -> Iterator[str]:  # what the worker decodes; queue.Empty past timeout_s
        while (piece := out.get(timeout=timeout_s)) is not end:
            if isinstance(piece, BaseException):
                raise GenerationError(f"{name}: generation failed: {piece}") from piece
            yield piece

    try:
        yield from capped_reply(pieces(), prefix, name=name, timeout_s=timeout_s, max_sentences=max_sentences)
    finally:
        stop.set()  # the worker stops at its next piece
