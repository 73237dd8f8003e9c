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


# "seen it ?", "Heat (1995) , which": a space before punctuation that ends a clause
# (not ":" or ";", which start faces, nor "." of ". . .": only a stop after a title or ending the reply)
_SPACE_BEFORE_PUNCT_RE = re.compile(r"(?<=[\w)\]\"'”’])[ \t]+([?!,]+)(?=\s|$)")
_SPACE_BEFORE_STOP_RE = re.compile(r"(?<=\))[ \t]+\.\s*$")  # "Rocky (1976) ."
_SPACE_BEFORE_FINAL_STOP_RE = re.compile(r"(?<=\w)[ \t]+\.\s*$")  # "... a musical ." ending a reply
# "Bridesmaids (2011) Is there a director ...": a year's bracket, then a new sentence with no stop between
_NEW_SENTENCE_AFTER_YEAR_RE = re.compile(
    r"(\((?:19|20)\d\d\))[ \t]+(?=(?:Is|Are|Was|Were|What|Which|Who|Do|Does|Did|Have|Has|Would|Could|Can|Will"
    r"|How|Why|Where|When|Let|Tell|It|It's|It’s|They|This|That|I|You|You'll|You’ll|Enjoy|Want)\b)"
)
# "... Step Brothers (2008) If you liked it": a clause after the title, capitalised as if it began a sentence
_CLAUSE_AFTER_YEAR_RE = re.compile(r"(\((?:19|20)\d\d\)[ \t]+)(If|Because|Since|As|And|But|Or)\b")
_ENDS_SENTENCE_RE = re.compile(r"[.!?…][\"'”’)\]*_]*\s*$|[\U0001F300-\U0001FAFF\u2600-\u27BF]\s*$"
                               r"|(?<!\w)[:;=8][-'^o]?[()\[\]DPp]\s*$")  # ... or a face ":)"


def tidy(sentence: str, *, final: bool = False) -> str:
    """A sentence's punctuation as a person would write it; the words are never changed.

    * no space before ``?``, ``!``, ``,``, a stop after a title or (``final``) the reply's last stop
      ("seen it ?" -> "seen it?");
    * a full stop between a title's year and a new sentence ("Bridesmaids (2011) Is there ..." ->
      "Bridesmaids (2011). Is there ..."); a clause after it starts in lower case ("(2008) If" -> "(2008) if");
    * with ``final`` (the last sentence of a language model's reply, which may lack its stop: the
      fine-tuned model writes as ReDial's people do), a full stop at the end when it has none, so
      that nothing the engine appends runs on ("... Bridesmaids (2011) Is there a director ...").
    """
    out = _SPACE_BEFORE_STOP_RE.sub(".", _SPACE_BEFORE_PUNCT_RE.sub(r"\1", sentence))
    if final:
        out = _SPACE_BEFORE_FINAL_STOP_RE.sub(".", out)
    out = _NEW_SENTENCE_AFTER_YEAR_RE.sub(r"\1. ", out)
    out = _CLAUSE_AFTER_YEAR_RE.sub(lambda m: m.group(1) + m.group(2).lower(), out)
    if final and out.strip() and not _ENDS_SENTENCE_RE.search(out):
        out = out.rstrip() + "."
    return out
