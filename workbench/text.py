"""The text layer: folding, word tokens, word lists and name normalisation, declared once.

Understanding a message (``dialogue/understand.py`` and its helpers), grounding a reply
(``dialogue/grounding.py``), lexical search (``retrieval/lexical.py``) and filters (``filters.py``) all
read words. The rules they share live here, so that a change to a word list or to accent
folding reaches all of them:

* :func:`fold` (lower case, accents stripped) and :func:`fold_apostrophes` (the same, with the
  typographic apostrophe ``’`` written ``'``, which grounding compares titles with);
* :data:`WORD_RE` / :func:`word_spans` (grounding's words) and :data:`MESSAGE_TOKEN_RE` /
  :func:`norm_token` / :func:`normalize_title` (understanding's tokens and title keys);
* word lists: :data:`STOPWORDS` and :data:`SEARCH_STOPWORDS`, :data:`COMMON_WORDS` and
  :data:`REPLY_COMMON_WORDS` (both :data:`EVERYDAY_WORDS` plus their own extension),
  :data:`GENRE_WORDS`, :data:`ARTICLES`, :data:`CONNECTORS`;
* :func:`norm_person` (how filters compare people's names);
* :data:`Intent`, the intents a message can have;
* :data:`TITLE_YEAR_RE` / :func:`split_title_year`: the one reading of "Title (Year)" (also
  "Title [Year]" and "Title (Year film)"), for catalogue files, data sets, tools and grounding;
* :func:`check_message`: the one check (and wording) of a user's message, which the engine,
  the Chat tab and API, and the arena all call.

Folding lower-cases with ``str.lower`` (not ``casefold``): "ß" stays "ß", as it always has.

It knows strings; it does not know items, catalogues, scores or gradio.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal, get_args

from workbench.errors import WorkbenchError
from workbench.limits import MAX_MESSAGE_CHARS

# ---------------------------------------------------------------------------
# intents

#: What a user wants from one message. ``ask_fact``: a question about one film (director, cast,
#: year, genre, what it is about); ``compare``: a question across several ("which of these is the
#: newest?"); ``seen`` / ``not_seen``: the user says they have (not) seen a film, with no verdict;
#: ``feedback``: a verdict (liked / disliked) on a film; ``thanks_bye``: a closing;
#: ``capabilities``: "what can you do?"; ``other``: off topic. See ``docs/answers.md``.
Intent = Literal["recommend", "more_like", "refine", "why", "ask_fact", "compare", "seen", "not_seen",
                 "feedback", "greeting", "thanks_bye", "capabilities", "chitchat", "other"]
#: Every :data:`Intent`, in declaration order.
INTENTS: tuple[str, ...] = get_args(Intent)

# ---------------------------------------------------------------------------
# "Title (Year)"

#: A title ending in its year: "Heat (1995)", "Heat ( 1995 )", "Heat [1995]", "Heat (1995 film)".
TITLE_YEAR_RE = re.compile(r"^(?P<title>.*?)\s*[\(\[]\s*(?P<year>\d{4})(?:\s+film)?\s*[\)\]]\s*$")


def split_title_year(text: str) -> tuple[str, int | None]:
    """``text`` stripped and split into its title and year; the year is ``None`` when none ends it."""
    text = text.strip()
    m = TITLE_YEAR_RE.match(text)
    return (m.group("title"), int(m.group("year"))) if m else (text, None)


# ---------------------------------------------------------------------------
# a user's message


def over_limit_message(n_chars: int) -> str:
    """What a user is told about a message over :data:`~workbench.limits.MAX_MESSAGE_CHARS`."""
    return (f"Your message has {n_chars:,} characters; the limit is {MAX_MESSAGE_CHARS:,}. "
            "Shorten it and send again (nothing was sent or cut).")


def check_message(message: Any, *, error: type[WorkbenchError] = WorkbenchError) -> str:
    """``message`` stripped; raises ``error`` when it is not text, empty, or too long.

    The one rule for a user's message (engine, Chat tab, API, arena): the same limit, the same
    wording, so a message refused in one place is refused alike in every other.
    """
    if not isinstance(message, str):
        raise error(f"message: expected text, got {type(message).__name__}")
    text = message.strip()
    if not text:
        raise error("type a message first")
    if len(text) > MAX_MESSAGE_CHARS:
        raise error(over_limit_message(len(text)))
    return text


# ---------------------------------------------------------------------------
# folding and tokens


def fold(text: str) -> str:
    """Lowercase ASCII-ish folding: accents removed (``"Amélie"`` -> ``"amelie"``)."""
    if text.isascii():  # NFKD leaves ASCII unchanged: skip it for speed
        return text.lower()
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c)).lower()


def fold_apostrophes(text: str) -> str:
    """:func:`fold`, with the typographic apostrophe ``’`` written ``'`` (``"Ocean’s"`` -> ``"ocean's"``).

    Grounding compares words of a generated reply with catalogue titles this way; understanding
    drops apostrophes altogether (:func:`norm_token`).
    """
    return fold(text.replace("’", "'"))


#: A word: letters and digits, with inner apostrophes ("don't", "Ocean’s"); no underscores.
WORD_PATTERN = r"[^\W_]+(?:['’][^\W_]+)*"
WORD_RE = re.compile(WORD_PATTERN)
#: A token of a user's message: an ``@12345`` item id, a word, or an ampersand.
MESSAGE_TOKEN_RE = re.compile(r"@\d+|" + WORD_PATTERN + r"|&", re.UNICODE)

#: Leading articles: dropped from title keys, optional when a title is written.
ARTICLES = frozenset({"the", "a", "an"})
#: Small words that may sit inside a capitalised title ("Return of the Jedi").
CONNECTORS = frozenset("a an and the of in on at to for from with by or vs".split())

_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}


def word_spans(text: str) -> list[tuple[str, str, int, int]]:
    """(folded, original, start, end) for each word of ``text`` (folded by :func:`fold_apostrophes`)."""
    return [(fold_apostrophes(m.group()), m.group(), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def roman_to_digit(numeral: str) -> str:
    """``"viii"`` -> ``"8"`` for II-IX; anything else unchanged."""
    return _ROMAN.get(numeral, numeral)


def norm_token(token: str) -> str:
    """A message token as understanding compares it: folded, no apostrophes, ``&`` as "and",
    roman numerals II-IX as digits ("Rocky II" and "rocky 2" meet)."""
    t = fold(token).replace("’", "'").replace("'", "")
    if t == "&":
        return "and"
    return roman_to_digit(t)


def normalize_title(title: str) -> str:
    """The lookup key of a title: folded, punctuation-free, no leading article, roman numerals as digits."""
    toks = [norm_token(m.group()) for m in MESSAGE_TOKEN_RE.finditer(title)]
    toks = [t for t in toks if t]
    while len(toks) > 1 and toks[0] in ARTICLES:
        toks = toks[1:]
    return " ".join(toks)


def norm_person(name: str) -> str:
    """A person's name as filters compare it: lower case, words joined by single spaces."""
    return " ".join(re.findall(r"\w+", name.lower()))



def word_forms(word: str) -> frozenset[str]:
    """The forms a word may stand for, so that a topic ruled out meets the catalogue's form of it:
    the word, its singular and its stem without "-ing" / "-er" ("boxing" and "boxer" share "box",
    "zombies" and "zombie" share "zombie", "weddings" and "wedding" share "wedding"). Two words
    match when their forms meet. Deliberately crude (a few suffix rules, no dictionary): both sides
    go through the same rules, so an odd stem ("spid") only ever meets another form of its word."""
    w = fold(word).strip("'’")
    forms = {w}
    if len(w) > 4 and w.endswith("ies"):
        forms |= {w[:-3] + "y", w[:-1]}
    elif len(w) > 3 and w.endswith(("ches", "shes", "xes", "sses")):
        forms.add(w[:-2])
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        forms.add(w[:-1])
    for f in list(forms):
        for suffix in ("ing", "er"):
            if len(f) - len(suffix) >= 3 and f.endswith(suffix):
                root = f[: -len(suffix)]
                forms.add(root[:-1] if len(root) > 3 and root[-1] == root[-2] and root[-1] not in "lsz" else root)
    return frozenset(forms)

# ---------------------------------------------------------------------------
# word lists

#: Function words and chat filler of a user's message. A title made only of these ("It", "Up",
#: "Her", "Us") is linked only when quoted, followed by a year, written as @id, or capitalised in
#: the middle of a sentence; a message made only of these says nothing descriptive.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into onto up down out off over
    under about after before again it its it's i me my we us our you your he him his she her they
    them their this that these those what which who whom whose where when why how all any both
    each few more most other some such no nor not only own same so than too very can will just
    should now is am are was were be been being have has had do does did doing would could here
    there then once yes yeah ok okay oh hi hello hey thanks thank please
    anything something everything nothing else anyone anybody someone somebody everyone""".split()
)

#: Words lexical search (BM25 documents and queries) and tag extraction drop: English
#: stopwords plus request filler ("film", "recommend", "tonight") that names no item.
SEARCH_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves
    film films movie movies like want watch something recommend recommendation please show give
    looking look one ones kind sort similar good great best really maybe also tonight
    """.split()
)

#: Everyday words that both a user's message and a generated reply use for other things than
#: titles. Each reader extends them: :data:`COMMON_WORDS` (messages), :data:`REPLY_COMMON_WORDS`.
EVERYDAY_WORDS = frozenset(
    """
    actually again alone also always anything back bad best better big black boy boys city come dark
    day definitely dogs drive enjoy even ever everything family fear film films find first friend
    friends fun funny game genre get ghost girl girls give go going gone good great her home hope
    house it keep kids killers kind last life light like little look love loved man many maybe men
    money movie movies much never new next nice night nothing now one out people really
    recommendation recommendations red right run saw scary see something star still story sure take
    thing things time together up us wanted war watch water way well woman women world
    """.split()
)

#: Everyday words of a user's message: a title made only of these, :data:`STOPWORDS` and
#: :data:`GENRE_WORDS` ("Heat", "Home", "Get Out", "Love Actually") needs capitalisation or a cue
#: ("I loved heat") before it is linked. Extends :data:`EVERYDAY_WORDS` with chat verbs, numbers,
#: nouns and a few titles that are everyday phrases ("heat", "prisoners", "get out").
COMMON_WORDS = EVERYDAY_WORDS | frozenset(
    """
    ago air angel angels bell ring grown drop release released animal animals arrival beginning blue boat body breakfast came car cars cat
    cats coming cool crash days dead death devil dinner dog earth eight end ending enjoyed eyes face
    feel feeling fight fire five food found four friday games ghosts given god gold got green hand
    hate hated head hear heard heart heat heaven hell hereditary horse ice job kept kid kill killer
    know known leave left lights liked live living long looking lot lots lunch made make mind
    monster monsters moon need nights nine office old party person plane prisoners probably rain
    real recommend road room running rush sad said say school second seen sense seven ship short
    show shows signs six sky small snow someday sometime sort soul split stars start stories storm
    street stuff suggest suggestion suggestions sun taken talk talking tell ten think third thought three
    times today told tomorrow town train true two type want watched watching wedding white wind work
    worse worst wrong year years
    """.split()
)

#: Words that start sentences or appear capitalised in a generated reply. A one-word catalogue
#: title ("It", "Her", "Up", "Home") that is also one of these is only taken as a title when it
#: is marked (quotes, emphasis, a year) or sits mid-sentence with a capital letter. Extends
#: :data:`EVERYDAY_WORDS` with function words, genre names and the words of recommendation prose.
REPLY_COMMON_WORDS = EVERYDAY_WORDS | frozenset(
    """
    a about above absolutely across action adventure after against ah ahead alive all almost along
    although amazing an and animated animation another any anyone anyway are around as at away
    awesome be beautiful because been before being below between beyond bonus both brilliant but by
    can cast certainly check classic closer college comedy consider cop could creature crime dance
    detective did do does doing done down drama during each else enough epic escape especially every
    everyone exactly excellent fan fantastic fantasy far few final finally fine flick for free from
    further glad had happy has have haven he heist hello help here hero hers hey hi him his history
    holiday holidays horror how however i if in indeed instead is its jump just king later let lol
    lost lovely mafia mask may me might mine mom more moreover most mother moving murder music
    musical must my mystery no none nor not note obsessed of off oh ok okay on once only or other
    others otherwise our over perfect perhaps pick picks pieces plot plus popcorn quite rather
    reason remember rent revenge romance same science she should similar since sister so some soon
    sorry spy stay such summary super superb superhero taxi than thank thanks that the their them
    then there these they this those though thriller through thus to too try twins under until
    vacation very we weekend welcome western what whatever when where whether which while who whole
    why wild will with within without wonderful would wow yeah yes yet you your yours
    """.split()
)

#: Words a user uses for kinds of film ("horror", "westerns", "sci fi"). A title made only of
#: everyday words that holds one of these ("War", "Family") is not linked on a cue alone ("I
#: loved war"). Mapping them onto a filter's canonical genres is :func:`workbench.filters.genre_keys`.
GENRE_WORDS = frozenset(
    """action adventure animation animated cartoon comedy comedies crime documentary drama dramas
    family fantasy history horror musical mystery romance romantic thriller thrillers war western
    westerns superhero scifi sci fi teen noir spy disaster indie zombie zombies satire christmas
    dance anime sports sport kids""".split()
)
