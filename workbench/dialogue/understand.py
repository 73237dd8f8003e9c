"""Understanding one user message: which catalogue items it names, how the user feels about
them, which constraints it states, and what the user wants (the intent).

:class:`Understander` is built once per catalogue (a normalised-title index, a person index,
a title-word vocabulary for typo repair) and is read-only afterwards, so one instance serves
every conversation concurrently. :meth:`Understander.understand` turns a message into an
:class:`Understanding`; it never looks at conversation state except the last slate it is given
(for "the second one", "why that one").

It knows items and words; it does not know scores, recommenders, generators or gradio.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from workbench.catalog import Catalog
from workbench.filters import ItemFilter, genre_keys

Stance = Literal["liked", "disliked", "seen", "not_seen", "neutral"]
Intent = Literal["recommend", "more_like", "refine", "why", "feedback", "greeting", "chitchat", "other"]

INTENTS: tuple[str, ...] = (
    "recommend", "more_like", "refine", "why", "feedback", "greeting", "chitchat", "other",
)

#: Longest title (in normalised tokens) looked up as one window.
MAX_TITLE_TOKENS = 12
#: Fuzzy title matches must reach this rapidfuzz ratio (0-100).
FUZZY_TITLE_CUTOFF = 88
#: A misspelt word is repaired to a title word only above this ratio.
TYPO_CUTOFF = 80

# ---------------------------------------------------------------------------
# words

#: Function words: a title made only of these ("It", "Up", "Her", "Us") is linked only when
#: quoted, followed by a year, written as @id, or capitalised in the middle of a sentence.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into onto up down out off over
    under about after before again it its it's i me my we us our you your he him his she her they
    them their this that these those what which who whom whose where when why how all any both
    each few more most other some such no nor not only own same so than too very can will just
    should now is am are was were be been being have has had do does did doing would could here
    there then once yes yeah ok okay oh hi hello hey thanks thank please""".split()
)

#: Everyday words: a title made only of these and stopwords ("Heat", "Home", "Get Out", "Love
#: Actually") needs capitalisation or a cue ("I loved heat") before it is linked.
COMMON_WORDS = frozenset(
    """good great best better bad worse worst nice cool fun funny sad scary love loved like liked
    hate hated enjoy enjoyed watch watched watching seen see saw look looking want wanted need
    movie movies film films show shows thing things something anything nothing everything one two
    three four five six seven eight nine ten first second third last next new old big small
    little long short time times day days night nights year years home house man men woman women
    boy boys girl girls kid kids friend friends family life live living world people person way
    back get got go going gone come coming came make made take taken give given know known think
    thought tell told say said find found keep kept leave left right wrong true real really still
    even ever never always also well much many lot lots maybe actually probably definitely sure
    kind sort type genre recommend recommendation recommendations suggest suggestion suggestions
    heard hear talk talking star stars story stories end ending start beginning heat run running
    fight light dark black white red blue green gold money game games war love hope fear us split
    signs signs crash drive rush taken home her it up big seven nine ten friday today tomorrow
    watch alone together again ago sometime someday day sense feel feeling mind heart soul body
    face eyes hand head water fire ice air earth sky sun moon rain snow storm wind city town
    street road car cars train plane ship boat school work job office party wedding dinner lunch
    breakfast food dog dogs cat cats horse animal animals monster monsters ghost ghosts dead
    death kill killer killers gone girl hell heaven god angel angels devil night light lights out
    now today prisoners arrival hereditary room us get out""".split()
)

_GENRE_WORDS = frozenset(
    """action adventure animation animated cartoon comedy comedies crime documentary drama dramas
    family fantasy history horror musical mystery romance romantic thriller thrillers war western
    westerns superhero scifi sci fi teen noir spy disaster indie zombie zombies satire christmas
    dance anime sports sport kids""".split()
)

_LIKE_CUES = (
    r"lov(?:e|ed|es|ing)", r"lik(?:e|ed|es)", r"enjoy(?:ed|s)?", r"adore(?:d)?", r"favou?rites?",
    r"great", r"awesome", r"amazing", r"fantastic", r"excellent", r"brilliant", r"the best",
    r"masterpiece", r"fan of", r"into", r"really good", r"so good", r"pretty good", r"good",
    r"funny", r"hilarious", r"cool", r"fun", r"classic", r"a must",
)
_DISLIKE_CUES = (
    r"hat(?:e|ed|es)", r"dislik(?:e|ed|es)", r"(?:did ?n[o']?t|do ?n[o']?t|does ?n[o']?t|never) "
    r"(?:really )?(?:like|enjoy|love|care for)", r"not (?:a|much of a|really a|the biggest) fan",
    r"not (?:really )?into", r"can'?t stand", r"boring", r"awful", r"terrible", r"horrible",
    r"the worst", r"worst", r"overrated", r"stupid", r"dumb", r"meh", r"not (?:that |very |so )?good",
    r"was(?:n'?t| not) (?:that |very |so )?good", r"disappoint(?:ing|ed)?", r"sucked", r"sucks",
    r"not for me", r"too scary", r"too slow", r"annoying", r"bad", r"not great", r"a waste",
    r"fell asleep", r"(?:did ?n[o']?t|do ?n[o']?t) (?:get|understand) (?:it|the hype)",
)
_NOT_SEEN_CUES = (
    r"(?:have|has|had)n'?t (?:\w+ )?(?:seen|watched|saw)", r"(?:have|has|had) not (?:\w+ )?(?:seen|watched)",
    r"never (?:\w+ )?(?:seen|saw|watched)", r"not (?:\w+ )?seen", r"did ?n[o']?t (?:\w+ )?(?:see|watch)",
    r"have ?n[o']?t", r"havent", r"haven't", r"not yet", r"yet to (?:see|watch)",
    r"want to (?:see|watch)", r"wanna (?:see|watch)", r"(?:is|it'?s) on my (?:list|watchlist)",
)
_SEEN_CUES = (
    r"(?:have|has|had|'ve) (?:\w+ )?(?:seen|watched)", r"\bseen\b", r"\bsaw\b", r"\bwatched\b",
    r"already (?:seen|watched|saw)",
)


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(patterns) + r")(?![\w'])", re.IGNORECASE)


_LIKE_RE = _alternation(_LIKE_CUES)
_DISLIKE_RE = _alternation(_DISLIKE_CUES)
_NOT_SEEN_RE = _alternation(_NOT_SEEN_CUES)
_SEEN_RE = _alternation(_SEEN_CUES)
_QUESTION_TO_YOU_RE = re.compile(r"\b(?:have|did|do|would|will|could|ever)\s+(?:you|u|ya)\b", re.IGNORECASE)

_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_ARTICLES = frozenset({"the", "a", "an"})
_TOKEN_RE = re.compile(r"@\d+|[^\W_]+(?:['’][^\W_]+)*|&", re.UNICODE)
_YEAR_AFTER_RE = re.compile(r"^\s*(?:\(\s*|,\s*|from\s+|in\s+)?((?:19|20)\d\d)\s*\)?")
_CLAUSE_SPLIT_RE = re.compile(r"[.!?;]+|\bbut\b|\bthough\b|\bhowever\b|\bwhereas\b|\bwhile\b",
                              re.IGNORECASE)

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


def fold(text: str) -> str:
    """Lowercase ASCII-ish folding ("Amélie" -> "amelie")."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _norm_token(tok: str) -> str:
    t = fold(tok).replace("’", "'").replace("'", "")
    if t == "&":
        return "and"
    return _ROMAN.get(t, t)


def normalize_title(title: str) -> str:
    """The lookup key of a title: folded, punctuation-free, no leading article, roman numerals as digits."""
    toks = [_norm_token(m.group()) for m in _TOKEN_RE.finditer(title)]
    toks = [t for t in toks if t]
    while len(toks) > 1 and toks[0] in _ARTICLES:
        toks = toks[1:]
    return " ".join(toks)


def _title_keys(title: str) -> tuple[str, list[str]]:
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
        num = _ROMAN.get(m.group(2).lower(), m.group(2))
        extra.append(f"{normalize_title(m.group(1))} {num}")
    return main, extra


# ---------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Mention:
    """A catalogue item the user named.

    ``span`` is the character range in the message, ``surface`` the text there, ``stance`` how the
    user feels about it, ``how`` how it was linked ("id", "exact", "typo", "fuzzy", "gold").
    """

    item_id: str
    span: tuple[int, int]
    surface: str
    stance: Stance = "neutral"
    how: str = "exact"
    note: str = ""


@dataclass(frozen=True)
class PersonMention:
    name: str  # the catalogue's spelling
    span: tuple[int, int]
    role: str  # "director", "cast" or "any"


@dataclass(frozen=True)
class Understanding:
    """What one message says. ``constraints`` holds only what this message states."""

    text: str
    intent: str = "other"
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

    @property
    def liked(self) -> list[str]:
        return [m.item_id for m in self.mentions if m.stance == "liked"]

    @property
    def disliked(self) -> list[str]:
        return [m.item_id for m in self.mentions if m.stance == "disliked"]


# ---------------------------------------------------------------------------
# the understander


@dataclass(frozen=True)
class _Tok:
    norm: str
    start: int
    end: int
    raw: str


def _tokens(text: str) -> list[_Tok]:
    out = []
    for m in _TOKEN_RE.finditer(text):
        norm = _norm_token(m.group()) if not m.group().startswith("@") else m.group()
        if norm:
            out.append(_Tok(norm, m.start(), m.end(), m.group()))
    return out


_MOODS: dict[str, tuple[str, ...]] = {
    "feel good": ("comedy",), "feelgood": ("comedy",), "uplifting": ("comedy", "family"),
    "light hearted": ("comedy",), "lighthearted": ("comedy",), "hilarious": ("comedy",),
    "laugh": ("comedy",), "laughs": ("comedy",), "creepy": ("horror",), "spooky": ("horror",),
    "frightening": ("horror",), "terrifying": ("horror",), "gory": ("horror",),
    "tearjerker": ("drama",), "emotional": ("drama",), "heartwarming": ("drama", "family"),
    "date night": ("romance",), "love story": ("romance",), "action packed": ("action",),
    "mind bending": ("science fiction", "thriller"), "suspenseful": ("thriller",),
    "space": ("science fiction",), "aliens": ("science fiction",), "heist": ("crime",),
    "for the kids": ("family",), "for kids": ("family",), "with my kids": ("family",),
    "superheroes": ("superhero",), "marvel": ("superhero",), "dc": ("superhero",),
}
_NEG_BEFORE_RE = re.compile(
    r"(?:\bno\b|\bnot\b|\bnothing\b|\bwithout\b|\bexcept\b|\bavoid\b|\bnon\b|\bskip\b|\bhate\b|"
    r"\bhated\b|\bdislike\b|n'?t (?:like|want|enjoy|love|care for)|\bnot (?:a|much of a) fan of\b|"
    r"\bnot into\b|\bsick of\b|\btired of\b|\bcan'?t stand\b|\banything but\b|\bno more\b|"
    r"\bless\b|\bstay away from\b)[\w\s'-]{0,18}$",
    re.IGNORECASE,
)
_DECADE_RE = re.compile(
    r"(?:(?:the\s+)?(?:(19|20)?(\d)0)'?\s?s\b)|\b(fifties|sixties|seventies|eighties|nineties|noughties|2000s)\b",
    re.IGNORECASE,
)
_WORD_DECADES = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980,
                 "nineties": 1990, "noughties": 2000, "2000s": 2000}
_AFTER_RE = re.compile(r"\b(after|since|newer than|later than|from|post)\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_BEFORE_RE = re.compile(r"\b(before|older than|earlier than|pre|prior to|until)\s+((?:19|20)\d\d)\b",
                        re.IGNORECASE)
_BETWEEN_RE = re.compile(r"\bbetween\s+((?:19|20)\d\d)\s+(?:and|to|-)\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_RANGE_RE = re.compile(r"\b((?:19|20)\d\d)\s*(?:-|–|to)\s*((?:19|20)\d\d)\b")
_RECENT_RE = re.compile(r"\b(recent|newer|latest|new releases?|this year|last year|current)\b", re.IGNORECASE)
_OLD_RE = re.compile(r"\b(old(?:er)? (?:movies?|films?|ones?)|classics?|oldies|golden age)\b", re.IGNORECASE)

_PERSON_CUE_RE = re.compile(
    r"(?:\bwith|\bstarring|\bfeaturing|\bby|\bdirected by|\bfrom director|\bdirector|\bactor|\bactress|"
    r"\bstars?)\s*$",
    re.IGNORECASE,
)
_LINK_CUE_RE = re.compile(
    r"(?:\bseen|\bsaw|\bwatched|\bwatch|\bwatching|\blove|\bloved|\blike|\bliked|\benjoyed|\bhated|"
    r"\bhate|\bdisliked|\bmovie|\bfilm|\bthe film|\bthe movie)\s*$",
    re.IGNORECASE,
)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}
_ORDINAL_RE = re.compile(
    r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|sixth|seventh|eighth|ninth|tenth|last)"
    r"\s+(?:one|1|movie|film|pick|suggestion|option)?|(?:#|number\s+|no\.?\s*)(\d{1,2})\b",
    re.IGNORECASE,
)
_THAT_ONE_RE = re.compile(r"\b(that one|this one|that movie|that film|this movie|this film|it)\b", re.IGNORECASE)

_GREETING_RE = re.compile(
    r"^\s*(hi+|hello+|hey+|hiya|howdy|yo|good (?:morning|afternoon|evening)|greetings)"
    r"(?:\s+(?:there|you|again))?[\s!.,]*(?:how are you(?: doing)?|how's it going|what's up)?[\s!.?]*$",
    re.IGNORECASE,
)
_CHITCHAT_RE = re.compile(
    r"^\s*(?:thanks?(?: you)?(?: so much| a lot)?|thx|ty|bye|goodbye|see you|cheers|great|cool|ok(?:ay)?|"
    r"sounds good|awesome|nice|perfect|how are you(?: doing)?|i'?m (?:good|fine|great)|lol|haha|"
    r"that'?s all|that is all|no thanks?|nope|yes|yeah|sure)\b[\s!.,?]*(?:\w+[\s!.,?]*){0,4}$",
    re.IGNORECASE,
)
_WHY_RE = re.compile(r"\b(why|what makes|how come|reason|explain)\b", re.IGNORECASE)
_MORE_LIKE_RE = re.compile(
    r"\b(more like|something like|anything like|movies? like|films? like|similar to|similar|"
    r"in the same vein|along the lines of|same as|like that one|more of that|similar ones?)\b",
    re.IGNORECASE,
)
_REFINE_RE = re.compile(
    r"\b(something else|anything else|other (?:options|ones|suggestions|movies|picks)|more options|"
    r"show me more|more (?:please|suggestions|recommendations)|different|instead|older|newer|more recent|"
    r"less (?:scary|violent|dark)|only|just|but (?:older|newer|not|more|less)|narrow|not those|"
    r"none of (?:those|these)|other than those|else)\b",
    re.IGNORECASE,
)
_ASK_RE = re.compile(
    r"\b(recommend|recommendation|suggest|suggestion|looking for|look for|in the mood|want to watch|"
    r"wanna watch|want to see|should i watch|what to watch|something to watch|any ideas|ideas|"
    r"what (?:would|should|can|could) i|give me|find me|show me|i'?d like|i want|i need|"
    r"can you|could you|do you know|know any|what about|how about|movie|movies|film|films|watch)\b",
    re.IGNORECASE,
)
_RESET_RE = re.compile(r"\b(start over|start again|reset|forget (?:it|that|everything|all))\b", re.IGNORECASE)


def _title_case_ok(text: str, toks: Sequence[_Tok]) -> bool:
    """Every significant word is capitalised (allowing small words in lower case)."""
    sig = [t for t in toks if t.norm not in {"of", "the", "a", "an", "and", "in", "on", "to", "for", "at"}]
    if not sig:
        sig = list(toks)
    return all(t.raw[:1].isupper() or t.raw[:1].isdigit() for t in sig)


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?\n:" or before.endswith(("\"", "'")) and len(before) < 2


class Understander:
    """Reads messages against one catalogue. Built once; thread-safe to share (read-only).

    Args:
        catalog: the items that can be linked.
        popularity: item id -> weight used to resolve ambiguous names ("Heat"); defaults to the
            catalogue's ``mentions``. An evaluation passes counts from its training split.
    """

    def __init__(self, catalog: Catalog, popularity: Mapping[str, float] | None = None):
        self.catalog = catalog
        if popularity is None:
            popularity = {item.item_id: float(item.mentions) for item in catalog}
        self._pop = dict(popularity)
        primary: dict[str, list[str]] = defaultdict(list)
        secondary: dict[str, list[str]] = defaultdict(list)
        for item in catalog:
            main, extra = _title_keys(item.title)
            if main:
                primary[main].append(item.item_id)
            for key in extra:
                secondary[key].append(item.item_id)
        for alias, title, year in KNOWN_ALIASES:
            key = normalize_title(title)
            for iid in primary.get(key, ()):
                if year is None or self.catalog[iid].year == year:
                    secondary[alias].append(iid)
        index: dict[str, tuple[str, ...]] = {}
        for key, ids in secondary.items():
            if key not in primary and len(key) >= 3:
                index[key] = tuple(self._by_pop(ids))
        for key, ids in primary.items():
            index[key] = tuple(self._by_pop(ids))
        self._index = index
        self._max_tokens = min(MAX_TITLE_TOKENS, max((k.count(" ") + 1 for k in index), default=1))
        self._by_first: dict[str, list[str]] = defaultdict(list)
        for key in index:
            self._by_first[key.split(" ", 1)[0]].append(key)
        self._vocab = {w for key in index for w in key.split()}
        self._vocab_list = sorted(w for w in self._vocab if len(w) >= 4 and not w.isdigit())
        # people
        counts: dict[str, float] = defaultdict(float)
        roles: dict[str, set[str]] = defaultdict(set)
        for item in catalog:
            for name in item.directors:
                counts[name] += 2.0 + self._pop.get(item.item_id, 0.0) ** 0.5
                roles[name].add("director")
            for pos, name in enumerate(item.cast):
                counts[name] += (1.0 if pos < 4 else 0.3) + (self._pop.get(item.item_id, 0.0) ** 0.5) * 0.5
                roles[name].add("cast")
        self._person_full: dict[str, str] = {}
        self._person_last: dict[str, str] = {}
        for name, _ in sorted(counts.items(), key=lambda kv: -kv[1]):
            key = " ".join(_norm_token(t) for t in _TOKEN_RE.findall(name))
            parts = key.split()
            if len(parts) >= 2:
                self._person_full.setdefault(key, name)
                last = parts[-1]
                if len(last) >= 4 and last not in COMMON_WORDS and last not in STOPWORDS:
                    self._person_last.setdefault(last, name)
        self._person_roles = {k: frozenset(v) for k, v in roles.items()}
        self._person_words = frozenset(w for key in self._person_full for w in key.split() if len(w) >= 4)
        self._person_by_first: dict[str, list[str]] = defaultdict(list)
        for key in self._person_full:
            self._person_by_first[key.split(" ", 1)[0]].append(key)
        self._max_year = max((i.year for i in catalog if i.year), default=2020)

    def _by_pop(self, ids: Iterable[str]) -> list[str]:
        uniq = list(dict.fromkeys(ids))
        return sorted(uniq, key=lambda i: (-self._pop.get(i, 0.0), i))

    # -- public ---------------------------------------------------------
    def person_roles(self, name: str) -> frozenset[str]:
        return self._person_roles.get(name, frozenset())

    def understand(
        self,
        text: str,
        *,
        last_slate: Sequence[str] = (),
        linked: Sequence[str] = (),
    ) -> Understanding:
        """Read one message.

        Args:
            text: the user's message.
            last_slate: item ids of the previous recommendations, best first (for ordinals and
                feedback).
            linked: item ids already linked by the caller (ReDial's gold mentions); they join the
                mentions found in the text.
        """
        toks = _tokens(text)
        mentions, used = self._link_exact(text, toks)
        people, person_used = self._link_people(text, toks, used)
        more, _ = self._link_fuzzy(text, toks, used | person_used)
        mentions = sorted(mentions + more, key=lambda m: m.span[0])
        for iid in linked:
            item = self.catalog.get(iid)
            if item is not None and all(m.item_id != item.item_id for m in mentions):
                mentions.append(Mention(item.item_id, (0, 0), item.title, "neutral", "gold"))
        mentions = self._stances(text, mentions)
        masked = self._mask(text, [m.span for m in mentions] + [p.span for p in people])
        constraints, fields = self._constraints(masked, people)
        intent, target, target_stance = self._intent(text, masked, mentions, constraints, last_slate)
        notes = tuple(m.note for m in mentions if m.note)
        query = " ".join(masked.split())
        return Understanding(
            text=text,
            intent=intent,
            mentions=tuple(mentions),
            people=tuple(people),
            constraints=constraints,
            constraint_fields=fields,
            target=target,
            target_stance=target_stance,
            notes=notes,
            reset=bool(_RESET_RE.search(text)),
            query=query,
        )

    # -- titles ---------------------------------------------------------
    def link_titles(self, text: str) -> list[Mention]:
        """Only the title linking (stance left neutral)."""
        return self._link_titles(text, _tokens(text))[0]

    def _link_titles(self, text: str, toks: list[_Tok], blocked: set[int] | None = None
                     ) -> tuple[list[Mention], set[int]]:
        chosen, used = self._link_exact(text, toks)
        more, used2 = self._link_fuzzy(text, toks, used | (blocked or set()))
        return sorted(chosen + more, key=lambda m: m.span[0]), used | used2

    def _link_exact(self, text: str, toks: list[_Tok]) -> tuple[list[Mention], set[int]]:
        found: list[tuple[int, int, str, str]] = []  # (start token, n tokens, key, how)
        norms = [t.norm for t in toks]
        n = len(toks)
        for i, t in enumerate(toks):
            if t.norm.startswith("@"):
                found.append((i, 1, t.norm, "id"))
        for i in range(n):
            if norms[i].startswith("@"):
                continue
            for length in range(min(self._max_tokens, n - i), 0, -1):
                key = " ".join(norms[i : i + length])
                if key in self._index:
                    found.append((i, length, self._popular_neighbour(key), "exact"))
                    break
        return self._select(text, toks, found)

    def _popular_neighbour(self, key: str) -> str:
        """A rare exact title one letter away from a famous one ("dark night") means the famous one."""
        if len(key) < 8:
            return key
        mine = max((self._pop.get(i, 0.0) for i in self._index[key]), default=0.0)
        from rapidfuzz import fuzz, process

        best = key
        best_pop = mine
        for cand, _score, _ in process.extract(key, self._by_first.get(key.split(" ", 1)[0], []),
                                              scorer=fuzz.ratio, score_cutoff=90, limit=5):
            pop = max((self._pop.get(i, 0.0) for i in self._index[cand]), default=0.0)
            if cand != key and pop > 20 * max(best_pop, 1.0):
                best, best_pop = cand, pop
        return best

    def _link_fuzzy(self, text: str, toks: list[_Tok], used: set[int]) -> tuple[list[Mention], set[int]]:
        """Typo repair (word by word against title words), then fuzzy windows of 2+ words."""
        if not self._vocab_list:
            return [], set()
        from rapidfuzz import fuzz, process

        norms = [t.norm for t in toks]
        n = len(toks)
        repaired = list(norms)
        changed = set()
        for i, w in enumerate(norms):
            if i in used or len(w) < 4 or w in self._vocab or w in STOPWORDS or w in COMMON_WORDS:
                continue
            if w.startswith("@") or w.isdigit() or w in self._person_words:
                continue
            hit = process.extractOne(w, self._vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            if hit is not None:
                repaired[i] = hit[0]
                changed.add(i)
        extra: list[tuple[int, int, str, str]] = []
        for i in range(n):
            if i in used:
                continue
            for length in range(min(self._max_tokens, n - i), 0, -1):
                span = range(i, i + length)
                if any(j in used for j in span):
                    continue
                key = " ".join(repaired[i : i + length])
                if key in self._index and any(j in changed for j in span):
                    extra.append((i, length, key, "typo"))
                    break
        for i in range(n):
            if i in used or repaired[i] in STOPWORDS:
                continue
            keys = self._by_first.get(repaired[i])
            if not keys:
                continue
            best: tuple[float, int, str] | None = None
            for length in range(2, min(self._max_tokens, n - i) + 1):
                if any(j in used for j in range(i, i + length)):
                    break
                window = " ".join(repaired[i : i + length])
                if len(window) < 8:
                    continue
                hit = process.extractOne(window, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_TITLE_CUTOFF)
                if hit is not None and (best is None or hit[1] > best[0]):
                    best = (hit[1], length, hit[0])
            if best is not None and " ".join(repaired[i : i + best[1]]) != best[2]:
                extra.append((i, best[1], best[2], "fuzzy"))
        if not extra:
            return [], set()
        return self._select(text, toks, extra, used)

    def _select(
        self,
        text: str,
        toks: list[_Tok],
        found: list[tuple[int, int, str, str]],
        used: set[int] | None = None,
    ) -> tuple[list[Mention], set[int]]:
        used = set() if used is None else set(used)
        newly: set[int] = set()
        out: list[Mention] = []
        for i, length, key, how in sorted(found, key=lambda f: (f[3] != "id", -f[1], f[0])):
            span = set(range(i, i + length))
            if span & used:
                continue
            start, end = toks[i].start, toks[i + length - 1].end
            # include a leading article typed by the user in the surface
            if i > 0 and toks[i - 1].norm in _ARTICLES and (i - 1) not in used:
                start = toks[i - 1].start
            if how == "id":
                item = self.catalog.get(key[1:])
                if item is None:
                    continue
                out.append(Mention(item.item_id, (toks[i].start, toks[i].end), toks[i].raw, how="id"))
                used |= span
                newly |= span
                continue
            year_m = _YEAR_AFTER_RE.match(text[end:])
            year = int(year_m.group(1)) if year_m else None
            if not self._acceptable(text, toks[i : i + length], key, how, year, start):
                continue
            ids = self._index[key]
            typed_article = start != toks[i].start
            item_id, note = self._resolve(ids, year, text[start:end], typed_article)
            if year_m is not None and year is not None and self.catalog[item_id].year in (year, year - 1, year + 1):
                end = end + year_m.end()
            out.append(Mention(item_id, (start, end), text[start:end], how=how, note=note))
            used |= span
            newly |= span
        return out, newly

    def _acceptable(self, text: str, toks: Sequence[_Tok], key: str, how: str, year: int | None,
                    start: int) -> bool:
        words = key.split()
        quoted = start > 0 and text[start - 1] in "\"“'*" and toks[-1].end < len(text) and \
            text[toks[-1].end] in "\"”'*"
        if quoted or year is not None:
            return True
        all_stop = all(w in STOPWORDS for w in words)
        all_common = all(w in STOPWORDS or w in COMMON_WORDS or w in _GENRE_WORDS or w.isdigit()
                         for w in words)
        before = text[:start]
        cue = bool(_LINK_CUE_RE.search(before))
        capitalised = _title_case_ok(text, toks)
        if all(w.isdigit() for w in words):
            # "2012", "300": only as a clear reference, never a year in passing
            return bool(re.search(r"(?:\bseen|\bsaw|\bwatched|\bloved|\bliked|\bhated|\bmovie|\bfilm)\s*$",
                                  text[:start], re.IGNORECASE))
        if how != "exact":
            # repaired or fuzzy: only for distinctive titles of some length
            return not all_common and len(key) >= 6
        if not all_common:
            if len(words) == 1 and len(key) <= 3:
                return capitalised or cue
            return True
        if all_stop:
            # "It", "Up", "Her": capitalised in the middle of a sentence
            return capitalised and not _sentence_initial(text, start) and not text[start:].isupper()
        if len(words) >= 3:
            return capitalised or cue
        if capitalised and not _sentence_initial(text, start):
            return True
        if cue and not any(w in _GENRE_WORDS for w in words):
            return True
        return capitalised and len(words) >= 2

    def _resolve(self, ids: Sequence[str], year: int | None, surface: str,
                 typed_article: bool = False) -> tuple[str, str]:
        if len(ids) == 1:
            return ids[0], ""
        if year is not None:
            for delta in (0, 1, -1):
                for iid in ids:
                    if self.catalog[iid].year == year + delta:
                        return iid, ""
        # "Heat" means a film called "Heat" before "The Heat"; ids are already by popularity
        def article_match(iid: str) -> bool:
            first = fold(self.catalog[iid].title).split(" ", 1)[0]
            return (first in _ARTICLES) == typed_article

        ids = sorted(ids, key=lambda iid: not article_match(iid))
        chosen = self.catalog[ids[0]]
        others = len(ids) - 1
        return chosen.item_id, (
            f"I took \"{surface.strip()}\" as {chosen.display_title} "
            f"({others} other film{'s' if others > 1 else ''} share{'' if others > 1 else 's'} the name)."
        )

    # -- people ---------------------------------------------------------
    def _link_people(self, text: str, toks: list[_Tok], used: set[int]) -> tuple[list[PersonMention], set[int]]:
        out: list[PersonMention] = []
        taken = set(used)
        n = len(toks)
        for i in range(n):
            if i in taken:
                continue
            for length in (3, 2):
                if i + length > n or any(j in taken for j in range(i, i + length)):
                    continue
                key = " ".join(t.norm for t in toks[i : i + length])
                name = self._person_full.get(key)
                if name is None and len(key) >= 9:
                    cands = self._person_by_first.get(toks[i].norm)
                    if cands:
                        from rapidfuzz import fuzz, process

                        hit = process.extractOne(key, cands, scorer=fuzz.ratio, score_cutoff=90)
                        if hit is not None:
                            name = self._person_full[hit[0]]
                if name is not None:
                    out.append(PersonMention(name, (toks[i].start, toks[i + length - 1].end),
                                             self._role(text, toks[i].start)))
                    taken |= set(range(i, i + length))
                    break
        for i in range(n):
            if i in taken:
                continue
            t = toks[i]
            name = self._person_last.get(t.norm)
            if name is None:
                continue
            before = text[: t.start]
            after = text[t.end : t.end + 12].lower()
            cue = bool(_PERSON_CUE_RE.search(before)) or bool(re.match(r"^['’]?s?\s*(movies?|films?)\b", after))
            if cue and (t.raw[:1].isupper() or t.norm not in self._vocab):
                out.append(PersonMention(name, (t.start, t.end), self._role(text, t.start)))
                taken.add(i)
        return out, taken - set(used)

    @staticmethod
    def _role(text: str, start: int) -> str:
        before = text[max(0, start - 25) : start].lower()
        if re.search(r"directed by|director|\bby\s*$", before):
            return "director"
        if re.search(r"starring|with|actor|actress|stars?\s*$", before):
            return "cast"
        return "any"

    # -- stance ---------------------------------------------------------
    @staticmethod
    def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
        chars = list(text)
        for s, e in spans:
            for j in range(s, min(e, len(chars))):
                chars[j] = " "
        return "".join(chars)

    def _stances(self, text: str, mentions: list[Mention]) -> list[Mention]:
        if not mentions:
            return mentions
        masked = self._mask(text, [m.span for m in mentions if m.span != (0, 0)])
        # clause boundaries: sentence punctuation and contrast words
        bounds = [0]
        for m in _CLAUSE_SPLIT_RE.finditer(masked):
            bounds.extend([m.start(), m.end()])
        bounds.append(len(masked))
        clauses = [(bounds[j], bounds[j + 1]) for j in range(0, len(bounds) - 1, 2)]
        clause_stance: list[Stance] = []
        for s, e in clauses:
            clause_stance.append(_stance_of(masked[s:e]))
        out = []
        for m in mentions:
            if m.span == (0, 0):
                # a gold link with no position: read the whole message
                out.append(_replace(m, stance=_stance_of(masked)))
                continue
            idx = max(j for j, (s, _) in enumerate(clauses) if s <= m.span[0] or j == 0)
            stance = clause_stance[idx]
            # "I loved Heat, Collateral and Alien": a cue-less clause inherits from the same sentence
            out.append(_replace(m, stance=stance))
        return out

    # -- constraints ----------------------------------------------------
    def _constraints(self, masked: str, people: Sequence[PersonMention]) -> tuple[ItemFilter, frozenset[str]]:
        genres: set[str] = set()
        excluded: set[str] = set()
        fields: set[str] = set()
        low = fold(masked).replace("-", " ")
        # mood phrases
        for phrase, gs in _MOODS.items():
            for m in re.finditer(rf"\b{re.escape(phrase)}\b", low):
                (excluded if _NEG_BEFORE_RE.search(low[: m.start()]) else genres).update(gs)
        # genre words (single words and "science fiction"/"sci fi"/"martial arts")
        for m in re.finditer(r"\bsci(?:ence)?\s*fi(?:ction)?\b|\bmartial arts\b|\brom\s?coms?\b|[a-z]+", low):
            word = m.group()
            keys = genre_keys(word)
            if not keys:
                continue
            if word in ("war", "sport", "period", "detective", "kid", "comic", "dance", "teen",
                        "history", "family", "spy", "disaster", "dramatic", "christmas", "indie",
                        "space") and not re.match(r"\s*(?:movies?|films?|flicks?|genre|ones?|stuff)\b",
                                                  low[m.end() :]):
                # everyday words count as a genre only as "war movie", "family film"...
                if word not in ("christmas",):
                    continue
            neg = _NEG_BEFORE_RE.search(low[: m.start()])
            (excluded if neg else genres).update(keys)
        genres -= excluded
        if genres:
            fields.add("genres")
        if excluded:
            fields.add("exclude_genres")
        year_min = year_max = None
        m = _BETWEEN_RE.search(low) or _RANGE_RE.search(low)
        if m:
            a, b = sorted((int(m.group(1)), int(m.group(2))))
            year_min, year_max = a, b
        else:
            dec = _DECADE_RE.search(low)
            if dec:
                if dec.group(3):
                    start = _WORD_DECADES[dec.group(3).lower()]
                else:
                    century = dec.group(1)
                    digit = int(dec.group(2))
                    if century:
                        start = int(century) * 100 + digit * 10
                    else:
                        start = (2000 if digit <= 2 else 1900) + digit * 10
                year_min, year_max = start, start + 9
            a = _AFTER_RE.search(low)
            if a:
                y = int(a.group(2))
                year_min = y + 1 if a.group(1).lower() in ("after", "newer than", "later than", "post") else y
                if a.group(1).lower() == "from" and not re.search(r"\bon\b|onwards|\+", low[a.end():a.end() + 10]):
                    year_min, year_max = y, y
            b = _BEFORE_RE.search(low)
            if b:
                y = int(b.group(2))
                year_max = y - 1 if b.group(1).lower() != "until" else y
            if year_min is None and year_max is None:
                if _RECENT_RE.search(low):
                    year_min = self._max_year - 4
                elif _OLD_RE.search(low):
                    year_max = 1979
        if year_min is not None or year_max is not None:
            fields.add("years")
        names = []
        for p in people:
            if not _NEG_BEFORE_RE.search(masked[: p.span[0]][-30:]):
                names.append(p.name)
        if names:
            fields.add("people")
        flt = ItemFilter.make(year_min=year_min, year_max=year_max, people=names)
        flt = ItemFilter(frozenset(genres), frozenset(excluded), flt.year_min, flt.year_max, flt.people)
        return flt, frozenset(fields)

    # -- intent ---------------------------------------------------------
    def _intent(
        self,
        text: str,
        masked: str,
        mentions: Sequence[Mention],
        constraints: ItemFilter,
        last_slate: Sequence[str],
    ) -> tuple[str, str | None, Stance]:
        slate = [self.catalog.canonical_id(i) for i in last_slate if i in self.catalog]
        in_slate = [m for m in mentions if m.item_id in slate]
        ordinal = _ordinal_target(masked, slate)
        has_constraints = not constraints.is_empty
        low = masked.lower()
        if not mentions and not has_constraints:
            if _GREETING_RE.match(text):
                return "greeting", None, "neutral"
        if slate and _WHY_RE.search(low):
            target = in_slate[0].item_id if in_slate else ordinal or (slate[0] if slate else None)
            if target is not None:
                return "why", target, "neutral"
        if _MORE_LIKE_RE.search(low):
            if mentions:
                return "more_like", mentions[0].item_id, "neutral"
            if ordinal or (slate and _THAT_ONE_RE.search(low)):
                return "more_like", ordinal or slate[0], "neutral"
        # feedback on a recommended item
        if slate:
            stance_here = _stance_of(masked)
            target = in_slate[0].item_id if in_slate else ordinal
            if target is None and stance_here != "neutral" and _THAT_ONE_RE.search(low) and not mentions:
                target = slate[0]
            if target is not None and (stance_here != "neutral" or in_slate):
                st = next((m.stance for m in in_slate), stance_here) if in_slate else stance_here
                if st == "neutral":
                    st = stance_here
                return "feedback", target, st
            if not mentions and (has_constraints or _REFINE_RE.search(low)):
                return "refine", None, "neutral"
        if mentions or has_constraints or _ASK_RE.search(low):
            return "recommend", None, "neutral"
        if _CHITCHAT_RE.match(text) or _GREETING_RE.match(text):
            return "chitchat", None, "neutral"
        return "other", None, "neutral"


def _ordinal_target(text: str, slate: Sequence[str]) -> str | None:
    if not slate:
        return None
    m = _ORDINAL_RE.search(text)
    if not m:
        return None
    if m.group(2):
        pos = int(m.group(2))
    else:
        word = m.group(1).lower()
        pos = len(slate) if word == "last" else _ORDINALS[word]
    return slate[pos - 1] if 1 <= pos <= len(slate) else None


def _stance_of(clause: str) -> Stance:
    """The stance a clause expresses (title spans already masked)."""
    if _QUESTION_TO_YOU_RE.search(clause):
        # "have you seen Heat?", "do you like Alien?": a question, not the user's view
        return "neutral"
    if _NOT_SEEN_RE.search(clause):
        # "I haven't seen it but I loved the trailer" is still not seen
        return "not_seen"
    if _DISLIKE_RE.search(clause):
        return "disliked"
    if _LIKE_RE.search(clause):
        return "liked"
    if _SEEN_RE.search(clause):
        return "seen"
    return "neutral"


def _replace(m: Mention, **changes: object) -> Mention:
    from dataclasses import replace

    return replace(m, **changes)
