"""Grounding a reply that restarts: a model that fails midway is replaced, not extended.

:class:`RestartingGrounding` feeds a :class:`~workbench.dialogue.generators.fallback.FallbackStream`
to the grounder. When the fallback takes over after the model had written something (the stream's
declared ``fell_back`` turns true as it hands over the first piece of the fallback's text), it
ends the model's grounded text, yields one :class:`~workbench.dialogue.types.ReplyRestart` and
grounds the fallback's text afresh; the turn shows only that. No consumer looks for the fallback's
notice in the text.

It knows the fallback stream's attributes and grounded streams; it does not know sessions or gradio.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from workbench.dialogue.types import ReplyRestart

if TYPE_CHECKING:
    from workbench.dialogue.generators.fallback import FallbackStream
    from workbench.dialogue.grounding import GroundedStream


class RestartingGrounding:
    """Grounded pieces of ``reply``, with a :class:`ReplyRestart` where a midway fallback replaces them.

    Args:
        reply: the generator's stream.
        ground: makes a grounded stream of text pieces (the turn's :meth:`Grounder.stream` call).

    After it is exhausted, ``fixes`` and ``fixes_by_kind`` count every fix (withdrawn text
    included); ``on_task``, ``withheld`` and ``names_slate_item`` describe the text shown.
    """

    def __init__(self, reply: FallbackStream, ground: Callable[[Iterable[str]], GroundedStream]):
        self._reply = reply
        self._ground = ground
        self._earlier: list[GroundedStream] = []
        self.current: GroundedStream | None = None

    def __iter__(self) -> Iterator[str | ReplyRestart]:
        reply = self._reply
        handover: list[str] = []  # the fallback's first piece, held for the fresh grounding

        def model_part() -> Iterator[str]:
            wrote, fell = False, reply.fell_back
            for piece in reply:
                if reply.fell_back and not fell and wrote:  # this piece is the fallback's first
                    handover.append(piece.lstrip())  # "\n\n" + notice: it now opens the reply
                    return
                wrote, fell = wrote or bool(piece), reply.fell_back
                yield piece

        self.current = self._ground(model_part())
        yield from self.current
        if not handover:
            return
        self._earlier.append(self.current)
        yield ReplyRestart(reply.reason)
        self.current = self._ground(itertools.chain(handover, reply))
        yield from self.current

    def _shown(self) -> GroundedStream:
        if self.current is None:
            raise RuntimeError("the reply has not been streamed yet")
        return self.current

    @property
    def fixes(self) -> int:
        return sum(g.fixes for g in (*self._earlier, self._shown()))

    @property
    def fixes_by_kind(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for g in (*self._earlier, self._shown()):
            total.update(g.fixes_by_kind)
        return dict(total)

    @property
    def on_task(self) -> bool:
        return self._shown().on_task

    @property
    def withheld(self) -> list[str]:
        return self._shown().withheld

    @property
    def names_slate_item(self) -> bool:
        return self._shown().names_slate_item
