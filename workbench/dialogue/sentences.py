"""Sentence splitting for grounding: decisions depend only on text already seen.

:class:`SentenceSplitter` cuts incoming text into (sentence, separator) pairs. It never takes
back a decision when more text arrives, so a stream split anywhere yields the same sentences
as the joined text: grounding can hold back one unfinished sentence and release each complete
one. Abbreviations ("Dr. Strangelove"), initials ("L.A. Confidential"), list numbers and
punctuation inside a slate title ("Boo! A Madea Halloween", see :func:`title_heads`) do not
end a sentence.

It knows text and item titles; it does not know the catalogue, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from workbench.catalog import Item

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs vol no mt lt col gen sgt capt prof ft co inc ltd ep pt".split()
)

_BOUNDARY_RE = re.compile(
    r"(?P<punct>[.!?…]+)[\"'”’)\]*_]*(?P<ws>\s+)(?=[^\s])"
    r"|(?P<nl>[ \t]*\n\s*)(?=[^\s])"
)


_INNER_PUNCT_RE = re.compile(r"[.!?…]+(?=\s)")


def title_heads(items: Iterable[Item]) -> tuple[str, ...]:
    """Lower-cased starts of titles that hold sentence punctuation before a space ("boo!" of
    "Boo! A Madea Halloween"): the splitter must not end a sentence there."""
    heads = {item.title[: m.end()].lower() for item in items for m in _INNER_PUNCT_RE.finditer(item.title)}
    return tuple(sorted(heads, key=len, reverse=True))


def _is_boundary(text: str, m: re.Match[str], heads: Sequence[str] = ()) -> bool:
    if m.group("nl") is not None:
        return True
    nxt = text[m.end()] if m.end() < len(text) else ""
    if nxt.islower():
        return False
    if heads:  # inside a slate title such as "Boo! A Madea Halloween" (decided on text already seen)
        upto = text[: m.end("punct")].lower()
        for head in heads:
            if upto.endswith(head) and not upto[: len(upto) - len(head)][-1:].isalnum():
                return False
    before = text[: m.start("punct")]
    word = re.search(r"([^\W_]+)$", before)
    if word and m.group("punct") == ".":
        w = word.group(1)
        # "Dr. Strangelove", "L.A. Confidential", "1. Heat (1995)" are not sentence ends.
        if w.lower() in _ABBREVIATIONS or len(w) == 1 or (w.isdigit() and len(w) <= 2):
            return False
    return True


class SentenceSplitter:
    """Splits incoming text into (sentence, separator) pairs, stably under any chunking."""

    def __init__(self, heads: Sequence[str] = ()) -> None:
        self._buf = ""
        self._started = False
        self._heads = tuple(heads)  # see title_heads

    def feed(self, piece: str) -> list[tuple[str, str]]:
        self._buf += piece
        if not self._started:
            self._buf = self._buf.lstrip()
            if not self._buf:
                return []
            self._started = True
        out = []
        pos = 0  # the buffer holds one unfinished sentence, so rescanning it is cheap
        while True:
            m = _BOUNDARY_RE.search(self._buf, pos)
            if m is None:
                break
            if not _is_boundary(self._buf, m, self._heads):
                pos = m.end()
                continue
            split_at = m.start("ws") if m.group("ws") is not None else m.start("nl")
            out.append((self._buf[:split_at], self._buf[split_at : m.end()]))
            self._buf = self._buf[m.end() :]
            pos = 0
        return out

    def finish(self) -> list[tuple[str, str]]:
        rest = self._buf.rstrip()
        self._buf = ""
        return [(rest, "")] if rest else []
