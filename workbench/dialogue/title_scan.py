"""Title mention scanning: find the titles one sentence of a generated reply names.

:func:`scan` finds catalogue titles, slate titles and ``Title (YYYY)`` spans,
:func:`resolve_marked` judges a quoted, emphasised or ``@id`` span, and :func:`scan_unmarked`
takes an unmarked run of capitalised words (or a lone capitalised word in a recommendation
slot, :func:`_scan_single_word`) that is no known title as an invented one. Each finding is a
:class:`TitleMention` that says whether to keep, replace or remove the span; deciding what
becomes of the sentence is :mod:`workbench.dialogue.grounding`'s job.

It knows the title index, the slate and text; it does not know generators, the engine or gradio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from workbench.catalog import Item
from workbench.dialogue.titles import MAX_TITLE_WORDS, TitleEntry, TitleIndex
from workbench.text import (
    ARTICLES,
    CONNECTORS,
    REPLY_COMMON_WORDS,
    TITLE_YEAR_RE,
    fold_apostrophes,
    split_title_year,
    word_spans,
)

#: Fuzzy ratio (0-100, rapidfuzz) above which an unknown title counts as a
#: misspelling of a slate title and is replaced by it.
NEAR_MATCH_RATIO = 86.0
#: A marked span longer than this many words is prose, not a title.
MAX_MARKED_TITLE_WORDS = 12

_YEAR_AFTER_RE = re.compile(r"\s*\((\d{4})(?:\s+film)?\)")
_YEAR_PAREN_RE = re.compile(r"\((\d{4})(?:\s+film)?\)")
# Marked spans: **bold**, __bold__, *em*, _em_, "quoted", “quoted”, 'quoted', @12345.
MARKED_RE = re.compile(
    r"\*\*(?P<b1>[^*\n]+?)\*\*"
    r"|(?<![\w])__(?P<b2>[^_\n]+?)__(?![\w])"
    r"|\*(?P<e1>[^*\s][^*\n]*?)(?<!\s)\*"
    r"|(?<![\w])_(?P<e2>[^_\s][^_\n]*?)(?<!\s)_(?![\w])"
    r"|\"(?P<q1>[^\"\n]+?)\""
    r"|“(?P<q2>[^”\n]+?)”"
    r"|(?<![\w'])'(?P<q3>[^'\n]+?)'(?![\w])"
    r"|(?<![\w@])@(?P<id>\d+)\b"
)
INNER_YEAR_RE = TITLE_YEAR_RE  # the one "Title (Year)" reading, named as grounding imports it


def title_key(title: str) -> tuple[str, ...]:
    """The folded word tuple a title is indexed by (``TitleIndex.entries``)."""
    return tuple(t[0] for t in word_spans(title))


def _norm_for_fuzzy(title: str) -> str:
    words = [t[0] for t in word_spans(title)]
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


# ---------------------------------------------------------------------------
# mentions


@dataclass
class TitleMention:
    """A title span found in a sentence and what to do with it."""

    start: int
    end: int
    action: Literal["keep", "replace", "remove"]
    replacement: str = ""
    slate_id: str | None = None  # the slate item this mention names (after replacement)
    reason: str = ""
    item: Item | None = None  # the slate/allowed item this mention names (after replacement)


@dataclass
class ScanContext:
    """The title index and one reply's slate/allowed items, with the lookups derived from them."""

    index: TitleIndex
    slate: tuple[Item, ...]
    allowed: tuple[Item, ...]
    ok_ids: set[str] = field(default_factory=set)
    slate_ids: set[str] = field(default_factory=set)
    ok_by_key: dict[tuple[str, ...], Item] = field(default_factory=dict)
    ok_by_key_year: dict[tuple[tuple[str, ...], int | None], Item] = field(default_factory=dict)
    fuzzy_choices: dict[str, Item] = field(default_factory=dict)
    safe_words: set[str] = field(default_factory=set)
    ok_first_words: set[str] = field(default_factory=set)
    tag_keys: set[tuple[str, ...]] = field(default_factory=set)  # the slate's and allowed films' tags, as words

    def __post_init__(self) -> None:
        for item in (*self.slate, *self.allowed):
            self.ok_ids.add(item.item_id)
            self.ok_by_key.setdefault(title_key(item.title), item)
            self.ok_by_key_year.setdefault((title_key(item.title), item.year), item)
            self.fuzzy_choices.setdefault(_norm_for_fuzzy(item.title), item)
            key = title_key(item.title)
            self.ok_first_words.update(key[:2] if key[:1] and key[0] in ARTICLES else key[:1])
            for fact in (*item.cast, *item.directors, *item.genres):
                self.safe_words.update(t[0] for t in word_spans(fact))
            self.tag_keys.update(tuple(t[0] for t in word_spans(tag)) for tag in item.tags)
        self.slate_ids = {i.item_id for i in self.slate}

    def slate_id(self, item: Item) -> str | None:
        return item.item_id if item.item_id in self.slate_ids else None


def _resolve(ctx: ScanContext, key: tuple[str, ...], year: int | None, start: int, end: int,
             span: str) -> TitleMention:
    """Decide what to do with a catalogue title (key, optional year) found at [start, end)."""
    entry = ctx.index.entries.get(key)
    items = entry.items if entry else []
    ok_same_title = ctx.ok_by_key.get(key)
    if year is not None:
        ok_exact = ctx.ok_by_key_year.get((key, year))
        if ok_exact is not None:
            return TitleMention(start, end, "keep", slate_id=ctx.slate_id(ok_exact), item=ok_exact)
        exact = [i for i in items if i.year == year]
        if ok_same_title is not None:
            reason = "not on the slate" if exact else "wrong year"
            return TitleMention(start, end, "replace", ok_same_title.display_title,
                            ctx.slate_id(ok_same_title), reason, ok_same_title)
        return TitleMention(start, end, "remove", reason="not on the slate")
    if ok_same_title is not None:
        return TitleMention(start, end, "keep", slate_id=ctx.slate_id(ok_same_title), item=ok_same_title)
    return TitleMention(start, end, "remove", reason="not on the slate")


def _near_match(ctx: ScanContext, title: str) -> Item | None:
    from rapidfuzz import fuzz, process

    if not ctx.fuzzy_choices:
        return None
    best = process.extractOne(_norm_for_fuzzy(title), list(ctx.fuzzy_choices), scorer=fuzz.ratio)
    if best and best[1] >= NEAR_MATCH_RATIO:
        return ctx.fuzzy_choices[best[0]]
    return None


# Lower-case particles of French, Spanish, Italian, German and Dutch titles ("Festival de la
# Rêuse", "La Dolce Vita", "Das Boot"): like English connectors, they do not count against a
# quoted span being Title Case.
_TITLE_PARTICLES = frozenset(
    "de la le les du des del della di da do dos das der die den von van y e el los las et und".split()
)


def _looks_like_title(text: str) -> bool:
    words = text.split()
    if not 1 <= len(words) <= MAX_MARKED_TITLE_WORDS:
        return False
    if not (text[:1].isupper() or text[:1].isdigit()):
        return False
    if text.rstrip().endswith((":", "?", ",", ";")):
        return False
    content = [w for w in words if fold_apostrophes(w.strip(".,:;!?()")) not in CONNECTORS
               and fold_apostrophes(w.strip(".,:;!?()")) not in _TITLE_PARTICLES]
    if not content:
        return False
    if len(words) == 1 and fold_apostrophes(words[0].strip(".,:;!?")) in REPLY_COMMON_WORDS:
        return False
    capitalised = sum(1 for w in content if w[:1].isupper() or w[:1].isdigit())
    return capitalised / len(content) >= 0.75


def _invented(ctx: ScanContext, title: str, start: int, end: int) -> TitleMention:
    near = _near_match(ctx, title)
    if near is not None:
        return TitleMention(start, end, "replace", near.display_title, ctx.slate_id(near), "near miss", near)
    return TitleMention(start, end, "remove", reason="not in the catalogue")


def resolve_marked(ctx: ScanContext, m: re.Match[str]) -> TitleMention | None:
    """A quoted/emphasised/@id span: a mention, or None when it is not a title."""
    if m.group("id") is not None:
        item = ctx.index.by_id.get(m.group("id"))
        if item is not None and item.item_id in ctx.ok_ids:
            return TitleMention(m.start(), m.end(), "replace", item.display_title, ctx.slate_id(item), "", item)
        return TitleMention(m.start(), m.end(), "remove",
                        reason="not on the slate" if item else "not in the catalogue")
    name = next(g for g in ("b1", "b2", "e1", "e2", "q1", "q2", "q3") if m.group(g) is not None)
    inner = m.group(name).strip()
    # American punctuation puts commas and stops inside the quotes.
    inner = inner.rstrip(",.;") if name.startswith("q") else inner
    title, year = split_title_year(inner)
    written = title_key(title)
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


def scan(ctx: ScanContext, sentence: str, lo: int, hi: int, mentions: list[TitleMention]) -> None:
    """Find catalogue titles and 'Capitalised Phrase (YYYY)' spans in sentence[lo:hi]."""
    toks = [t for t in word_spans(sentence[lo:hi])]
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
            if key[0] in ARTICLES and key not in ctx.ok_by_key and _ok_title_at(ctx, toks, i + 1):
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
            if t[1][:1].isupper() or t[1][:1].isdigit() or t[0] in CONNECTORS:
                phrase.insert(0, t)
            else:
                break
        while phrase and not (_is_capitalised(phrase[0][1]) or phrase[0][1][:1].isdigit()):
            phrase.pop(0)
        if phrase and phrase[0][0] in REPLY_COMMON_WORDS and phrase[0][0] not in ARTICLES \
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


def scan_unmarked(ctx: ScanContext, sentence: str, mentions: list[TitleMention]) -> None:
    """Unmarked Title Case phrases ("You might enjoy The Silent Harbor.") that are no known title.

    A run of two or more capitalised words (small connectors allowed inside) that is not a
    catalogue title, not a sequence of people's or genre names from the catalogue joined by
    connectors ("Al Pacino and Robert De Niro"), not a tag of a slate or allowed film ("the Marvel
    Cinematic Universe" for a film the catalogue tags so; known limit: the tag of one slate film passes
    in a sentence about another), and not inside a mention already found, is treated as an invented title: replaced by a slate item
    when it is a near miss, else removed. This trades a few dropped sentences about places or
    studios ("New York") for the guarantee that no invented title reaches a user.
    """
    toks = word_spans(sentence)
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
        if gap_ok and (capital or (run and t[0] in CONNECTORS)):
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
        while run and run[-1][0] in CONNECTORS:
            run.pop()
        clause_start = run and (
            run[0][2] == toks[0][2] or re.search(r"[:;—–(\"“]\s*$", sentence[: run[0][2]]) is not None
        )
        if clause_start and run[0][0] not in ARTICLES and (
            run[0][0] in REPLY_COMMON_WORDS or run[0][0].endswith(("ed", "ing", "ly"))
        ) and not (len(run) == 1 and _RELEASED_AFTER_RE.match(sentence, run[0][3])):
            run.pop(0)  # clause-initial "Try", "Both", "Directed by ...", "Starring ..."
        while run and run[0][0] in CONNECTORS and run[0][0] not in ARTICLES:
            run.pop(0)
        content = [t for t in run if t[0] not in CONNECTORS]
        if len(content) == 1 and (len(run) == 1 or (len(run) == 2 and run[0][0] in ARTICLES)):
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
        elif key in ctx.tag_keys:
            continue  # "the Marvel Cinematic Universe" for a film the catalogue tags so: what it is, no title
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
    r"|(?:option|pick|choice|recommendation|suggestion)s?\s+(?:is|are|would\s+be|might\s+be))"
    # "You'd love the Zorbatron", "consider the Zoominator": an article may sit between cue and word
    r"\s+(?:(?:the|a|an)\s+)?$"
    # "the film Charmed", "a movie called Zorbatron": the noun names what follows
    r"|\b(?:the|a|an)\s+(?:film|movie|flick)\s+(?:(?:called|titled|named)\s+)?$",
    re.IGNORECASE,
)
# "Charmed, which was released in 2003", "Zorbatron (released in 2003)": the word is a film.
_RELEASED_AFTER_RE = re.compile(
    r",?\s+\(?(?:(?:which|that)\s+)?(?:was\s+|is\s+)?(?:released|came\s+out|premiered)\s+in\s+(?:19|20)\d\d\b",
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
    r"|trilogy|collection|originals?|specials?|version|remake|actors?|cast|books?|novels?"
    r"|brothers|sisters|scenes?|era|years)\b",
    re.IGNORECASE,
)
# Capitalised words that are not titles and that the catalogue's people, genres and tags
# (``TitleIndex.fact_words``) do not already cover: days, months, holidays, services,
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


def _scan_single_word(ctx: ScanContext, sentence: str, run: list[tuple[str, str, int, int]],
                      mentions: list[TitleMention]) -> None:
    """A lone capitalised word ("You might enjoy Zorbatron.") in a recommendation slot.

    ``run`` is the word, or an article and the word ("The Zorbatron"). It counts as an
    invented title (removed, or replaced when it is a near miss of a slate title, like any
    other invented span) when all hold:

    * it sits in a slot (a cue before or after it, or it heads a list item);
    * it is written like a title: a capital then a small letter ("HBO", "DVD" are
      acronyms), at least three letters, no possessive ("Nolan's" is a person);
    * it is not a catalogue title (the catalogue rule already kept or removed those;
      "Avengers" for "The Avengers" goes through that rule with the article added);
    * it is no common word (``REPLY_COMMON_WORDS``), no word of a person, genre or tag in the
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
        if form in REPLY_COMMON_WORDS or form in ctx.index.fact_words or form in _NOT_TITLE_WORDS \
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
        or _RELEASED_AFTER_RE.match(after) is not None
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
        if key[i] in CONNECTORS:
            ok[i + 1] = True
        for j in range(i + 1, min(n, i + 6) + 1):
            if key[i:j] in name_keys:
                ok[j] = True
    return ok[n]


def _fix_article(ctx: ScanContext, mention: TitleMention, key: tuple[str, ...], year: int | None) -> TitleMention:
    """A kept mention written with a wrong article becomes the item's display title."""
    item = ctx.ok_by_key_year.get((key, year)) or ctx.ok_by_key.get(key)
    if item is None:
        return mention
    return TitleMention(mention.start, mention.end, "replace", item.display_title, mention.slate_id,
                    "near miss", item)


def _known_key(ctx: ScanContext, key: tuple[str, ...]) -> tuple[str, ...] | None:
    """``key`` itself, or with a leading article added or removed, if it is a known title."""
    if not key:
        return None
    variants = [key, ("the", *key)]
    if key[0] in ARTICLES and len(key) > 1:
        variants.append(key[1:])
    for variant in variants:
        if variant in ctx.ok_by_key or variant in ctx.index.entries:
            return variant
    return None


def _ok_title_at(ctx: ScanContext, toks: list[tuple[str, str, int, int]], i: int) -> bool:
    """Whether a slate/allowed title starts at token ``i``."""
    return any(
        tuple(t[0] for t in toks[i : i + length]) in ctx.ok_by_key
        for length in range(1, min(MAX_TITLE_WORDS, len(toks) - i) + 1)
    )


def _accept(ctx: ScanContext, entry: TitleEntry | None, key: tuple[str, ...],
            toks: list[tuple[str, str, int, int]], i: int, length: int, sentence: str,
            lo: int, year_follows: bool) -> bool:
    """Whether the words toks[i:i+length] are a mention of the title ``key`` (case rules)."""
    if entry is None:  # an allowed item outside the catalogue
        words = tuple(t[1] for t in word_spans(ctx.ok_by_key[key].title))
        strong, has_letters = False, True
    else:
        words, strong, has_letters = entry.words, entry.strong, entry.has_letters
    if strong or (year_follows and has_letters):
        return True
    if not has_letters:
        return False  # "2012", "300": only when marked or followed by a year
    written = [t[1] for t in toks[i : i + length]]
    same_case = all(
        w == t or (j == 0 and t.lower() in ARTICLES and w.lower() == t.lower())
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
    if sentence_start and key[0] in REPLY_COMMON_WORDS:
        return False
    # part of a longer proper noun ("Paul Rudd", "Jack Reacher"), except after a possessive
    if i > 0 and _is_capitalised(toks[i - 1][1]) and not toks[i - 1][1].endswith(("'s", "’s")) \
            and not sentence[toks[i - 1][3] : start].strip() and toks[i - 1][2] >= 0 \
            and not (toks[i - 1][2] == toks[0][2] and toks[i - 1][0] in REPLY_COMMON_WORDS):
        return False
    return True
