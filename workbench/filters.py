"""Item filters: genres, years, people and excluded ids, applied to catalogue items.

Catalogue genres are free text ("Animated", "Animation", "Romance Film",
"Action/Adventure", "Children's/Family"). :func:`genre_keys` maps any of them
onto a small canonical vocabulary (:data:`CANONICAL_GENRES`) so that "no
horror" excludes "Supernatural horror" and "animated" matches "Animation".

It knows items; it does not know FAISS, scores or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from workbench.catalog import Catalog, Item
from workbench.text import WORD_RE, fold, norm_person, word_forms

#: Canonical genre names a user or a filter can name.
CANONICAL_GENRES = (
    "action", "adventure", "animation", "biography", "comedy", "crime", "documentary", "drama",
    "family", "fantasy", "history", "horror", "musical", "mystery", "romance", "science fiction",
    "sports", "superhero", "thriller", "war", "western", "teen", "noir", "spy", "disaster",
    "martial arts", "indie", "supernatural", "zombie", "satire", "mockumentary", "slasher",
    "christmas", "dance", "anime", "psychological", "political", "musical",
)

# word-level synonyms applied before matching
_WORD_SYNONYMS = {
    "animated": "animation", "cartoon": "animation", "cartoons": "animation",
    "children": "family", "childrens": "family", "kids": "family", "kid": "family",
    "nephews": "family", "nieces": "family", "nephew": "family", "niece": "family", "grandkids": "family",
    "grandchildren": "family", "kiddos": "family", "kiddies": "family",
    "romantic": "romance", "romcom": "romance comedy",
    "scifi": "science fiction", "sci": "science", "sf": "science fiction",
    "biographical": "biography", "biopic": "biography",
    "historical": "history", "period": "history",
    "comedies": "comedy", "funny": "comedy", "comic": "comedy",
    "dramas": "drama", "dramatic": "drama",
    "scary": "horror", "horrors": "horror",
    "thrillers": "thriller", "suspense": "thriller",
    "documentaries": "documentary", "docs": "documentary",
    "westerns": "western", "musicals": "musical", "sport": "sports",
    "superheroes": "superhero", "independent": "indie", "zombies": "zombie",
    "teenage": "teen", "teens": "teen", "espionage": "spy",
    "xmas": "christmas", "mysteries": "mystery", "detective": "mystery", "slashers": "slasher",
}


@lru_cache(maxsize=4096)
def genre_keys(text: str) -> frozenset[str]:
    """The canonical genres named by ``text`` (a raw catalogue genre or a user's words)."""
    low = re.sub(r"\brom[\s-]?coms?\b", "romance comedy", text.lower().replace("sci-fi", "science fiction"))
    words = re.findall(r"[a-z]+", low.replace("'", ""))
    expanded: list[str] = []
    for w in words:
        expanded.extend(_WORD_SYNONYMS.get(w, w).split())
    bag = set(expanded)
    return frozenset(g for g in CANONICAL_GENRES if set(g.split()) <= bag)


def item_genre_keys(item: Item) -> frozenset[str]:
    keys: set[str] = set()
    for g in item.genres:
        keys |= genre_keys(g)
    return frozenset(keys)


@lru_cache(maxsize=65536)
def item_excluded_keys(item: Item) -> frozenset[str] | None:
    """The genres an exclusion checks: the item's genres, those its tags name ("supernatural
    horror", "world war") and those its title names ("The Fog of War" is about war whatever its
    genres say: "a documentary, not about war" must not bring it); ``None`` when the catalogue
    knows neither genres nor tags, so no exclusion can vouch for it."""
    if not item.genres and not item.tags:
        return None
    keys = set(item_genre_keys(item)) | _title_genre_keys(item.title)
    for t in item.tags:
        keys |= genre_keys(t)
    return frozenset(keys)


@lru_cache(maxsize=16384)
def _title_genre_keys(title: str) -> frozenset[str]:
    return genre_keys(fold(title))


@lru_cache(maxsize=65536)
def item_topic_forms(item: Item) -> frozenset[str]:
    """The word forms (:func:`~workbench.text.word_forms`) of an item's title and tags: what a topic
    ruled out ("no boxing", "nothing with clowns") is checked against. The catalogue knows a film's
    topics only from these; :mod:`workbench.dialogue.engine` adds the films whose embedding sits
    closest to the topic."""
    forms: set[str] = set()
    for text in (item.title, *item.tags):
        for w in WORD_RE.findall(fold(text)):
            if len(w) >= 3:
                forms |= word_forms(w)
    return frozenset(forms)


def has_topic(item: Item, topic: str) -> bool:
    """Whether ``item``'s title or tags name ``topic`` in any of its forms."""
    return bool(word_forms(topic) & item_topic_forms(item))


@dataclass(frozen=True)
class ItemFilter:
    """Constraints on items. Empty sets / ``None`` mean "no constraint".

    ``genres`` match if the item has *any* of them; ``exclude_genres`` reject an
    item with any of them among its genres or the genres its tags name, and an item
    whose genres and tags are unknown (an exclusion is a promise); ``exclude_topics`` (words as the
    user wrote them: "boxing", "clowns") reject an item whose title or tags name one; ``people`` match
    a director or cast member (any of them); ``exclude_people`` reject an item with
    any of them; ``year_min``/``year_max`` are inclusive and reject items with no year.
    """

    genres: frozenset[str] = field(default_factory=frozenset)
    exclude_genres: frozenset[str] = field(default_factory=frozenset)
    year_min: int | None = None
    year_max: int | None = None
    people: frozenset[str] = field(default_factory=frozenset)
    exclude_ids: frozenset[str] = field(default_factory=frozenset)
    exclude_people: frozenset[str] = field(default_factory=frozenset)
    exclude_topics: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def make(
        cls,
        genres: Iterable[str] = (),
        exclude_genres: Iterable[str] = (),
        year_min: int | None = None,
        year_max: int | None = None,
        people: Iterable[str] = (),
        exclude_ids: Iterable[str] = (),
        exclude_people: Iterable[str] = (),
        exclude_topics: Iterable[str] = (),
    ) -> ItemFilter:
        """Normalise free-text genres and names into a filter."""
        g: set[str] = set()
        for x in genres:
            g |= genre_keys(x)
        xg: set[str] = set()
        for x in exclude_genres:
            xg |= genre_keys(x)
        return cls(
            frozenset(g), frozenset(xg), year_min, year_max,
            frozenset(norm_person(p) for p in people if p.strip()), frozenset(exclude_ids),
            frozenset(norm_person(p) for p in exclude_people if p.strip()),
            frozenset(fold(t).strip() for t in exclude_topics if t.strip()),
        )

    @property
    def is_empty(self) -> bool:
        return not (self.genres or self.exclude_genres or self.people or self.exclude_ids
                    or self.exclude_people or self.exclude_topics) and (
            self.year_min is None and self.year_max is None
        )

    def matches(self, item: Item) -> bool:
        if item.item_id in self.exclude_ids or any(a in self.exclude_ids for a in item.aliases):
            return False
        if self.year_min is not None and (item.year is None or item.year < self.year_min):
            return False
        if self.year_max is not None and (item.year is None or item.year > self.year_max):
            return False
        if self.genres and not (item_genre_keys(item) & self.genres):
            return False
        if self.exclude_genres:
            excluded = item_excluded_keys(item)
            if excluded is None or excluded & self.exclude_genres:
                return False
        if self.exclude_topics and any(has_topic(item, t) for t in self.exclude_topics):
            return False
        if self.people or self.exclude_people:
            names = {norm_person(p) for p in (*item.directors, *item.cast)}
            if self.people and not (names & self.people):
                return False
            if names & self.exclude_people:
                return False
        return True

    def allowed_ids(self, catalog: Catalog) -> set[str]:
        """Canonical ids of the catalogue items that pass."""
        return {item.item_id for item in catalog if self.matches(item)}

    def merge(self, other: ItemFilter) -> ItemFilter:
        """Both filters at once (the intersection of what they allow)."""

        def tighter(a: int | None, b: int | None, pick) -> int | None:
            return b if a is None else a if b is None else pick(a, b)

        return ItemFilter(
            self.genres | other.genres,
            self.exclude_genres | other.exclude_genres,
            tighter(self.year_min, other.year_min, max),
            tighter(self.year_max, other.year_max, min),
            self.people | other.people,
            self.exclude_ids | other.exclude_ids,
            self.exclude_people | other.exclude_people,
            self.exclude_topics | other.exclude_topics,
        )
