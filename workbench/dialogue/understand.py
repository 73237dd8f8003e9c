"""Understanding one user message: which catalogue items it names, how the user feels about
them, which constraints it states, and what the user wants (the intent).

:class:`Understander` is built once per catalogue and is read-only afterwards, so one instance
serves every conversation concurrently. :meth:`Understander.understand` turns a message into an
:class:`Understanding`; it never looks at conversation state except the last slate it is given
(for "the second one", "why that one"). It composes two readers: linking titles and people
(:mod:`workbench.dialogue.linking`, over the catalogue's
:class:`~workbench.dialogue.titles.TitleIndex`) and reading cues for stance, constraints and
intent (:mod:`workbench.dialogue.cues`).

It knows items and words; it does not know scores, recommenders, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from workbench.catalog import Catalog
from workbench.dialogue.constraints import (
    read_constraints,
    read_wanted_topics,
    without_ruled_out,
    years_than_slate,
)
from workbench.dialogue.cues import asks_reset, mask, request_sentences, stance_of, with_stances
from workbench.dialogue.intent_model import DEFAULT_OUTCOMES, IntentGuesser
from workbench.dialogue.intent_model import second_opinion as with_second_opinion
from workbench.dialogue.intents import asks_for_something, asks_in_catalogue, classify, firm_mentions
from workbench.dialogue.linking import (
    _PERSON_CUE_RE,
    Mention,
    MentionLinker,
    PersonMention,
    Stance,
    tokens,
    unlinked_title,
)
from workbench.dialogue.titles import TitleIndex
from workbench.filters import ItemFilter
from workbench.text import Intent, fold, normalize_title

#: Words after a name that make it a person ("I'd like to see Jackie Chan in it").
_PERSON_AFTER_RE = re.compile(r"\s+in (?:it|the lead|a (?:movie|film)|one)\b", re.IGNORECASE)
#: Words after a name that make it a director ("the ones Tarantino directs", "a Nolan film").
_DIRECTS_AFTER_RE = re.compile(r"\s*(?:directs|directed|'s direct)")
#: "movies like the ones X directs": a "like" that compares, not one that likes.
_PREP_LIKE_RE = re.compile(r"\b(something|anything|stuff|more|movies?|films?|ones?|else|exactly|kind of|sort of|"
                           r"is|are|looks?|sounds?|seems?)\s+like\b", re.IGNORECASE)
#: "a huge Spielberg fan", "big Nolan fan here": the person is liked
_FAN_RE = re.compile(r"^['’]?s?\s*(?:fan|fans)\b", re.IGNORECASE)
#: Clause ends for reading how the user feels about a person they name.
_CLAUSE_RE = re.compile(r"[.!?;,]+|\b(?:but|though|however|whereas|while)\b", re.IGNORECASE)

__all__ = [
    "Intent", "Mention", "PersonMention", "Stance", "Understander", "Understanding", "normalize_title",
]


@dataclass(frozen=True)
class Understanding:
    """What one message says. ``constraints`` holds only what this message states."""

    text: str
    intent: Intent = "other"
    mentions: tuple[Mention, ...] = ()
    people: tuple[PersonMention, ...] = ()
    constraints: ItemFilter = field(default_factory=ItemFilter)
    #: which constraint fields this message set (so state can replace rather than merge them)
    constraint_fields: frozenset[str] = frozenset()
    target: str | None = None  # the item a more_like / why / feedback message is about
    target_stance: Stance = "neutral"  # feedback: how the user feels about ``target``
    notes: tuple[str, ...] = ()
    reset: bool = False  # "start over"
    query: str = ""  # the message with linked titles removed: what semantic search reads
    #: the slate items or films a question or remark points at ("the third one", "those", "Jaws"),
    #: as catalogue ids in the order named (labelled set: ``refs``)
    refs: tuple[str, ...] = ()
    #: what an ``ask_fact`` / ``compare`` question asks about: "director", "cast", "year", "genre",
    #: "about" (genres and tags), "newest", "oldest", ... (labelled set: ``attribute``)
    attribute: str | None = None
    #: the film this message judges and how ("loved the second one", "seen that one"), which the
    #: conversation state notes whatever the intent ("thanks, loved it" closes and likes)
    judged: tuple[str, Stance] | None = None
    #: people the user says they like ("I'm a big fan of Tom Hanks") and rule out ("nothing with
    #: Adam Sandler"), catalogue spellings (labelled set: ``liked_people`` / ``disliked_people``)
    liked_people: tuple[str, ...] = ()
    disliked_people: tuple[str, ...] = ()
    #: how many films the message asks for ("recommend me 3 films", "top 5"), if it says
    count: int | None = None
    #: topics the message asks for ("something with dogs", "he loves dinosaurs"): they weigh in the
    #: ranking, never filter (see :func:`workbench.dialogue.constraints.read_wanted_topics`)
    topics: tuple[str, ...] = ()

    @property
    def liked(self) -> list[str]:
        """Films the user says they like; a film named as a yardstick ("something like Heat") is not one."""
        return [m.item_id for m in self.mentions if m.stance == "liked" and not m.compared]

    @property
    def disliked(self) -> list[str]:
        return [m.item_id for m in self.mentions if m.stance == "disliked"]



class Understander:
    """Reads messages against one catalogue. Built once; thread-safe to share (read-only).

    Args:
        catalog: the items that can be linked.
        popularity: item id -> weight used to resolve ambiguous names ("Heat"); defaults to the
            catalogue's ``mentions``. An evaluation passes counts from its training split.
        titles: the catalogue's prebuilt :class:`TitleIndex` (the services build one and share
            it with the grounder); built from ``catalog`` when ``None``.
        intent_guesser: the embedding model's second opinion on the intent
            (:mod:`workbench.dialogue.intent_model`); ``None`` leaves the rules alone.
    """

    def __init__(self, catalog: Catalog, popularity: Mapping[str, float] | None = None,
                 titles: TitleIndex | None = None, intent_guesser: IntentGuesser | None = None):
        self.catalog = catalog
        self.intent_guesser = intent_guesser
        if popularity is None:
            popularity = {item.item_id: float(item.mentions) for item in catalog}
        if titles is None:
            titles = TitleIndex(catalog)
        self._linker = MentionLinker(catalog, titles, popularity)
        self._max_year = titles.max_year
        #: person -> the roles the catalogue knows them in ("director", "cast")
        self._roles: dict[str, set[str]] = {}
        for item in catalog:
            for name in item.directors:
                self._roles.setdefault(name, set()).add("director")
            for name in item.cast:
                self._roles.setdefault(name, set()).add("cast")

    def _names_over_titles(self, text: str, toks: list, mentions: list[Mention], used: set[int],
                           people: list[PersonMention], person_used: set[int]
                           ) -> tuple[list[Mention], set[int], list[PersonMention], set[int]]:
        """A person's full name wins over the title links inside it: "something with Keanu Reeves" is
        the actor, not the film *Keanu*; "a film by King Vidor" is not *King*. A name linked over
        exactly a title's words wins only after a person cue ("with", "by", "starring")."""
        if not mentions:
            return mentions, used, people, person_used
        named, _ = self._linker.link_people(text, toks, set())
        known = {p.span for p in people}
        for p in named:
            if p.span in known or " " not in text[p.span[0]:p.span[1]].strip():
                continue
            inside = [m for m in mentions if m.span[0] < p.span[1] and p.span[0] < m.span[1]]
            if not inside or any(m.span[0] < p.span[0] or m.span[1] > p.span[1] for m in inside):
                continue
            same = any(m.span == p.span for m in inside)
            if same and not (_PERSON_CUE_RE.search(text[:p.span[0]]) or _PERSON_AFTER_RE.match(text[p.span[1]:])):
                continue
            cut = {j for j, t in enumerate(toks) if p.span[0] <= t.start < p.span[1]}
            mentions = [m for m in mentions if m not in inside]
            used -= cut
            people.append(p)
            person_used |= cut
        return mentions, used, sorted(people, key=lambda p: p.span[0]), person_used

    def _with_role(self, text: str, p: PersonMention) -> PersonMention:
        """``p`` with its role when the text left it open: "the ones Tarantino directs", or the only
        role the catalogue knows them in."""
        if p.role != "any":
            return p
        after = text[p.span[1]: p.span[1] + 16].lower()
        if _DIRECTS_AFTER_RE.match(after):
            return replace(p, role="director")
        if _PERSON_AFTER_RE.match(after):
            return replace(p, role="cast")
        roles = self._roles.get(p.name, set())
        return replace(p, role=next(iter(roles))) if len(roles) == 1 else p

    def understand(
        self,
        text: str,
        *,
        last_slate: Sequence[str] = (),
        linked: Sequence[str] = (),
        focus: str | None = None,
        second_opinion: bool = True,
    ) -> Understanding:
        """Read one message.

        Args:
            text: the user's message.
            last_slate: item ids of the previous recommendations, best first (for ordinals and
                feedback).
            linked: item ids already linked by the caller (ReDial's gold mentions); they join the
                mentions found in the text.
            focus: the slate item "more like that" means (the newest card the user liked), if any.
            second_opinion: ask the intent model when the rules end on a default (``False`` where
                only the search query is wanted: earlier messages re-read for the query).
        """
        toks = tokens(text)
        mentions, used = self._linker.link_exact(text, toks, shown=last_slate)
        people, person_used = self._linker.link_people(text, toks, used)
        mentions, used, people, person_used = self._names_over_titles(text, toks, mentions, used, people,
                                                                       person_used)
        people = [self._with_role(text, p) for p in people]
        more, _ = self._linker.link_fuzzy(text, toks, used | person_used)
        mentions = sorted(mentions + more, key=lambda m: m.span[0])
        for iid in linked:
            item = self.catalog.get(iid)
            if item is not None and all(m.item_id != item.item_id for m in mentions):
                mentions.append(Mention(item.item_id, (0, 0), item.title, "neutral", "gold"))
        mentions = with_stances(text, mentions)
        masked = mask(text, [m.span for m in mentions] + [p.span for p in people])
        # constraints read every word but the surely-titles: an everyday word that also names a film
        # ("my son gets nightmares", "monsters") still states a mood
        constraints, fields, ruled_out = read_constraints(
            mask(text, [m.span for m in firm_mentions(mentions)] + [p.span for p in people]), people, self._max_year)
        liked_people = tuple(dict.fromkeys(p.name for p in people if p.name not in ruled_out
                                           and (stance_of(_PREP_LIKE_RE.sub(r"\1 as", clause_around(masked, p.span)))
                                                == "liked" or _FAN_RE.match(text[p.span[1]:]))))
        slate = [self.catalog.canonical_id(i) for i in last_slate if i in self.catalog]
        than = years_than_slate(text, [self.catalog[i].year for i in slate])
        if than is not None:  # "newer than these": after most of the films on screen, not "the last 5 years"
            constraints = replace(constraints, year_min=than[0], year_max=than[1])
            fields = fields | {"years"}
        focus = self.catalog.canonical_id(focus) if focus is not None and focus in self.catalog else None
        # intent, the films pointed at and what a question asks: workbench.dialogue.intents
        reading = classify(text, masked, mentions, people, constraints, slate, self.catalog.get, focus)
        if second_opinion and self.intent_guesser is not None and reading.intent in DEFAULT_OUTCOMES:
            # a film, a person, a constraint or a request in words ("no, something about nature")
            # is never turned into small talk
            anchored = bool(firm_mentions(mentions) or people or not constraints.is_empty or asks_for_something(masked))
            # an anchored request can only stay a request (the model may not make it social): no need to
            # ask, which saves the message's embedding on most turns (about 11 ms on 2 CPU cores)
            if not (anchored and reading.intent == "recommend"):
                reading = with_second_opinion(reading, self.intent_guesser(text, bool(slate)),
                                              threshold=self.intent_guesser.model.threshold, anchored=anchored)
        unknown = None if mentions or people else unlinked_title(masked)
        if unknown is not None and (reading.intent in ("chitchat", "other") or asks_in_catalogue(text)):
            # "I just watched Parasite and loved it", no Parasite in the catalogue: say so, and ask
            reading = replace(reading, intent="chitchat", target=None, refs=())
        # one note per distinct text: a name typed many times must not repeat its note (issue 16.9)
        notes = tuple(dict.fromkeys([*(m.note for m in mentions if m.note), *([reading.note] if reading.note else []),
                                     *([UNKNOWN_FILM_NOTE] if unknown else [])]))
        # the sentences that ask, not the user's day, and not the words of what they rule out
        query = _QUERY_NOISE_RE.sub(" ", without_ruled_out(" ".join(request_sentences(masked).split())))
        if constraints.genres:  # the mood is a genre filter now; its words are no search
            query = _AFFECT_QUERY_RE.sub(" ", query)
        query = " ".join(query.split())
        return Understanding(
            text=text,
            intent=reading.intent,
            mentions=tuple(mentions),
            people=tuple(people),
            constraints=constraints,
            constraint_fields=fields,
            target=reading.target,
            target_stance=reading.stance,
            notes=notes,
            reset=asks_reset(text),
            query=query,
            refs=reading.refs,
            attribute=reading.attribute,
            judged=reading.judged,
            liked_people=liked_people,
            disliked_people=tuple(dict.fromkeys(p.name for p in people if p.name in ruled_out)),
            count=asked_count(masked),
            topics=tuple(sorted(read_wanted_topics(fold(masked).replace("-", " ")))),
        )


_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "a couple of": 2, "a couple": 2, "a few": 3}
#: "recommend me 3 films", "give me two more movies", "top 5": how many films the user wants this turn
_COUNT_RE = re.compile(
    r"\b(?:(?:give|show|recommend|suggest|find|list|name|get|want|need|pick|choose|send)(?:\s+(?:me|us))?\s+"
    r"(?:just\s+|only\s+|about\s+|maybe\s+|like\s+)?|top\s+)"
    r"(?P<n>\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|a\s+couple(?:\s+of)?|a\s+few)\s+"
    r"(?:[\w-]+\s+){0,2}?"
    r"(?:films?|movies?|picks?|suggestions?|recommendations?|options?|titles?|ones?)\b", re.IGNORECASE)


#: "top 3 please", "just two", "only 4!": a count with no film word after it
_BARE_COUNT_RE = re.compile(r"\b(?:top|just|only|your\s+best)\s+(?P<n>\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)"
                            r"(?=\s*(?:please|pls|plz|only|then|of\s+(?:them|these|those)|[.!?,]|$))", re.IGNORECASE)


def asked_count(text: str) -> int | None:
    """How many films ``text`` asks for (1-10), or ``None`` when it does not say."""
    m = _COUNT_RE.search(text) or _BARE_COUNT_RE.search(text)
    if m is None:
        return None
    raw = " ".join(m.group("n").lower().split())
    n = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw)
    return n if n is not None and 1 <= n <= 10 else None


#: Words of a request that describe the viewer's evening, not the film ("for tonight", "my wife doesn't
#: like ..."): left out of the search query, where "tonight" found *Nightcrawler* and "wife" *I Think I
#: Love My Wife* (the constraints they state, "for my kids", are read from the whole message)
#: Mood words whose whole meaning is the genre they ask for ("uplifting": comedy): the constraint holds
#: them, and as search words they found titles that share a word's sense, not the mood (*Super High Me*
#: for "uplifting", *Sad Movie* for "sad"). Topic moods ("heist", "vampires", "time travel") stay searched.
_AFFECT_QUERY_RE = re.compile(
    r"\b(?:uplifting|feel[\s-]?good|light[\s-]?hearted|lighter|hilarious|funnier|funny|scarier|scary|creepy|spooky"
    r"|frightening|terrifying|emotional|heartwarming|suspenseful|tense|nail[\s-]biting|tear[\s-]?jerker|weepy|sad|happy"
    r"|cheer\s+(?:me\s+)?up|pick\s+me\s+up|make\s+me\s+(?:laugh|cry)|good\s+(?:mood|laugh|cry))\b", re.IGNORECASE)
_QUERY_NOISE_RE = re.compile(
    r"\b(?:my|our|the)\s+(?:wife|husband|partner|girlfriend|boyfriend|gf|bf|kids?|son|daughter|children|family"
    r"|parents|mom|mum|dad|friends?|sister|brother|teens?|boss|nephews?|nieces?|grandkids|grandchildren|kiddos"
    r"|grandparents|in-laws|roommates?|class|students)\b|\b(?:for\s+)?(?:tonight|today|tomorrow"
    r"|this\s+(?:weekend|evening|afternoon|morning)|the\s+weekend)\b|\blive[\s-]action\b", re.IGNORECASE)
#: The note for a film the user named that no catalogue title matched (no name repeated: grounding
#: rightly drops a title the catalogue cannot check, even the user's own).
UNKNOWN_FILM_NOTE = ("That film is not in my catalogue, so I can't go from it. Which other film did you enjoy, "
                     "or what are you in the mood for?")


def clause_around(text: str, span: tuple[int, int]) -> str:
    """The clause of ``text`` that holds ``span`` (between sentence marks and contrast words)."""
    start = max((m.end() for m in _CLAUSE_RE.finditer(text, 0, span[0])), default=0)
    end = next((m.start() for m in _CLAUSE_RE.finditer(text, span[1])), len(text))
    return text[start:end]
