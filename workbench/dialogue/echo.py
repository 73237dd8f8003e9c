"""Instruction echo and repeated sentences: prose a reply must not show a user.

Small language models sometimes copy their prompt into the reply ("Your task: Choose a
different option based on the provided choices.", "Task: Recommend the candidates to the
user...") or loop on one sentence ("This is the original request:" five times).
:class:`EchoDetector` tells such a sentence by an instruction-style lead-in ("Your task:",
"Instructions:", "This is the original request", "As an AI", "You are a movie recommender",
the prompt's own labels "Candidates:", "Task:", "User:") or by copying
:data:`ECHO_SHINGLE_WORDS` consecutive words of the instructions the model reads. Those
instructions (the system prompt and task lines of :mod:`workbench.dialogue.prompts`) are
passed in by the caller: importing the prompts module here would pull the generators into
grounding. :func:`sentence_key` is the normalised form two sentences share when one repeats
the other; the grounder drops the second.

It knows text; it does not know items, prompts, the engine or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workbench.text import fold

#: A sentence that repeats this many consecutive words of the prompt's instructions is an echo.
ECHO_SHINGLE_WORDS = 6

_LEAD_IN_RE = re.compile(
    r"^\W*(?:"
    r"(?:your|the|my)\s+task\b|task\s*:|instructions?\s*:|(?:the\s+)?system\s+prompt\b"
    r"|(?:this\s+is\s+)?the\s+original\s+request\b|original\s+request\s*:"
    r"|as\s+an?\s+(?:ai|language\s+model|assistant)\b|i\s+am\s+an?\s+(?:ai|language\s+model)\b"
    r"|(?:candidates|conversation|notes\s+to\s+mention|user|assistant|system)\s*:"
    r"|(?:reply|respond|answer)\s+in\s+\d+\s+to\s+\d+\s+(?:short\s+)?sentences\b"
    r"|you\s+are\s+an?\s+(?:friendly\s+|helpful\s+)?(?:movie\s+|film\s+)?(?:recommender|assistant)\b"
    r")",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", fold(text))


def _shingles(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class EchoDetector:
    """Tells instruction echo. Build once per set of instructions; read-only afterwards.

    Args:
        instructions: the instruction texts the model reads (system prompt, task lines); a
            sentence copying :data:`ECHO_SHINGLE_WORDS` consecutive words of one is an echo.
            Leave out worked-example replies: a model imitating one is doing its job.
        lead_ins: also read instruction-style lead-ins ("Your task:"); off for a detector of
            copies of something else (the conversation so far).
    """

    def __init__(self, instructions: Iterable[str] = (), *, lead_ins: bool = True):
        self._shingles: frozenset[tuple[str, ...]] = frozenset().union(
            *(_shingles(_words(t), ECHO_SHINGLE_WORDS) for t in instructions)
        )
        self._lead_ins = lead_ins  # False: only copies count (e.g. of the conversation, not of instructions)

    def is_echo(self, sentence: str) -> bool:
        """Whether ``sentence`` reads like the prompt's instructions rather than a reply."""
        if self._lead_ins and _LEAD_IN_RE.match(sentence):
            return True
        return bool(self._shingles & _shingles(_words(sentence), ECHO_SHINGLE_WORDS))


def sentence_key(sentence: str) -> str:
    """The form two sentences share when one repeats the other: folded words, no punctuation."""
    return " ".join(_words(sentence))
