"""Plot claims: what a reply says a film is *about*, checked against what the catalogue knows of it.

A small model describes the films it names with invented stories ("Casino (1995) if you like the
story of a high roller who gets caught up in his own business", "There's Something About Mary,
which is about a couple who get married but ends up having an affair"). The catalogue holds no plot
summary, only each film's genres and tags, so that is all a plot clause may say. The rule:

* a *plot clause* starts at a cue of :data:`PLOT_CUES` ("the story of", "is about", "a comedy
  about", "follows", "set in", ...; at its group ``c`` where it has one) and runs to the end of the
  sentence;
* its content words (not function words, not :data:`_PLAIN_WORDS` such as "great" or "story") must
  all be words of the genres, tags or titles of the films the sentence names (or, for a sentence
  that opens with "It"/"The film", the films the sentence before named). "A coming-of-age comedy
  about high school" is kept for a film tagged *coming-of-age* and *high school*; "a story about a dog
  who was killed on his way home" is not, for any film the catalogue describes with genres alone;
* an unsupported clause is cut when what stays before it still names a film ("You might enjoy Casino
  (1995).") or, in a sentence about the film before ("It was a horror flick about ..."), still says
  something the catalogue holds of it (a genre, tag or title word: "It was a horror flick." for a horror
  film); else the sentence goes. Both count as one ``plot`` fix.

Known limits: a plot claim without a cue ("A high roller gets caught up in his business.") is not
read; a clause that names only a film's tags ("a story of survival" for a film tagged *survival*)
passes even when the rest of what the model meant was invented.

It knows items and text; it does not know the catalogue, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.catalog import Item
from workbench.dialogue.facts import PRONOUN_START_RE
from workbench.text import SEARCH_STOPWORDS

#: (name, pattern): where a plot clause starts. Read on the sentence with the slate's titles masked.
PLOT_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("story-of", r"\b(?:the|a|an|this|that|its|their)\s+(?:[\w-]+\s+){0,2}?(?:story|stories|tale|journey)\s+(?:of|about)\b"),
    ("is-about", r"\b(?:is|was|are|were|it['’]s|that['’]s)\s+(?:all\s+|mainly\s+|mostly\s+|really\s+)?about\s+(?!as\b|it\b|that\b|to\b|the\s+same\b)"),
    ("noun-about", r"\b(?:film|movie|flick|comedy|drama|thriller|one|picture|classic|adventure|romance|documentary"
                   r"|musical|tale|story|show|series|horror|western|mystery)\s+(?P<c>about)\s+(?!it\b|that\b|to\b)"),
    ("follows", r"\b(?:follows|followed|centers\s+on|centres\s+on|centered\s+on|revolves\s+around|tells\s+(?:the\s+)?"
                r"(?:story|tale)|deals\s+with|is\s+set\s+in|(?:film|movie|story)\s+set\s+in|takes\s+place\s+in)\b"),
    ("where-someone", r"\b(?:where|in\s+which)\s+(?:a|an|two|three|four|some|the)\s+(?:[\w-]+\s+){0,2}?"
                      r"(?:man|woman|boy|girl|guy|kid|kids|family|couple|group|student|cop|detective|teen|teens|"
                      r"friends|brothers|sisters|father|mother|dad|mom|son|daughter|soldier|team|dog|people)\b"),
))

# Words a plot clause may use besides the films' own genre, tag and title words: no claim in them.
_PLAIN_WORDS = SEARCH_STOPWORDS | frozenset(
    """
    story stories tale tales plot journey film films movie movies great good fun funny amazing interesting
    cool nice pretty awesome whole lot lots fan fans genre type kind way things thing stuff everything
    something anything classic fantastic wonderful beautiful exciting entertaining
    """.split()
)
_WORD_RE = re.compile(r"[a-z][a-z'’-]*")
# what may stay before a cut clause and still be a sentence: trailing glue words go with the clause
_TRAILING_GLUE_RE = re.compile(
    r"(?:[\s,;:–—-]+|\b(?:which|that|who|it|its|it['’]s|as|for|with|because|since|and|but|if|when|you|you['’]re"
    r"|are|is|was|into|like|liked|love|loved|enjoy|enjoyed|prefer|want|were|also|really|great|good|fun|one"
    r"|a|an|the)\b)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlotFix:
    """One unsupported plot clause: the clause, the cue that started it, whether the sentence went."""

    span: str
    cue: str
    dropped: bool


def _stem(word: str) -> str:
    word = word.replace("’", "'").removesuffix("'s")
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def support_words(films: Sequence[Item]) -> frozenset[str]:
    """The words a plot clause about ``films`` may use: their genres, tags and titles, stemmed."""
    words = set()
    for film in films:
        for phrase in (*film.genres, *film.tags, film.title):
            words |= {_stem(w) for w in _WORD_RE.findall(phrase.lower().replace("-", " "))}
            words |= {_stem(w) for w in _WORD_RE.findall(phrase.lower())}
    return frozenset(words)


def unsupported_words(clause: str, films: Sequence[Item]) -> list[str]:
    """The content words of ``clause`` that no genre, tag or title of ``films`` holds."""
    support = support_words(films)
    out = []
    for w in _WORD_RE.findall(clause.lower()):
        w = w.strip("'’-")
        if not w or w in _PLAIN_WORDS or _stem(w) in _PLAIN_WORDS:
            continue
        parts = [p for p in w.split("-") if p]
        if _stem(w) not in support and not all(_stem(p) in support or p in _PLAIN_WORDS for p in parts):
            out.append(w)
    return out


def _pronoun_head_of(head: str, films: Sequence[Item]) -> bool:
    """Whether ``head`` (what stays before a cut clause) opens with "It"/"The film" and says something the
    catalogue holds of ``films`` (the previous sentence's): "It was a horror flick" stays for a horror film
    (the fact checks read its genre), "It's a story" is nothing."""
    if not films or PRONOUN_START_RE.match(head) is None:
        return False
    support = support_words(films) - _PLAIN_WORDS
    return any(_stem(w.strip("'’-")) in support for w in _WORD_RE.findall(head.lower()))


def check_plot(sentence: str, masked: str, films: Sequence[Item]) -> tuple[str | None, list[PlotFix]]:
    """Cut (or drop) a plot clause of ``sentence`` that ``films``' genres, tags and titles do not support.

    Args:
        sentence: the sentence as it would be shown.
        masked: the same sentence with the slate's titles blanked (same length), which the cues read,
            so that a title ("Something About Mary") is no plot clause.
        films: the films the sentence is about (named, or the previous sentence's for "It ...").

    Returns:
        The sentence (cut short, or ``None`` when it went) and the fixes (empty: untouched).
    """
    starts = [(m.start("c") if "c" in rx.groupindex else m.start(), name)
              for name, rx in PLOT_CUES for m in [rx.search(masked)] if m is not None]
    if not starts:
        return sentence, []
    start, cue = min(starts)
    clause = masked[start:]
    if not unsupported_words(clause, films):
        return sentence, []
    head = _TRAILING_GLUE_RE.sub("", sentence[:start])
    masked_head = masked[: len(head)]
    names_film = "_" in masked_head and len(re.findall(r"[A-Za-z]+", masked_head)) >= 2
    if not names_film and not _pronoun_head_of(head, films):
        return None, [PlotFix(sentence[start:].strip(), cue, True)]  # nothing about a film stays
    end = "!" if sentence.rstrip().endswith("!") else "."
    return head.rstrip() + end, [PlotFix(sentence[len(head):].strip(), cue, False)]
