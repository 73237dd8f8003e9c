"""Grounding: make sure a generated reply names only items from the slate.

A generator writes prose around a slate the recommender chose. Language models
invent titles, name films the user never asked about, or get years wrong.
:class:`Grounder` checks every title in a reply against the slate (plus an
optional set of *allowed* items, such as the films the user mentioned) and

* keeps titles of slate/allowed items,
* replaces a near miss of a slate title ("Colateral", "Heat (1986)" when the
  slate holds "Heat (1995)", "Inception (2012)") by the slate item's display title,
* removes everything else: a catalogue title that is not on the slate, or a
  title-like span that is not in the catalogue at all (quoted, ``*emphasised*``,
  ``**bold**``, ``Title (YYYY)``, ``@12345``). A removed title that is one
  element of a list of titles is cut from the list; otherwise the whole
  sentence is dropped, so no half-sentences reach the user.

Beyond titles, each sentence goes through more checks, in this order:

* instruction echo ("Your task: ...", "This is the original request:", a copy of the prompt's
  instructions, :mod:`workbench.dialogue.echo`) is dropped before anything else;
* the whole-sentence rule table (:mod:`workbench.dialogue.sentence_rules`): links, shops and
  streaming services, instruction or role text, off-task claims and cut sentences go, each
  counted under its own kind ("link", "shop", "instruction", "off_task", "cut");
* claims about the films the sentence names (a director or cast member, a year or decade, a
  genre) are checked against the catalogue (:mod:`workbench.dialogue.facts`): a false claim is
  corrected when the right value is unambiguous, else the sentence is dropped. Plot and setting
  claims are not checked: the catalogue holds no plot (a documented limit, see that module);
* what a sentence says a film is about must be words of its genres, tags or title
  (:mod:`workbench.dialogue.plot`; "plot"): an invented story is cut from the sentence, or the
  sentence goes;
* every person the sentence names must be credited in a slate or allowed film or named in the
  conversation (:mod:`workbench.dialogue.people`; "person");
* a sentence that repeats one already shown (same folded words), names one film twice ("Toy Story
  (1995) ... but also consider Toy Story (1995)"; in a list the second copy is cut instead), is dropped
  ("repeat").

What passes is tidied (:func:`~workbench.dialogue.sentences.tidy`: no space before "?", a full stop
between a title and a new sentence, and at the end of a model's reply); that changes no word and is
not counted as a fix.

With ``require_films``, sentences are held back until one talks about films (and answers the
user's fact question, :mod:`workbench.dialogue.on_task`); a reply where none does shows nothing
and ``on_task`` is False, so the engine shows the template reply instead.

Each removal or replacement is one :class:`Fix` with a category (:data:`FIX_CATEGORIES`);
``GroundedText.fixes`` counts them all and ``fixes_by_kind`` per category.

Grounding works sentence by sentence, with a sentence splitter whose decisions
never change when more text arrives. :class:`GroundedStream` therefore wraps a
token stream, holds text back until a sentence is complete, grounds it and only
then yields it: an invented title never reaches the screen, not even mid-stream,
and the streamed text equals :func:`ground` on the joined text for any split of
the stream.

Unmarked titles: a run of two or more capitalised words that is no catalogue
title and no known name is taken as an invented title (``You might enjoy The
Silent Harbor.``). A *single* capitalised word is only judged where a title is
expected (a recommendation slot: ``watch X``, ``have you seen X``, ``how about
X``, ``X is a great film``, a list item ``- X: ...``), see
``_scan_single_word`` in
:mod:`workbench.dialogue.title_scan`. Known limits: a one-word invented title outside such
a slot ("Zorbatron has a great cast."), written in capitals ("ZORBATRON"), as
a possessive ("Zorbatron's"), or that is a word the catalogue uses for a
person, genre or tag ("You might enjoy Tempest.", "tempest" being a tag) passes.

This module decides what becomes of each sentence and streams the result; finding the
titles is :mod:`workbench.dialogue.title_scan`, splitting sentences
:mod:`workbench.dialogue.sentences`, and the catalogue's titles come from one
:class:`~workbench.dialogue.titles.TitleIndex`.

It knows catalogue items and text; it does not know generators, the engine or gradio.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from workbench.catalog import Catalog, Item
from workbench.dialogue.echo import EchoDetector, sentence_key
from workbench.dialogue.facts import PRONOUN_START_RE, check_facts
from workbench.dialogue.on_task import about_films, answer_values, answers
from workbench.dialogue.people import PersonChecker
from workbench.dialogue.plot import check_plot
from workbench.dialogue.sentence_rules import apply_rules, mask_spans
from workbench.dialogue.sentences import SentenceSplitter, tidy, title_heads
from workbench.dialogue.title_scan import (
    INNER_YEAR_RE,
    MARKED_RE,
    ScanContext,
    TitleMention,
    resolve_marked,
    scan,
    scan_unmarked,
    title_key,
)
from workbench.dialogue.titles import TitleIndex
from workbench.text import REPLY_COMMON_WORDS, word_spans

FixKind = Literal["replaced", "removed"]
#: What a fix was about: a title, a false claim (person, genre, year) or prose that is no reply.
FixCategory = Literal["title", "person", "genre", "year", "plot", "echo", "repeat", "link", "shop", "instruction",
                      "cut", "off_task", "unchecked"]
#: Every :data:`FixCategory`, in declaration order (the keys of ``fixes_by_kind``).
FIX_CATEGORIES: tuple[str, ...] = ("title", "person", "genre", "year", "plot", "echo", "repeat", "link", "shop",
                                   "instruction", "cut", "off_task", "unchecked")


@dataclass(frozen=True)
class Fix:
    """One grounding event: a span of a reply was replaced or removed."""

    kind: FixKind
    span: str  # the text as the generator wrote it
    replacement: str = ""  # for "replaced": the slate item's display title, or the right fact
    reason: str = ""  # "not on the slate", "not in the catalogue", "wrong year", "near miss", ...
    category: FixCategory = "title"


def fixes_by_kind(events: Iterable[Fix]) -> dict[str, int]:
    """Fix counts per :data:`FixCategory`, only the categories that occur, in declaration order."""
    counts = Counter(e.category for e in events)
    return {k: counts[k] for k in FIX_CATEGORIES if counts[k]}


@dataclass(frozen=True)
class GroundedText:
    """A reply after grounding."""

    text: str
    fixes: int = 0  # spans removed or replaced, all categories together
    events: tuple[Fix, ...] = ()
    mentioned: tuple[str, ...] = ()  # item ids of slate items the reply names, in order
    #: ``fixes`` per category ("title", "person", "genre", "year", "echo", "repeat"); sums to ``fixes``
    fixes_by_kind: dict[str, int] = field(default_factory=dict)
    #: a sentence talks about films and answers what was asked (see :attr:`GroundedStream.on_task`)
    on_task: bool = True

    @property
    def names_slate_item(self) -> bool:
        """Whether the reply still names at least one slate item (if not, add a slate summary)."""
        return bool(self.mentioned)


# a line of capitalised words only, no sentence punctuation: "CinemaBlinded", "Xanadora Aurora"
_UNKNOWN_NAMES_RE = re.compile(r"[^\w.!?]*[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*[^\w.!?]*")
# between two titles of one list: ", ", " and ", " or ", " as well as ", "/"; an article there is part of a
# title the model wrote with one ("X or The Zombie Island (2013)" for a catalogue "Zombie Island")
_LIST_GAP_RE = re.compile(r"^(?:\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or|&|as\s+well\s+as)\s+(?:(?:the|a|an)\s+)?"
                          r"|\s*/\s*)$", re.IGNORECASE)
_CONJ_RE = re.compile(r"\b(?:and|or|as\s+well\s+as)\b|&", re.IGNORECASE)


def _as_item(x: Any) -> Item:
    return getattr(x, "item", x)


# ---------------------------------------------------------------------------
# grounding one sentence


def _list_groups(sentence: str, mentions: list[TitleMention]) -> list[list[TitleMention]]:
    groups: list[list[TitleMention]] = []
    for m in mentions:
        if groups and _LIST_GAP_RE.match(sentence[groups[-1][-1].end : m.start]):
            groups[-1].append(m)
        else:
            groups.append([m])
    out: list[list[TitleMention]] = []
    for group in groups:
        gap = sentence[group[0].end : group[-1].start] if len(group) == 2 else ""
        if len(group) == 2 and not _CONJ_RE.search(gap) and "/" not in gap:
            out += [[group[0]], [group[1]]]  # "Like X, Heat has..." is a clause, not a list
        else:
            out.append(group)
    return out


def _without_repeats(sentence: str, mentions: list[TitleMention]) -> tuple[list[TitleMention], Fix | None]:
    """A film named twice in one list loses its second copy ("The Martian (2015) or The Martian (2015)");
    a film named twice in one sentence outside a list returns a ``repeat`` fix (the sentence goes). Twice
    means written the same way: 'I took "Heat" as Heat (1995)' names it once as the user wrote it."""
    def key(m: TitleMention) -> str:  # the same film written the same way ('I took "Heat" as Heat (1995)' is not)
        return f"{m.item.item_id if m.item is not None else ''}|{_render(sentence, m).lower()}"

    out: list[TitleMention] = []
    seen: set[str] = set()
    for group in _list_groups(sentence, mentions):
        in_group: set[str] = set()
        for m in group:
            if m.action != "remove":
                if key(m) in in_group:
                    m = replace(m, action="remove", reason="named twice in a list")
                elif key(m) in seen:
                    return mentions, Fix("removed", sentence, reason="a film named twice in one sentence",
                                         category="repeat")
                else:
                    in_group.add(key(m))
            out.append(m)
        seen |= in_group
    return out, None


def _render(sentence: str, m: TitleMention) -> str:
    if m.action == "replace":
        return m.replacement
    span = sentence[m.start : m.end]
    if m.item is not None and span != m.item.display_title and span.lower() == m.item.display_title.lower():
        return m.item.display_title  # "click (2006)" -> "Click (2006)": the title as the catalogue writes it
    return span


def _ground_sentence(ctx: ScanContext, sentence: str) -> tuple[str | None, list[Fix], list[str], list[Item]]:
    """Ground one sentence: (new sentence or None when dropped, fixes, slate ids named, items named)."""
    mentions: list[TitleMention] = []
    pos = 0
    for m in MARKED_RE.finditer(sentence):
        if m.start() < pos:
            continue
        mention = resolve_marked(ctx, m)
        if mention is None:  # emphasis or a quote that is not a title: scan inside it
            scan(ctx, sentence, pos, m.end(), mentions)
        else:
            scan(ctx, sentence, pos, m.start(), mentions)
            mentions.append(mention)
        pos = m.end()
    scan(ctx, sentence, pos, len(sentence), mentions)
    scan_unmarked(ctx, sentence, mentions)
    mentions.sort(key=lambda m: m.start)
    if not mentions:
        return sentence, [], [], []
    mentions, twice = _without_repeats(sentence, mentions)
    if twice is not None:  # one film named twice outside a list: "X if ... but also consider X"
        return None, [twice], [], []

    fixes = [
        Fix("removed" if m.action == "remove" else "replaced", sentence[m.start : m.end], m.replacement, m.reason,
            "year" if m.reason == "wrong year" else "repeat" if m.reason == "named twice in a list" else "title")
        for m in mentions if m.action == "remove" or (m.action == "replace" and m.reason)
    ]
    pieces: list[str] = []
    named: list[str] = []
    items: list[Item] = []
    cursor = 0
    for group in _list_groups(sentence, mentions):
        kept = [m for m in group if m.action != "remove"]
        if len(kept) < len(group) and (len(group) == 1 or not kept):
            return None, fixes, [], []  # a removed title that is not part of a list: drop the sentence
        pieces.append(sentence[cursor : group[0].start])
        if len(kept) == len(group):
            inner = group[0].start
            for m in group:
                before = sentence[inner : m.start]
                if m.action == "replace" and m.replacement.startswith("The ") and not pieces[-1:] == [""] \
                        and re.search(r"\bthe\s+$", "".join(pieces) + before, re.IGNORECASE):
                    # "love the Manchurian Candidacy" -> "love The Manchurian Candidate", not "the The ..."
                    before = re.sub(r"\bthe\s+$", "", before, flags=re.IGNORECASE)
                    if not before and pieces:
                        pieces[-1] = re.sub(r"\bthe\s+$", "", pieces[-1], flags=re.IGNORECASE)
                pieces.append(before)
                pieces.append(_render(sentence, m))
                inner = m.end
        else:
            gaps = [sentence[a.end : b.start] for a, b in zip(group, group[1:], strict=False)]
            conj = "or" if any(re.search(r"\bor\b", g) for g in gaps) else "and"
            has_conj = any(_CONJ_RE.search(g) for g in gaps)
            oxford = any(re.search(r",\s*(and|or)\b", g) for g in gaps)
            words = [_render(sentence, m) for m in kept]
            if len(words) == 1:
                pieces.append(words[0])
            elif not has_conj:
                pieces.append(", ".join(words))
            else:
                pieces.append(", ".join(words[:-1]) + ("," if oxford and len(words) > 2 else "")
                              + f" {conj} " + words[-1])
        cursor = group[-1].end
        named.extend(m.slate_id for m in kept if m.slate_id)
        items.extend(m.item for m in kept if m.item is not None and m.item not in items)
    pieces.append(sentence[cursor:])
    return "".join(pieces), fixes, named, items


# ---------------------------------------------------------------------------
# public API


class Grounder:
    """Grounds replies against a slate, using a catalogue to recognise titles.

    Build one per catalogue and call :meth:`ground` or :meth:`stream` per reply.

    Args:
        catalog: the catalogue whose titles are recognised; ``None`` recognises
            only slate/allowed titles and marked spans.
        titles: the catalogue's prebuilt :class:`TitleIndex` (the services build one and
            share it with the understander); built from ``catalog`` when ``None``.
        instructions: the instruction texts a language model reads (system prompt, task
            lines); a sentence copying them is dropped as echo
            (:class:`~workbench.dialogue.echo.EchoDetector`). Instruction-style lead-ins ("Your
            task:") are dropped without them.
    """

    def __init__(self, catalog: Catalog | Iterable[Item] | None, titles: TitleIndex | None = None,
                 instructions: Iterable[str] = ()):
        self._index = titles if titles is not None else TitleIndex(() if catalog is None else catalog)
        self._echo = EchoDetector(instructions)
        self._people = PersonChecker(self._index)

    def _context(self, slate: Iterable[Any], allowed: Iterable[Any]) -> ScanContext:
        slate_items = tuple(_as_item(x) for x in slate)
        allowed_items = tuple(_as_item(x) for x in allowed)
        index = self._index
        extra = [i for i in (*slate_items, *allowed_items) if title_key(i.title) not in index.entries]
        if extra:  # items outside the catalogue are still recognised
            index = index.extended(extra)
        return ScanContext(index, slate_items, allowed_items)

    def ground(self, text: str, slate: Iterable[Any], *, allowed: Iterable[Any] = (), user_text: str = "",
               message: str = "", nothing_found: bool = False, require_films: bool = False,
               answer_for: Iterable[str] = (), complete: bool = False) -> GroundedText:
        """Ground a whole reply. ``slate`` and ``allowed`` hold Items or Recommendations; the other
        arguments are :meth:`stream`'s."""
        stream = self.stream([text], slate, allowed=allowed, user_text=user_text, message=message,
                             nothing_found=nothing_found, require_films=require_films, answer_for=answer_for,
                             complete=complete)
        text = "".join(stream)
        return GroundedText(text, stream.fixes, tuple(stream.events), tuple(stream.mentioned),
                            stream.fixes_by_kind, stream.on_task)

    def stream(self, pieces: Iterable[str], slate: Iterable[Any], *, allowed: Iterable[Any] = (),
               user_text: str = "", message: str = "", nothing_found: bool = False, require_films: bool = False,
               answer_for: Iterable[str] = (), complete: bool = False) -> GroundedStream:
        """Wrap a token stream: yields grounded sentences once each is complete.

        Args:
            pieces: the generator's text pieces.
            slate: the turn's recommendations (Items or Recommendations).
            allowed: other films the reply may name (the ones the user talked about).
            user_text: the conversation so far (the user's messages and the earlier, grounded
                replies): people named there may be named back, a condolence is fine after a
                message about a loss.
            message: the user's last message: after one that only thanks ("cool", "thanks!"), a
                reply that opens with a vague question back ("Have you ever seen it?") loses it
                (``off_task``).
            nothing_found: the turn searched and found no film (then "no film matches" is true).
            require_films: hold sentences back until one talks about films (and, with
                ``answer_for``, until one answers); if none does, none is shown and ``on_task`` is
                False (the engine shows the template reply instead).
            answer_for: item ids of the films the user's question is about: a sentence must name
                one of them or state one of their facts ("It was directed by Michael Mann.").
            complete: the text comes from a language model, which its token limit may cut anywhere: a
                last sentence that stops on a preposition or an auxiliary goes (``cut``), and one that
                only lacks its full stop gets one.
        """
        ctx = self._context(slate, allowed)
        return GroundedStream(pieces, ctx, self._echo, checks=_SentenceChecks(
            self._people, self._people.people_of((*ctx.slate, *ctx.allowed)), user_text, nothing_found, complete,
            message),
            require_films=require_films, answer_for=answer_for)

    def mentions(self, text: str) -> tuple[Item, ...]:
        """Catalogue items named in ``text`` (e.g. the user's message or the slate's reasons)."""
        ctx = ScanContext(self._index, (), ())
        found: list[Item] = []
        splitter = SentenceSplitter()
        for sentence, _ in (*splitter.feed(text), *splitter.finish()):
            mentions: list[TitleMention] = []
            scan(ctx, sentence, 0, len(sentence), mentions)
            for m in mentions:
                span = sentence[m.start : m.end]
                ym = INNER_YEAR_RE.match(span)
                key = title_key(ym.group("title") if ym else span)
                entry = self._index.entries.get(key)
                if entry is None:
                    continue
                year = int(ym.group("year")) if ym else None
                items = [i for i in entry.items if year is None or i.year == year] or entry.items
                if items[0] not in found:
                    found.append(items[0])
        return tuple(found)


@dataclass(frozen=True)
class _SentenceChecks:
    """What the whole-sentence checks need for one reply (see :meth:`Grounder.stream`)."""

    people: PersonChecker
    allowed_people: set[tuple[str, ...]]
    user_text: str = ""
    nothing_found: bool = False
    complete: bool = False
    message: str = ""

    @property
    def user_words(self) -> str:
        return " " + " ".join(w for w, *_ in word_spans(self.user_text)) + " "


class GroundedStream:
    """An iterator over grounded sentences of a token stream.

    After it is exhausted, ``fixes``, ``events``, ``mentioned`` (slate item ids
    named) and ``names_slate_item`` describe the whole reply; ``text`` is the
    joined output, ``sentences`` the sentences shown, and ``on_task`` whether one of them
    talks about films and answers what was asked (with ``require_films``, a reply that does
    not shows nothing; ``withheld`` holds what was held back).
    """

    def __init__(self, pieces: Iterable[str], ctx: ScanContext, echo: EchoDetector | None = None, *,
                 checks: _SentenceChecks | None = None, require_films: bool = False,
                 answer_for: Iterable[str] = ()):
        self._pieces = pieces
        self._ctx = ctx
        self._echo = echo if echo is not None else EchoDetector()
        self._checks = checks
        self._user_words = checks.user_words if checks is not None else " "
        self._titles = [t for i in (*ctx.slate, *ctx.allowed) for t in (i.display_title, i.title)]
        self._require_films = require_films
        self._answer_for = frozenset(answer_for)
        self._answer_values = answer_values(ctx.index.by_id[i] for i in self._answer_for if i in ctx.index.by_id)
        self.answered = not self._answer_for
        self.events: list[Fix] = []
        self.mentioned: list[str] = []
        self.sentences: list[str] = []
        self.about_films = False
        self.withheld: list[str] = []  # sentences held back, never shown (no sentence about films came)
        self.text = ""
        self.done = False
        self._seen: set[str] = set()  # sentence_key of every sentence shown
        self._last_items: list[Item] = []  # the items the previous sentence named ("It stars ...")
        self._held: list[tuple[str, str, list[str]]] = []
        self._iter = self._run()

    @property
    def fixes(self) -> int:
        return len(self.events)

    @property
    def fixes_by_kind(self) -> dict[str, int]:
        """``fixes`` per category, see :attr:`GroundedText.fixes_by_kind`."""
        return fixes_by_kind(self.events)

    @property
    def names_slate_item(self) -> bool:
        return bool(self.mentioned)

    @property
    def on_task(self) -> bool:
        """Whether a sentence talks about films and, if the user asked about films, one answers."""
        return self.about_films and self.answered

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._iter)

    def close(self) -> None:
        self._iter.close()
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def _rules(self, sentence: str, last: bool) -> str | None:
        """Links, shops, instruction text, off-task claims and cut sentences: the rule table of
        :mod:`~workbench.dialogue.sentence_rules`, read with the slate's titles masked."""
        checks = self._checks
        kept, hits = apply_rules(sentence, masked=mask_spans(sentence, self._titles), last=last,
                                 slate=not (checks is not None and checks.nothing_found),
                                 user_text=checks.user_text if checks is not None else "",
                                 message=checks.message if checks is not None and not self.sentences
                                 and not self._held else "",  # the reply's opening sentence only
                                 model_text=checks is not None and checks.complete)
        self.events.extend(Fix("removed", h.span, reason=f"{h.kind}: {h.name}", category=h.kind) for h in hits)
        return kept

    def _people_check(self, out: str, films: list[Item]) -> str | None:
        """Every person named must be of a slate or allowed film, or named by the user
        (:class:`~workbench.dialogue.people.PersonChecker`)."""
        checks = self._checks
        if checks is None:
            return out
        kept, people = checks.people.check(out, mask_spans(out, self._titles), allowed=checks.allowed_people,
                                           user_words=self._user_words, films=films)
        self.events.extend(Fix("replaced" if p.replacement else "removed", p.span, p.replacement, p.reason,
                               "person") for p in people)
        return kept

    def _emit(self, sentence: str, sep: str, pending: list[str], last: bool = False) -> list[str]:
        if self._echo.is_echo(sentence):
            self.events.append(Fix("removed", sentence, reason="instruction echo", category="echo"))
            return []
        sentence = self._rules(sentence, last)
        if sentence is None or not sentence.strip():
            return []
        out, fixes, named, items = _ground_sentence(self._ctx, sentence)
        self.events.extend(fixes)
        if out is None or not out.strip():
            return []
        if not items and _UNKNOWN_NAMES_RE.fullmatch(out) and not any(
                w.lower() in REPLY_COMMON_WORDS for w in re.findall(r"[A-Za-z']+", out)):
            # "Wreaker Xanadora Aurora": a list line of capitalised words that names nothing we know
            self.events.append(Fix("removed", out, reason="a line of unknown names", category="title"))
            return []
        pronoun = not items and PRONOUN_START_RE.match(out) is not None
        films = items or (self._last_items if pronoun else [])
        out, facts = check_facts(out, films, self._ctx.index.people, pronoun=pronoun)
        self.events.extend(Fix("replaced" if f.replacement else "removed", f.span, f.replacement, f.reason,
                               f.kind) for f in facts)
        if items:
            self._last_items = items
        if out is None or not out.strip():
            return []
        out, plots = check_plot(out, mask_spans(out, self._titles), films)
        self.events.extend(Fix("removed", p.span, reason=f"plot: {p.cue}", category="plot") for p in plots)
        if out is None or not out.strip():
            return []
        out = self._people_check(out, films)
        if out is None or not out.strip():
            return []
        out = tidy(out, final=last and self._checks is not None and self._checks.complete)
        key = sentence_key(out)
        if key and key in self._seen:  # (". . ." is no sentence to repeat)
            self.events.append(Fix("removed", out, reason="repeated sentence", category="repeat"))
            return []
        self._seen.add(key)
        self._held.append((out, sep, named))
        self.about_films = self.about_films or about_films(out, bool(items))
        self.answered = self.answered or bool(self._answer_for & {i.item_id for i in items}) \
            or answers(out, self._answer_values)
        if self._require_films and not self.on_task:
            return []  # held until a sentence about films (that answers, if asked) comes
        return [self._show(o, s, n, pending) for o, s, n in self._release()]

    def _release(self) -> list[tuple[str, str, list[str]]]:
        held, self._held = self._held, []
        return held

    def _show(self, out: str, sep: str, named: list[str], pending: list[str]) -> str:
        for item_id in named:
            if item_id not in self.mentioned:
                self.mentioned.append(item_id)
        piece = (pending[0] if self.text else "") + out
        pending[0] = sep
        self.text += piece
        self.sentences.append(out)
        return piece

    def _run(self) -> Iterator[str]:
        splitter = SentenceSplitter(title_heads((*self._ctx.slate, *self._ctx.allowed)))
        pending = [""]
        for chunk in self._pieces:
            if not chunk:
                continue
            for sentence, sep in splitter.feed(chunk):
                yield from self._emit(sentence, sep, pending)
        for sentence, sep in splitter.finish():
            yield from self._emit(sentence, sep, pending, last=True)
        self.withheld = [out for out, _, _ in self._release()]
        self.done = True


def ground(text: str, slate_items: Sequence[Any], catalog: Catalog | Iterable[Item] | None, *,
           allowed: Iterable[Any] = (), titles: TitleIndex | None = None) -> GroundedText:
    """Ground ``text`` against ``slate_items`` (Items or Recommendations) using ``catalog``'s titles.

    ``allowed`` items may be named without being recommendations (the films the
    user mentioned, the items a reason refers to). Without ``titles`` (the catalogue's
    :class:`TitleIndex`) each call builds the index: a caller grounding many replies
    keeps one :class:`Grounder` or passes ``titles``.
    """
    return Grounder(catalog, titles).ground(text, slate_items, allowed=allowed)


def ground_stream(pieces: Iterable[str], slate_items: Sequence[Any],
                  catalog: Catalog | Iterable[Item] | None, *,
                  allowed: Iterable[Any] = (), titles: TitleIndex | None = None) -> GroundedStream:
    """Wrap a token stream so that only grounded, complete sentences come out (see :func:`ground`)."""
    return Grounder(catalog, titles).stream(pieces, slate_items, allowed=allowed)
