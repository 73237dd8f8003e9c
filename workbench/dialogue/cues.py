"""Cues in a message: how the user feels about what they name (stance) and what they want (the
intent). The constraints a message states are read by :mod:`workbench.dialogue.constraints`.

Each reader is a function of the message text, with linked titles and people already masked
out, so "I loved Heat" reads "I loved ____" and a title's words never count as cues.

It knows words and patterns; it does not know the catalogue, the title index, scores or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from workbench.dialogue.linking import Mention, Stance
from workbench.dialogue.references import slate_position
from workbench.filters import ItemFilter
from workbench.text import Intent

#: "like" as a liking, not the filler before an amount ("seen it like 50 times", "like twice")
_LIKE_NOT_FILLER = (r"like(?!\s+(?:\d+|a\s+(?:million|hundred|thousand|dozen|bunch|billion)\b|(?:twice|once|forever)\b"
                    r"|(?:two|three|four|five|six|ten|twenty|fifty|a\s+hundred|hundred)\s+times\b))")
_LIKE_CUES = (
    r"lov(?:e|ed|es|ing)", r"lik(?:ed|es)", _LIKE_NOT_FILLER, r"enjoy(?:ed|s)?", r"adore(?:d)?", r"favou?rites?",
    r"great", r"awesome", r"amazing", r"fantastic", r"excellent", r"brilliant", r"the best",
    r"masterpiece", r"fan of", r"into", r"really good", r"so good", r"pretty good", r"good",
    r"funny", r"hilarious", r"cool", r"fun", r"classic", r"a must",
    r"(?:sounds?|looks?|seems?) (?:\w+ )?(?:interesting|intriguing|promising|nice|fun|great|good|amazing|awesome"
    r"|perfect|wonderful|fantastic|excellent|brilliant|fascinating|cool|lovely|right up my (?:alley|street))",
    r"right up my (?:alley|street)", r"(?:just|exactly) my (?:kind of|sort of|type of|cup of)",
    # a lukewarm verdict on a film watched ("i thought it was ok", "it was alright i guess"): a mild liking
    r"(?:thought|found) (?:it|that|that one|this one|this) (?:was )?(?:ok|okay|alright|all right|decent|fine|not bad)",
    r"(?:it|that|that one|this one) was (?:ok|okay|alright|all right|decent|not bad)",
    r"guilty pleasure", r"cracked me up", r"made me laugh", r"(?:had|kept) me laughing", r"over and over",
    r"again and again", r"never get tired of", r"cute", r"adorable", r"charming", r"beautiful", r"touching",
    r"incredible", r"wonderful", r"superb", r"underrated", r"blew my mind", r"mind[- ]blowing",
)
_DISLIKE_CUES = (
    r"hat(?:e|ed|es)", r"dislik(?:e|ed|es)", r"(?:did ?n[o']?t|do ?n[o']?t|does ?n[o']?t|never) "
    r"(?:really )?(?:like|enjoy|love|care for)", r"not (?:a|much of a|really a|the biggest) fan",
    r"not (?:really )?into", r"(?:can'?t|cannot|can not|couldn'?t|could not) stand", r"boring", r"awful", r"terrible", r"horrible",
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
    r"never (?:even )?heard of", r"(?:do ?n[o']?t|dont) know (?:that|this|it|them|those|these|any|the)",
    r"not (?:familiar|heard of)", r"(?:i )?missed (?:that|this|it|them|those|these|the)", r"unfamiliar",
    r"(?:is|are|'s|'re|was) (?:all |completely |totally )?new to (?:me|us)",
    r"never (?:got|get|gotten) (?:a)?round to", r"(?:have|has)(?:n'?t| not) (?:got|gotten) (?:a)?round to",
    r"(?:do ?n[o']?t|dont) think (?:i|we|they|he|she)(?:'ve| have|'d| had)? (?:\w+ )?(?:seen|watched|saw)",
    r"(?:does ?n[o']?t|do ?n[o']?t|dont|doesnt|didn'?t) ring (?:a|any) bells?", r"rings? no bells?",
    r"(?:none|neither) of (?:these|those|them|the \w+) (?:\w+ )?rings? (?:a|any) bells?",
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
_CLAUSE_SPLIT_RE = re.compile(r"[.!?;]+|\bbut\b|\bthough\b|\bhowever\b|\bwhereas\b|\bwhile\b",
                              re.IGNORECASE)


_THAT_ONE_RE = re.compile(r"\b(that one|this one|that movie|that film|this movie|this film|it)\b", re.IGNORECASE)
#: "more like that": a bare pointer, read only after a more-like cue (there "that" is the film).
_POINTER_RE = re.compile(r"\b(that|this|those|these|them|the same|similar ones)\b", re.IGNORECASE)

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
    r"in the same vein|along the lines of|same as|like that one|more of that|similar ones?|"
    r"reminiscent of|comparable to|akin to|in the (?:style|spirit|mould|mold) of|(?:kind|sort) of like|"
    r"(?:feels?|looks?|seems?) like|reminds? (?:me|one) of|in (?:that|this|the same) vein|along (?:those|these|the same) lines|"
    r"more of the same|same (?:kind|sort|type|style|vibe|feel|tone) (?:of (?:thing|movie|film|stuff) )?(?:as|like)|"
    r"(?:others?|another(?: one)?|any more|some more|stuff|things|something else|anything else|what else) like|"
    r"resembl(?:ing|es?)|^\s*(?:\w+\s+)?ones? like|"
    r"^\s*like (?:the|that|this|those))\b",
    re.IGNORECASE,
)
_REFINE_RE = re.compile(
    r"\b(something else|anything else|other (?:options|ones|suggestions|movies|picks)|more options|"
    r"show me more|more (?:please|suggestions|recommendations)|different|instead|older|newer|more recent|"
    r"less (?:scary|violent|dark)|only|just|but (?:older|newer|not|more|less)|narrow|not those|"
    r"none of (?:those|these)|other than those|else|not these|others|next|no idea|not sure)\b",
    re.IGNORECASE,
)
_ASK_RE = re.compile(
    r"\b(recommend|recommendation|suggest|suggestion|looking for|look for|in the mood|want to watch|"
    r"wanna watch|want to see|should i watch|what to watch|something to watch|any ideas|ideas|"
    r"what (?:would|should|can|could) i|give me|find me|show me|i'?d like|i want|i need|"
    r"can you|could you|do you know|know any|what about|how about|movie|movies|film|films|watch|"
    r"anything good|something good|what'?s good|surprise me|something about|one about|be about|"
    r"(?:movies?|films?) about|what (?:have|do) (?:you|u) (?:got|have)|(?:have|got) (?:you|u) got)\b",
    re.IGNORECASE,
)
_RESET_RE = re.compile(r"\b(start over|start again|reset|forget (?:it|that|everything|all))\b", re.IGNORECASE)


def mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with the characters of ``spans`` blanked (linked titles and names are no cues)."""
    chars = list(text)
    for s, e in spans:
        for j in range(s, min(e, len(chars))):
            chars[j] = " "
    return "".join(chars)



#: Words right before a title that name it as a yardstick: "stuff like", "similar in style to", "in
#: the vein of". A "like" after a subject or an adverb ("I like", "we really like") is a liking.
_COMPARED_BEFORE_RE = re.compile(
    r"(?:(?<!\bi\s)(?<!\bwe\s)(?<!\bthey\s)(?<!\breally\s)(?<!\balso\s)(?<!\bdo\s)(?<!\bdid\s)(?<!\bi'd\s)"
    r"(?<!\bwould\s)(?<!\bstill\s)(?<!\btotally\s)(?<!\bjust\s)(?<!\bboth\s)\blike"
    r"|\bsimilar(?:\s+\w+){0,3}\s+(?:to|as)|\bsuch\s+as|\bin\s+the\s+(?:vein|style|spirit)\s+of|\breminiscent\s+of"
    r"|\balong\s+the\s+lines\s+of|\bthe\s+likes\s+of|\bcomparable\s+to|\bakin\s+to|\breminds?\s+me\s+of|\bresembl(?:ing|es?)"
    r"|\bsame\s+(?:\w+\s+)?as)\s*$",
    re.IGNORECASE,
)
#: "loved it", "liked that one": a later judgement of the film just named
_LIKED_IT_RE = re.compile(r"\b(?:it|that(?:\s+one)?|this(?:\s+one)?|them|those)\b", re.IGNORECASE)
#: a title listed after a compared one ("like Goodfellas and Casino", "like Heat, Ronin or Seven")
_LIST_GLUE_RE = re.compile(r"^\s*(?:,\s*)?(?:and|or|,|&)?\s*$", re.IGNORECASE)


def compared_flags(text: str, mentions: Sequence[Mention]) -> list[bool]:
    """For each mention (in text order), whether it is named as a yardstick rather than liked."""
    flags: list[bool] = []
    prev_end, prev_flag = None, False
    for m in mentions:
        if m.span == (0, 0):
            flags.append(False)
            continue
        before = text[max(0, m.span[0] - 40): m.span[0]]
        flag = bool(_COMPARED_BEFORE_RE.search(before))
        if not flag and prev_flag and prev_end is not None and _LIST_GLUE_RE.match(text[prev_end: m.span[0]]):
            flag = True
        flags.append(flag)
        prev_end, prev_flag = m.span[1], flag
    return flags


def with_stances(text: str, mentions: list[Mention]) -> list[Mention]:
    """``mentions`` with the stance of the clause each sits in, and whether each is a yardstick."""
    if not mentions:
        return mentions
    flags = compared_flags(text, mentions)
    if any(flags) and _LIKED_IT_RE.search(text) and stance_of(text[max(m.span[1] for m in mentions):]) == "liked":
        flags = [False] * len(flags)  # "what else is like Zootopia? my kids loved it": the yardstick is liked too
    mentions = [replace(m, compared=c) for m, c in zip(mentions, flags, strict=True)]
    masked = mask(text, [m.span for m in mentions if m.span != (0, 0)])
    # clause boundaries: sentence punctuation and contrast words
    bounds = [0]
    for m in _CLAUSE_SPLIT_RE.finditer(masked):
        bounds.extend([m.start(), m.end()])
    bounds.append(len(masked))
    clauses = [(bounds[j], bounds[j + 1]) for j in range(0, len(bounds) - 1, 2)]
    clause_stance: list[Stance] = []
    for s, e in clauses:
        stance = stance_of(masked[s:e])
        if stance == "neutral" and clause_stance and clause_stance[-1] == "liked" \
                and re.match(r"\W*(?:(?:but|and)\s+)?(?:not|never|definitely\s+not|except)\b", masked[s:e], re.I):
            stance = "disliked"  # "I enjoyed Superbad a lot, but not The Hangover"
        clause_stance.append(stance)
    out = []
    for m in mentions:
        if m.span == (0, 0):
            # a gold link with no position: read the whole message
            out.append(replace(m, stance=stance_of(masked)))
            continue
        idx = max(j for j, (s, _) in enumerate(clauses) if s <= m.span[0] or j == 0)
        stance = clause_stance[idx]
        # "I loved Heat, Collateral and Alien": a cue-less clause inherits from the same sentence
        out.append(replace(m, stance=stance))
    return out


def detect_intent(
    text: str,
    masked: str,
    mentions: Sequence[Mention],
    constraints: ItemFilter,
    slate: Sequence[str],
    focus: str | None = None,
) -> tuple[Intent, str | None, Stance]:
    """(intent, target item id, the user's stance on the target) of one message.

    ``slate`` holds the canonical ids of the previous recommendations, best first. ``focus`` is
    the slate item a bare "that" points at when the user just judged one (the newest liked card);
    without it "that" is the top pick.
    """
    in_slate = [m for m in mentions if m.item_id in slate]
    ordinal = ordinal_target(masked, slate)
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
        # "anything similar?" right after a question about one film: more like that film
        if ordinal or (slate and (_THAT_ONE_RE.search(low) or _POINTER_RE.search(low))) or (focus and not has_constraints):
            return "more_like", ordinal or focus or slate[0], "neutral"
    if mentions and all(m.compared for m in mentions) and re.match(r"^\s*(?:just\s+|more\s+|kind\s+of\s+)?like\b", low) \
            and stance_of(masked) in ("neutral", "liked"):
        # a message that opens with its yardstick ("like the departed but newer"; the title is masked, so
        # _MORE_LIKE_RE's "like the ..." does not see it)
        return "more_like", mentions[0].item_id, "neutral"
    # feedback on a recommended item
    if slate:
        stance_here = stance_of(masked)
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


def ordinal_target(text: str, slate: Sequence[str]) -> str | None:
    """The slate film a position in ``text`` names (:func:`workbench.dialogue.references.slate_position`)."""
    return slate_position(text, slate) if slate else None


def stance_of(clause: str) -> Stance:
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


#: A sentence that asks for films: what semantic search should read when a message also tells the
#: user's day ("I'm sad today, my dog died. Something uplifting?": the dog is no part of the request).
_REQUEST_SENTENCE_RE = re.compile(
    r"\b(?:something|anything|movies?|films?|flicks?|recommend\w*|suggest\w*|looking\s+for|want|wanna|need|watch"
    r"|show\s+me|give\s+me|in\s+the\s+mood|prefer|would\s+like|i'?d\s+like|any\s+good|like|about|with|starring"
    r"|directed|from\s+the|genre|mood)\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def request_sentences(text: str) -> str:
    """The sentences of ``text`` that ask for films, when some do and some do not (else all of it)."""
    sentences = [s for s in _SENTENCE_END_RE.split(text.strip()) if s.strip()]
    if len(sentences) < 2:
        return text
    asking = [s for s in sentences if _REQUEST_SENTENCE_RE.search(s)]
    return " ".join(asking) if asking else text


def asks_reset(text: str) -> bool:
    """Whether the message asks to start over ("start over", "forget everything")."""
    return bool(_RESET_RE.search(text))
