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

Each removal or replacement is one :class:`Fix`; ``GroundedText.fixes`` counts them.

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
:func:`_scan_single_word`. Known limits: a one-word invented title outside such
a slot ("Zorbatron has a great cast."), written in capitals ("ZORBATRON"), as
a possessive ("Zorbatron's"), or that is a word the catalogue uses for a
person, genre or tag ("You might enjoy Tempest.", "tempest" being a tag) passes.

It knows catalogue items and text; it does not know generators, the engine or gradio.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.catalog import Catalog, Item

#: Fuzzy ratio (0-100, rapidfuzz) above which an unknown title counts as a
#: misspelling of a slate title and is replaced by it.
NEAR_MATCH_RATIO = 86.0
#: Longest title (in words) the scanner looks for.
MAX_TITLE_WORDS = 16
#: A marked span longer than this many words is prose, not a title.
MAX_MARKED_TITLE_WORDS = 12
#: Titles with at least two words and this many letters are matched case-insensitively.
STRONG_TITLE_LETTERS = 10

# Common words that start sentences or appear capitalised in replies. A
# one-word catalogue title ("It", "Her", "Up", "Home") that is also one of these
# is only taken as a title when it is marked (quotes, emphasis, a year) or sits
# mid-sentence with a capital letter.
COMMON_WORDS = frozenset(
    """
    a about above absolutely across action actually adventure after again against ah ahead all
    almost alone along also although always amazing an and animated animation another any anyone
    anything anyway are around as at away awesome back bad be beautiful because been before being
    below best better between beyond big bonus both brilliant but by can cast certainly check
    classic come comedy consider could crime dark day definitely did do does doing done down drama
    during each else enjoy enough especially even ever every everyone everything exactly excellent
    family fantastic fantasy far fear few film films finally find fine first for free from fun
    funny further genre get give glad go going good great had happy has have he hello her here
    hers hey hi him his history home horror how however i if in indeed instead is it its just
    keep kind last later let life light like little look love lovely many maybe me might mine more
    moreover most movie movies much music musical must my mystery never new next nice no none nor
    not note nothing now of off oh ok okay on once one only or other others otherwise our out over
    perfect perhaps pick picks plus plot quite rather reason really recommendation recommendations
    red right romance same science see she should similar since so some something soon sorry
    still story such summary superb sure take than thank thanks that the their them then there
    these they thing things this those though thriller through thus to together too try under
    until up us very war watch way we welcome well western what whatever when where whether which
    while who whole why wild will with within without wonderful would wow yes yet you your yours
    alive black boy boys city closer college cop creature dance detective dogs drive epic escape fan
    final flick friend friends game ghost girl girls gone haven heist help hero holiday holidays hope
    house jump kids killers king lol lost loved mafia man mask may men mom money mother moving murder
    night obsessed out people pieces popcorn remember rent revenge run saw scary sister spy star stay
    super superhero taxi time twins vacation wanted water weekend woman women world yeah
    """.split()
)
# Small words that may sit inside a capitalised title ("Return of the Jedi").
_CONNECTORS = frozenset("a an and the of in on at to for from with by or vs".split())
_ARTICLES = frozenset(("the", "a", "an"))
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs vol no mt lt col gen sgt capt prof ft co inc ltd ep pt".split()
)

FixKind = Literal["replaced", "removed"]


@dataclass(frozen=True)
class Fix:
    """One grounding event: a title in a reply was replaced or removed."""

    kind: FixKind
    span: str  # the text as the generator wrote it
    replacement: str = ""  # for "replaced": the slate item's display title
    reason: str = ""  # "not on the slate", "not in the catalogue", "wrong year", "near miss"


@dataclass(frozen=True)
class GroundedText:
    """A reply after grounding."""

    text: str
    fixes: int = 0  # titles removed or replaced
    events: tuple[Fix, ...] = ()
    mentioned: tuple[str, ...] = ()  # item ids of slate items the reply names, in order

    @property
    def names_slate_item(self) -> bool:
        """Whether the reply still names at least one slate item (if not, add a slate summary)."""
        return bool(self.mentioned)


# ---------------------------------------------------------------------------
# text helpers

_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_YEAR_AFTER_RE = re.compile(r"\s*\((\d{4})(?:\s+film)?\)")
_YEAR_PAREN_RE = re.compile(r"\((\d{4})(?:\s+film)?\)")
_LIST_GAP_RE = re.compile(r"^(?:\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or|&)\s+|\s*/\s*)$")
# Marked spans: **bold**, __bold__, *em*, _em_, "quoted", “quoted”, 'quoted', @12345.
_MARKED_RE = re.compile(
    r"\*\*(?P<b1>[^*\n]+?)\*\*"
    r"|(?<![\w])__(?P<b2>[^_\n]+?)__(?![\w])"
    r"|\*(?P<e1>[^*\s][^*\n]*?)(?<!\s)\*"
    r"|(?<![\w])_(?P<e2>[^_\s][^_\n]*?)(?<!\s)_(?![\w])"
    r"|\"(?P<q1>[^\"\n]+?)\""
    r"|“(?P<q2>[^”\n]+?)”"
    r"|(?<![\w'])'(?P<q3>[^'\n]+?)'(?![\w])"
    r"|(?<![\w@])@(?P<id>\d+)\b"
)
_INNER_YEAR_RE = re.compile(r"^(?P<title>.*?)\s*[\(\[](?P<year>\d{4})(?:\s+film)?[\)\]]\s*$")


def _fold(s: str) -> str:
    """Lowercase, strip accents, unify apostrophes."""
    s = unicodedata.normalize("NFKD", s.replace("’", "'"))
    return "".join(c for c in s if not unicodedata.combining(c)).lower()


def _tokens(s: str) -> list[tuple[str, str, int, int]]:
    """(folded, original, start, end) for each word of ``s``."""
    return [(_fold(m.group()), m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(s)]


def _key(title: str) -> tuple[str, ...]:
    return tuple(t[0] for t in _tokens(title))


def _norm_for_fuzzy(title: str) -> str:
    words = [t[0] for t in _tokens(title)]
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _as_item(x: Any) -> Item:
    return getattr(x, "item", x)


# ---------------------------------------------------------------------------
# the title index


@dataclass
class _TitleEntry:
    items: list[Item]
    words: tuple[str, ...]  # original-case words of the first item's title
    strong: bool  # matched case-insensitively anywhere
    has_letters: bool


class _TitleIndex:
    """Catalogue titles keyed by their folded word tuples."""

    def __init__(self, items: Iterable[Item]):
        self.entries: dict[tuple[str, ...], _TitleEntry] = {}
        self.by_id: dict[str, Item] = {}
        # folded words of every person and genre in the catalogue: a capitalised phrase made
        # only of these ("Tom Hanks", "Michael Mann") is a name, not a title
        self.name_keys: set[tuple[str, ...]] = set()
        self.first_names: set[str] = set()
        # every folded word of a person, genre or tag in the catalogue ("hanks", "horror",
        # "pixar", "christmas"): a lone capitalised word that is one of these is not a title
        self.fact_words: set[str] = set()
        for item in items:
            self.add(item)

    def add(self, item: Item) -> None:
        for key_id in (item.item_id, *item.aliases):
            self.by_id.setdefault(key_id, item)
        for fact in (*item.cast, *item.directors, *item.genres):
            name = tuple(t[0] for t in _tokens(fact))
            self.name_keys.add(name)
            self.fact_words.update(name)
            if len(name) >= 3:
                self.fact_words.add("".join(name[1:]))  # "DeNiro" for Robert De Niro
            if len(name) >= 2:
                self.first_names.add(name[0])
        for tag in item.tags:
            self.fact_words.update(t[0] for t in _tokens(tag))
        toks = _tokens(item.title)
        key = tuple(t[0] for t in toks)
        if not key or len(key) > MAX_TITLE_WORDS:
            return
        entry = self.entries.get(key)
        if entry is not None:
            if all(i.item_id != item.item_id for i in entry.items):
                entry.items.append(item)
            return
        letters = sum(c.isalpha() for c in item.title)
        plain = [w in COMMON_WORDS or w in _CONNECTORS for w in key]
        # "Forrest Gump" and "The Dark Knight Rises" are titles in any case; "scary movie",
        # "game night" or "girls night out" are also everyday phrases, so need capitals.
        strong = letters >= STRONG_TITLE_LETTERS and (
            (len(key) == 2 and not any(plain)) or (len(key) >= 3 and not all(plain))
        )
        self.entries[key] = _TitleEntry(
            items=[item], words=tuple(t[1] for t in toks), strong=strong,
            has_letters=letters > 0,
        )


_INDEX_CACHE: weakref.WeakKeyDictionary[Catalog, _TitleIndex] = weakref.WeakKeyDictionary()


def _catalog_index(catalog: Catalog | Iterable[Item] | None) -> _TitleIndex:
    if catalog is None:
        return _TitleIndex(())
    if isinstance(catalog, Catalog):
        index = _INDEX_CACHE.get(catalog)
        if index is None:
            index = _TitleIndex(catalog)
            _INDEX_CACHE[catalog] = index
        return index
    return _TitleIndex(catalog)


# ---------------------------------------------------------------------------
# sentence splitting (decisions depend only on text already seen)

_BOUNDARY_RE = re.compile(
    r"(?P<punct>[.!?…]+)[\"'”’)\]*_]*(?P<ws>\s+)(?=[^\s])"
    r"|(?P<nl>[ \t]*\n\s*)(?=[^\s])"
)


_INNER_PUNCT_RE = re.compile(r"[.!?…]+(?=\s)")


def _title_heads(items: Iterable[Item]) -> tuple[str, ...]:
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


class _SentenceSplitter:
    """Splits incoming text into (sentence, separator) pairs, stably under any chunking."""

    def __init__(self, heads: Sequence[str] = ()) -> None:
        self._buf = ""
        self._started = False
        self._heads = tuple(heads)  # see _title_heads

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


# ---------------------------------------------------------------------------
# grounding one sentence


@dataclass
class _Mention:
    start: int
    end: int
    action: Literal["keep", "replace", "remove"]
    replacement: str = ""
    slate_id: str | None = None  # the slate item this mention names (after replacement)
    reason: str = ""


@dataclass
class _Context:
    index: _TitleIndex
    slate: tuple[Item, ...]
    allowed: tuple[Item, ...]
    ok_ids: set[str] = field(default_factory=set)
    slate_ids: set[str] = field(default_factory=set)
    ok_by_key: dict[tuple[str, ...], Item] = field(default_factory=dict)
    ok_by_key_year: dict[tuple[tuple[str, ...], int | None], Item] = field(default_factory=dict)
    fuzzy_choices: dict[str, Item] = field(default_factory=dict)
    safe_words: set[str] = field(default_factory=set)
    ok_first_words: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        for item in (*self.slate, *self.allowed):
            self.ok_ids.add(item.item_id)
            self.ok_by_key.setdefault(_key(item.title), item)
            self.ok_by_key_year.setdefault((_key(item.title), item.year), item)
            self.fuzzy_choices.setdefault(_norm_for_fuzzy(item.title), item)
            key = _key(item.title)
            self.ok_first_words.update(key[:2] if key[:1] and key[0] in _ARTICLES else key[:1])
            for fact in (*item.cast, *item.directors, *item.genres):
                self.safe_words.update(t[0] for t in _tokens(fact))
        self.slate_ids = {i.item_id for i in self.slate}

    def slate_id(self, item: Item) -> str | None:
        return item.item_id if item.item_id in self.slate_ids else None


def _resolve(ctx: _Context, key: tuple[str, ...], year: int | None, start: int, end: int,
             span: str) -> _Mention:
    """Decide what to do with a catalogue title (key, optional year) found at [start, end)."""
    entry = ctx.index.entries.get(key)
    items = entry.items if entry else []
    ok_same_title = ctx.ok_by_key.get(key)
    if year is not None:
        ok_exact = ctx.ok_by_key_year.get((key, year))
        if ok_exact is not None:
            return _Mention(start, end, "keep", slate_id=ctx.slate_id(ok_exact))
        exact = [i for i in items if i.year == year]
        if ok_same_title is not None:
            reason = "not on the slate" if exact else "wrong year"
            return _Mention(start, end, "replace", ok_same_title.display_title,
                            ctx.slate_id(ok_same_title), reason)
        return _Mention(start, end, "remove", reason="not on the slate")
    if ok_same_title is not None:
        return _Mention(start, end, "keep", slate_id=ctx.slate_id(ok_same_title))
    return _Mention(start, end, "remove", reason="not on the slate")


def _near_match(ctx: _Context, title: str) -> Item | None:
    from rapidfuzz import fuzz, process

    if not ctx.fuzzy_choices:
        return None
    best = process.extractOne(_norm_for_fuzzy(title), list(ctx.fuzzy_choices), scorer=fuzz.ratio)
    if best and best[1] >= NEAR_MATCH_RATIO:
        return ctx.fuzzy_choices[best[0]]
    return None


def _looks_like_title(text: str) -> bool:
    words = text.split()
    if not 1 <= len(words) <= MAX_MARKED_TITLE_WORDS:
        return False
    if not (text[:1].isupper() or text[:1].isdigit()):
        return False
    if text.rstrip().endswith((":", "?", ",", ";")):
        return False
    content = [w for w in words if _fold(w.strip(".,:;!?()")) not in _CONNECTORS]
    if not content:
        return False
    if len(words) == 1 and _fold(words[0].strip(".,:;!?")) in COMMON_WORDS:
        return False
    capitalised = sum(1 for w in content if w[:1].isupper() or w[:1].isdigit())
    return capitalised / len(content) >= 0.75


def _invented(ctx: _Context, title: str, start: int, end: int) -> _Mention:
    near = _near_match(ctx, title)
    if near is not None:
        return _Mention(start, end, "replace", near.display_title, ctx.slate_id(near), "near miss")
    return _Mention(start, end, "remove", reason="not in the catalogue")


def _resolve_marked(ctx: _Context, m: re.Match[str]) -> _Mention | None:
    """A quoted/emphasised/@id span: a mention, or None when it is not a title."""
    if m.group("id") is not None:
        item = ctx.index.by_id.get(m.group("id"))
        if item is not None and item.item_id in ctx.ok_ids:
            return _Mention(m.start(), m.end(), "replace", item.display_title, ctx.slate_id(item), "")
        return _Mention(m.start(), m.end(), "remove",
                        reason="not on the slate" if item else "not in the catalogue")
    name = next(g for g in ("b1", "b2", "e1", "e2", "q1", "q2", "q3") if m.group(g) is not None)
    inner = m.group(name).strip()
    # American punctuation puts commas and stops inside the quotes.
    inner = inner.rstrip(",.;") if name.startswith("q") else inner
    year: int | None = None
    title = inner
    ym = _INNER_YEAR_RE.match(inner)
    if ym:
        title, year = ym.group("title"), int(ym.group("year"))
    written = _key(title)
    key = _known_key(ctx, written)
    if key:
        mention = _resolve(ctx, key, year, m.start(), m.end(), m.group())
        if key != written and mention.action == "keep":  # "The Get Out": write the real title
            mention = _fix_article(ctx, mention, key, year)
        if mention.action == "replace":
            # keep the markup around the corrected title
            mention.replacement = m.group().replace(m.group(name), mention.replacement, 1)
        return mention
    if not _looks_like_title(title):
        return None
    mention = _invented(ctx, title, m.start(), m.end())
    if mention.action == "replace":
        mention.replacement = m.group().replace(m.group(name), mention.replacement, 1)
    return mention


def _scan(ctx: _Context, sentence: str, lo: int, hi: int, mentions: list[_Mention]) -> None:
    """Find catalogue titles and 'Capitalised Phrase (YYYY)' spans in sentence[lo:hi]."""
    toks = [t for t in _tokens(sentence[lo:hi])]
    toks = [(f, o, s + lo, e + lo) for f, o, s, e in toks]
    entries = ctx.index.entries
    consumed_years: set[int] = set()
    i = 0
    n = len(toks)
    while i < n:
        found = False
        for length in range(min(MAX_TITLE_WORDS, n - i), 0, -1):
            key = tuple(t[0] for t in toks[i : i + length])
            entry = entries.get(key)
            in_ok = key in ctx.ok_by_key
            if entry is None and not in_ok:
                continue
            if key[0] in _ARTICLES and key not in ctx.ok_by_key and _ok_title_at(ctx, toks, i + 1):
                break  # "the Hangover (2010)" names the slate's Hangover, not "The Hangover"
            start, end = toks[i][2], toks[i + length - 1][3]
            ym = _YEAR_AFTER_RE.match(sentence, end, hi)
            if not _accept(ctx, entry, key, toks, i, length, sentence, lo, ym is not None):
                continue
            year = None
            extra_article = False
            if ym:
                year = int(ym.group(1))
                consumed_years.add(ym.start(1))
                end = ym.end()
                # "The Get Out (2017)": a model's stray article in front of a title with a year
                if i > 0 and toks[i - 1][1] == "The" and key[0] not in ("a", "an") \
                        and sentence[toks[i - 1][3] : start] == " " \
                        and not any(m.end > toks[i - 1][2] for m in mentions):
                    start, extra_article = toks[i - 1][2], True
            mention = _resolve(ctx, key, year, start, end, sentence[start:end])
            if extra_article and mention.action == "keep":
                mention = _fix_article(ctx, mention, key, year)
            elif extra_article:  # leave the article in the text; only the title is fixed
                mention.start = toks[i][2]
            mentions.append(mention)
            i += length
            found = True
            break
        if not found:
            i += 1
    # "Capitalised Phrase (YYYY)" that is not a catalogue title: an invented title
    for ym in _YEAR_PAREN_RE.finditer(sentence, lo, hi):
        if ym.start(1) in consumed_years:
            continue
        before = [t for t in toks if t[3] <= ym.start()]
        phrase: list[tuple[str, str, int, int]] = []
        for t in reversed(before):
            nxt_start = phrase[0][2] if phrase else ym.start()
            gap = sentence[t[3] : nxt_start]
            if not re.fullmatch(r"[\s:&'’–-]*", gap):
                break
            if t[1][:1].isupper() or t[1][:1].isdigit() or t[0] in _CONNECTORS:
                phrase.insert(0, t)
            else:
                break
        while phrase and not (_is_capitalised(phrase[0][1]) or phrase[0][1][:1].isdigit()):
            phrase.pop(0)
        if phrase and phrase[0][0] in COMMON_WORDS and phrase[0][0] not in _ARTICLES \
                and phrase[0][2] == toks[0][2] and len(phrase) > 1:
            phrase.pop(0)  # "Try The Lost Kingdom (2003)": "Try" is not part of the title
        if not phrase or any(m.start <= phrase[0][2] < m.end for m in mentions):
            continue
        start = phrase[0][2]
        known = _known_key(ctx, tuple(t[0] for t in phrase))
        if known:  # "Sixth Sense (1999)" for "The Sixth Sense (1999)"
            mentions.append(_resolve(ctx, known, int(ym.group(1)), start, ym.end(), ""))
        else:
            mentions.append(_invented(ctx, sentence[start : ym.start()].strip(), start, ym.end()))


_PRONOUN_I = frozenset(("i", "i'm", "i’m", "i've", "i’ve", "i'd", "i’d", "i'll", "i’ll"))


def _scan_unmarked(ctx: _Context, sentence: str, mentions: list[_Mention]) -> None:
    """Unmarked Title Case phrases ("You might enjoy The Silent Harbor.") that are no known title.

    A run of two or more capitalised words (small connectors allowed inside) that is not a
    catalogue title, not a sequence of people's or genre names from the catalogue joined by
    connectors ("Al Pacino and Robert De Niro"), and not
    inside a mention already found, is treated as an invented title: replaced by a slate item
    when it is a near miss, else removed. This trades a few dropped sentences about places or
    studios ("New York") for the guarantee that no invented title reaches a user.
    """
    toks = _tokens(sentence)
    if not toks:
        return
    runs: list[list[tuple[str, str, int, int]]] = []
    run: list[tuple[str, str, int, int]] = []
    for t in toks:
        gap = sentence[run[-1][3] : t[2]] if run else ""
        gap_ok = not run or re.fullmatch(r"[\s:&'’–-]*", gap) is not None or (
            len(run[-1][1]) == 1 and re.fullmatch(r"\.\s?", gap) is not None  # "Michael B. Jordan"
        )
        capital = (t[1][:1].isupper() or t[1][:1].isdigit()) and t[0] not in _PRONOUN_I
        if gap_ok and (capital or (run and t[0] in _CONNECTORS)):
            run.append(t)
            continue
        if run:
            runs.append(run)
        run = [t] if capital else []
    if run:
        runs.append(run)
    split: list[list[tuple[str, str, int, int]]] = []
    for run in runs:  # cut runs around titles already found ("Midnight Garden or Heat")
        part: list[tuple[str, str, int, int]] = []
        for t in run:
            if any(m.start <= t[2] < m.end for m in mentions):
                if part:
                    split.append(part)
                part = []
            else:
                part.append(t)
        if part:
            split.append(part)
    for run in split:
        while run and run[-1][0] in _CONNECTORS:
            run.pop()
        clause_start = run and (
            run[0][2] == toks[0][2] or re.search(r"[:;—–(\"“]\s*$", sentence[: run[0][2]]) is not None
        )
        if clause_start and run[0][0] not in _ARTICLES and (
            run[0][0] in COMMON_WORDS or run[0][0].endswith(("ed", "ing", "ly"))
        ):
            run.pop(0)  # clause-initial "Try", "Both", "Directed by ...", "Starring ..."
        while run and run[0][0] in _CONNECTORS and run[0][0] not in _ARTICLES:
            run.pop(0)
        content = [t for t in run if t[0] not in _CONNECTORS]
        if len(content) == 1 and (len(run) == 1 or (len(run) == 2 and run[0][0] in _ARTICLES)):
            _scan_single_word(ctx, sentence, run, mentions)
        if len(content) < 2:
            continue
        start, end = run[0][2], run[-1][3]
        if any(m.start < end and start < m.end for m in mentions):
            continue
        key = tuple(t[0] for t in run)
        known = _known_key(ctx, key)
        if known:
            mentions.append(_resolve(ctx, known, None, start, end, sentence[start:end]))
        elif all(t[0] in _NOT_TITLE_WORDS for t in content):
            continue  # "on Friday or at Christmas", "Netflix or Hulu": days, holidays, services
        elif not _names_only(ctx.index.name_keys, key) and not _person_like(ctx.index.first_names, run):
            mentions.append(_invented(ctx, sentence[start:end], start, end))


# A lone capitalised word is judged only in a recommendation slot, because elsewhere a
# capital is far more often a name, a place, a brand or a sentence start than a title.
# Why a slot and not every lone capital: on the 11,849 ReDial test messages (bench/
# grounding_redial.py), the same word filters without the slot check changed 636 messages
# ("Bye", "Haha", "Tell", "Omg": sentence starts, chat words); with it, 2 (both film titles
# typed by hand: "Ant man", "Glee"). In a slot a capital is almost always a film.
# Cues right before the word: "watch X", "have you seen X", "try X", "I recommend X",
# "check out X", "you might enjoy/love/like X", "how about X", "give X a try",
# "go with X", "another option is X".
_CUE_BEFORE_RE = re.compile(
    r"\b(?:watch(?:ing|ed)?|see|seen|saw|try(?:ing)?|recommend(?:ing|ed|s)?|suggest(?:ing|ed|s)?"
    r"|check(?:ing)?\s+out|enjoy(?:ing|ed|s)?|lov(?:e|es|ed|ing)|lik(?:e|es|ed)|consider(?:ing)?"
    r"|(?:how|what)\s+about|give|go\s+(?:with|for)|queue\s+up|rewatch(?:ing)?"
    r"|(?:option|pick|choice|recommendation|suggestion)s?\s+(?:is|are|would\s+be|might\s+be))\s+$",
    re.IGNORECASE,
)
# Cues right after the word: "X is a great film", "X was one of the best movies",
# "X would be perfect", "give X a try".
_CUE_AFTER_RE = re.compile(
    r"\s+(?:(?:is|was|would\s+be|makes?|remains)\s+(?:a|an|another|one)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?:film|movie|flick|pick|choice|watch|classic|thriller|comedy|drama|adventure|romance"
    r"|documentary|musical|mystery|western|gem|masterpiece)s?\b"
    r"|(?:would|might|could)\s+be\s+(?:perfect|ideal|great|a\s+(?:good|great|perfect)\s+(?:fit|pick))\b"
    r"|a\s+(?:try|watch|shot|go|look)\b)",
    re.IGNORECASE,
)
# "seen Carell in Heat", "like DeNiro as a boxer": a person, not a title.
_PERSON_AFTER_RE = re.compile(r"\s+(?:in|as)\s+[\"“*_]?[A-Z]")
# A list item whose head is the word: "- X: ...", "2. X - ...".
_LIST_HEAD_RE = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+$")
_LIST_HEAD_AFTER_RE = re.compile(r"\s*(?::|\s[-–—]\s)")
# "Disney movies", "Marvel stuff": the word qualifies a noun, so it is no title.
_MODIFIER_AFTER_RE = re.compile(
    r"[\s-]+(?:movies?|films?|flicks?|ones|stuff|series|shows?|franchise|universe|characters?"
    r"|comics?|productions?|studios?|fans?|style|type|kind|genre|classics?|cartoons?|sagas?"
    r"|trilogy|collection|originals?|specials?|version|remake|actors?|cast|books?|novels?)\b",
    re.IGNORECASE,
)
# Capitalised words that are not titles and that the catalogue's people, genres and tags
# (``_TitleIndex.fact_words``) do not already cover: days, months, holidays, services,
# family words. Deliberately small: a word missing here costs one dropped sentence at worst.
_NOT_TITLE_WORDS = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april june
    july august september october november december christmas xmas halloween thanksgiving easter
    valentine valentines netflix hulu amazon prime hbo youtube redbox vudu itunes showtime starz
    peacock imdb google oscar oscars emmy emmys academy god jesus lord dad mum mommy daddy grandma
    grandpa sir mister miss madam buddy dude bro guys folks everybody somebody anybody nobody
    sci scifi fi rom com romcom romcoms rpg tv dvd today tonight tomorrow yesterday
    """.split()
)
_POSSESSIVE_RE = re.compile(r"['’]s?$")


def _scan_single_word(ctx: _Context, sentence: str, run: list[tuple[str, str, int, int]],
                      mentions: list[_Mention]) -> None:
    """A lone capitalised word ("You might enjoy Zorbatron.") in a recommendation slot.

    ``run`` is the word, or an article and the word ("The Zorbatron"). It counts as an
    invented title (removed, or replaced when it is a near miss of a slate title, like any
    other invented span) when all hold:

    * it sits in a slot (a cue before or after it, or it heads a list item);
    * it is written like a title: a capital then a small letter ("HBO", "DVD" are
      acronyms), at least three letters, no possessive ("Nolan's" is a person);
    * it is not a catalogue title (the catalogue rule already kept or removed those;
      "Avengers" for "The Avengers" goes through that rule with the article added);
    * it is no common word (``COMMON_WORDS``), no word of a person, genre or tag in the
      catalogue ("Hanks", "Horror", "Pixar"), and not in the small ``_NOT_TITLE_WORDS``,
      also after dropping a plural "s" ("Westerns");
    * it does not qualify a noun ("Disney movies") or play a part ("Carell in Heat");
    * it is not the first word of a slate/allowed title (the splitter keeps "Boo! A Madea
      Halloween" whole, but a reply may name it by that first word alone).

    The cost is a few regex matches per lone capital in a slot; everything else returns early.
    """
    word = run[-1]
    folded, written = word[0], word[1]
    if len(written) < 3 or not written[0].isupper() or not written[1].islower():
        return  # "HBO", "DDl": acronyms and initials
    if _POSSESSIVE_RE.search(folded) or not folded.isalpha():
        return
    for form in (folded, folded[:-1] if folded.endswith("s") else folded):  # "Westerns"
        if form in COMMON_WORDS or form in ctx.index.fact_words or form in _NOT_TITLE_WORDS \
                or form in ctx.safe_words:
            return
    key = tuple(t[0] for t in run)
    if key in ctx.index.entries or key in ctx.ok_by_key:
        return  # a catalogue/slate title the catalogue rule chose not to take as a title
    start, end = run[0][2], word[3]
    before, after = sentence[:start], sentence[end:]
    if _MODIFIER_AFTER_RE.match(after) or _PERSON_AFTER_RE.match(after):
        return
    in_slot = (
        _CUE_BEFORE_RE.search(before[-40:]) is not None
        or _CUE_AFTER_RE.match(after) is not None
        or (_LIST_HEAD_RE.match(before) is not None and _LIST_HEAD_AFTER_RE.match(after) is not None)
    )
    if not in_slot:
        return
    known = _known_key(ctx, key)
    if known:  # "Avengers" written for "The Avengers"
        mention = _resolve(ctx, known, None, start, end, sentence[start:end])
        if mention.action == "keep":
            mention = _fix_article(ctx, mention, known, None)
        mentions.append(mention)
        return
    if folded in ctx.ok_first_words:
        return  # the first word of a slate title ("Boo" of "Boo! A Madea Halloween") standing alone
    mention = _invented(ctx, sentence[start:end], start, end)
    if mention.action == "remove":
        mention.reason = "not in the catalogue (unmarked word)"
    mentions.append(mention)


def _person_like(first_names: set[str], run: list[tuple[str, str, int, int]]) -> bool:
    """"Paul Rudd", "Michael B. Jordan": a known first name, then one surname (and an initial)."""
    words = [t[0] for t in run]
    if words[0] not in first_names:
        return False
    return len(words) == 2 or (len(words) == 3 and len(run[1][1]) == 1)


def _names_only(name_keys: set[tuple[str, ...]], key: tuple[str, ...]) -> bool:
    """Whether ``key`` is known names (people, genres) joined by connectors."""
    n = len(key)
    ok = [False] * (n + 1)  # ok[i]: key[:i] splits into names and connectors
    ok[0] = True
    for i in range(n):
        if not ok[i]:
            continue
        if key[i] in _CONNECTORS:
            ok[i + 1] = True
        for j in range(i + 1, min(n, i + 6) + 1):
            if key[i:j] in name_keys:
                ok[j] = True
    return ok[n]


def _fix_article(ctx: _Context, mention: _Mention, key: tuple[str, ...], year: int | None) -> _Mention:
    """A kept mention written with a wrong article becomes the item's display title."""
    item = ctx.ok_by_key_year.get((key, year)) or ctx.ok_by_key.get(key)
    if item is None:
        return mention
    return _Mention(mention.start, mention.end, "replace", item.display_title, mention.slate_id,
                    "near miss")


def _known_key(ctx: _Context, key: tuple[str, ...]) -> tuple[str, ...] | None:
    """``key`` itself, or with a leading article added or removed, if it is a known title."""
    if not key:
        return None
    variants = [key, ("the", *key)]
    if key[0] in _ARTICLES and len(key) > 1:
        variants.append(key[1:])
    for variant in variants:
        if variant in ctx.ok_by_key or variant in ctx.index.entries:
            return variant
    return None


def _ok_title_at(ctx: _Context, toks: list[tuple[str, str, int, int]], i: int) -> bool:
    """Whether a slate/allowed title starts at token ``i``."""
    return any(
        tuple(t[0] for t in toks[i : i + length]) in ctx.ok_by_key
        for length in range(1, min(MAX_TITLE_WORDS, len(toks) - i) + 1)
    )


def _accept(ctx: _Context, entry: _TitleEntry | None, key: tuple[str, ...],
            toks: list[tuple[str, str, int, int]], i: int, length: int, sentence: str,
            lo: int, year_follows: bool) -> bool:
    """Whether the words toks[i:i+length] are a mention of the title ``key`` (case rules)."""
    if entry is None:  # an allowed item outside the catalogue
        words = tuple(t[1] for t in _tokens(ctx.ok_by_key[key].title))
        strong, has_letters = False, True
    else:
        words, strong, has_letters = entry.words, entry.strong, entry.has_letters
    if strong or (year_follows and has_letters):
        return True
    if not has_letters:
        return False  # "2012", "300": only when marked or followed by a year
    written = [t[1] for t in toks[i : i + length]]
    same_case = all(
        w == t or (j == 0 and t.lower() in _ARTICLES and w.lower() == t.lower())
        for j, (w, t) in enumerate(zip(written, words, strict=False))
    )
    if not same_case:
        return False
    end = toks[i + length - 1][3]
    if i + length < len(toks) and _is_capitalised(toks[i + length][1]) \
            and not sentence[end : toks[i + length][2]].strip():
        return False  # part of a longer proper noun ("The Star Trek movies", "Paul Rudd")
    if length >= 2:
        return True
    word = written[0]
    if len(word) < 2 or not _is_capitalised(word):
        return False
    if key[0] in ctx.safe_words:
        return False  # "Drama", "Mann": a genre or a person of the slate, not a title
    start = toks[i][2]
    sentence_start = not sentence[:start].strip(" \t\"'“‘*_-•>#([")
    if sentence_start and key[0] in COMMON_WORDS:
        return False
    # part of a longer proper noun ("Paul Rudd", "Jack Reacher"), except after a possessive
    if i > 0 and _is_capitalised(toks[i - 1][1]) and not toks[i - 1][1].endswith(("'s", "’s")) \
            and not sentence[toks[i - 1][3] : start].strip() and toks[i - 1][2] >= 0 \
            and not (toks[i - 1][2] == toks[0][2] and toks[i - 1][0] in COMMON_WORDS):
        return False
    return True


def _list_groups(sentence: str, mentions: list[_Mention]) -> list[list[_Mention]]:
    groups: list[list[_Mention]] = []
    for m in mentions:
        if groups and _LIST_GAP_RE.match(sentence[groups[-1][-1].end : m.start]):
            groups[-1].append(m)
        else:
            groups.append([m])
    out: list[list[_Mention]] = []
    for group in groups:
        gap = sentence[group[0].end : group[-1].start] if len(group) == 2 else ""
        if len(group) == 2 and not re.search(r"\b(and|or)\b|[&/]", gap):
            out += [[group[0]], [group[1]]]  # "Like X, Heat has..." is a clause, not a list
        else:
            out.append(group)
    return out


def _render(sentence: str, m: _Mention) -> str:
    return m.replacement if m.action == "replace" else sentence[m.start : m.end]


def _ground_sentence(ctx: _Context, sentence: str) -> tuple[str | None, list[Fix], list[str]]:
    """Ground one sentence: (new sentence or None when dropped, fixes, slate ids named)."""
    mentions: list[_Mention] = []
    pos = 0
    for m in _MARKED_RE.finditer(sentence):
        if m.start() < pos:
            continue
        mention = _resolve_marked(ctx, m)
        if mention is None:  # emphasis or a quote that is not a title: scan inside it
            _scan(ctx, sentence, pos, m.end(), mentions)
        else:
            _scan(ctx, sentence, pos, m.start(), mentions)
            mentions.append(mention)
        pos = m.end()
    _scan(ctx, sentence, pos, len(sentence), mentions)
    _scan_unmarked(ctx, sentence, mentions)
    mentions.sort(key=lambda m: m.start)
    if not mentions:
        return sentence, [], []

    fixes = [
        Fix("removed" if m.action == "remove" else "replaced", sentence[m.start : m.end],
            m.replacement, m.reason)
        for m in mentions if m.action == "remove" or (m.action == "replace" and m.reason)
    ]
    pieces: list[str] = []
    named: list[str] = []
    cursor = 0
    for group in _list_groups(sentence, mentions):
        kept = [m for m in group if m.action != "remove"]
        if len(kept) < len(group) and (len(group) == 1 or not kept):
            return None, fixes, []  # a removed title that is not part of a list: drop the sentence
        pieces.append(sentence[cursor : group[0].start])
        if len(kept) == len(group):
            inner = group[0].start
            for m in group:
                pieces.append(sentence[inner : m.start])
                pieces.append(_render(sentence, m))
                inner = m.end
        else:
            gaps = [sentence[a.end : b.start] for a, b in zip(group, group[1:], strict=False)]
            conj = "or" if any(re.search(r"\bor\b", g) for g in gaps) else "and"
            has_conj = any(re.search(r"\b(and|or)\b|&", g) for g in gaps)
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
    pieces.append(sentence[cursor:])
    return "".join(pieces), fixes, named


# ---------------------------------------------------------------------------
# public API


class Grounder:
    """Grounds replies against a slate, using a catalogue to recognise titles.

    Build one per catalogue (the title index is cached per :class:`Catalog`) and
    call :meth:`ground` or :meth:`stream` per reply.

    Args:
        catalog: the catalogue whose titles are recognised; ``None`` recognises
            only slate/allowed titles and marked spans.
    """

    def __init__(self, catalog: Catalog | Iterable[Item] | None):
        self._index = _catalog_index(catalog)

    def _context(self, slate: Iterable[Any], allowed: Iterable[Any]) -> _Context:
        slate_items = tuple(_as_item(x) for x in slate)
        allowed_items = tuple(_as_item(x) for x in allowed)
        index = self._index
        extra = [i for i in (*slate_items, *allowed_items) if _key(i.title) not in index.entries]
        if extra:  # items outside the catalogue are still recognised
            index = _TitleIndex(())
            index.entries = dict(self._index.entries)
            index.by_id = dict(self._index.by_id)
            index.name_keys = set(self._index.name_keys)
            index.first_names = set(self._index.first_names)
            index.fact_words = set(self._index.fact_words)
            for item in extra:
                index.add(item)
        return _Context(index, slate_items, allowed_items)

    def ground(self, text: str, slate: Iterable[Any], *, allowed: Iterable[Any] = ()) -> GroundedText:
        """Ground a whole reply. ``slate`` and ``allowed`` hold Items or Recommendations."""
        stream = self.stream([text], slate, allowed=allowed)
        return GroundedText("".join(stream), stream.fixes, tuple(stream.events), tuple(stream.mentioned))

    def stream(self, pieces: Iterable[str], slate: Iterable[Any], *,
               allowed: Iterable[Any] = ()) -> GroundedStream:
        """Wrap a token stream: yields grounded sentences once each is complete."""
        return GroundedStream(pieces, self._context(slate, allowed))

    def mentions(self, text: str) -> tuple[Item, ...]:
        """Catalogue items named in ``text`` (e.g. the user's message or the slate's reasons)."""
        ctx = _Context(self._index, (), ())
        found: list[Item] = []
        splitter = _SentenceSplitter()
        for sentence, _ in (*splitter.feed(text), *splitter.finish()):
            mentions: list[_Mention] = []
            _scan(ctx, sentence, 0, len(sentence), mentions)
            for m in mentions:
                span = sentence[m.start : m.end]
                ym = _INNER_YEAR_RE.match(span)
                key = _key(ym.group("title") if ym else span)
                entry = self._index.entries.get(key)
                if entry is None:
                    continue
                year = int(ym.group("year")) if ym else None
                items = [i for i in entry.items if year is None or i.year == year] or entry.items
                if items[0] not in found:
                    found.append(items[0])
        return tuple(found)


class GroundedStream:
    """An iterator over grounded sentences of a token stream.

    After it is exhausted, ``fixes``, ``events``, ``mentioned`` (slate item ids
    named) and ``names_slate_item`` describe the whole reply; ``text`` is the
    joined output.
    """

    def __init__(self, pieces: Iterable[str], ctx: _Context):
        self._pieces = pieces
        self._ctx = ctx
        self.events: list[Fix] = []
        self.mentioned: list[str] = []
        self.text = ""
        self.done = False
        self._iter = self._run()

    @property
    def fixes(self) -> int:
        return len(self.events)

    @property
    def names_slate_item(self) -> bool:
        return bool(self.mentioned)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._iter)

    def close(self) -> None:
        self._iter.close()
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def _emit(self, sentence: str, sep: str, pending: list[str]) -> str | None:
        out, fixes, named = _ground_sentence(self._ctx, sentence)
        self.events.extend(fixes)
        if out is None or not out.strip():
            return None
        for item_id in named:
            if item_id not in self.mentioned:
                self.mentioned.append(item_id)
        piece = (pending[0] if self.text else "") + out
        pending[0] = sep
        self.text += piece
        return piece

    def _run(self) -> Iterator[str]:
        splitter = _SentenceSplitter(_title_heads((*self._ctx.slate, *self._ctx.allowed)))
        pending = [""]
        for chunk in self._pieces:
            if not chunk:
                continue
            for sentence, sep in splitter.feed(chunk):
                piece = self._emit(sentence, sep, pending)
                if piece:
                    yield piece
        for sentence, sep in splitter.finish():
            piece = self._emit(sentence, sep, pending)
            if piece:
                yield piece
        self.done = True


def ground(text: str, slate_items: Sequence[Any], catalog: Catalog | Iterable[Item] | None, *,
           allowed: Iterable[Any] = ()) -> GroundedText:
    """Ground ``text`` against ``slate_items`` (Items or Recommendations) using ``catalog``'s titles.

    ``allowed`` items may be named without being recommendations (the films the
    user mentioned, the items a reason refers to).
    """
    return Grounder(catalog).ground(text, slate_items, allowed=allowed)


def ground_stream(pieces: Iterable[str], slate_items: Sequence[Any],
                  catalog: Catalog | Iterable[Item] | None, *,
                  allowed: Iterable[Any] = ()) -> GroundedStream:
    """Wrap a token stream so that only grounded, complete sentences come out."""
    return Grounder(catalog).stream(pieces, slate_items, allowed=allowed)
