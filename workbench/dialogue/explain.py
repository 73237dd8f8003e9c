"""Explaining a slate: a short, true reason per recommended item, from catalogue facts.

:class:`Explainer` turns ranked :class:`~workbench.scored.ScoredItems` into
:class:`~workbench.dialogue.types.Recommendation` values, each with a reason built only from what
the catalogue says (a shared director, cast member or genre with a liked film; the genres, people
or years the user asked for) and which sources scored the item. It also finds the reason logged
for an earlier pick ("why the second one?") and writes the one-line summary a reply gets when it
names no slate item.

It knows the catalogue and the conversation state; it does not know scores' origins beyond
their source names, generators or gradio.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from workbench.catalog import Catalog, Item
from workbench.dialogue.state import ConversationState
from workbench.dialogue.types import Recommendation
from workbench.dialogue.understand import Understanding
from workbench.filters import ItemFilter, item_genre_keys
from workbench.scored import ScoredItems
from workbench.text import norm_person

#: Liked items (newest first) a reason may explain an item through.
ANCHORS = 6
#: The order genres are named in ("a comedy drama film", not "a drama comedy film").
GENRE_ORDER = ("superhero", "animation", "family", "comedy", "romance", "crime", "horror", "science fiction",
               "fantasy", "action", "adventure", "thriller", "mystery", "drama", "war", "western",
               "documentary", "musical", "biography", "history", "sports", "teen")


class Explainer:
    """Reasons for recommended items over one catalogue.

    Args:
        catalog: the items the reasons speak about.
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def recommendations(self, slate: ScoredItems, state: ConversationState,
                        u: Understanding | None = None) -> tuple[Recommendation, ...]:
        """The slate as recommendations, best first, each with its reason."""
        out = []
        for rank, entry in enumerate(slate, start=1):
            item = self.catalog[entry.item_id]
            out.append(Recommendation(item, rank, entry.score, dict(entry.sources),
                                      self.reason(item, entry.sources, state, u)))
        return tuple(out)

    def reason(self, item: Item, sources: Mapping[str, float], state: ConversationState,
               u: Understanding | None = None) -> str:
        """A short, true explanation from catalogue facts and the sources that scored the item."""
        parts: list[str] = []
        more_like = u.target if u is not None and u.intent == "more_like" and u.target else None
        best = self._anchor(item, state, more_like)
        if best is not None:
            anchor, facts = best
            parts.append(f"because {_anchor_phrase(anchor, state, more_like)}: {facts}")
        elif state.history() and (sources.get("cf", 0) > 0 or sources.get("knn", 0) > 0):
            # CF scored it from the whole history: say that, not which single film
            parts.append("people who liked the films you mentioned also liked it")
        asked = _asked_facts(item, state.constraints)
        if asked:
            parts.append(asked + ", as you asked")
        if not parts and sources.get("dense", 0) >= 0.5:
            parts.append("close to what you described")
        if not parts:
            genres = _genre_phrase(item_genre_keys(item))
            parts.append(f"a popular {genres} pick" if genres else "a popular pick")
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]

    def _anchor(self, item: Item, state: ConversationState, more_like: str | None) -> tuple[Item, str] | None:
        """The liked item ``item`` shares most with (the "more like" target first), and what they share."""
        anchors = list(reversed(state.liked))
        if more_like:
            anchors = [more_like, *[a for a in anchors if a != more_like]]
        best: tuple[float, Item, str] | None = None
        for pos, anchor_id in enumerate(anchors[:ANCHORS]):
            anchor = self.catalog.get(anchor_id)
            if anchor is None:
                continue
            strength = _shared_strength(anchor, item) - 0.01 * pos  # ties go to the most recent
            if strength > 0 and anchor_id == more_like:
                strength += 100.0  # "more like X": explain through X whenever it shares anything
            if strength > 0 and (best is None or strength > best[0]):
                best = (strength, anchor, _shared_facts(anchor, item))
        return None if best is None else (best[1], best[2])

    def earlier(self, state: ConversationState, target: str) -> tuple[Recommendation, ...]:
        """The newest logged pick of ``target`` with the reason given then (``()`` if never picked)."""
        for entry in reversed(state.log):
            if target in entry.slate:
                item = self.catalog[target]
                cand = next((c for c in entry.candidates if c["item_id"] == target), None)
                return (Recommendation(item, entry.slate.index(target) + 1,
                                       float(cand["score"]) if cand else 0.0,
                                       dict(cand["sources"]) if cand else {},
                                       entry.reasons.get(target, "")),)
        return ()


def _anchor_phrase(anchor: Item, state: ConversationState, more_like: str | None) -> str:
    """"you liked X", "you asked for more like X", or, when a slate card said so, "you liked X on the
    last slate" (true by construction: the state holds that card judgement, on that slate)."""
    card = state.card_liked(anchor.item_id)
    where = ""
    if card is not None:
        shown = [i for i, entry in enumerate(state.log) if entry.slate]
        where = " on the last slate" if not shown or card.turn >= shown[-1] else " on an earlier slate"
    if anchor.item_id == more_like:
        if card is not None:
            return f"you liked {anchor.display_title}{where} and asked for more like it"
        return f"you asked for more like {anchor.display_title}"
    return f"you liked {anchor.display_title}{where}"


def slate_summary(recs: Sequence[Recommendation]) -> str:
    """The sentence appended to a reply that names no slate item."""
    titles = [r.item.display_title for r in recs]
    listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    return f"\n\nMy picks: {listed}."


def _genre_phrase(keys: Collection[str]) -> str:
    picked = [g for g in GENRE_ORDER if g in keys][:2]
    picked += sorted(g for g in keys if g not in GENRE_ORDER)[: max(0, 2 - len(picked))]
    return " ".join(picked)


def _shared_strength(anchor: Item, item: Item) -> float:
    """How much two items share: a director 3, each shared cast member 2, each genre 1."""
    return (3.0 * bool(set(item.directors) & set(anchor.directors))
            + 2.0 * len(set(item.cast) & set(anchor.cast))
            + 1.0 * len(item_genre_keys(item) & item_genre_keys(anchor)))


def _shared_facts(anchor: Item, item: Item) -> str:
    facts: list[str] = []
    directors = [d for d in item.directors if d in anchor.directors]
    if directors:
        facts.append(f"also directed by {directors[0]}")
    cast = [c for c in item.cast if c in anchor.cast]
    if cast:
        facts.append("also starring " + " and ".join(cast[:2]))
    genres = item_genre_keys(item) & item_genre_keys(anchor)
    if genres:
        facts.append(f"also {_article(_genre_phrase(genres))} {_genre_phrase(genres)} film")
    return ", ".join(facts)


def _asked_facts(item: Item, constraints: ItemFilter) -> str:
    facts: list[str] = []
    genres = item_genre_keys(item) & constraints.genres
    if genres:
        facts.append(f"{_article(_genre_phrase(genres))} {_genre_phrase(genres)} film")
    if constraints.people:
        names = [p for p in (*item.directors, *item.cast) if norm_person(p) in constraints.people]
        if names:
            role = "directed by" if names[0] in item.directors else "with"
            facts.append(f"{role} {names[0]}")
    if (constraints.year_min is not None or constraints.year_max is not None) and item.year \
            and (constraints.year_min is None or item.year >= constraints.year_min) \
            and (constraints.year_max is None or item.year <= constraints.year_max):
        facts.append(f"from {item.year}")  # only a year inside the range asked for is "as you asked"
    return ", ".join(facts)


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"
