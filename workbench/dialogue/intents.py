"""The intent of a message, with the films it points at and what a question asks about.

:func:`classify` decides among every :data:`~workbench.text.Intent`. It reads, in order:

1. **closings, capabilities and greetings** ("ok great, that's it for tonight", "what can you
   do?", "hello"): social messages that want no slate;
2. **questions about films**: ``ask_fact`` (one film's director, cast, year, genre, or what it
   is about: "who's in the third one?", "when was Jaws made?", "is the first one a cartoon?")
   and ``compare`` (across the slate: "which of these is the newest?", "which one has Tom
   Hanks?"), each with its ``attribute`` (:data:`ATTRIBUTES`);
3. everything else through :func:`workbench.dialogue.cues.detect_intent` (recommend, more_like,
   refine, why, feedback, chitchat, other); a feedback whose stance is only "seen" or "not seen"
   becomes the ``seen`` / ``not_seen`` intent.

The films a message points at come from :func:`workbench.dialogue.references.resolve_refs`; a
bare "it" / "that one" counts only for intents about a film (a question, why, more like,
feedback, seen).

It knows words, the slate and item facts; it does not know scores, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workbench.catalog import Item
from workbench.dialogue.cues import detect_intent, stance_of
from workbench.dialogue.linking import Mention, PersonMention, Stance
from workbench.dialogue.references import resolve_refs
from workbench.filters import ItemFilter
from workbench.text import Intent, fold

#: What an ``ask_fact`` question asks about one film.
FACT_ATTRIBUTES = ("director", "cast", "year", "genre", "about")
#: What a ``compare`` question asks across films.
COMPARE_ATTRIBUTES = ("newest", "oldest", "popular", "has_person", "has_genre")
#: Every attribute :attr:`Understanding.attribute` can hold.
ATTRIBUTES = FACT_ATTRIBUTES + COMPARE_ATTRIBUTES
#: Intents whose reply is an answer from catalogue facts (they keep the current slate).
QUESTION_INTENTS = frozenset({"ask_fact", "compare"})
#: Intents that point at films (a bare "it" / "that one" is resolved only for these).
_POINTING = frozenset({"ask_fact", "compare", "why", "more_like", "feedback", "seen", "not_seen"})

_YOU = r"(?:you|u|ya)"
_CAPABILITIES_RE = re.compile(
    rf"\bwhat\s+(?:are|r)\s+{_YOU}\s+(?:for|good\s+for|able\s+to\s+do|capable\s+of)\b"
    rf"|\bwhat\s+(?:can|could|do|does)\s+{_YOU}\s+(?:do|offer|help(?:\s+me)?\s+with)\b"
    rf"|\bwhat\s+(?:are|r)\s+{_YOU}\s*\??\s*$|\bwho\s+(?:are|r)\s+{_YOU}\b|\bwhat\s+is\s+this\s*(?:thing|app|bot)?\s*\??\s*$"
    rf"|\bhow\s+(?:does|do)\s+(?:this|it|you)\s+work\b|\bhow\s+(?:do|can|should)\s+i\s+use\s+(?:this|you|it)\b"
    rf"|\bhow\s+can\s+{_YOU}\s+help\b|\bwhat\s+(?:can|should)\s+i\s+(?:ask|say|tell)\b"
    rf"|\bare\s+{_YOU}\s+(?:a\s+)?(?:bot|robot|human|person|real|an?\s+ai)\b|\bwhat'?s\s+your\s+(?:purpose|job|deal)\b"
    rf"|\bwhat\s+do\s+{_YOU}\s+know\s*\??\s*$|^\s*(?:help|\?+)\s*[!.?]*\s*$|\bwhat\s+is\s+your\s+(?:purpose|job)\b"
    rf"|\bwhat\s+kind\s+of\s+(?:things|stuff|questions)\s+can\b|\byour\s+capabilities\b",
    re.I,
)
_CLOSING_RE = re.compile(
    r"\b(?:thanks?(?:\s+(?:you|u))?(?:\s+(?:so|very)\s+much|\s+a\s+lot|\s+a\s+bunch)?|thx|ty|tysm|cheers|many\s+thanks"
    r"|bye(?:\s*bye)?|goodbye|good\s*night|night\s+night|see\s+(?:you|ya)|later|ciao|farewell|take\s+care"
    r"|that'?s\s+(?:it|all|enough)|that\s+is\s+(?:it|all|enough)|that\s+will\s+do|that'?ll\s+do|i'?m\s+(?:done|all\s+set|set|good\s+now|off)"
    r"|all\s+set|(?:i'?ll|i\s+will|i'?m\s+going\s+to|gonna)\s+(?:watch|go\s+with|try|check\s+out|pick|take|start\s+with)\b[^.!?]*"
    r"|have\s+a\s+(?:good|great|nice)\s+(?:one|night|day|evening)|talk\s+(?:to\s+you\s+)?(?:later|soon)"
    r"|nothing\s+else|enough\s+for\s+(?:now|today|tonight)|for\s+(?:now|today|tonight)|signing\s+off|gotta\s+go|got\s+to\s+go"
    r"|you'?(?:ve|re)\s+been\s+(?:a\s+)?(?:great|helpful|very\s+helpful|a\s+big\s+help)|appreciate\s+it|much\s+appreciated"
    r"|no\s+(?:more|thanks?)(?:\s+for\s+now)?|perfect|great|awesome|ok(?:ay)?|cool|nice|alright|sounds\s+good|got\s+it"
    r"|sure|wonderful|excellent|lovely|fantastic|will\s+do|done|yes|yeah|yep|tonight|now|i\s+think|so|well|then)\b",
    re.I,
)
#: Words that make a message a closing on their own (the rest of ``_CLOSING_RE`` is filler).
_CLOSING_CORE_RE = re.compile(
    r"\b(?:thanks?|thank\s+(?:you|u)|thx|ty|tysm|cheers|bye|goodbye|good\s*night|see\s+(?:you|ya)|ciao|farewell|take\s+care"
    r"|that'?s\s+(?:it|all|enough)|that\s+is\s+(?:it|all|enough)|that(?:'?ll|\s+will)\s+do|i'?m\s+(?:done|all\s+set|set|off)|all\s+set"
    r"|(?:i'?ll|i\s+will|i'?m\s+going\s+to|gonna)\s+(?:watch|go\s+with|try|check\s+out|pick|take|start\s+with)"
    r"|have\s+a\s+(?:good|great|nice)|talk\s+(?:to\s+you\s+)?(?:later|soon)|nothing\s+else|enough\s+for|signing\s+off"
    r"|gotta\s+go|got\s+to\s+go|appreciate|no\s+more)\b",
    re.I,
)
_GREETING_RE = re.compile(
    r"^\s*(?:hi+|hello+|hey+|hiya|howdy|yo|hola|greetings|good\s+(?:morning|afternoon|evening|day)|hey\s+there|hi\s+there)"
    r"(?:\s+(?:there|you|again|all|everyone|friend|buddy|bot))?[\s!.,]*"
    r"(?:how\s+are\s+(?:you|u)(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going|what'?s\s+up|nice\s+to\s+meet\s+you)?[\s!.?]*$",
    re.I,
)
_QUESTION_START_RE = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|so|and|but|also|hmm+|um+|oh|well|wait|great|cool|nice|thanks?)[\s,!.]+)*"
    r"(?:who|whom|whose|what|what'?s|when|which|where|how|is|isn'?t|was|are|were|does|did|do|has|have|can|could|"
    r"tell\s+me|remind\s+me|any\s+idea|i\s+wonder|do\s+you\s+know)\b",
    re.I,
)
_DIRECTOR_RE = re.compile(
    r"\bwho\s+(?:directed|directs|direct|helmed|made)\b|\bdirector'?s?\b|\bdirected\s+by\s+(?:who|whom)\b|\bwho\s+did\b[^?]*\bdirect\b"
    r"|\bwhose\s+(?:film|movie)\b|\bfilmmaker\b|\bwho(?:'s|\s+is|\s+was)\s+behind\b|\bwho\s+was\s+it\s+(?:directed|made)\s+by\b"
    r"|\bdirected\s+it\b|\bdirect(?:ed)?\s+(?:that|this|the)\b",
    re.I,
)
_CAST_RE = re.compile(
    r"\bwho(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+(?:in|starring|starred)\b|\bwho\s+(?:stars?|starred|acts?|acted|plays?|played)\b"
    r"|\bcast\b|\bactors?\b|\bactress(?:es)?\b|\bstarring\b|\bstars?\s+in\b|\bwho\s+stars\b|\bthe\s+(?:lead|stars)\b"
    r"|\bwho(?:'s|\s+is)\s+the\s+(?:star|lead)\b|\bwhat\s+actors?\b|\bwho\s+(?:are|were)\s+the\s+(?:actors|stars)\b",
    re.I,
)
_YEAR_RE = re.compile(
    r"\bwhen\b[^?]*\b(?:made|released|release|come\s+out|came\s+out|out|filmed|shot|from|premiere|produced)\b"
    r"|\bwhat\s+year\b|\bwhich\s+year\b|\byear\b|\brelease\s+(?:date|year)\b|\bhow\s+old\b|\bwhat\s+decade\b|\bwhen\s+(?:is|was)\s+(?:it|that|this)\b",
    re.I,
)
_GENRE_RE = re.compile(
    r"\bgenres?\b|\bwhat\s+(?:kind|sort|type)\s+of\s+(?:a\s+)?(?:movie|film|flick|thing|story)\b|\bwhat\s+(?:kind|sort|type)\s+is\b"
    r"|\bcategory\b",
    re.I,
)
_ABOUT_RE = re.compile(
    r"\babout\b|\bplot\b|\bstory(?:line)?\b|\bpremise\b|\bsynopsis\b|\bsummary\b|\bsummari[sz]e\b|\bwhat\s+happens\b"
    r"|\bdescribe\b|\btell\s+me\s+(?:more\s+)?(?:about|on)\b|\bwhat'?s\s+(?:it|that|this)\s+like\b|\bthemes?\b|\bsubject\b"
    r"|\bgist\b|\bany\s+good\b",
    re.I,
)
_NEWEST_RE = re.compile(r"\b(?:newest|latest|most\s+recent|youngest|newer|more\s+recent|came\s+out\s+last|last\s+to\s+come\s+out)\b", re.I)
_OLDEST_RE = re.compile(r"\b(?:oldest|earliest|older|came\s+out\s+first|first\s+to\s+come\s+out)\b", re.I)
_POPULAR_RE = re.compile(r"\b(?:most\s+popular|best\s+known|most\s+famous|more\s+popular|better\s+known)\b", re.I)
#: a question over several films: "which of these", "which one", "any of them", "do any"
_ACROSS_RE = re.compile(
    r"\b(?:which|what)\s+(?:one|ones|of|is|are|film|movie|films|movies)\b|\bwhich\b|\bany\s+of\b|\b(?:do|does|are|is)\s+any\b"
    r"|\bnone\s+of\b|\bhow\s+many\b|\bare\s+(?:they|these|those|all)\b",
    re.I,
)
#: "more like it", "show me more", "and something else": the user also wants a new slate
_MORE_RE = re.compile(
    r"\b(?:more\s+like|something\s+like|similar|show\s+me\s+more|more\s+(?:options|suggestions|picks|films|movies)"
    r"|something\s+else|anything\s+else|other\s+(?:options|suggestions|picks)|recommend|suggest)\b",
    re.I,
)


@dataclass(frozen=True)
class Reading:
    """What :func:`classify` read: the intent, its target, the stance on it, the refs and the attribute."""

    intent: Intent
    target: str | None = None
    stance: Stance = "neutral"
    refs: tuple[str, ...] = ()
    attribute: str | None = None


def is_closing(text: str) -> bool:
    """Whether ``text`` only closes the conversation ("ok great, that's it for tonight", "thanks, bye")."""
    if not _CLOSING_CORE_RE.search(text):
        return False
    rest = _CLOSING_RE.sub(" ", text)
    return not re.search(r"[^\W_]", re.sub(r"\b(?:for|it|that|you|all|me|the|a|one|this|very|much|again|really"
                                           r"|help|helping|your|so|and|i|oh|will|ll|now|tonight|today|lot|just|guys?"
                                           r"|then|bit|later|movie|film|suggestions?|recommendations?|picks?|list"
                                           r"|everything|night|evening|there)\b", " ", rest, flags=re.I))


def is_capabilities(text: str) -> bool:
    """Whether ``text`` asks what the assistant is or can do ("what are you for?")."""
    return bool(_CAPABILITIES_RE.search(text))


def is_greeting(text: str) -> bool:
    return bool(_GREETING_RE.match(text))


def read_question(masked: str, constraints: ItemFilter, people: Sequence[PersonMention], refs: Sequence[str],
                  slate: Sequence[str], named: bool) -> tuple[Intent, str] | None:
    """(``ask_fact`` or ``compare``, attribute) when ``masked`` asks about films, else ``None``.

    ``refs`` are the films pointed at; ``named`` whether a film was named by title.
    """
    low = fold(masked)
    question = "?" in low or bool(_QUESTION_START_RE.match(low))
    if not question:
        return None
    several = len(refs) > 1 or (not refs and len(slate) > 1)
    across = bool(_ACROSS_RE.search(low)) and (several or not named) and bool(slate or len(refs) > 1)
    if across:
        if _NEWEST_RE.search(low):
            return "compare", "newest"
        if _OLDEST_RE.search(low):
            return "compare", "oldest"
        if _POPULAR_RE.search(low):
            return "compare", "popular"
    for rx, attribute in ((_DIRECTOR_RE, "director"), (_CAST_RE, "cast"), (_YEAR_RE, "year"),
                          (_GENRE_RE, "genre")):
        if rx.search(low):
            return "ask_fact", attribute
    if across and people:
        return "compare", "has_person"
    if across and constraints.genres:
        return "compare", "has_genre"
    if refs or named:
        if people and re.search(r"\b(?:in|with|star|stars|starring|by|feature|features|have|has)\b", low):
            role = "director" if re.search(r"\b(?:by|direct|directed|director)\b", low) else "cast"
            return "ask_fact", role
        if constraints.genres and re.search(r"\b(?:is|was|are|does|would|it|a|an|kind)\b", low):
            return "ask_fact", "genre"
        if _ABOUT_RE.search(low):
            return "ask_fact", "about"
    if not refs and not named:
        return None
    if re.search(r"^\s*(?:what|tell\s+me)\b[^?]*\b(?:is|was|'s)\s+(?:it|that|this)\b[\s?!.]*$", low):
        return "ask_fact", "about"
    return None


def classify(
    text: str,
    masked: str,
    mentions: Sequence[Mention],
    people: Sequence[PersonMention],
    constraints: ItemFilter,
    slate: Sequence[str],
    item: Callable[[str], Item | None],
    focus: str | None = None,
) -> Reading:
    """The :class:`Reading` of one message (see the module docstring).

    Args:
        text: the message.
        masked: ``text`` with linked titles and people blanked.
        mentions: the linked titles; people: the linked people.
        constraints: the constraints the message states.
        slate: the last slate's canonical ids, best first.
        item: looks an id up in the catalogue.
        focus: the film "it" means when the conversation is on one (else the top pick).
    """
    refs = resolve_refs(text, masked, mentions, people, slate, item, None)
    pointed = resolve_refs(text, masked, mentions, people, slate, item, focus)
    bare = not mentions and constraints.is_empty and not people
    if is_closing(text) and not _MORE_RE.search(masked) and not (slate and stance_of(masked) == "disliked"):
        return Reading("thanks_bye")
    if not mentions and is_capabilities(text):
        return Reading("capabilities")
    if bare and is_greeting(text):
        return Reading("greeting")
    asked = read_question(masked, constraints, people, pointed, slate, bool(mentions))
    if asked is not None:
        intent, attribute = asked
        targets = pointed
        if intent == "compare" and (len(targets) < 2 or not refs):
            targets = tuple(slate) if len(slate) > 1 else targets
        if targets:
            return Reading(intent, targets[0], "neutral", targets, attribute)
    intent, target, stance = detect_intent(text, masked, mentions, constraints, slate, focus)
    if intent == "feedback" and stance in ("seen", "not_seen"):
        intent = stance
    elif intent == "recommend" and mentions and not constraints.genres and len(mentions) == 1:
        st = mentions[0].stance
        if st in ("seen", "not_seen") and not _MORE_RE.search(masked) and not re.search(r"\b(?:like|want)\b", masked, re.I):
            intent, target, stance = st, mentions[0].item_id, st
    out_refs = pointed if intent in _POINTING else refs
    if intent in ("why", "more_like", "feedback", "seen", "not_seen") and target is not None and target not in out_refs:
        out_refs = (target, *out_refs)
    return Reading(intent, target, stance, out_refs, None)


def wants_more(query: str) -> bool:
    """Whether a question also asks for new films ("who's in it? and show me more like it")."""
    return bool(_MORE_RE.search(query))
