"""Sentence rules: content a reply must never show, whatever films it names.

Small language models write things no catalogue supports: a made-up link ("You can find them
here: https://www.youtube.com/watch?..."), shops and streaming services ("You could also find it
on Netflix"), prices, notes to themselves ("Note: you could ask the user if ..."), role labels
("Assistant:"), a sentence cut in the middle ("Rebel ( Is there a director"), or a claim that
nothing matched when a slate is on screen. The catalogue knows titles, people, years and genres;
it knows nothing about availability, so every such sentence goes.

The rules are data: :data:`RULES` is a table of :class:`SentenceRule` (kind, name, pattern,
action, condition), read top to bottom; the first rule that fires decides. ``action`` is
``"drop"`` (the sentence goes), ``"strip"`` (the matched span goes and the rest of the
sentence stays, e.g. a link in brackets after a title) or ``"keep"`` (the sentence is an exception
to the rules of its kind below: "I can't tell you where to watch it: my catalogue knows nothing of
streaming services" says what the shop rules protect, so no shop rule reads it). Two checks are code, not patterns:
unbalanced brackets or quotes (faces such as ":)" are no brackets), and an unfinished last
sentence (one that ends on a word that cannot end a sentence: "the", "and", a comma; for a
language model's reply also a preposition or an auxiliary, "about", "with", "is": where the token
limit cut it). A model's last sentence that merely lacks its full stop ("You might enjoy Heat (1995)
if you like crime films") is finished, not cut: the fine-tuned model writes as ReDial's people do,
often without a final stop; :func:`workbench.dialogue.sentences.tidy` adds it. Each rule's ``kind``
is the grounding fix category it counts under: ``link``, ``shop``, ``instruction``, ``cut``,
``off_task`` or ``unchecked`` (awards, box office, reviews and scores, release scheduling: facts no
catalogue film holds).

Callers mask the slate's titles first (:func:`mask_spans`), so "Little Shop of Horrors" or
"The Netflix Affair" never trip a rule.

It knows text; it does not know items, the catalogue, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

RuleKind = Literal["link", "shop", "instruction", "cut", "off_task", "unchecked"]
RuleAction = Literal["drop", "strip", "keep"]
#: When a rule applies: always, only while a slate is shown, only when the user's messages
#: do not themselves talk about it (``"user_silent"``: a condolence when nobody mentioned a loss), or
#: only when the user's last message just thanked or acknowledged (``"after_thanks"``: see :func:`thanks_only`).
RuleWhen = Literal["always", "slate", "user_silent", "after_thanks"]


@dataclass(frozen=True)
class SentenceRule:
    """One row of the rule table."""

    kind: RuleKind
    name: str
    pattern: re.Pattern[str]
    action: RuleAction = "drop"
    when: RuleWhen = "always"
    #: for ``when="user_silent"``: the rule is off when this matches the user's messages
    user_pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class RuleHit:
    """A rule that fired on a sentence: what it matched and what became of the sentence."""

    kind: RuleKind
    name: str
    span: str
    dropped: bool


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_SERVICES = (
    r"netflix|hulu|amazon(?:\s+(?:prime|video))?|prime\s+video|disney\s*(?:\+|plus)|hbo(?:\s*(?:max|go|now))?"
    r"|youtube|you\s+tube|redbox|itunes|apple\s+tv|google\s+play|vudu|peacock|paramount\s*(?:\+|plus)"
    r"|crackle|tubi|showtime|starz|fandango|blockbuster\s+(?:video|store)|crunchyroll|pluto\s*tv|kanopy|mubi|fubo|sling"
    r"|criterion\s+channel|walmart|best\s+buy|ebay|costco|gamestop|movies\s+anywhere"
)
_IT = r"(?:it|them|these|those|this(?:\s+one)?|that(?:\s+one)?|the\s+(?:films?|movies?|dvds?|series)|all\s+of\s+them)"

#: The rule table, read top to bottom; the first rule that fires decides a sentence.
RULES: tuple[SentenceRule, ...] = (
    # links, e-mail addresses, phone numbers: a link in brackets is cut, anything else drops the sentence
    SentenceRule("link", "bracketed-link",
                 _rx(r"\s*[(\[]\s*(?:see\s+|at\s+|link:?\s*)?(?:https?://|www\.)[^()\[\]\s]*\s*[)\]]"), "strip"),
    SentenceRule("link", "email", _rx(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
    SentenceRule("link", "url", _rx(r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|org|net|io|tv|ly|be)(?:/\S*)?\b")),
    SentenceRule("link", "phone", _rx(r"(?<![\w(])(?:\+?\d{1,3}[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")),
    SentenceRule("link", "link-word", _rx(r"\b(?:(?:click|tap)\s+(?:here|the\s+link|on)|(?:the|this|a)\s+link\b"
                                          r"|(?:link|url)s?\s+(?:below|above|here|to)\b|hyperlink"
                                          r"|\b(?:find|see|check|get|read|learn|watch)\b[^.!?]*\b(?:here|below|online)\s*:?\s*$)")),
    # shops, streaming services, prices, where to watch: the catalogue knows nothing about availability
    # (saying so is no availability claim: the engine's own answer to "where can I watch it?")
    SentenceRule("shop", "no-availability-disclaimer",
                 _rx(rf"^(?!.*\b(?:but|though|however|although|yet)\b[^.!?]*\b(?:{_SERVICES})\b)(?:.*\b(?:can(?:not|['’]t)"
                     r"|don['’]t|do\s+not|am\s+not\s+able\s+to)\s+(?:tell|say|know)\b[^.!?]*"
                     r"\bwhere\s+(?:to|you\s+can)\s+(?:watch|stream|buy|rent|find)\b"
                     r"|.*\bknows?\b[^.!?]*\bnot\s+(?:streaming\s+services|shops|availability|where)\b)"), "keep"),
    SentenceRule("shop", "service", _rx(rf"\b(?:{_SERVICES})\b")),
    SentenceRule("shop", "store", _rx(r"\b(?:(?:toy|video|dvd|book|record|department|grocery|rental|online|local"
                                      r"|movie|electronics?)\s+(?:stores?|shops?|retailers?)|stores?\b|shops?\b"
                                      r"|retailers?|supermarkets?)")),
    SentenceRule("shop", "price", _rx(r"[$€£¥]\s?\d|\b\d+(?:[.,]\d+)?\s?(?:dollars|bucks|usd|euros?|cents)\b"
                                      r"|\b(?:great|good|best|nice)\s+deals?\b|\bon\s+sale\b|\bdiscounts?\b|\bcoupons?\b"
                                      r"|\bfree\s+of\s+charge\b|\bprices?\s+(?:is|are|was|of\s+\d|tag|drops?)\b")),
    SentenceRule("shop", "buy-or-rent", _rx(rf"\b(?:buy|purchase|order|rent|pre-?order|subscribe)\s+(?:{_IT}|a\s+copy"
                                            r"|a\s+ticket|tickets|the\s+(?:dvd|blu-?ray)|on\b)|\bfor\s+rent\b")),
    SentenceRule("shop", "where-to-watch",
                 _rx(rf"\b(?:available|streaming)\s+(?:now\s+)?(?:on|at|in|for|online)\b|\bstream\s+{_IT}\b"
                     rf"|\b(?:find|watch|get|catch|see|grab|stream)\s+{_IT}\s+(?:here|there|online|on\s+(?:dvd|blu-?ray"
                     rf"|demand|tv|cable|your)|at\s+(?:a|any|your|the)|in\s+(?:theaters|theatres|cinemas|stores))"
                     r"|\bon\s+(?:dvd|blu-?ray|demand|vhs)\b|\bin\s+(?:theaters|theatres|cinemas)\s+(?:now|near)"
                     r"|\bnear\s+you\b|\bwhere\s+to\s+(?:watch|stream|buy|rent)\b")),
    # instruction or role text: notes to the model, labels, talk about "the user"
    SentenceRule("instruction", "note", _rx(r"^\W*(?:(?:your|my|the|final)\s+)?(?:note|nb|n\.b\.|p\.?s\.?|reminder"
                                            r"|response|reply|answer|output)(?:\s+(?:will\s+be|is))?\s*\d*\s*:")),
    SentenceRule("instruction", "role-label", _rx(r"(?:(?:^\W*|\n\W*|[\"'(*])(?:user|assistant|system|seeker|recommender"
                                                  r"|human|bot|ai|chatbot|customer|agent)|\s(?-i:User|Assistant|System|Seeker"
                                                  r"|Recommender|Human|Bot|AI|Chatbot|Customer|Agent))\s*:")),
    # (mid-sentence only a capitalised label counts: "a film recommender: name one" is prose)
    SentenceRule("instruction", "the-user", _rx(r"\b(?:the|this|our|a)\s+user(?:['’]s|s)?\b|\buser['’]s\b")),
    SentenceRule("instruction", "ai-disclaimer",
                 _rx(r"\bas\s+an?\s+(?:ai|a\.i\.|language\s+model|assistant|chatbot|virtual\s+assistant|llm)\b"
                     r"|\bi(?:['’]m|\s+am)\s+(?:just\s+|only\s+)?an?\s+(?:ai|language\s+model|chatbot|virtual\s+assistant"
                     r"|bot|llm)\b|\bi\s+(?:don['’]t|do\s+not)\s+have\s+personal\s+(?:opinions|preferences|feelings|experiences)"
                     r"|\bmy\s+(?:training|knowledge)\s+(?:data|cutoff|cut-off)\b|\b(?:this|the|a|an|our)\s+(?:chat\s*bot"
                     r"|bot|ai\s+assistant|virtual\s+assistant)\b|\bpersonal\s+advice\b|\bassist\s+you\b")),
    SentenceRule("instruction", "restated-instruction",
                 _rx(r"\bcandidates?\b|\b(?:the\s+)?(?:list|films|movies|options|choices)\s+(?:provided|given|listed|above|below)\b"
                     r"|\bprovided\s+(?:list|candidates|choices|options|films|movies|information)\b"
                     r"|\b(?:\d|two|three|four)\s+(?:to|-)\s+(?:\d|four|five|six)\s+(?:short\s+)?sentences\b"
                     r"|\bexact\s+titles?\b|\b(?:the|my|this|your)\s+(?:task|prompt|instructions?)\b"
                     r"|\b(?:i|we)\s+(?:should|must|need\s+to)\s+(?:recommend|respond|reply|answer|"
                     r"mention|end\s+(?:the|my)\s+reply)\b|\bend\s+the\s+reply\b|\b(?:in\s+)?(?:this|my|the)\s+(?:reply|response)"
                     r"\s+(?:should|must|will)\b|\b(?:avoid|without)\s+mentioning\b|\b(?:answer|respond\s+to)\s+this\s+question\b"
                     r"|\bthe\s+following\s+(?:movie\s+|film\s+)?(?:options|choices|list|candidates)\b")),
    # facts no catalogue holds: awards, box office, reviews and scores, release scheduling (a reply saying
    # the catalogue lacks them, the engine's own answer, names no win, gross or score and passes)
    SentenceRule("unchecked", "awards", _rx(r"\b(?:won|wins|winning|winner\s+of|nominated\s+for|nominations?\s+for|swept)\b[^.!?]*"
                                            r"\b(?:oscars?|academy\s+awards?|awards?|golden\s+globes?|emmys?|baftas?|palme\s+d['’]or)\b"
                                            r"|\b(?:oscar|academy\s+award|golden\s+globe)[\s-]+(?:winning|winner|nominated)\b")),
    SentenceRule("unchecked", "box-office", _rx(r"\bbox[\s-]+office\b|\bgross(?:ed|ing)\b|\bbudget\s+of\b|\brecord[\s-]+breaking\b"
                                                r"|\bhighest[\s-]+grossing\b|\bmillion\s+(?:dollars|at\s+the)\b")),
    SentenceRule("unchecked", "reviews", _rx(r"\bcritically\s+acclaimed\b|\bcritics\s+(?:loved|praised|hated|panned|agree)\b"
                                             r"|\brave\s+reviews\b|\brotten\s+tomatoes\b|\bimdb\b|\bmetacritic\b"
                                             r"|\b\d+(?:\.\d)?\s*/\s*10\b|\b\d{1,3}\s?%\s+(?:on|rating|approval|fresh)\b"
                                             r"|\b(?:rated|scored)\s+\d")),
    SentenceRule("unchecked", "release-schedule", _rx(r"\breleased\s+(?:later|earlier|sooner)\s+than\b|\bpreviously\s+announced\b"
                                                      r"|\b(?:release|premiere)\s+(?:date\s+)?(?:was\s+)?(?:delayed|postponed|pushed\s+back)\b"
                                                      r"|\b(?:sequel|remake|reboot)\s+(?:is|was|has\s+been)\s+(?:coming|announced|in\s+the\s+works)\b")),
    # claims about the conversation that a slate on screen contradicts, and replies to a message nobody sent
    SentenceRule("off_task", "nothing-matched",
                 _rx(r"\b(?:no|none\s+of\s+the)\s+(?:films?|movies?|titles?)\s+(?:match|matches|matched|matching|fit|fits|found"
                     r"|were\s+found|was\s+found)\b|\b(?:couldn['’]t|could\s+not|can['’]t|cannot|didn['’]t|did\s+not"
                     r"|wasn['’]t\s+able\s+to|was\s+unable\s+to)\s+find\s+(?:any|a|anything)\b|\bno\s+(?:results|matches)\b"
                     r"|\bnothing\s+(?:matches|matched|fits|was\s+found)\b"),
                 when="slate"),
    # the assistant has watched nothing: a judgement from its own viewing ("X was good but not enough for
    # me", "I've seen it twice") is no recommendation (the fine-tune speaks as ReDial's people did)
    SentenceRule("off_task", "own-viewing",
                 _rx(r"\b(?:not\s+(?:enough|good\s+enough|really)|too\s+\w+|(?:a\s+bit|kind\s+of)\s+\w+)\s+for\s+me\b"
                     # "I can't say I've seen it", "I don't think I've seen it" are true of an assistant
                     r"|(?<!n['’]t\ssay\s)(?<!not\ssay\s)(?<!n['’]t\sthink\s)"
                     r"\bI(?:\s+have\s+|['’]ve\s+|\s+)(?:already\s+|just\s+|recently\s+|also\s+)?(?:seen|watched|saw)\s+"
                     r"(?:it|that|this|them|those|these)\b")),
    SentenceRule("off_task", "condolence",
                 _rx(r"\bsorry\s+(?:for|about)\s+your\s+loss\b|\bcondolences\b|\bmy\s+(?:deepest\s+)?sympath(?:y|ies)\b"
                     r"|\brest\s+in\s+peace\b|\bget\s+well\s+soon\b|\bsorry\s+to\s+hear\b"),
                 when="user_silent",
                 user_pattern=_rx(r"\b(?:died|dead|death|passed\s+away|funeral|loss|lost|sick|ill|hospital|sad|bad\s+day"
                                  r"|rough|terrible|awful|broke\s+up|divorce)\b")),
    SentenceRule("off_task", "apology-for-nothing",
                 _rx(r"\bsorry\s+(?:for|about)\s+(?:your|my|the|any)\s+(?:mistake|error|confusion|misunderstanding)\b"
                     r"|\bapologi[sz]e\s+for\s+(?:the|my|any)\s+(?:mistake|error|confusion|misunderstanding)\b"),
                 when="user_silent",
                 user_pattern=_rx(r"\b(?:wrong|mistake|error|not\s+what|didn['’]t|don['’]t|doesn['’]t|isn['’]t|confus\w*)\b")),
    # "thanks" / "cool" closes a topic: a reply that opens with a vague question back ("Have you ever seen
    # it?") is no reply to it (a question about a film the reply names, or a new question, is fine)
    SentenceRule("off_task", "question-after-thanks",
                 _rx(r"^\W*(?:have|did|do|would|will|are)\s+you\s+(?:ever\s+|already\s+|going\s+to\s+)?(?:seen|see|watch"
                     r"|watched|heard\s+of|like|liked|enjoy|enjoyed|try|check\s+out)\s+(?:it|that|this|them|those|these"
                     r"|that\s+one|this\s+one)(?:\s+(?:yet|before|already|too|again))?\s*\?+\W*$"),
                 when="after_thanks"),
    # "You might enjoy X if you liked it", "... if you liked the direction": a condition on a taste the
    # user never stated, pointing at nothing; the clause goes, the recommendation stays (a genre named
    # there, "if you liked action movies", is a claim the fact checks read instead). A hedge in the present
    # tense, "if you're into that sort of thing", "if you like that kind of movie", is about the kind of
    # film recommended, as people say it, and stays; "if you liked that kind of humor" points back at a
    # taste nobody showed and goes.
    # "You might enjoy Moana (2016) but not The Greatest Showman (2017)": a film of the slate advised against
    # in the same breath as it is offered; the clause goes, the recommendation stays
    SentenceRule("off_task", "but-not-a-title",
                 # (the patterns read titles blanked to "_": "but not" then only a blanked title, to the end)
                 _rx(r"\s*,?\s+but\s+not\s+(?:the\s+)?_+(?:\s*\(\d{4}\))?(?=\s*[.!?]*\s*$)"),
                 "strip"),
    SentenceRule("off_task", "vague-if-you-liked",
                 _rx(r"\s*,?\s+(?:if|since)\s+you(?:\s+(?:really|also))?"
                     r"(?!(?:\s+(?:like|enjoy|love)|(?:['’]re|\s+are)\s+(?:really\s+)?into)\s+that\s+(?:kind|sort|type)\s+of"
                     r"\s+(?:thing|things|stuff|movie|movies|film|films)\b(?!\s+(?:too|as\s+well|also)))"
                     r"(?:\s+(?:liked|enjoyed|loved|like|enjoy|love)"
                     r"|(?:['’]re|\s+are)\s+(?:really\s+)?into)\s+"
                     r"(?:it|that|this|them|those|these|the\s+(?:direction|directing|music|acting|story|plot|soundtrack|cast"
                     r"|characters|visuals|style|humou?r|ending|movie|film|first\s+one)"
                     r"(?:\s+of\s+(?:the|its|this|that)\s+[a-z]+)?"
                     r"|that\s+(?:kind|sort|type|style)\s+of\s+[a-z]+)"
                     r"(?:\s+(?:too|as\s+well|also|a\s+lot))?(?=\s*[.!?]*\s*$)"),
                 "strip"),
)

# A message that only thanks, acknowledges or says goodbye ("thanks!", "cool", "ok, great, thank you").
_THANKS_WORDS = frozenset(
    """
    thanks thank thx ty you so much very a lot cool ok okay k great nice awesome perfect sounds good got it
    will do alright all right cheers bye goodbye see ya that's thats that is kind of helpful appreciate appreciated
    it lol haha wow sweet excellent wonderful fantastic amazing beans again for the tip tips suggestions
    suggestion help
    """.split()
)


def thanks_only(message: str) -> bool:
    """Whether ``message`` only thanks or acknowledges (every word a thanks word, no question)."""
    words = re.findall(r"[a-z']+", message.lower().replace("’", "'"))
    return bool(words) and "?" not in message and all(w in _THANKS_WORDS for w in words) \
        and any(w in _THANKS_WORDS - {"you", "so", "very", "a", "lot", "it", "of", "the", "for", "is", "that"}
                for w in words)

_OPEN_CLOSE = (("(", ")"), ("[", "]"), ("{", "}"), ("“", "”"))
# Words a finished English sentence does not end on: a reply that stops there was cut off.
_DANGLING = frozenset(
    """
    a an the and or but nor his their its my your our whose because although unless whether if
    """.split()
)
# ... and, for a language model's reply (which a token limit can cut anywhere), the words a sentence
# ends on only in speech: prepositions, auxiliaries, "very" ("a story about", "it is", "which was").
_DANGLING_MODEL = _DANGLING | frozenset(
    """
    about with of to for from by at in on into onto like as than which who whom whose where while
    is are was were be been being has have had does did will would can could should may might must
    very more most such some any no not also just really quite it's
    """.split()
)
# ":)", ";(", "(:", ":-]": faces, not brackets
_EMOTICON_RE = re.compile(r"(?<![\w(\[])[:;=8][-'^o ]?[()\[\]DPp](?![\w)])|(?<![\w])[()\[\]][-'^]?[:;=](?![\w])|(?<=\s)\)+(?=\s*$)")
_LAST_WORD_RE = re.compile(r"([A-Za-z']+)\W*$")
_FINAL_STOP_RE = re.compile(r"[.!?…)\]\"'”’*_]\s*$|[\U0001F300-\U0001FAFF\u2600-\u27BF]\s*$")


def unbalanced(sentence: str) -> bool:
    """Whether ``sentence`` opens a bracket or a quote it never closes (or closes one it never opened)."""
    sentence = _EMOTICON_RE.sub(" ", sentence)
    for op, cl in _OPEN_CLOSE:
        depth = 0
        for ch in sentence:
            depth += (ch == op) - (ch == cl)
            if depth < 0:
                return True
        if depth:
            return True
    return sentence.count('"') % 2 == 1


def unfinished(sentence: str, *, model_text: bool = False) -> bool:
    """Whether the last sentence of a reply stops mid-phrase (ends on "the", "and", a comma, a dash);
    with ``model_text`` (a language model's reply, which its token limit may cut anywhere) also on a
    preposition or an auxiliary ("a story about", "which is"). A sentence that only lacks its full stop
    is not unfinished."""
    text = sentence.rstrip()
    if re.fullmatch(r"\W*\d{1,2}[.)]?\W*", text):  # a list number with no item ("1.")
        return True
    if not text or _FINAL_STOP_RE.search(text):
        return False
    if text[-1] in ",:-–—&+(":
        return True
    m = _LAST_WORD_RE.search(text)
    return bool(m and m.group(1).lower().replace("’", "'") in (_DANGLING_MODEL if model_text else _DANGLING))


def mask_spans(sentence: str, phrases: Iterable[str]) -> str:
    """``sentence`` with every (case-insensitive) occurrence of ``phrases`` blanked, same length.

    The rules then never read a title ("Little Shop of Horrors") as a shop or a link. A one-word title is
    blanked only as written: the film "It" is no reason to blank every "it" ("I've seen it").
    """
    masked = sentence
    for phrase in sorted({p for p in phrases if p}, key=len, reverse=True):
        flags = re.IGNORECASE if re.search(r"\W", phrase.strip()) else 0
        for m in re.finditer(re.escape(phrase), masked, flags):
            masked = masked[: m.start()] + "_" * (m.end() - m.start()) + masked[m.end() :]
    return masked


def apply_rules(sentence: str, *, masked: str | None = None, last: bool = False, slate: bool = True,
                user_text: str = "", message: str = "", model_text: bool = False,
                rules: Iterable[SentenceRule] = RULES) -> tuple[str | None, list[RuleHit]]:
    """Run the rule table on one sentence.

    Args:
        sentence: the sentence as it would be shown.
        masked: the same sentence with titles blanked (:func:`mask_spans`); the patterns read this.
        last: the sentence ends the reply (the unfinished-sentence check applies).
        slate: a slate is shown with this reply (``when="slate"`` rules apply).
        user_text: the user's messages (``when="user_silent"`` rules read them).
        message: the user's last message (``when="after_thanks"`` rules read it; the grounder passes it for
            a reply's opening sentence only).
        model_text: the reply comes from a language model (see :func:`unfinished`).

    Returns:
        The sentence (``None`` when dropped, shortened when a span was stripped) and the rules that fired.
    """
    masked = sentence if masked is None else masked
    hits: list[RuleHit] = []
    kept_kinds: set[str] = set()  # kinds a "keep" row exempted this sentence from
    for rule in rules:
        if rule.kind in kept_kinds:
            continue
        if rule.when == "slate" and not slate:
            continue
        if rule.when == "user_silent" and rule.user_pattern is not None and rule.user_pattern.search(user_text):
            continue
        if rule.when == "after_thanks" and not thanks_only(message):
            continue
        m = rule.pattern.search(masked)
        if m is None:
            continue
        if rule.action == "keep":
            kept_kinds.add(rule.kind)
            continue
        if rule.action == "strip":
            rest_masked = masked[: m.start()] + masked[m.end() :]
            rest = sentence[: m.start()] + sentence[m.end() :]
            hits.append(RuleHit(rule.kind, rule.name, sentence[m.start() : m.end()], False))
            if not rest.strip(" ,;:-"):
                return None, hits
            out, more = apply_rules(rest, masked=rest_masked, last=last, slate=slate, user_text=user_text,
                                    message=message, model_text=model_text, rules=rules)
            return out, hits + more
        hits.append(RuleHit(rule.kind, rule.name, sentence[m.start() : m.end()], True))
        return None, hits
    if unbalanced(masked):
        return None, [RuleHit("cut", "unbalanced", sentence, True)]
    if last and unfinished(sentence, model_text=model_text):
        return None, [RuleHit("cut", "unfinished", sentence, True)]
    return sentence, hits
