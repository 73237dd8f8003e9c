"""The constraints one message states: genres and moods to include and to exclude, years, and
people to include and to rule out, read with the scope of each negation.

A negation ("no", "not", "nothing", "without", "anything but", "I hate", "can't stand", "my kids
are scared of", ...) rules out what follows it up to the end of its clause: a sentence mark, a
comma, a contrast word ("but", "instead", "though") or a turn back to wanting ("more", "maybe",
"something", "I like"). So "not westerns but adventure" excludes westerns and asks for
adventure, and "no war and no crime please" excludes both. A degree word ("too scary", "less
violent", "not so gory") rules out only the word it grades. Mood words map to genres
(:data:`MOODS`); "lighter", "funnier" and "feel-good" ask for comedy, "violent" under a negation
rules out action, horror and war.

When one message both asks for and rules out a genre, the exclusion wins, unless the exclusion
only grades it ("something spooky, just not too gory" still wants horror).

It reads text with linked titles and people already masked (a title's words are no cues). It knows
words and patterns; it does not know the catalogue, scores or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.dialogue.linking import PersonMention
from workbench.filters import ItemFilter, genre_keys
from workbench.text import GENRE_WORDS, fold

#: Mood and theme phrases and the genres they ask for. A phrase under a negation rules them out.
MOODS: dict[str, tuple[str, ...]] = {
    "feel good": ("comedy",), "feelgood": ("comedy",), "uplifting": ("comedy",), "light hearted": ("comedy",),
    "lighthearted": ("comedy",), "lighter": ("comedy",), "something light": ("comedy",), "hilarious": ("comedy",),
    "laugh": ("comedy",), "laughs": ("comedy",), "funnier": ("comedy",),
    "creepy": ("horror",), "spooky": ("horror",), "frightening": ("horror",), "terrifying": ("horror",),
    "gory": ("horror",), "scarier": ("horror",), "ghosts": ("horror",), "haunted": ("horror",),
    "tearjerker": ("drama",), "tear jerker": ("drama",), "sad movie": ("drama",), "sad movies": ("drama",),
    "sad film": ("drama",), "sad one": ("drama",), "sad ones": ("drama",), "something sad": ("drama",),
    "emotional": ("drama",), "heartwarming": ("drama", "family"), "date night": ("romance",),
    "love story": ("romance",), "chick flick": ("romance",), "chick flicks": ("romance",), "action packed": ("action",), "mind bending": ("science fiction", "thriller"),
    "suspenseful": ("thriller",), "something darker": ("thriller",), "bit darker": ("thriller",),
    "space": ("science fiction",), "aliens": ("science fiction",), "heist": ("crime",), "mafia": ("crime",),
    "gangster": ("crime",), "gangsters": ("crime",), "family friendly": ("family",), "kid friendly": ("family",),
    "kids friendly": ("family",), "whole family": ("family",), "for the family": ("family",),
    "with the family": ("family",), "with my family": ("family",), "with our family": ("family",),
    "with family": ("family",), "family movie night": ("family",),
    "superheroes": ("superhero",), "marvel": ("superhero",), "dc": ("superhero",), "true story": ("biography",),
    # cheering up, crying, tension: everyday ways of asking for a comedy, a drama or a thriller
    "cheer me up": ("comedy",), "cheer up": ("comedy",), "cheering up": ("comedy",), "pick me up": ("comedy",),
    "make me laugh": ("comedy",), "good mood": ("comedy",), "good laugh": ("comedy",),
    "make me cry": ("drama",), "weepy": ("drama",), "weepie": ("drama",), "cry to": ("drama",),
    "a good cry": ("drama",), "cry my eyes out": ("drama",),
    "tense": ("thriller",), "nail biting": ("thriller",), "edge of my seat": ("thriller",), "twisty": ("thriller",),
    "whodunit": ("mystery",), "whodunnit": ("mystery",), "murder mystery": ("mystery",),
    "vampires": ("horror",), "vampire": ("horror",), "haunted house": ("horror",),
    "time travel": ("science fiction",), "robots": ("science fiction",), "outer space": ("science fiction",),
    "cowboys": ("western",), "cowboy": ("western",), "wild west": ("western",),
    "kung fu": ("action", "martial arts"), "car chases": ("action",), "explosions": ("action",),
    "wizards": ("fantasy",), "dragons": ("fantasy",), "magic": ("fantasy",), "fairy tale": ("fantasy",),
    "spies": ("spy",), "secret agent": ("spy",), "world war": ("war",), "ww2": ("war",), "wwii": ("war",),
    "toddler": ("family",), "toddlers": ("family",),
    "little ones": ("family",), "little kids": ("family",), "preschooler": ("family",),
    "something dramatic": ("drama",), "dramatic one": ("drama",),
    # "which one is the scariest?": a question across the slate about a genre (answered, not a constraint)
    "scariest": ("horror",), "funniest": ("comedy",), "saddest": ("drama",), "most romantic": ("romance",),
}
#: "my 5 year old", "a six-year-old", "our 8 and 10 year olds": a child's age asks for a family film
_CHILD_AGES = [str(n) for n in range(2, 13)] + "two three four five six seven eight nine ten eleven twelve".split()
MOODS.update({f"{age} {unit}": ("family",) for age in _CHILD_AGES
              for unit in ("year old", "years old", "year olds", "yr old", "yo")})
#: What a mood rules out when negated, where that differs from what it asks for; the words listed
#: here with no entry in :data:`MOODS` count only under a negation ("nothing violent", "no gore":
#: "it's kind of bloody" about a film asks for nothing).
NEGATED_MOODS: dict[str, tuple[str, ...]] = {
    "violent": ("action", "horror", "war"), "violence": ("action", "horror", "war"),
    "heartwarming": ("drama",), "bloody": ("horror",), "gore": ("horror",), "monsters": ("horror",),
    "sad": ("drama",), "dark": ("thriller",), "darker": ("thriller",), "grim": ("thriller",),
}
#: Phrases that rule genres out on their own ("I scare easily").
AVERSIONS: dict[str, tuple[str, ...]] = {
    # "something a little more grown up" after a slate of cartoons, "animated films for adults": not family fare
    "grown up": ("family",), "more grown up": ("family",), "for adults": ("family",), "for grown ups": ("family",),
    "more mature": ("family",), "adults only": ("family",),
    "easily scared": ("horror",), "scare easily": ("horror",), "get scared": ("horror",),
    "nightmares": ("horror",), "live_acts__": ("animation",),
}
#: Everyday words that count as a genre only before "movie", "film", "stuff"...
_EVERYDAY = frozenset({"war", "sport", "period", "detective", "kid", "comic", "dance", "teen", "history", "family",
                       "spy", "disaster", "dramatic", "indie", "space"})
_BARE_NEG_RE = re.compile(r"\b(?:no|without|no more)\s+$")
#: "kids" / "children" ask for family films when the films are for them ("for my kids", "with the kids",
#: "my kids will love", "our kids are scared of ghosts"), not when the kids are only the subject of a
#: remark ("my kids have seen it like 50 times")
_KIDS = frozenset({"kids", "children", "childrens", "nephews", "nieces", "nephew", "niece", "grandkids", "grandchildren",
                   "kiddos", "kiddies"})
_KIDS_BEFORE_RE = re.compile(r"\b(?:for|with|to|and)\s+(?:(?:the|my|our|your|his|her|their|little|young|small|two|three)\s+)*$")
_KIDS_AFTER_RE = re.compile(r"\s*(?:will|would|can|could|might|to|love|loves|like|likes|enjoy|want|wants|are\s+(?:into|scared"
                            r"|afraid|terrified|frightened|young|little|small)|(?:'re|are)\s+\d|aged?|ages|under|of\s+all\s+ages"
                            r"|friendly|can\s+watch|[.,!?]|$)")
#: "not about war", "nothing about sport": an everyday genre word as a subject ruled out (asked for, "about war"
#: stays a search word: a hard genre filter would drop the films the catalogue tags, not files, as war films)
_SUBJECT_BEFORE_RE = re.compile(r"\b(?:about|involving|on)\s+(?:the\s+)?$")
_NOUN_AFTER_RE = re.compile(r"\s*(?:movies?|films?|flicks?|genre|ones?|stuff|shows?|story|stories)\b")
#: Negations whose scope runs to the end of the clause.
_NEG_RE = re.compile(
    r"\b(?:no more|not (?:a|much of a|the biggest) fan of|not into|nothing|none|not|no|without|except|avoid|skip|"
    r"never|non|hate|hates|hated|dislike|dislikes|disliked|anything but|other than|rather not|stay away from|"
    r"drop|ditch|remove|get rid of|leave out|exclude|excluding|minus|pass on|spare me|steer clear of|"
    r"not in the mood for|keep away from|"
    r"sick of|tired of|fed up with|"
    r"(?:scared|afraid|frightened|terrified) of|(?:can'?t|cannot|can not|couldn'?t) stand|"
    r"(?:do|does|did)(?:n'?t| not) (?:want|like|love|enjoy|care for|need|do)|dont (?:want|like|love|enjoy|do)|"
    r"(?:is|are|was|were)(?:n'?t| not)|(?:short|shorter|easy|easier|lighter) on)\b",
    re.IGNORECASE,
)
#: Degree words: they rule out only the word they grade ("too scary", "less violent", "not so gory").
_DEGREE_RE = re.compile(r"\b(?:less|not (?:so|that|very|too)|nothing too|no too)\s+(?:much\s+|many\s+|of\s+(?:a\s+|an\s+)?)?"
                        r"(?=\w)|\btoo\s+(?:much\s+)?(?=(?:scary|scarry|frightening|creepy|spooky|gory|bloody|violent|"
                        r"dark|sad|old|long|serious|heavy|intense|depressing|childish|romantic|sappy|slow|graphic)\b)",
                        re.IGNORECASE)
#: Clause ends: sentence marks, commas and contrast words close a negation's scope.
_CLAUSE_END_RE = re.compile(r"[.!?;,:()]|\b(?:but|though|although|however|instead|rather|whereas|while|so|"
                            r"except that)\b", re.IGNORECASE)
#: Words that turn back to wanting inside a clause ("no horror and something funny").
_WANT_RE = re.compile(r"\b(?:more|heavier on|plus|maybe|something|ideally|prefer(?:ably)?|i(?:'d| would)? "
                      r"(?:like|love|want|prefer|enjoy)|i'm into|just|only|and (?:also )?(?:a|an|some))\b",
                      re.IGNORECASE)
_GENRE_WORD_RE = re.compile(r"\bsci(?:ence)?\s*fi(?:ction)?\b|\bmartial arts\b|\brom\s?coms?\b|"
                            r"\bromantic comed(?:y|ies)\b|[a-z]+")
#: Genre words a typo may stand for: a word of at least ``_TYPO_MIN_LEN`` letters that is no genre is
#: read as the genre word it shares a one-deletion form with ("mistery", "comdey", "thriler", "horor"),
#: if both start with the same letter.
_TYPO_WORDS = ("comedy", "comedies", "horror", "horrors", "thriller", "thrillers", "mystery", "mysteries",
               "romance", "romantic", "documentary", "documentaries", "animated", "animation", "fantasy",
               "western", "westerns", "musical", "musicals", "adventure", "science", "fiction", "dramas",
               "action", "family", "superhero", "superheroes", "zombies", "cartoons", "suspense", "comedys")
_TYPO_MIN_LEN = 5


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


#: Real words one deletion from a genre word (found over ReDial's seeker messages).
_REAL_WORDS = frozenset({"acting", "actions", "fairly", "silence", "comedian", "comedien", "comedians", "auction",
                         "friction", "dream", "musician", "romans"})
_TYPOS: dict[str, str] = {d: w for w in _TYPO_WORDS for d in _deletes(w) if len(d) >= _TYPO_MIN_LEN - 1}


def typo_genre(word: str) -> str:
    """The genre word ``word`` is a typo of (one deletion on either side, same first letter), else ``word``."""
    if word in _REAL_WORDS:
        return word
    for d in _deletes(word):
        found = _TYPOS.get(d)
        if found is not None and found[0] == word[0]:
            return found
    return word
_ROMCOM_RE = re.compile(r"rom\s?coms?|romantic comed", re.IGNORECASE)

#: A topic ruled out: a noun (or a list of them) right after a negation that takes an object ("no boxing",
#: "nothing with clowns or spiders please", "my kids are scared of sharks", "I don't like zombies"), ended by
#: the clause, a courtesy word or "movies". Genres and moods are read above; what a topic filter checks is
#: :func:`workbench.filters.has_topic` (titles and tags) plus the films nearest the topic (the engine).
_TOPIC_NEG_RE = re.compile(
    r"\b(?:no(?: more)?|nothing (?:with|about|involving|featuring|including)|anything but|without|not about|"
    r"hate|hates|can'?t stand|cannot stand|(?:scared|afraid|terrified|frightened) of|sick of|tired of|"
    r"(?:do|does)(?:n'?t| not) (?:like|want|love|enjoy)|dont (?:like|want))\s+(?:any\s+|more\s+|the\s+)?"
    r"((?:[a-z]{4,})(?:\s*(?:,|or|and|nor)\s+(?:no\s+|any\s+)?[a-z]{4,})*)"
    r"(?=\s*(?:[.,!?;:)]|$|(?:please|pls|though|tho|thanks|thank|in it|involved|movies?|films?|flicks?|stuff|either|"
    r"at all|for me|for us|but|this time|tonight|anymore|any more)\b))")
#: Words after such a negation that name no topic: chat ("no idea", "no worries"), what a film is rather
#: than what it is about ("no sequels", "nothing long"), and content the catalogue cannot check (it has
#: no content ratings: "no swearing" must not be promised by a filter that knows nothing of it).
_NOT_TOPICS = frozenset("""
    idea ideas problem problems worries worry thanks thank clue rush hurry pressure preference preferences
    doubt kidding joke jokes offense offence matter need question questions reason comment opinion opinions
    spoilers spoiler time money luck sense chance difference budget subtitles subtitle dubbing sure more less
    longer fair deal biggie prob probs movie movies film films flick flicks stuff thing things kind kinds type
    types sort sorts genre genres series sequel sequels prequel prequels remake remakes reboot reboots actor
    actors actress actresses director directors cast plot plots story stories ending endings part parts
    scene scenes haha hahaha recommendations recommendation suggestions suggestion options option picks pick
    titles title choices choice results others ones more worse better worst best good great bad long short
    slow boring cheesy corny sappy silly stupid dumb weird serious heavy intense depressing graphic explicit
    crude gross childish kiddie kiddy lame overrated predictable pretentious mainstream popular famous obscure
    foreign cheap loud mushy mushy musicals cartoons classics oldies newer older recent newest oldest
    swearing cursing profanity language nudity sex sexual sexy violence gore blood bloody drugs alcohol
    smoking rated rating ratings reviews review awards theaters theater cinema netflix streaming
    those these them they there that this then what when where which while with would watch watching
    really very much many just only even still also again ever never anyone anything something someone
    please though thanks tonight either seen watched heights favorites favourites favorite favourite
    mentioning chick laugh laughs
    """.split())

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
_OR_LATER_RE = re.compile(r"\s*(?:or|and)\s+(?:later|newer|after|up|onwards?|beyond|more\s+recent)\b|\s*(?:onwards?|\+|and\s+up)",
                          re.IGNORECASE)
_OR_EARLIER_RE = re.compile(r"\s*(?:or|and)\s+(?:earlier|older|before)\b", re.IGNORECASE)
_YEARS_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "few": 5, "couple": 2, "couple of": 2}
_LAST_YEARS_RE = re.compile(r"\b(?:last|past)\s+(?:(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|few|couple(?: of)?)"
                            r"\s+years|(decade))\b", re.IGNORECASE)
_RECENT_RE = re.compile(r"\b(recent|newer|latest|new releases?|this year|current)\b", re.IGNORECASE)
_OLD_RE = re.compile(r"\b(old(?:er)? (?:movies?|films?|ones?|stuff|classics?)|old[\s-]school|(?:something|somethin|sth|smth|anything) older|"
                     r"older (?:please|pls|would|instead)|classics?|oldies|golden age|long ago|"
                     r"(?:something|somethin|nothing|anything|too|so|very) old)\b"
                     r"|^\W*(?:(?:maybe|ok|okay|hmm|and|but|now|then|something|somethin)\W+)?older\W*(?:then|please|pls|maybe)?\W*$",
                     re.IGNORECASE)
#: A negation right before an "old" word: only then does it flip to "not old" ("nothing old", "no classics").
_NEG_JUST_BEFORE_RE = re.compile(r"\b(?:no|not|nothing|without|none)\s+(?:too\s+|so\s+|that\s+|very\s+)?$")
#: A question comparing films ("which is older", "the most recent one"): its "older" is no request.
_COMPARE_RE = re.compile(r"\bwhich\b|\b(?:older|newer) than (?:the|that|this|it)\b|\bthe (?:most recent|latest|"
                         r"oldest|newest) (?:one|of)\b", re.IGNORECASE)
#: Where "not old" lands: films from this year on.
NOT_OLD_FROM = 2000
#: Where "old" ends: films up to this year.
OLD_UNTIL = 1979
#: "recent" means the catalogue's newest this many years.
RECENT_YEARS = 5


@dataclass(frozen=True)
class Scope:
    """Which character ranges of a message a negation covers, and which only a degree word grades."""

    negated: tuple[tuple[int, int], ...]
    graded: tuple[tuple[int, int], ...]

    def of(self, start: int) -> str:
        """"graded", "negated" or "" for a cue starting at ``start``."""
        if any(s <= start < e for s, e in self.graded):
            return "graded"
        if any(s <= start < e for s, e in self.negated):
            return "negated"
        return ""


def negation_scope(low: str) -> Scope:
    """The spans of ``low`` (folded text) under a negation, each up to its clause's end or a turn
    back to wanting, and the words that a degree word grades."""
    ends = sorted({m.start() for m in _CLAUSE_END_RE.finditer(low)} | {len(low)})
    wants = [m.start() for m in _WANT_RE.finditer(low)]
    negated = []
    for m in _NEG_RE.finditer(low):
        end = next(e for e in ends if e >= m.end())
        # a turn back to wanting right after the negation is its object ("don't want something scary")
        end = min([w for w in wants if m.end() + 1 < w < end] + [end])
        negated.append((m.start(), end))
    graded = []
    for m in _DEGREE_RE.finditer(low):
        word = re.match(r"[\w'-]+(?:\s+(?:movies?|films?|stuff))?", low[m.end():])
        if word:
            graded.append((m.start(), m.end() + word.end()))
    return Scope(tuple(negated), tuple(graded))


def without_ruled_out(text: str) -> str:
    """``text`` with what it rules out or grades down blanked ("a thriller but nothing too dark" ->
    "a thriller but"): the search query must not look for the words of an exclusion (a lexical match
    on "dark" brings "Alone in the Dark" back)."""
    low = fold(text).replace("-", " ")
    if len(low) != len(text):  # folding changed the length (rare characters): keep the text
        return text
    scope = negation_scope(low)
    chars = list(text)
    for s, e in (*scope.negated, *scope.graded):
        for j in range(s, min(e, len(chars))):
            chars[j] = " "
    return " ".join("".join(chars).split())


def read_constraints(masked: str, people: Sequence[PersonMention], max_year: int
                     ) -> tuple[ItemFilter, frozenset[str], frozenset[str]]:
    """The filter a message states, which of its fields the message set, and the people it rules out.

    ``masked`` is the message with linked titles and names blanked; ``max_year`` is the
    catalogue's newest year ("recent" means its last :data:`RECENT_YEARS` years).
    """
    low = fold(masked).replace("-", " ")
    # "live action": no cartoon, and no request for action films (same length: spans stay aligned)
    low = re.sub(r"\blive action\b", "live_acts__", low)
    scope = negation_scope(low)
    wanted: set[str] = set()
    named: set[str] = set()  # asked for by a genre's own word, not a mood
    excluded: set[str] = set()
    by_mood: set[str] = set()  # ruled out by a mood word only
    graded_out: set[str] = set()

    def take(genres: tuple[str, ...] | frozenset[str], start: int, negated_genres=None, mood: bool = False) -> None:
        how = scope.of(start)
        if not how:
            wanted.update(genres)
            if not mood:
                named.update(genres)
        elif how == "graded":
            graded_out.update(negated_genres or genres)
        else:
            (by_mood if mood else excluded).update(negated_genres or genres)

    for phrase, genres in MOODS.items():
        for m in re.finditer(rf"\b{re.escape(phrase)}\b", low):
            take(genres, m.start(), NEGATED_MOODS.get(phrase), mood=True)
    for phrase, genres in NEGATED_MOODS.items():
        if phrase not in MOODS:
            for m in re.finditer(rf"\b{re.escape(phrase)}\b", low):
                if scope.of(m.start()):
                    take(genres, m.start(), mood=True)
    for phrase, genres in AVERSIONS.items():
        if re.search(rf"\b{re.escape(phrase)}\b", low):
            by_mood.update(genres)
    for m in _GENRE_WORD_RE.finditer(low):
        word = m.group()
        keys = genre_keys("science fiction" if word.startswith("sci") and "fi" in word else word)
        if not keys and len(word) >= _TYPO_MIN_LEN:
            keys = genre_keys(typo_genre(word))
        if word in _KIDS and not (_KIDS_BEFORE_RE.search(low[:m.start()]) or _KIDS_AFTER_RE.match(low[m.end():])
                                  or _NOUN_AFTER_RE.match(low[m.end():]) or scope.of(m.start())):
            continue  # "my kids have seen it": the kids are no request
        if not keys or (word in _EVERYDAY and not _NOUN_AFTER_RE.match(low[m.end():])
                        and not _BARE_NEG_RE.search(low[:m.start()])
                        and not (_SUBJECT_BEFORE_RE.search(low[:m.start()]) and scope.of(m.start()) == "negated")):
            continue  # "war", "family"... count as a genre only as "war movie", "family film", "no war"
        if _ROMCOM_RE.fullmatch(word) or word.startswith("romantic comed"):
            # "no rom-coms" rules out romance, not every comedy
            negated = scope.of(m.start())
            take(keys if not negated else frozenset({"romance"}), m.start())
            continue
        take(keys, m.start())
    # an exclusion wins over a request in the same message, unless it only grades ("not too gory")
    # or a mood rules out a genre the message names ("sci-fi, but not space")
    excluded |= by_mood - named
    wanted -= excluded
    excluded |= graded_out - wanted
    topics = read_topics(low)
    fields: set[str] = set()
    if topics:
        fields.add("exclude_topics")
    if wanted:
        fields.add("genres")
    if excluded:
        fields.add("exclude_genres")
    year_min, year_max = read_years(low, scope, max_year)
    if year_min is not None or year_max is not None:
        fields.add("years")
    names, ruled_out = [], []
    for p in people:
        (ruled_out if scope.of(p.span[0]) == "negated" else names).append(p.name)
    if names:
        fields.add("people")
    if ruled_out:
        fields.add("exclude_people")
    flt = ItemFilter.make(year_min=year_min, year_max=year_max, people=names, exclude_people=ruled_out)
    flt = ItemFilter(frozenset(wanted), frozenset(excluded), flt.year_min, flt.year_max, flt.people,
                     exclude_people=flt.exclude_people, exclude_topics=topics)
    return flt, frozenset(fields), frozenset(ruled_out)


def _topic_word(word: str) -> bool:
    """Whether ``word`` can name a topic: a noun that is no genre, no adjective-like mood and no word of
    :data:`_NOT_TOPICS`. A mood that is a plural noun ("aliens", "vampires", "robots") is a topic too:
    "sci-fi but nothing with aliens" keeps science fiction (the genre named wins over the mood) yet must
    lose Paul."""
    mood = (word in MOODS or word in NEGATED_MOODS) and not word.endswith("s")
    return not (word in _NOT_TOPICS or mood or word in GENRE_WORDS or genre_keys(word) or genre_keys(typo_genre(word))
                or word.endswith(("ous", "ful", "ive", "ic", "ish", "ed", "ly", "est"))
                or (word.endswith("y") and not word.endswith("ey")))


def read_topics(low: str) -> frozenset[str]:
    """The topics folded text rules out ("no boxing though": ``{"boxing"}``): nouns right after a
    negation that takes an object (see :func:`_topic_word`)."""
    return frozenset(word for m in _TOPIC_NEG_RE.finditer(low) for word in re.findall(r"[a-z]{4,}", m.group(1))
                     if word not in ("and", "nor") and _topic_word(word))


#: "newer than these", "older than those ones": years relative to the films on screen
_THAN_SLATE_RE = re.compile(r"\b(?:(newer|more\s+recent|later)|(older|earlier))\s+than\s+(?:these|those|them|the\s+(?:last|previous)"
                            r"\s+(?:ones?|picks?|films?|movies?|batch|list)|(?:the\s+)?(?:ones?|films?|movies?)\s+(?:you\s+)?(?:showed|suggested"
                            r"|picked|gave))\b", re.IGNORECASE)


def years_than_slate(text: str, slate_years: Sequence[int]) -> tuple[int | None, int | None] | None:
    """``(year_min, year_max)`` of "newer than these" / "older than those" against the years of the
    films on screen: newer than most of them (after their median year), or older; ``None`` when the
    message says no such thing or no film on screen has a year."""
    m = _THAN_SLATE_RE.search(fold(text))
    years = sorted(y for y in slate_years if y)
    if m is None or not years:
        return None
    median = years[len(years) // 2]
    return (median + 1, None) if m.group(1) else (None, median - 1)


#: A topic asked for: a noun after "with", "about", "involving", or a taste ("he loves dinosaurs", "she's into
#: horses"). It weighs in the ranking (the films whose title, tags or embedding name it come first); it never
#: filters, because the catalogue's tags miss most films of a topic.
_TOPIC_WANT_RE = re.compile(
    r"\b(?:with|about|involving|featuring|starring|loves?|likes?|adores?|(?:is|are|'s|'re)\s+(?:really\s+|very\s+)?into"
    r"|obsessed\s+with|crazy\s+about|fan\s+of)\s+(?:a\s+|an\s+|some\s+|lots\s+of\s+|lot\s+of\s+|the\s+|talking\s+|big\s+"
    r"|giant\s+|cute\s+|little\s+)*([a-z]{4,})\b")


def read_wanted_topics(low: str) -> frozenset[str]:
    """The topics folded text asks for ("something with dogs": ``{"dogs"}``), outside any negation;
    never an everyday word after "with" ("with my wife", :data:`_NOT_WANTED_TOPICS`)."""
    scope = negation_scope(low)
    return frozenset(m.group(1) for m in _TOPIC_WANT_RE.finditer(low)
                     if not scope.of(m.start(1)) and m.group(1) not in _NOT_WANTED_TOPICS and _topic_word(m.group(1)))


#: Words after "with" / "about" that are no topic of a film ("with my wife", "about two hours", "with a twist
#: ending" is kept: twist is a topic the tags know).
_NOT_WANTED_TOPICS = frozenset("""
    wife husband partner girlfriend boyfriend kids kid children child family friends friend parents
    mom dad mum brother sister daughter son baby grandma grandpa grandparents teen teens teenager
    hours hour minutes half tonight today weekend evening night something anything everything nothing
    people person someone somebody actors actress actor director directors character characters cast
    plot story stories ending endings lead leads star stars twist twists good great best bad nice fine
    cool same similar different other others another more less least most lots plenty style vibe feel
    tone theme themes message meaning substance heart soul depth humor humour music songs soundtrack
    """.split())


def _decade_start(dec: re.Match[str]) -> int:
    """The first year of a :data:`_DECADE_RE` match ("the 80s": 1980, "nineties": 1990, "2010s": 2010)."""
    if dec.group(3):
        return _WORD_DECADES[dec.group(3).lower()]
    century, digit = dec.group(1), int(dec.group(2))
    return int(century) * 100 + digit * 10 if century else (2000 if digit <= 2 else 1900) + digit * 10


def read_years(low: str, scope: Scope, max_year: int) -> tuple[int | None, int | None]:
    """``(year_min, year_max)`` of folded text: ranges, decades, before / after a year, "recent",
    "old"; under a negation each flips ("nothing before 1990" is from 1990 on, "not from the 2000s"
    is before 2000, "nothing too old" is from :data:`NOT_OLD_FROM`)."""
    m = _BETWEEN_RE.search(low) or _RANGE_RE.search(low)
    if m:
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        return a, b
    year_min = year_max = None
    decades = [(d, _decade_start(d)) for d in _DECADE_RE.finditer(low)]
    if decades:
        dec, start = decades[0]
        if scope.of(dec.start()):
            # "not from the 2000s": before it when it is the newer side of the catalogue, after it otherwise
            year_min, year_max = (None, start - 1) if start >= 2000 else (start + 10, None)
        else:
            # "80s or 90s action", "the 80s and 90s": every decade named; "the 2010s or later": open-ended
            year_min, year_max = start, max(s for d, s in decades if not scope.of(d.start())) + 9
            if _OR_LATER_RE.match(low[decades[-1][0].end():]):
                year_max = None
            elif _OR_EARLIER_RE.match(low[decades[-1][0].end():]):
                year_min = None
    last = _LAST_YEARS_RE.search(low)
    if last and not decades and not scope.of(last.start()):  # "from the last 5 years", "past decade"
        count = (last.group(1) or "").lower()
        n = 10 if last.group(2) else _YEARS_COUNT.get(count) or int(count)
        year_min = max_year - (max(n, 1) - 1)
    a = _AFTER_RE.search(low)
    if a:
        y = int(a.group(2))
        word = a.group(1).lower()
        if scope.of(a.start()):
            year_max = y
        else:
            year_min = y + 1 if word in ("after", "newer than", "later than", "post") else y
            if word == "from" and not re.search(r"\bon\b|onwards|\+", low[a.end():a.end() + 10]):
                year_min, year_max = y, y
    b = _BEFORE_RE.search(low)
    if b:
        y = int(b.group(2))
        if scope.of(b.start()):
            year_min = y
        else:
            year_max = y - 1 if b.group(1).lower() != "until" else y
    if year_min is None and year_max is None and not _COMPARE_RE.search(low):
        old = _OLD_RE.search(low)
        if _RECENT_RE.search(low):
            year_min = max_year - (RECENT_YEARS - 1)
        elif old:
            how = scope.of(old.start())
            if how == "graded" or _NEG_JUST_BEFORE_RE.search(low[:old.start()]) or old.group().startswith(
                    ("nothing", "too", "so ", "very")):
                year_min = NOT_OLD_FROM
            elif not how:  # "I have not seen many classics" states no year
                year_max = OLD_UNTIL
    return year_min, year_max
