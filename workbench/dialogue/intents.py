"""The intent of a message, with the films it points at and what a question asks about.

:func:`classify` decides among every :data:`~workbench.text.Intent`. It reads, in order:

1. **closings, capabilities and greetings** ("ok great, that's it for tonight", "what can you
   do?", "hello"): social messages that want no slate;
2. **questions about films**: ``ask_fact`` (one film's director, cast, year, genre, or what it
   is about: "who's in the third one?", "when was Jaws made?", "is the first one a cartoon?"; and
   ``where`` to watch it, which the catalogue cannot know and the answer says so)
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
from dataclasses import dataclass, replace

from workbench.catalog import Item
from workbench.dialogue.cues import detect_intent, mask, stance_of
from workbench.dialogue.linking import Mention, PersonMention, Stance
from workbench.dialogue.references import resolve_refs
from workbench.filters import ItemFilter
from workbench.text import Intent, fold

#: What an ``ask_fact`` question asks about one film (``where``, ``runtime`` and ``rating``, facts the
#: catalogue does not hold, also across the slate).
FACT_ATTRIBUTES = ("director", "cast", "year", "genre", "about", "where", "runtime", "rating", "source")
#: What a ``compare`` question asks across films.
COMPARE_ATTRIBUTES = ("newest", "oldest", "popular", "has_person", "has_genre", "has_year")
#: Every attribute :attr:`Understanding.attribute` can hold.
ATTRIBUTES = FACT_ATTRIBUTES + COMPARE_ATTRIBUTES
#: Intents whose reply is an answer from catalogue facts (they keep the current slate).
QUESTION_INTENTS = frozenset({"ask_fact", "compare"})
#: Intents that point at films (a bare "it" / "that one" is resolved only for these).
POINTING_INTENTS = frozenset({"ask_fact", "compare", "why", "more_like", "feedback", "seen", "not_seen"})

_YOU = r"(?:you|u|ya)"
_CAPABILITIES_RE = re.compile(
    rf"\bwhat\s+(?:are|r)\s+{_YOU}\s+(?:for|good\s+for|able\s+to\s+do|capable\s+of)\b"
    rf"|\bwhat\s+(?:can|could|do|does)\s+{_YOU}\s+(?:do|offer|help(?:\s+me)?\s+with)\b"
    rf"|\bwhat\s+(?:are|r)\s+{_YOU}\s*\??\s*$|\bwho\s+(?:are|r)\s+{_YOU}\b"
    rf"|\bwho\s+(?:made|built|created|designed|programmed|trained|developed|wrote|owns|runs)\s+{_YOU}\b|\bwhat\s+is\s+this\s*(?:thing|app|bot)?\s*\??\s*$"
    rf"|\bhow\s+(?:does|do)\s+(?:this|it|you)\s+work\b|\bhow\s+(?:do|can|should)\s+i\s+use\s+(?:this|you|it)\b"
    rf"|\bhow\s+can\s+{_YOU}\s+help\b|\bwhat\s+(?:can|should)\s+i\s+(?:ask|say|tell)\b"
    rf"|\bare\s+{_YOU}\s+(?:a\s+)?(?:bot|robot|human|person|real|an?\s+ai)\b|\bwhat'?s\s+your\s+(?:purpose|job|deal)\b"
    rf"|\bwhat\s+do\s+{_YOU}\s+know\s*\??\s*$|^\s*help\s*[!.?]*\s*$|\bwhat\s+is\s+your\s+(?:purpose|job)\b"
    rf"|\bwhat\s+kinds?\s+of\s+(?:things|stuff|questions)\b|\byour\s+capabilities\b|\bwhat\s+(?:are|r)\s+{_YOU}\s+able\b"
    rf"|\bcan\s+{_YOU}\s+(?:also\s+)?(?:\w+\s+)?(?:tv|shows|series|books?|music|songs?|tickets?|games?|trailers?|clips?|anime\s+series)\b"
    # questions about the recommending itself, not a request for films now
    rf"|\b(?:do|does|can|could|will|would)\s+{_YOU}\s+(?:give|make|do|offer|provide)\s+(?:\w+\s+)?(?:recommendations?|suggestions?|recs)\b"
    rf"|\b(?:are|is)\s+(?:your|the|these|those)\s+(?:recommendations?|suggestions?|picks?)\s+(?:personali[sz]ed|random|accurate|any\s+good|based)\b"
    rf"|\bhow\s+(?:good|accurate|reliable|smart)\s+(?:are|is)\s+(?:your|the|these)\s+(?:recommendations?|suggestions?|picks?)\b"
    rf"|\bwhat\s+(?:kinds?|sorts?|types?)\s+of\s+(?:recommendations?|suggestions?)\b"
    rf"|\bhow\s+(?:do|can|could|should)\s+i\s+(?:get|make)\s+(?:\w+\s+)?(?:recommendations?|suggestions?|picks?)\b"
    rf"|\b(?:recommend|suggest)\s+(?:movies?|films?)\s+based\s+on\s+(?:what|my)\b.*\?\s*$"
    rf"|^\s*is\s+this\s+(?:like|similar\s+to)\s+\w+"
    rf"|\bcan\s+{_YOU}\s+(?:also\s+)?\w+\s+(?:a\s+|any\s+|some\s+)?show\b"
    rf"|\bcan\s+{_YOU}\b[^?]*\b(?:too|as\s+well|also)\s*\?|\bcan\s+{_YOU}\s+tell\s+me\s+(?:who|what|when)\b[^?]*\ba\s+(?:movie|film)\b"
    rf"|\bwhat\s+(?:movies|films)\s+do\s+{_YOU}\s+(?:know|have)\b|\bhow\s+many\s+(?:movies|films)\b"
    rf"|\bwhat\s+do\s+{_YOU}\s+know\s+about\s+(?:movies|films|cinema)\b|\bwhat'?s\s+this\s+(?:app|thing|bot|site|tool)?\s*for\b"
    rf"|\bhow\s+do\s+{_YOU}\s+(?:pick|choose|decide|select|come\s+up|find)\b|\b(?:is\s+this|are\s+{_YOU})\s+(?:thing\s+)?(?:an?\s+)?(?:ai|bot|robot|human|chatbot)\b"
    rf"|\bdo\s+{_YOU}\s+only\b|\bwhat\s+(?:can|could)\s+i\s+ask\b"
    # what it does: "what else can you do", "what does this thing do", "what are you good at"
    rf"|\bwhat\s+(?:else|other\s+things|exactly|all)?\s*(?:can|could|do|does)\s+(?:{_YOU}|this|it|the)(?:\s+(?:bot|app|thing|tool|site|chatbot|assistant))?\s+(?:really\s+|actually\s+|even\s+)?do\b"
    rf"|\bwhat\s+(?:are|r)\s+{_YOU}\s+(?:good|great|best)\s+at\b|\bwhat\s+(?:else\s+)?(?:are|r)\s+{_YOU}\s+capable\b"
    r"|\b(?:your|its|the\s+bot'?s|the\s+app'?s)\s+(?:features?|capabilit(?:y|ies)|abilit(?:y|ies)|skills?|functions?|limits?|limitations?|purpose|name)\b"
    r"|\b(?:tell\s+me\s+(?:a\s+(?:bit|little)\s+)?about|introduce)\s+yourself\b|\bwhat'?s\s+the\s+point\s+of\s+(?:this|you|it)\b"
    rf"|\b(?:explain|tell\s+me)\s+how\s+(?:this|it|{_YOU}|the\s+\w+)\s+works?\b|\bhow\s+(?:does|do)\s+(?:the|your)\s+(?:recommendations?|suggestions?|system|app|bot|engine|algorithm)\s+work\b"
    rf"|\bhow\s+do\s+{_YOU}\s+(?:recommend|suggest|know|work|rank|learn|make|decide|understand|remember)\b|\bhow\s+(?:smart|clever|good|accurate)\s+(?:are|r)\s+{_YOU}\b"
    r"|\bwhere\s+do\s+(?:your|the|these|those|you\s+get\s+(?:your|the))\s*(?:recommendations?|suggestions?|picks?|data|info(?:rmation)?|movies|films)\b"
    rf"|\bwhat\s+(?:data|information|model|algorithm|sources?)\s+do\s+{_YOU}\b|\bhow\s+(?:big|large|recent|current|up\s+to\s+date|old)\s+is\s+your\b"
    r"|\bhow\s+up\s+to\s+date\b|\byour\s+(?:database|catalog(?:ue)?|data|library|collection)\b"
    rf"|\b(?:what|which)\s+(?:sorts?|kinds?|types?)\s+of\s+(?:movies|films|help|things|stuff|questions|requests)\s+(?:can|do|could)\s+{_YOU}\b"
    rf"|\b(?:what|which)\s+(?:movies|films)\s+(?:do|can)\s+{_YOU}\s+(?:have|cover|know|do)\b"
    rf"|\bwhat\s+(?:questions|requests|things)\s+(?:can|do|could)\s+{_YOU}\b|\bcan\s+{_YOU}\s+answer\s+questions\b"
    r"|\b(?:can|could|may|should)\s+i\s+ask\s+(?:you\s+)?(?:about|for|questions)\b|\bexamples?\s+of\s+what\b|\bwhat\s+(?:should|do|can)\s+i\s+(?:type|write)\b"
    rf"|\bhow\s+(?:should|do|can)\s+i\s+(?:talk|speak)\s+to\s+{_YOU}\b|\bam\s+i\s+(?:talking|chatting|speaking)\s+(?:to|with)\s+(?:a|an)\b"
    r"|\bis\s+this\s+(?:a\s+)?(?:real\s+)?(?:person|human|bot|robot|program|machine|ai|chatbot)\b"
    rf"|\bare\s+{_YOU}\s+(?:a\s+|an\s+)?(?:chat\s*gpt|gpt|program|machine|computer|llm|language\s+model|smart)\b"
    rf"|\b(?:do|can|will)\s+{_YOU}\s+(?:remember|learn|save|keep\s+track|speak|understand)\b|\bwhat\s+languages?\b"
    rf"|\bcan\s+{_YOU}\s+(?:play|stream|show|download|book|buy|order|rent)\s+(?:the\s+|a\s+|it|them|movies|films)"
    rf"|\b(?:do|can)\s+{_YOU}\s+(?:also\s+)?(?:do|know|cover|have|recommend|suggest|handle)\s+(?:\w+\s+)?(?:tv|shows?|series|books?|music|songs?|games?)\b"
    rf"|\bare\s+{_YOU}\s+able\s+to\b[^?]*\b(?:tv|shows?|series|books?|music|songs?|games?)\b"
    rf"|\b(?:do|can)\s+{_YOU}\s+(?:\w+\s+){{0,3}}(?:too|as\s+well|also)\s*\??\s*$"
    rf"|\bcan\s+{_YOU}\s+tell\s+me\s+where\s+to\s+(?:watch|stream|rent|buy)\b|\b(?:things|stuff)\s+{_YOU}\s+can\s+(?:do|help)\b",
    re.I,
)
#: Small talk and off-topic remarks (the ``chitchat`` intent) that carry a film word or a cue of their own.
_SMALL_TALK_RE = re.compile(
    rf"\bhow(?:'?s|\s+is|\s+was)\s+your\b|\bhow\s+are\s+{_YOU}\b|\bhow\s+about\s+{_YOU}\b|\bwhat\s+did\s+{_YOU}\s+do\b"
    rf"|\b(?:do|did|are|have|were)\s+{_YOU}\s+(?:have|having|had|like|ever|feel|enjoy|been|go)\b(?![^?]*\b(?:movies?|films?|seen)\b)"
    rf"|\bhow\s+old\s+(?:are|r)\s+{_YOU}\b|\bwhere\s+(?:are|r|do)\s+{_YOU}\s+(?:from|live)\b"
    r"|\bhelp\s+me\s+with\s+my\s+(?!movie|film|watch)\w+|\b(?:my|the)\s+(?:homework|essay|exam|taxes|code|math)\b"
    r"|\bweather\b|\bwhat\s+time\b|\bwho\s+won\b|\blol\b|\blmao\b|\bhaha+\b|\b(?:that'?s|that\s+is|thats)\s+(?:so\s+)?(?:funny|hilarious|cool|crazy|sad)\b"
    r"|^\s*i'?m\s+(?:good|fine|great|ok(?:ay)?|well|so\s+\w+|bored|tired|sick)\b|\bi\s+have\s+a\s+(?:cold|headache|flu)\b",
    re.I,
)
#: The user's own life ("my husband", "my day"): small talk only when the message asks for no genre
#: ("my husband hates musicals, we like comedies" is a request)
_PERSONAL_TALK_RE = re.compile(r"\bmy\s+(?:dad|mom|mother|father|wife|husband|boss|day|partner|girlfriend|boyfriend)\b", re.I)


_LAUGHS = frozenset("lol lmao rofl haha hahaha hehe heh xd".split())


def is_light_remark(text: str) -> bool:
    """A laugh or a bare acknowledgement ("lol ok", "haha nice"): small talk that wants no steer back to films."""
    words = re.findall(r"[a-z']+", fold(text))
    rest = [w for w in words if w not in _LAUGHS]
    return len(rest) < len(words) <= 4 and "?" not in text and _is_ack(" ".join(rest))


def asks_in_catalogue(text: str) -> bool:
    """Whether ``text`` asks if the catalogue holds a film ("is X in your list?", "do you have X?")."""
    return bool(_IN_CATALOGUE_RE.search(text))


#: Requests in so many words that :data:`_WANTS_RE` leaves to the rules ("can i get a recommendation",
#: "what's good on a rainy day"): they anchor a request against the intent model's second opinion only.
_REQUEST_WORDS_RE = re.compile(r"\b(?:recommend(?:ation)?s?|suggest(?:ion)?s?|recs)\b|\bwhat'?s\s+good\b|\bwhat\s+(?:is\s+)?good\b"
                               r"|\bwhat\s+(?:should|can|could|shall)\s+(?:we|i)\s+(?:watch|see|put\s+on)\b|\bwhat\s+to\s+watch\b", re.I)


def asks_for_something(text: str) -> bool:
    """Whether ``text`` asks for films in so many words ("something about nature", "give me ...",
    "can i get a recommendation")."""
    return bool(_WANTS_RE.search(text) or _REQUEST_WORDS_RE.search(text))


def _small_talk(text: str, constraints: ItemFilter | None = None) -> bool:
    """Whether ``text`` is small talk; with ``constraints``, a personal remark stating one is a request."""
    if _SMALL_TALK_RE.search(text):
        return True
    return bool(_PERSONAL_TALK_RE.search(text)) and (constraints is None or constraints.is_empty)
LOW_MOOD_NOTE = "A good film might help with that."
#: The user's low mood or tiredness ("I'm having a bad day", "so tired after work")
_LOW_MOOD_RE = re.compile(r"\b(?:bad|rough|long|terrible|awful|hard|tough|crappy|stressful)\s+(?:day|week|night|time)\b"
                          r"|\bi'?m\s+(?:so\s+|really\s+|pretty\s+|a\s+bit\s+)?(?:tired|bored|sad|down|stressed|exhausted|lonely|sick)\b"
                          r"|\bfeeling\s+(?:down|low|sad|blue|tired|sick)\b", re.I)
NO_OPINION_NOTE = ("I don't watch films myself, so I have no favourites of my own, but I know what thousands of "
                   "film fans have loved.")
#: The note of "is Heat in your list?" when it is: the answer says yes before what the catalogue holds.
IN_CATALOGUE_NOTE = "So yes, it is in my catalogue."
NO_VIEWING_NOTE = "I don't watch films myself, so that is what my catalogue says about it, not an opinion of mine."
#: Questions about the assistant's own taste: small talk, however many film words they hold
_OPINION_RE = re.compile(r"\byour\s+(?:(?:all[\s-]+time\s+)?favou?rite|fave|top\s+(?:pick|film|movie)|opinion)\b"
                         r"|\bwhat\s+(?:do|did)\s+(?:you|u)\s+(?:think|like)\b|\bdo\s+(?:you|u)\s+(?:even\s+)?(?:like|love|watch|enjoy)\b"
                         r"|\bhave\s+(?:you|u)\s+(?:ever\s+)?(?:seen|watched)\s+(?:a|any|many)\b", re.I)
#: Words that ask for something even in small talk ("I'm bored, give me something exciting")
_WANTS_RE = re.compile(r"\b(?:give|show|find|get)\s+me\b|\bsomething\b|\banything\b|\bwhat\s+should\s+i\b"
                       r"|\bin\s+the\s+mood\b|\blooking\s+for\b|\bi\s+(?:want|need)\b"
                       r"|\bmore\s+(?:with|by|from|like|of)\b|\banother\s+(?:one|film|movie)\b", re.I)
#: A bare acknowledgement or fragment with nothing to act on (the ``other`` intent).
_ACK_WORDS = frozenset("""ok okay k kk sure no nope yes yeah yep yup maybe uh um umm mm mmm hmm hm wait nevermind never mind
    i guess oh ah whatever then so well right alright fine what too hm huh eh meh cool nice great
    perfect awesome excellent wonderful lovely super sweet fantastic brilliant noted gotcha understood
    sounds looks good
    yea ya nah and the a an or but oh ahh hey true indeed""".split())
_CLOSING_RE = re.compile(
    r"\b(?:thanks?(?:\s+(?:you|u))?(?:\s+(?:so|very)\s+much|\s+a\s+lot|\s+a\s+bunch)?|thx|ty|tysm|cheers|many\s+thanks"
    r"|bye(?:\s*bye)?|goodbye|good\s*night|night\s+night|see\s+(?:you|ya)|later|ciao|farewell|take\s+care"
    r"|that'?s\s+(?:it|all|enough)|that\s+is\s+(?:it|all|enough)|that\s+will\s+do|that'?ll\s+do|i'?m\s+(?:done|all\s+set|set|good\s+now|off)"
    r"|all\s+set|(?:i'?ll|i\s+will|i'?m\s+going\s+to|we'?ll|we\s+will|we'?re\s+going\s+to|gonna)\s+(?:watch|go\s+with|try|check\s+out|pick|take|start\s+with)\b[^.!?]*"
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
    r"|thats\s+(?:it|all)|that'?s\s+(?:it|all|enough)|that\s+is\s+(?:it|all|enough)|that(?:'?ll|\s+will)\s+do|i'?m\s+(?:done|all\s+set|set|off)|all\s+set"
    r"|(?:i'?ll|i\s+will|i'?m\s+going\s+to|we'?ll|we\s+will|we'?re\s+going\s+to|gonna)\s+(?:watch|go\s+with|try|check\s+out|pick|take|start\s+with)"
    r"|have\s+a\s+(?:good|great|nice)|talk\s+(?:to\s+you\s+)?(?:later|soon)|nothing\s+else|enough\s+for|signing\s+off"
    r"|gotta\s+go|got\s+to\s+go|appreciate|we'?re\s+done|(?:look|looking)\s+into\s+(?:them|those|it)"
    r"|check\s+(?:them|those|it|these)\s+out|(?:that'?s|that\s+is|thats)\s+all\s+i\s+(?:need|needed|wanted)"
    r"|(?:great|good|nice)\s+day\s+to\s+(?:you|ya))\b",
    re.I,
)
_HELLO = r"(?:hi+|hello+|hey+a?|hiya|howdy|yo|hola|greetings|good\s+(?:morning|afternoon|evening|day)|sup|wh?a(?:t'?)?s+\s*up|heya)"
_GREETING_RE = re.compile(
    rf"^\s*{_HELLO}(?:[\s,!.]+{_HELLO})*"
    r"(?:\s+(?:there|you|again|all|everyone|friend|buddy|bot|folks|mate))*[\s!.,]*(?:[:;]-?[()dp][\s!.,]*)?"
    r"(?:(?:how\s+are\s+(?:you|u)(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going|what'?s\s+up|nice\s+to\s+meet\s+you"
    r"|(?:i\s+)?hope\s+(?:you'?re|you\s+are|all\s+is)\s+(?:doing\s+)?(?:well|good|great|fine|ok(?:ay)?)|good\s+(?:morning|afternoon|evening)"
    r"|how(?:'?s|\s+is|\s+was)\s+(?:your|the)\s+(?:day|evening|morning|night|week(?:end)?)(?:\s+going)?|[:;]-?[()dp])[\s!.,?]*)*$",
    re.I,
)
_QUESTION_START_RE = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|so|and|but|also|hmm+|um+|oh|well|wait|great|cool|nice|thanks?)[\s,!.]+)*"
    r"(?:who|whom|whose|what|what'?s|when|which|where|how|is|isn'?t|was|are|were|does|did|do|has|have|can|could|"
    r"tell\s+me|remind\s+me|any\s+idea|i\s+wonder|do\s+you\s+know)\b(?!['’]t|n['’]?t)",
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
    r"|\bcast\b|\bactors?\b|\bactress(?:es)?\b|\bstarring\b|\bwho\s+(?:voices?|voiced)\b"
    r"|\bwho\s+else\s+(?:is\s+|was\s+|'s\s+)?(?:in|stars?|starred|acts?|plays?)\b|\bvoice\s+(?:actors?|cast)\b|\bstars?\s+in\b|\bwho\s+stars\b|\bthe\s+(?:lead|stars)\b"
    r"|\bwho(?:'s|\s+is)\s+the\s+(?:star|lead)\b|\bwhat\s+actors?\b|\bwho\s+(?:are|were)\s+the\s+(?:actors|stars)\b",
    re.I,
)
_YEAR_RE = re.compile(
    r"\bwhen\b[^?]*\b(?:made|released|release|come\s+out|came\s+out|out|filmed|shot|from|premiere|produced)\b"
    r"|\bwhat\s+year\b|\bwhich\s+year\b|\byear\b|\brelease\s+(?:date|year)\b|\bhow\s+old\b|\bwhat\s+decade\b|\bwhen\s+(?:is|was)\s+(?:it|that|this)\b"
    # "is the third one new?", "is it an old film?": a yes/no about its age is answered with its year
    r"|^\s*(?:and\s+)?(?:is|was|isn'?t)\s+(?!there\b)[^?]{0,40}\b(?:new|newish|recent|modern|old|older|dated|a\s+classic)"
    r"(?:\s+(?:one|film|movie))?\s*\??\s*$",
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
#: "where can I watch it?", "is the second one on Netflix?", "where do I stream those": availability,
#: which the catalogue does not know (the answer says so rather than recommending again)
#: Facts the catalogue does not hold: running times and ratings, reviews or awards ("which one is the
#: longest?", "is the second one well rated?"). They are answered as unknown, never guessed.
_RUNTIME_RE = re.compile(r"\b(?:longest|shortest|how\s+long|running\s+time|run\s*time|runtime|length|minutes"
                         r"|hours?\s+long|too\s+long|long\s+is)\b", re.I)
_RATING_RE = re.compile(r"\b(?:best|highest|top|better|well|worst|lowest)[\s-]+rated\b|\bratings?\b|\bscores?\b"
                        r"|\brated\s+(?:r|pg(?:[\s-]?13)?|g|nc[\s-]?17|x)\b|\b(?:r|pg(?:[\s-]?13)?|nc[\s-]?17)[\s-]+rated\b|\bmpaa\b|\bage\s+rating\b|\bcertificat\w*\b"
                        r"|\breviews?\b|\bimdb\b|\brotten\s+tomatoes\b|\bmetacritic\b|\boscars?\b|\bawards?\b"
                        r"|\bcritics?\b"
                        # "the third one, is it good?", "is that one any good?", "worth watching?": a verdict the
                        # catalogue cannot give (no ratings or reviews), not the user's liking
                        r"|\b(?:is|was|are)\s+(?:it|that|this|they|those|these|that\s+one|this\s+one|the\s+\w+(?:\s+one)?)\s+"
                        r"(?:any\s+|really\s+|actually\s+|even\s+)?good\s*\?|\bworth\s+(?:watching|seeing|a\s+watch)\b", re.I)
#: "is it based on a book?", "adapted from a comic?": what a film was adapted from (not in the catalogue;
#: "a true story" is the biography genre, which the catalogue has)
_SOURCE_RE = re.compile(r"\bbased\s+on\s+(?:an?\s+|the\s+)?(?:books?|novels?|comics?|graphic\s+novels?|plays?|video\s*games?"
                        r"|manga|short\s+stor(?:y|ies))\b|\badapt(?:ed|ation)\s+(?:of|from)\b|\bbook\s+(?:first|version)\b", re.I)
_WHERE_RE = re.compile(
    r"\bwhere\s+(?:can|could|do|does|should|would|might|is|are)\s+(?:i|we|you|one|it|they|that|this|those|these)?\s*"
    r"(?:\w+\s+)?(?:watch|stream|see|find|get|buy|rent|download|playing|showing|available|streaming)\b"
    r"|\b(?:is|are)\s+(?:it|that|this|they|those|these|the\s+\w+(?:\s+one)?)\s+(?:\w+\s+)?(?:on|streaming\s+on|available\s+on)\s+"
    r"(?:netflix|hulu|prime|amazon|disney|hbo|max|youtube|apple|peacock|paramount|any\s+streaming)\b"
    r"|\b(?:streaming|showtimes?|in\s+(?:theaters?|cinemas?)|on\s+(?:netflix|hulu|prime|dvd|blu-?ray))\s*\??\s*$",
    re.I,
)
#: a yes/no question about the film pointed at ("is the second one violent?", "does it have a happy ending?")
_YES_NO_RE = re.compile(r"^\s*(?:and\s+|so\s+|but\s+)?(?:is|was|isn'?t|wasn'?t|does|did|would|will)\s+(?!there\b)", re.I)
_NEWEST_RE = re.compile(r"\b(?:newest|latest|most\s+recent(?:ly)?|youngest|newer|more\s+recent(?:ly)?|came\s+out\s+last"
                        r"|last\s+to\s+come\s+out|(?:came|come)\s+out\s+(?:most\s+)?recently|released\s+(?:most\s+)?(?:recently|last))\b", re.I)
_OLDEST_RE = re.compile(r"\b(?:oldest|earliest|older|came\s+out\s+first|first\s+to\s+come\s+out|released\s+first"
                        r"|(?:came|come)\s+out\s+(?:the\s+)?earliest)\b", re.I)
_POPULAR_RE = re.compile(r"\b(?:most\s+popular|best\s+known|most\s+famous|more\s+popular|better\s+known)\b"
                         # "which is the best of these?": the catalogue has no ratings; the best known is its answer
                         r"|\bwhich\s+(?:one\s+|of\s+(?:these|them|those)\s+)?(?:is|was)\s+(?:the\s+)?best\b", re.I)
#: a question over several films: "which of these", "which one", "any of them", "do any"
_ACROSS_RE = re.compile(
    r"\b(?:which|what)\s+(?:one|ones|of|is|are|film|movie|films|movies)\b|\bwhich\b|\bany\s+of\b|\b(?:do|does|are|is)\s+any\b"
    r"|\bhow\s+many\b|\bare\s+(?:they|these|those|all)\b|\b(?:among|between)\s+(?:them|these|those|the\s+\w+)\b",
    re.I,
)
_WHY_EXTRA_RE = re.compile(
    r"\bwhat\s+made\s+you\s+(?:choose|pick|suggest|recommend|go\s+with|think\s+of|add|include)\b|\breasoning\b|\bwhy\s+(?:did|would)\s+you\b"
    r"|\bwhat\s+(?:does|do|did)\b[^?]*\bhave\s+to\s+do\s+with\b|\b(?:connection|link)\s+(?:with|to|between)\b"
    r"|\bhow\s+(?:is|are|was)\b[^?]*\brelated\s+to\b"
    r"|\bhow\s+(?:is|does)\b[^?]*\b(?:similar|related|fit|match)\w*\s+(?:to\s+)?what\s+i\b|\bwhat'?s\s+the\s+reason\b",
    re.I,
)
_LIKE_FILM_RE = re.compile(
    r"\b(?:in\s+the\s+vein\s+of|same\s+(?:vibe|feel|style|tone|kind)\s+as|(?:stuff|things|something|anything|more)\s+like"
    r"|what\s+else\s+is\s+like|along\s+the\s+lines\s+of|(?:movies?|films?)\s+like|reminiscent\s+of|comparable\s+to"
    r"|akin\s+to|in\s+the\s+(?:style|spirit)\s+of|(?:kind|sort)\s+of\s+like|(?:feels?|looks?)\s+like|reminds?\s+(?:me|one)\s+of"
    r"|(?:movies?|films?|ones?|anything|something)\s+(?:that\s+(?:are|is|feel|feels)|which\s+(?:are|is))\s+(?:a\s+(?:bit|lot)\s+)?like"
    r"|resembl(?:ing|es?)|(?:anything|something|what)\s+else\s+like"
    r"|^\s*like\b|similar\s+to|(?:if|since)\s+i\s+(?:liked|loved|enjoyed)\b[^?]*\bwhat\s+else)",
    re.I,
)
_NOT_SEEN_EXTRA_RE = re.compile(
    r"\b(?:do\s*n[o']?t|dont)\s+think\s+i'?(?:ve|\s+have)\s+(?:\w+\s+)?(?:seen|watched)|\bhavent\b|\bnot\s+(?:\w+\s+)?seen\b",
    re.I,
)
#: "something completely different", "start afresh": a new request even with a slate shown
_AFRESH_RE = re.compile(r"\bsomething\s+(?:completely\s+|totally\s+|entirely\s+)?different\b|\bafresh\b|\bnew\s+search\b"
                        r"|\bstart(?:ing)?\s+(?:over|again)\b|\bfrom\s+scratch\b|\bforget\s+(?:that|those|these|all|everything)\b",
                        re.I)
#: With a slate shown, words of a message that adjusts it ("a bit lighter", "and family friendly please")
_REFINE_HINT_RE = re.compile(
    r"^\s*any\s+(?:with|without|from|in|that|where|starring|by)\b"
    r"|\b(?:something|anything|ones?|please|want|need|less|more|without|no|not|but|instead|rather|bit|friendly|too)\b"
    r"|\b\w{3,}er\b",
    re.I,
)
#: "and the second one?", "what about Alien?", "how about the last one": the same question about another film
FOLLOW_UP_RE = re.compile(r"^\s*(?:(?:and|ok(?:ay)?|so)[\s,]+)?(?:what\s+about|how\s+about|and)\b(?!.*\b(?:something|anything|movies?"
                          r"|films?|else|more|other)\b)[^.!]{0,60}\??\s*$", re.I)
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
    #: the film the message judges and how (what the conversation state notes), whatever the intent:
    #: "thanks, loved it" closes *and* likes the top pick
    judged: tuple[str, Stance] | None = None
    #: a specific cue decided a default-looking intent (small talk the rules recognise): no second opinion
    cued: bool = False
    #: a sentence the reply owes the user whatever the generator writes (an honest "I have no favourites")
    note: str = ""


def is_closing(text: str) -> bool:
    """Whether ``text`` only closes the conversation ("ok great, that's it for tonight", "thanks, bye")."""
    if not _CLOSING_CORE_RE.search(text):
        return False
    rest = _CLOSING_RE.sub(" ", text)
    return not re.search(r"[^\W_]", re.sub(r"\b(?:for|it|that|you|all|me|the|a|one|this|very|much|again|really"
                                           r"|help|helping|your|so|and|i|oh|will|ll|now|tonight|today|lot|just|guys?"
                                           r"|then|bit|later|movie|film|suggestions?|recommendations?|picks?|list"
                                           r"|everything|night|evening|there)\b", " ", rest, flags=re.I))


def firm_mentions(mentions: Sequence[Mention]) -> tuple[Mention, ...]:
    """The mentions that are surely titles: a lower-case everyday phrase linked on a cue ("I love
    popcorn", "what's your name?", "the fourth looks awesome") does not turn small talk into a request."""
    return tuple(m for m in mentions if m.how == "gold" or any(c.isupper() or c.isdigit() for c in m.surface))


def is_capabilities(text: str) -> bool:
    """Whether ``text`` asks what the assistant is or can do ("what are you for?")."""
    return bool(_CAPABILITIES_RE.search(text))


def is_greeting(text: str) -> bool:
    return bool(_GREETING_RE.match(text))


_CONTRACTIONS = ((r"\bwhos\b", "who is"), (r"\bwhats\b", "what is"), (r"\bhows\b", "how is"),
                 (r"\bthats\b", "that is"), (r"\bwhens\b", "when is"), (r"\bwheres\b", "where is"))
#: "have you seen it?", "which ones do you like?", "your favourite?": the user asks the assistant's
#: own view or experience, not a catalogue fact
_TO_YOU_RE = re.compile(r"\b(?:do|did|have|would|will|could|ever)\s+(?:you|u|ya)\b(?!\s+know\b)|\byour\s+(?:favou?rite|opinion|view)"
                        r"|\b(?:you|u)\s+(?:like|liked|loved|enjoyed|think|recommend|suggest)\b", re.I)
#: "None of those. Maybe a comedy?", "not these": the slate is turned down, whatever follows
_REJECT_RE = re.compile(r"^\W*(?:no[,.!\s]+)?(?:none\s+of|not)\s+(?:those|these|them|that|this|any)\b", re.I)
#: "is Lady Bird in your list?", "do you have X in your catalogue?": whether the catalogue holds a film
_IN_CATALOGUE_RE = re.compile(r"\b(?:in|on)\s+your\s+(?:list|catalog(?:ue)?|database|collection|library|system)\b"
                              r"|\bin\s+the\s+(?:catalog(?:ue)?|database)\b"
                              # "do you have Heat?" (the title right after: "do you have anything like Heat?" asks for more)
                              r"|\bdo\s+you\s+(?:have|know)\s+(?:the\s+(?:movie|film)\s+)?[\"“]?(?-i:[A-Z0-9])[^?]*\?$", re.I)
_HOLIDAY_WISH_RE = re.compile(r"^\W*(?:and\s+|you\s+too[,!.\s]*)?(?:a\s+)?(?:merry\s+(?:christmas|xmas)|happy\s+(?:holidays|new\s+year"
                              r"|thanksgiving|halloween|easter|hanukkah|birthday)|season'?s\s+greetings)"
                              r"(?:\s+(?:to\s+you|to\s+all|everyone|again|too))*\W*$", re.I)
#: "he loves dinosaurs", "she's really into trains": a taste that is no genre, something to search for
_TASTE_RE = re.compile(r"\b(?:loves?|likes?|adores?|(?:is|are|'s|'re)\s+(?:really\s+|very\s+)?into|obsessed\s+with"
                       r"|crazy\s+about|(?:a\s+)?(?:big\s+|huge\s+)?fan\s+of)\s+(?!it\b|that\b|this\b|them\b|you\b|me\b|to\b|[a-z]+ing\b)[a-z]{3,}", re.I)
_WHY_WORD_RE = re.compile(r"\b(?:why|how\s+come|what\s+made\s+you)\b", re.I)
#: "what about the most famous one?": a question across the slate, although it opens like a request
_SUPERLATIVE_ONE_RE = re.compile(r"\bthe\s+(?:most\s+\w+|newest|oldest|latest|earliest|best\s+known|longest|shortest)"
                                 r"\s+(?:one|of\s+(?:them|these|those))\b", re.I)
#: "what about ones with X?", "how about ...", "any with ...": a request, not a question about a film
_REQUEST_QUESTION_RE = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\b|^\s*(?:any|anything|something|ones?)\s+(?:with|by|from)\b"
                                  # "can we go newer than these?", "anything older than those?": a request
                                  r"|\b(?:go|something|anything|ones?|films?|movies?|stuff)\s+(?:a\s+bit\s+|a\s+little\s+|much\s+|even\s+)?"
                                  r"(?:newer|older|more\s+recent|earlier)\s+than\s+(?:these|those|them|that|this|the\s+\w+)\b",
                                  re.I)


def _folded(text: str) -> str:
    low = fold(text).replace("’", "'")
    for rx, rep in _CONTRACTIONS:
        low = re.sub(rx, rep, low)
    return low


def read_question(text: str, constraints: ItemFilter, people: Sequence[PersonMention], refs: Sequence[str],
                  slate: Sequence[str], named: bool) -> tuple[Intent, str] | None:
    """(``ask_fact`` or ``compare``, attribute) when ``text`` asks about films, else ``None``.

    ``refs`` are the films pointed at; ``named`` whether a film was named by title.
    """
    low = _folded(text)
    if (_REQUEST_QUESTION_RE.search(low) and not _SUPERLATIVE_ONE_RE.search(low)) or _REJECT_RE.match(low) \
            or _TO_YOU_RE.search(low):
        return None
    starts = bool(_QUESTION_START_RE.match(low))
    question = "?" in low or starts or bool(re.search(r"\b(?:which|who|when|what)\b", low))
    if not question:
        return None
    if _WHERE_RE.search(low) and (refs or named or slate):
        return "ask_fact", "where"
    for rx, unlisted in ((_RUNTIME_RE, "runtime"), (_RATING_RE, "rating"), (_SOURCE_RE, "source")):
        if rx.search(low) and (refs or named or slate):
            # "which one is the longest?" asks across the slate; "how long is the second one?" about one film
            return ("ask_fact" if refs or named or len(slate) < 2 else "compare"), unlisted
    several = len(refs) > 1 or (not refs and len(slate) > 1)
    across = (bool(_ACROSS_RE.search(low)) or len(refs) > 1 or bool(re.search(r"\bthe\s+\w+(?:\s+\w+)?\s+one\b", low))) \
        and (several or not named) and bool(slate or len(refs) > 1)
    if across:
        if _NEWEST_RE.search(low):
            return "compare", "newest"
        if _OLDEST_RE.search(low):
            return "compare", "oldest"
        if _POPULAR_RE.search(low):
            return "compare", "popular"
    for rx, attribute in ((_DIRECTOR_RE, "director"), (_CAST_RE, "cast"), (_YEAR_RE, "year"),
                          (_GENRE_RE, "genre")):
        if rx.search(low) and (refs or named or slate):
            if attribute == "director" and across and people and not refs:
                return "compare", "has_person"
            return "ask_fact", attribute
    if across and people and (_ACROSS_RE.search(low)):
        return "compare", "has_person"
    if across and not people and re.search(r"\b(?:direct(?:ed|s)?|directors?)\b", low):
        return "ask_fact", "director"  # "has he directed any of these?": who directed each of them
    if across and not people and re.search(r"\b(?:in|star|stars|starring|acts?|acted|plays?|played|cast)\b", low) \
            and re.search(r"\b(?:he|she|they|him|her)\b", low):
        return "ask_fact", "cast"  # "is she in any of them?": who is in each of them
    if across and constraints.genres and (_ACROSS_RE.search(low)):
        return "compare", "has_genre"
    if across and (constraints.year_min is not None or constraints.year_max is not None) and _ACROSS_RE.search(low) \
            and re.search(r"\b(?:which|how\s+many)\b", low):
        # "which of them came out in the 2000s?" asks about the slate; "any of those from before 2000?" asks for films
        return "compare", "has_year"
    short = len(low.split()) <= 12
    if (refs or named) and (starts or short) and not _LIKE_FILM_RE.search(low):
        if people and re.search(r"\b(?:in|with|star|stars|starring|by|feature|features|have|has)\b", low):
            role = "director" if re.search(r"\b(?:by|direct|directed|director)\b", low) else "cast"
            return "ask_fact", role
        if constraints.genres and re.search(r"^\s*(?:and\s+|so\s+)?(?:is|was|isn'?t|are|does|would|it'?s)\b", low):
            return "ask_fact", "genre"
        if _ABOUT_RE.search(low):
            return "ask_fact", "about"
        if "?" in low and _YES_NO_RE.search(low):
            # "is the third one violent?", "was it scary?": a yes/no about a film the catalogue can
            # answer only from its genres and keywords, which the "about" answer lists
            return "ask_fact", "about"
        if re.search(r"^\s*(?:and\s+)?(?:what|tell\s+me)\b[^?]*\b(?:is|was|'s)\s+(?:it|that|this)(?:\s+one)?\b[\s?!.]*$", low):
            return "ask_fact", "about"
    return None


#: Spoken fillers, however long they are drawn out: "hmmm", "ummm", "uhh", "ahh", "mhm", "errr"
_FILLER_RE = re.compile(r"^(?:h+m+|u+m+|u+h+|a+h+|o+h+|m+h*m+|e+r+m*|h+u+h+|o+k+a*y*|o+k+e+y*|y+e+a+h*|y+a+|n+a+h+|k+)$")
#: Bare reactions with nothing to act on: "i see", "fair enough", "idk", "let me think", "hold on"
_ACK_PHRASE_RE = re.compile(
    r"\b(?:i\s+see|fair\s+enough|let\s+me\s+(?:think|see)"
    r"|hold\s+on|(?:one|a)\s+(?:sec(?:ond)?|moment|min(?:ute)?)|just\s+a\s+(?:sec(?:ond)?|moment|minute)|gotcha|got\s+it|i\s+mean"
    r"|interesting|anyway|anyways|sorry|oops|whoops|what\s+do\s+(?:you|u)\s+mean|come\s+again|never\s*mind|please"
    r"|uh\s+huh|oh\s+well|ok(?:ay)?\s+then|if\s+you\s+say\s+so|hard\s+to\s+say|good\s+question)\b", re.I)


#: "not sure", "no idea", "idk": with a slate shown, an answer that carries the search on (refine)
#: A whole message saying the user has no preference, as an answer to the engine's question ("i don't know,
#: any", "no one in particular", "doesn't matter", "whatever you think"): go on with other films, no steer.
_NO_PREFERENCE_RE = re.compile(
    r"^\W*(?:(?:um+|hm+|well|honestly|i\s+guess|idk|dunno|i\s+(?:do\s*n[o']?t|dont)\s+(?:know|mind|care)|not\s+sure|no\s+idea)\W*)*"
    r"(?:any(?:one|body|thing)?(?:\s+(?:really|works|is\s+fine|will\s+do|of\s+them))?|whatever(?:\s+you\s+(?:think|like|want))?"
    r"|either(?:\s+(?:one|way))?|whichever|no\s+preference|no\s+one(?:\s+in\s+particular)?|nobody(?:\s+in\s+particular)?"
    r"|not\s+really|nothing\s+in\s+particular|(?:it\s+)?does\s*n[o']?t\s+matter|up\s+to\s+you|you\s+(?:choose|pick|decide)"
    r"|i\s+(?:do\s*n[o']?t|dont)\s+(?:mind|care))\W*$", re.I)
_UNSURE_RE = re.compile(r"\b(?:idk|dunno|i\s+(?:do\s*n[o']?t|dont)\s+know|not\s+sure|no\s+idea)\b", re.I)


def _is_ack(text: str, slate: Sequence[str] = ()) -> bool:
    """Whether ``text`` is only acknowledgements, fillers and typo marks ("hmmm ok", "i see", "*recommend");
    with a ``slate`` shown, "not sure" / "no idea" ask for other films and are no acknowledgement."""
    low = fold(text).replace("’", "'")
    if re.fullmatch(r"\W*\*\s*\w+\W*|\W*\w+\s*\*\W*", low):
        return True  # "*recommend", "too*": a correction of the previous message's typo
    if not slate:
        low = _UNSURE_RE.sub(" ", low)
    words = re.findall(r"[a-z']+", _ACK_PHRASE_RE.sub(" ", low))
    return all(w in _ACK_WORDS or _FILLER_RE.match(w) for w in words)


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
    base, base_target, base_stance = detect_intent(text, masked, mentions, constraints, slate, focus)
    firm = firm_mentions(mentions)
    if base == "recommend" and len(firm) < len(mentions):
        # "show me stuff like Goodfellas", "the fourth looks awesome": an everyday word linked as a
        # title hid the cue; read again with only the firm titles masked
        soft = mask(text, [m.span for m in firm] + [p.span for p in people])
        again = detect_intent(text, soft, firm, constraints, slate, focus)
        if again[0] in ("more_like", "feedback", "refine", "why"):
            (base, base_target, base_stance), masked, mentions = again, soft, firm
    judged = (base_target, base_stance) if base == "feedback" and base_target is not None else None
    reading = _classify(text, masked, mentions, people, constraints, slate, item, focus,
                        (base, base_target, base_stance))
    if reading.intent in QUESTION_INTENTS and base_stance in ("liked", "disliked"):
        judged = None  # "is the third one any good?" asks; it does not judge (but "never saw it, what's it about?" says)
    if judged is not None and reading.intent == "feedback" and reading.target is not None \
            and reading.target != judged[0] and all(m.item_id != judged[0] for m in mentions):
        judged = (reading.target, judged[1])  # "loved it" right after a question about the third one judges that one
    return replace(reading, judged=judged)


def _classify(text: str, masked: str, mentions: Sequence[Mention], people: Sequence[PersonMention],
              constraints: ItemFilter, slate: Sequence[str], item: Callable[[str], Item | None],
              focus: str | None, base: tuple[Intent, str | None, Stance]) -> Reading:
    refs = resolve_refs(text, masked, mentions, people, slate, item, None)
    pointed = resolve_refs(text, masked, mentions, people, slate, item, focus)
    bare = not mentions and constraints.is_empty and not people
    stance = stance_of(masked)
    if _HOLIDAY_WISH_RE.match(text):  # "merry christmas!": a wish, not a request for Christmas films
        return Reading("thanks_bye")
    if (_CLOSING_CORE_RE.search(text) and not _MORE_RE.search(masked) and constraints.is_empty
            and not (slate and stance == "disliked") and (is_closing(text) or "?" not in text)):
        return Reading("thanks_bye")
    if not firm_mentions(mentions) and is_capabilities(text):
        return Reading("capabilities")
    if bare and is_greeting(text):
        return Reading("greeting")
    known_q = _IN_CATALOGUE_RE.search(text) and not _WHY_WORD_RE.search(text)
    if known_q and firm_mentions(mentions):  # "is Lady Bird in your list?": yes, and what the catalogue says of it
        target = firm_mentions(mentions)[0].item_id
        return Reading("ask_fact", target, "neutral", (target,), "about", note=IN_CATALOGUE_NOTE)
    if slate and _WHY_EXTRA_RE.search(text):
        target = pointed[0] if pointed else slate[0]
        return Reading("why", target, "neutral", pointed or (target,))
    # "right? I loved him in Heat", "I really liked that movie though ... (a long story)?": a judgement
    judging = any(m.stance in ("liked", "disliked") for m in mentions) or (
        stance in ("liked", "disliked") and len(text.split()) > 12)
    if judging and "?" in text and (_RATING_RE.search(text) or _RUNTIME_RE.search(text)):
        judging = False  # "what are the reviews like for Memento?" asks

    asked = None if judging else read_question(text, constraints, people, pointed, slate, bool(mentions))
    if asked is not None:
        intent, attribute = asked
        targets = pointed
        if intent == "compare":
            own = resolve_refs(text, masked, mentions, (), slate, item, None)
            targets = own if len(own) > 1 else tuple(slate) if len(slate) > 1 else targets
        if targets:
            return Reading(intent, targets[0], "neutral", targets, attribute)
        if intent == "ask_fact" and slate and not mentions and constraints.is_empty:
            # "who's the director?" with nothing pointed at: a question all the same (the reply asks which film)
            return Reading(intent, None, "neutral", (), attribute)
    if asked is None and not judging and slate and pointed and "?" in text and _TO_YOU_RE.search(_folded(text)) \
            and not _WANTS_RE.search(masked) and not _MORE_RE.search(masked) and base[0] != "why" \
            and not _WHY_WORD_RE.search(text):
        # "have you seen the first one?", "do you like Heat?" about a film shown: no taste of its own to
        # give, but what the catalogue says about the film (with no slate, "have you seen Alien?" asks for more)
        return Reading("ask_fact", pointed[0], "neutral", pointed[:1], "about", note=NO_VIEWING_NOTE)
    if _NOT_SEEN_EXTRA_RE.search(masked) and stance in ("seen", "neutral"):
        stance = "not_seen"
    intent, target, st = base
    if not mentions and not people and constraints.is_empty and _NO_PREFERENCE_RE.match(_folded(text)):
        return Reading("refine" if slate else "recommend")  # "i don't know, any": other films, no steer
    if intent in ("refine", "other", "chitchat", "recommend") and not firm_mentions(mentions) and not people \
            and constraints.is_empty and _is_ack(text, slate):
        return Reading("other")  # "hmm", "not sure", "i see": nothing to act on, even with a slate shown
    if (intent in ("other", "chitchat") and slate and not _small_talk(text)
            and (stance in ("seen", "not_seen") or (stance in ("liked", "disliked") and pointed))):
        intent, target, st = "feedback", (pointed or slate)[0], stance
        pointed = pointed or (target,)
    if intent == "refine" and _AFRESH_RE.search(masked):
        intent = "recommend"
    if intent == "refine" and stance == "not_seen" and constraints.is_empty and not people and not _MORE_RE.search(masked):
        # "none of these ring a bell": not a rejection of the slate, a word on what the user has seen
        intent, target, st = "not_seen", (pointed or slate or (None,))[0], "not_seen"
    if intent == "feedback" and stance == "not_seen":
        st = "not_seen"
    if intent == "feedback" and st in ("seen", "not_seen"):
        intent = st
    elif intent == "recommend" and mentions and _LIKE_FILM_RE.search(masked):
        intent, target = "more_like", mentions[0].item_id
    elif intent == "recommend" and mentions and not constraints.genres and len(mentions) == 1:
        ms = mentions[0].stance
        if ms in ("seen", "not_seen") and not _MORE_RE.search(masked) and not re.search(r"\b(?:like|want)\b", masked, re.I):
            intent, target, st = ms, (pointed or (mentions[0].item_id,))[0], ms
    cued, note = False, ""
    if intent in ("other", "chitchat", "recommend") and not firm_mentions(mentions) and not people \
            and constraints.is_empty and _OPINION_RE.search(text) and not _WANTS_RE.search(masked):
        intent, cued = "chitchat", True  # "what's your favourite film?": the assistant has none to give
        note = NO_OPINION_NOTE
    if intent in ("other", "chitchat", "recommend") and not firm_mentions(mentions) and not people \
            and (constraints.is_empty or "?" not in text) and _small_talk(text, constraints) \
            and not re.search(r"\b(?:recommend|suggest|movies?|films?|watch)\b", text, re.I) \
            and not _WANTS_RE.search(masked):  # "I'm bored, give me something exciting" asks
        intent, cued = "chitchat", True
    elif intent in ("other", "chitchat"):
        intent = "other" if _is_ack(text) else "refine" if slate and _REFINE_HINT_RE.search(masked) else "chitchat"
    if intent in ("other", "chitchat") and not cued and not _small_talk(text) and _TASTE_RE.search(masked):
        # "he loves dinosaurs": a taste to search for, on the slate shown or afresh
        intent, cued = ("refine" if slate else "recommend"), True
    if intent in ("feedback", "seen", "not_seen") and pointed and target not in pointed:
        target = pointed[0]  # "loved it" right after a question about the third one: the third one
    if intent == "chitchat" and not note and _LOW_MOOD_RE.search(text):
        note = LOW_MOOD_NOTE  # "I'm having a bad day": a kind word, then films (no apology, no therapy)
    out_refs = pointed if intent in POINTING_INTENTS else refs
    if intent in ("why", "more_like", "feedback", "seen", "not_seen") and target is not None and target not in out_refs:
        out_refs = (target, *out_refs)
    return Reading(intent, target, st, out_refs, None, cued=cued, note=note)



def wants_more(query: str) -> bool:
    """Whether a question also asks for new films ("who's in it? and show me more like it")."""
    return bool(_MORE_RE.search(query))
