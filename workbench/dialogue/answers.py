"""Answers to questions about films, built from catalogue facts and nothing else.

:func:`build_answer` turns a question the understander read (``ask_fact`` / ``compare``, its
attribute, the films it points at, the genre or person a yes/no question names) into an
:class:`~workbench.dialogue.types.Answer`. :func:`answer_text` phrases it (the template
generator's words, also the fact a language model is given in its prompt); :func:`states_answer`
checks that a generated reply states it, so that the engine can put the template answer in its
place when a model wandered off.

A fact the catalogue lacks (no director listed, no year) is said to be unknown, never guessed;
"what is it about" is answered from the genres and tags (the bundled catalogue has no plot text);
"where can I watch it", "which one is the longest" and "is it well rated" are answered with what the
catalogue does not hold (no streaming, shops, showtimes, running times, ratings or awards), never
with a guess.

It knows items and their facts; it does not know scores, the engine, generators or gradio.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from workbench.catalog import Item
from workbench.dialogue.types import Answer
from workbench.filters import genre_keys, item_genre_keys
from workbench.text import fold, norm_person

#: Names listed in a cast answer (the catalogue keeps the first billed).
MAX_CAST_NAMES = 5
#: Tags named in an "about" answer.
MAX_ABOUT_TAGS = 4
#: Films answered about in one reply ("when did the first two come out?").
MAX_ANSWER_ITEMS = 5


def _person_matches(item: Item, person: str) -> bool:
    key = norm_person(person)
    return key in {norm_person(n) for n in (*item.directors, *item.cast)}


def build_answer(attribute: str, items: Sequence[Item], *, genres: Iterable[str] = (),
                 people: Sequence[str] = (), years: tuple[int | None, int | None] = (None, None)) -> Answer | None:
    """The :class:`Answer` to a question about ``items`` (``None`` when there is no film to answer about).

    Args:
        attribute: what is asked (see :class:`Answer`).
        items: the films the question points at, in the order named.
        genres: canonical genres the question names ("is it a cartoon?": ``animation``).
        people: people the question names ("is Tom Hanks in it?"), as the catalogue spells them.
        years: the inclusive years a ``has_year`` question names ("which of them are from the 90s?").
    """
    items = tuple(items)[:MAX_ANSWER_ITEMS]
    if not items:
        return None
    genres = sorted(genres)
    first = items[0]
    if attribute in ("newest", "oldest"):
        dated = [i for i in items if i.year]
        if not dated:
            return Answer(None, attribute, (), items)
        pick = (max if attribute == "newest" else min)(dated, key=lambda i: i.year or 0)
        same = tuple(i for i in dated if i.year == pick.year)
        return Answer(pick, attribute, (str(pick.year),), items, matches=same)
    if attribute == "popular":  # the catalogue's count of mentions in ReDial conversations
        pick = max(items, key=lambda i: (i.mentions, -items.index(i)))
        return Answer(pick, attribute, (str(pick.mentions),), items, matches=(pick,))
    if attribute == "has_person":
        asked = people[0] if people else ""
        matches = tuple(i for i in items if asked and _person_matches(i, asked))
        return Answer(matches[0] if matches else None, attribute, tuple(i.item_id for i in matches), items,
                      asked, matches)
    if attribute == "has_genre":
        asked = genres[0] if genres else ""
        matches = tuple(i for i in items if asked and asked in item_genre_keys(i))
        return Answer(matches[0] if matches else None, attribute, tuple(i.item_id for i in matches), items,
                      asked, matches)
    if attribute == "has_year":
        lo, hi = years
        asked = "" if lo is None and hi is None else years_in_words(lo, hi)
        asked = "from " + asked if asked.startswith("before") else asked  # "... are from before 1990"
        matches = tuple(i for i in items if asked and i.year and (lo is None or i.year >= lo) and (hi is None or i.year <= hi))
        return Answer(matches[0] if matches else None, attribute, tuple(i.item_id for i in matches), items,
                      asked, matches)
    values = fact_values(first, attribute)
    asked = ""
    if attribute == "genre" and genres:
        asked = genres[0]
    elif attribute in ("cast", "director") and people:
        asked = people[0]
    matches = tuple(i for i in items if asked and (
        asked in item_genre_keys(i) if attribute == "genre" else _person_matches(i, asked)))
    return Answer(first, attribute, values, items, asked, matches)


def years_in_words(year_min: int | None, year_max: int | None) -> str:
    """"from 2018 on", "before 1980", "from 1990 to 1999" (the engine's notes and ``has_year`` answers)."""
    if year_min is not None and year_max is not None:
        return f"from {year_min}" if year_min == year_max else f"from {year_min} to {year_max}"
    return f"from {year_min} on" if year_min is not None else f"before {(year_max or 0) + 1}"


def fact_values(item: Item, attribute: str) -> tuple[str, ...]:
    """The catalogue's values of one fact of ``item`` (empty: not known)."""
    if attribute == "director":
        return tuple(item.directors)
    if attribute == "cast":
        return tuple(item.cast)
    if attribute == "year":
        return (str(item.year),) if item.year else ()
    if attribute == "genre":
        return tuple(item.genres)
    if attribute == "about":
        return (*item.genres, *item.tags[:MAX_ABOUT_TAGS])
    return ()


# ---------------------------------------------------------------------------
# phrasing


def join_names(names: Sequence[str]) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``."""
    names = [n for n in names if n]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _genres(item: Item) -> str:
    return join_names([g.lower() for g in item.genres[:3]])


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


_FACT_LINES = {
    "director": ("{title} was directed by {values}.", "{title} is directed by {values}.",
                 "The director of {title} is {values}."),
    "cast": ("{title} stars {values}.", "The cast of {title} includes {values}.", "{title} features {values}."),
    "year": ("{title} came out in {values}.", "{title} was released in {values}.", "{title} is from {values}."),
    "genre": ("{title} is listed as {values}.", "The catalogue files {title} under {values}."),
}
_UNKNOWN = {
    "director": "I don't know who directed {title}: the catalogue does not list a director.",
    "cast": "I don't know who is in {title}: the catalogue does not list its cast.",
    "year": "I don't know when {title} came out: the catalogue has no year for it.",
    "genre": "I don't know the genre of {title}: the catalogue lists none.",
    "about": "I don't know what {title} is about: the catalogue has no genres or keywords for it.",
    "where": "I can't tell you where to watch {title}: my catalogue knows films' years, genres, directors "
             "and cast, but not streaming services, shops or showtimes.",
    "runtime": "I don't know the running time of {title}: my catalogue has no running times, only years, "
               "genres, directors and cast.",
    "rating": "I don't know the ratings of {title}: my catalogue holds no ratings, reviews or awards, only "
              "years, genres, directors and cast.",
    "source": "I don't know the sources of {title}: my catalogue does not record whether a film is adapted "
              "from a book, a play or anything else, only years, genres, directors and cast.",
}
#: Facts no film of the catalogue has: one sentence answers for all the films asked about.
UNLISTED = ("where", "runtime", "rating", "source")


def _one_fact(rng: random.Random, answer: Answer, item: Item) -> str:
    attribute = answer.attribute
    values = fact_values(item, attribute)
    # a bare title when the sentence states the year itself (no "Heat (1995) came out in 1995")
    title = item.title if attribute == "year" else item.display_title
    if not values:
        return _UNKNOWN[attribute].format(title=title)
    if attribute == "about":
        tags = ", ".join(item.tags[:MAX_ABOUT_TAGS])
        genres = _genres(item)
        if genres and tags:
            return (f"I have no plot summary, but {item.display_title} is {_a(genres)} film; "
                    f"its keywords are {tags}.")
        if genres:
            return f"I have no plot summary, but {item.display_title} is {_a(genres)} film."
        return f"I have no plot summary for {item.display_title}; its keywords are {tags}."
    if answer.asked and attribute == "genre":
        has = answer.asked in item_genre_keys(item)
        if has:
            return f"Yes, {item.display_title} is listed as {answer.asked} ({_genres(item)})."
        return f"No, {item.display_title} is not listed as {answer.asked}: the catalogue files it under {_genres(item)}."
    if answer.asked and attribute in ("cast", "director"):
        if _person_matches(item, answer.asked):
            role = "directed" if answer.asked in item.directors else "is in"
            return f"Yes, {answer.asked} {role} {item.display_title}."
        names = join_names(list(values[:MAX_CAST_NAMES]))
        lead = "was directed by" if attribute == "director" else "stars"
        return f"No, {answer.asked} is not listed for {item.display_title}, which {lead} {names}."
    shown = values[:MAX_CAST_NAMES] if attribute == "cast" else values
    text = join_names([v.lower() for v in shown] if attribute == "genre" else list(shown))
    return rng.choice(_FACT_LINES[attribute]).format(title=title, values=text)


def answer_text(answer: Answer, rng: random.Random | None = None) -> str:
    """The answer in one or a few sentences (no question, no apology, no film beyond ``answer.items``)."""
    rng = rng or random.Random(0)
    attribute = answer.attribute
    if attribute in ("newest", "oldest"):
        if answer.item is None:
            return f"I don't know which is the {attribute}: the catalogue has no years for these films."
        which = "newest" if attribute == "newest" else "oldest"
        if len(answer.matches) > 1:
            return (f"{join_names([i.title for i in answer.matches])} are the {which}, all from {answer.item.year}.")
        others = [i for i in answer.items if i is not answer.item and i.year]
        tail = ""
        if others:
            tail = " (" + ", ".join(f"{i.title} is from {i.year}" for i in others[:3]) + ")"
        return f"The {which} is {answer.item.title}, from {answer.item.year}{tail}."
    if attribute == "popular" and answer.item is not None:
        return (f"The best known of them is {answer.item.display_title}: it comes up most often in the "
                f"conversations the catalogue counts ({answer.item.mentions} mentions).")
    if attribute in ("has_person", "has_genre", "has_year"):
        what = answer.asked or "that"
        one, many = {"has_person": ("has", "have"), "has_genre": ("is listed as", "are listed as"),
                     "has_year": ("is", "are")}[attribute]
        if not answer.matches:
            return f"None of them {one} {what}."
        titles = join_names([i.display_title for i in answer.matches])
        return f"{titles} {one if len(answer.matches) == 1 else many} {what}."
    if attribute in UNLISTED:  # one sentence for every film: the catalogue knows no availability, length or rating
        films = answer.items
        return _UNKNOWN[attribute].format(title=join_names([i.display_title for i in films]) if len(films) <= 2
                                          else "these films")
    return " ".join(_one_fact(rng, answer, item) for item in (answer.items or (answer.item,)) if item is not None)


def states_answer(answer: Answer, text: str) -> bool:
    """Whether ``text`` (a generated reply) states ``answer``: its values, its pick, or that it is unknown."""
    low = fold(text)
    if not answer.known or (answer.item is None and not answer.attribute.startswith("has_")):
        return any(w in low for w in ("don't know", "do not know", "not listed", "no year", "doesn't list", "can't tell",
                                      "cannot tell",
                                      "does not list", "not sure", "unknown", "no information", "lists none"))
    if answer.attribute in ("has_person", "has_genre", "has_year"):
        if not answer.matches:
            return any(w in low for w in ("none", "no ", "not", "neither"))
        return all(fold(i.title) in low for i in answer.matches)
    if answer.attribute in ("newest", "oldest", "popular"):
        return answer.item is not None and fold(answer.item.title) in low
    if answer.attribute == "genre" and answer.asked:
        if answer.asked not in genre_keys(low):
            return False  # "I didn't think of that too much" holds a "n't" but answers nothing about horror
        said_no = any(w in low for w in ("no,", "not ", "isn't", "isnt", "no ", "n't"))
        return said_no != (answer.asked in item_genre_keys(answer.item)) if answer.item else False
    if answer.attribute == "genre":
        return any(genre_keys(low) & genre_keys(v) for v in answer.values) or any(
            fold(v) in low for v in answer.values)
    if answer.attribute == "about":
        return sum(fold(v) in low for v in answer.values) >= min(2, len(answer.values))
    return any(fold(v) in low for v in answer.values)
