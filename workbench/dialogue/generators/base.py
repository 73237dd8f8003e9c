"""The generator protocol: ``stream(request)`` yields text pieces; ``generate`` is their join.

A local language model loads its weights in :meth:`Generator.load` (the generator pool calls it
on a background thread unless :attr:`Generator.ready`); generators with nothing to load are ready
from the start. A generator writes the reply *around* a slate the recommender already chose.
It never chooses items: the engine grounds whatever it writes against the
slate (see ``workbench.dialogue.grounding``) before a user sees it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from workbench.dialogue.types import Answer, Recommendation, Turn


@dataclass(frozen=True)
class GenerationRequest:
    """What a generator gets for one reply."""

    turns: tuple[Turn, ...]  # the conversation so far, ending with the user's new message
    recommendations: tuple[Recommendation, ...] = ()  # the slate, best first, with reasons
    intent: str = "recommend"  # what the engine understood the user wants
    notes: tuple[str, ...] = ()  # facts the reply should mention ("I took Heat as Heat (1995)")
    question: str = ""  # what to ask after the slate ("Which decade?"), chosen by the engine
    #: prebuilt chat messages (``role``/``content``) a language-model backend sends instead of the
    #: recommender prompt (a simulated user's prompt, see ``workbench.evaluate.simulation.llm``)
    messages: tuple[Mapping[str, str], ...] = ()
    #: the fact to state, when the user asked about films (``ask_fact`` / ``compare``)
    answer: Answer | None = None
    #: what the reply does (:data:`workbench.dialogue.types.ACTS`; empty: follow ``intent``)
    act: str = ""


@runtime_checkable
class Generator(Protocol):
    """Anything that streams a reply for a :class:`GenerationRequest`."""

    @property
    def name(self) -> str:
        """``backend:model``, recorded with every reply and annotation."""
        ...

    @property
    def ready(self) -> bool:
        """True when :meth:`stream` answers without loading anything first (weights in memory)."""
        ...

    def load(self) -> Generator:
        """Load what :meth:`stream` needs now (a background thread calls it at start-up); returns
        ``self``. Generators with nothing to load return at once."""
        ...

    def stream(self, request: GenerationRequest) -> Iterator[str]: ...

    def generate(self, request: GenerationRequest) -> str: ...
