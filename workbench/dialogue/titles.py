"""The title index: every catalogue title, person and genre word, normalised once per catalogue.

Two readers look titles up, each with its own key:

* grounding (:mod:`workbench.dialogue.grounding`) scans a generated reply word by word, so it
  keys titles by their folded word tuples (:attr:`TitleIndex.entries`, with the case rules of
  :class:`TitleEntry`) and needs the words of people, genres and tags to tell names from titles;
* understanding (:mod:`workbench.dialogue.understand`) looks up a user's words by normalised
  title key (no leading article, roman numerals as digits, subtitles and series names as extra
  keys, :data:`KNOWN_ALIASES`), with a title-word vocabulary for typo repair and normalised
  people's names.

:class:`TitleIndex` builds both in one pass and is read-only afterwards, so one instance,
built in the services, serves the grounder, the understander and every conversation. What
depends on popularity (which of two "Heat"s a user means) is not here: the understander orders
candidates by its own popularity.

It knows items and text; it does not know popularity, scores, generators or gradio.
"""

from __future__ import annotations

import copy as _copy
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from workbench.catalog import Item
from workbench.text import (
    COMMON_WORDS,
    CONNECTORS,
    GENRE_WORDS,
    MESSAGE_TOKEN_RE,
    REPLY_COMMON_WORDS,
    STOPWORDS,
    norm_token,
    normalize_title,
    roman_to_digit,
    word_spans,
)

#: Longest title (in words) the reply scanner looks for.
MAX_TITLE_WORDS = 16
#: Titles with at least two words and this many letters are matched case-insensitively in replies.
STRONG_TITLE_LETTERS = 10
#: Longest title (in normalised tokens) a message is searched for as one window.
MAX_TITLE_TOKENS = 12

#: A word in the tags of at least this many items is descriptive vocabulary ("heist", "novel").
COMMON_TAG_ITEMS = 2
_SUFFIXES = (("iest", "y"), ("ier", "y"), ("est", ""), ("er", ""), ("ing", ""), ("ed", ""), ("es", ""),
             ("s", ""), ("ly", ""))

#: Well-known alternative names that no string rule derives: (alias, title, year).
KNOWN_ALIASES: tuple[tuple[str, str, int | None], ...] = (
    ("star wars 4", "Star Wars", 1977), ("star wars episode 4", "Star Wars", 1977),
    ("a new hope", "Star Wars", 1977), ("star wars a new hope", "Star Wars", 1977),
    ("empire strikes back", "The Empire Strikes Back", 1980),
    ("star wars 5", "The Empire Strikes Back", 1980),
    ("star wars 6", "Return of the Jedi", 1983), ("star wars 7", "Star Wars: The Force Awakens", 2015),
    ("star wars 8", "Star Wars: Episode VIII – The Last Jedi", 2017),
    ("lotr", "The Lord of the Rings: The Fellowship of the Ring", 2001),
)


@dataclass
class TitleEntry:
    """The catalogue items that share one folded title, and how a reply must write it."""

    items: list[Item]
    words: tuple[str, ...]  # original-case words of the first item's title
    strong: bool  # matched case-insensitively anywhere
    has_letters: bool


def title_keys(title: str) -> tuple[str, list[str]]:
    """The exact key and secondary keys (subtitle, series name) of a title."""
    main = normalize_title(title)
    extra: list[str] = []
    parts = re.split(r"\s*[:–—]\s*|\s+-\s+", title)
    if len(parts) > 1:
        for part in parts:
            key = normalize_title(part)
            if key and key != main:
                extra.append(key)
    # "Star Wars: Episode VIII – The Last Jedi" -> "star wars 8"
    m = re.match(r"^(.*?)\s*:\s*episode\s+([ivx]+|\d+)\b", title, re.IGNORECASE)
    if m:
        num = roman_to_digit(m.group(2).lower())
        extra.append(f"{normalize_title(m.group(1))} {num}")
    return main, extra


def person_key(name: str) -> str:
    """A person's name as understanding looks it up ("Robert De Niro" -> "robert de niro")."""
    return " ".join(norm_token(t) for t in MESSAGE_TOKEN_RE.findall(name))


class TitleIndex:
    """Catalogue titles, people and genre words, for replies and for messages. Build once per catalogue.

    Args:
        items: the catalogue (a :class:`~workbench.catalog.Catalog` or any items).

    Reply view (grounding): ``entries`` (folded word tuple -> :class:`TitleEntry`), ``by_id``
    (item id or alias -> item), ``name_keys``, ``first_names``, ``fact_words`` and ``people``.
    Message view (understanding): ``message_keys`` (normalised key -> item ids, catalogue order;
    subtitle, series and alias keys first, then exact titles, which win), ``by_first`` (first
    word -> keys), ``vocab`` / ``vocab_list`` (title words, the list for typo repair),
    ``max_tokens``, ``person_keys`` (name -> normalised key), ``max_year``, ``common_words`` and
    :meth:`is_common` (everyday vocabulary, see there).
    """

    def __init__(self, items: Iterable[Item] = ()):
        items = tuple(items)
        self.entries: dict[tuple[str, ...], TitleEntry] = {}
        self.by_id: dict[str, Item] = {}
        # folded words of every person and genre in the catalogue: a capitalised phrase made
        # only of these ("Tom Hanks", "Michael Mann") is a name, not a title
        self.name_keys: set[tuple[str, ...]] = set()
        self.first_names: set[str] = set()
        # every folded word of a person, genre or tag in the catalogue ("hanks", "horror",
        # "pixar", "christmas"): a lone capitalised word that is one of these is not a title
        self.fact_words: set[str] = set()
        # folded words of every director and cast member -> the name: the people a reply's claims
        # are judged about (workbench.dialogue.facts)
        self.people: dict[tuple[str, ...], str] = {}
        for item in items:
            self._add_to_reply_view(item)
        self._build_message_view(items)

    def extended(self, items: Iterable[Item]) -> TitleIndex:
        """A copy whose reply view also recognises ``items`` (slate items outside the catalogue).

        The message view is shared with this index, unchanged: only grounding reads the copy.
        """
        copy = _copy.copy(self)  # shallow: the reply view's containers are replaced below
        copy.entries = dict(self.entries)
        copy.by_id = dict(self.by_id)
        copy.name_keys = set(self.name_keys)
        copy.first_names = set(self.first_names)
        copy.fact_words = set(self.fact_words)
        copy.people = dict(self.people)
        for item in items:
            copy._add_to_reply_view(item)
        return copy

    # -- replies --------------------------------------------------------
    def _add_to_reply_view(self, item: Item) -> None:
        for key_id in (item.item_id, *item.aliases):
            self.by_id.setdefault(key_id, item)
        for fact in (*item.cast, *item.directors, *item.genres):
            name = tuple(t[0] for t in word_spans(fact))
            self.name_keys.add(name)
            self.fact_words.update(name)
            if len(name) >= 3:
                self.fact_words.add("".join(name[1:]))  # "DeNiro" for Robert De Niro
            if len(name) >= 2:
                self.first_names.add(name[0])
        for person in (*item.cast, *item.directors):
            self.people.setdefault(tuple(t[0] for t in word_spans(person)), person)
        for tag in item.tags:
            self.fact_words.update(t[0] for t in word_spans(tag))
        toks = word_spans(item.title)
        key = tuple(t[0] for t in toks)
        if not key or len(key) > MAX_TITLE_WORDS:
            return
        entry = self.entries.get(key)
        if entry is not None:
            if all(i.item_id != item.item_id for i in entry.items):
                entry.items.append(item)
            return
        letters = sum(c.isalpha() for c in item.title)
        plain = [w in REPLY_COMMON_WORDS or w in CONNECTORS for w in key]
        # "Forrest Gump" and "The Dark Knight Rises" are titles in any case; "scary movie",
        # "game night" or "girls night out" are also everyday phrases, so need capitals.
        strong = letters >= STRONG_TITLE_LETTERS and (
            (len(key) == 2 and not any(plain)) or (len(key) >= 3 and not all(plain))
        )
        self.entries[key] = TitleEntry(
            items=[item], words=tuple(t[1] for t in toks), strong=strong,
            has_letters=letters > 0,
        )

    # -- messages -------------------------------------------------------
    def _build_message_view(self, items: tuple[Item, ...]) -> None:
        by_item = {item.item_id: item for item in items}
        primary: dict[str, list[str]] = defaultdict(list)
        secondary: dict[str, list[str]] = defaultdict(list)
        for item in items:
            main, extra = title_keys(item.title)
            if main:
                primary[main].append(item.item_id)
            for key in extra:
                secondary[key].append(item.item_id)
        for alias, title, year in KNOWN_ALIASES:
            key = normalize_title(title)
            for iid in primary.get(key, ()):
                if year is None or by_item[iid].year == year:
                    secondary[alias].append(iid)
        keys: dict[str, tuple[str, ...]] = {}
        for key, ids in secondary.items():
            if key not in primary and len(key) >= 3:
                keys[key] = tuple(dict.fromkeys(ids))
        for key, ids in primary.items():
            keys[key] = tuple(dict.fromkeys(ids))
        self.message_keys = keys
        self.max_tokens = min(MAX_TITLE_TOKENS, max((k.count(" ") + 1 for k in keys), default=1))
        by_first: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            by_first[key.split(" ", 1)[0]].append(key)
        self.by_first = dict(by_first)  # a plain dict: a lookup never inserts into the shared index
        self.vocab = {w for key in keys for w in key.split()}
        self.vocab_list = sorted(w for w in self.vocab if len(w) >= 4 and not w.isdigit())
        self.person_keys: dict[str, str] = {}
        for item in items:
            for name in (*item.directors, *item.cast):
                if name not in self.person_keys:
                    self.person_keys[name] = person_key(name)
        self.max_year = max((i.year for i in items if i.year), default=2020)
        tag_items: dict[str, int] = defaultdict(int)
        for item in items:
            for word in {norm_token(t) for tag in item.tags for t in MESSAGE_TOKEN_RE.findall(tag)}:
                tag_items[word] += 1
        self.common_words = frozenset(
            {w for w, n in tag_items.items() if n >= COMMON_TAG_ITEMS and w.isalpha()}
            | COMMON_WORDS | STOPWORDS | GENRE_WORDS
        )

    def is_common(self, word: str) -> bool:
        """Whether a normalised word is everyday vocabulary, so a title made of it needs a cue.

        Common are :data:`~workbench.text.COMMON_WORDS`, stopwords, genre words and every word
        in the tags of :data:`COMMON_TAG_ITEMS` or more catalogue items ("heist", "novel",
        "revenge": the catalogue's own descriptive vocabulary, counted at build time; no text is
        kept), and their inflections ("lighter" of "light", "heists"). A catalogue-derived list
        rather than an English dictionary: no word list ships in the requirements, and the tags
        already hold the words people describe films with.
        """
        if word in self.common_words:
            return True
        for suffix, repl in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                stem = word[: len(word) - len(suffix)] + repl
                doubled = stem[-1:] == stem[-2:-1] and stem[:-1]  # "bigger" of "big"
                for form in (stem, doubled):
                    if form and form in self.common_words and form not in STOPWORDS:
                        return True
        return False
