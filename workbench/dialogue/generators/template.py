"""The template generator: deterministic, instant replies with varied phrasing.

Used when no language model is configured and as the fallback whenever one
fails or times out. It names the slate's items by display title, weaves in each
item's reason and the request's notes, and picks its phrasing with a random
generator seeded by the request's content, so the same request always gets the
same reply while different requests read differently.

It knows requests and recommendations; it does not know models, the catalogue or gradio.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Sequence

from workbench.dialogue.answers import answer_text
from workbench.dialogue.generators.base import GenerationRequest
from workbench.dialogue.types import Recommendation
from workbench.text import INTENTS

# The template generator has phrasings for every intent (workbench.text.INTENTS); anything else
# is treated as "other".
_INTENT_ALIASES = {
    "chit_chat": "chitchat", "smalltalk": "chitchat", "small_talk": "chitchat", "hello": "greeting",
    "recommendation": "recommend", "more": "more_like", "similar": "more_like", "explain": "why",
    "bye": "thanks_bye", "thanks": "thanks_bye", "question": "ask_fact", "help": "capabilities",
}

_OPENERS = {
    "recommend": (
        "Here are a few films you might enjoy.",
        "I think these would suit you.",
        "Based on what you told me, try these.",
        "A few picks for you.",
        "You could start with these.",
    ),
    "more_like": (
        "If you want more in that vein, try these.",
        "Here are some films in the same spirit.",
        "More like that, coming up.",
        "These share a lot with what you liked.",
    ),
    "refine": (
        "Here is the updated list.",
        "Got it, I adjusted the picks.",
        "Noted. With that in mind, here are new suggestions.",
        "Fair enough, here is a revised selection.",
    ),
    "feedback": (
        "Thanks for letting me know.",
        "Noted, thanks.",
        "Good to know, I will keep that in mind.",
        "Thanks, that helps me tune the picks.",
    ),
    "greeting": (
        "Hi there!",
        "Hello!",
        "Hey, good to see you.",
        "Hi! Ready to find a film?",
    ),
    "chitchat": (
        "Happy to chat.",
        "Sounds good.",
        "I hear you.",
        "Nice.",
    ),
    "ask_fact": (
        "Good question.",
        "Here is what the catalogue says.",
        "Let me check.",
    ),
    "compare": (
        "Let me compare them.",
        "Here is how they compare.",
        "Good question.",
    ),
    "seen": (
        "Got it, I will leave out what you have seen.",
        "Noted, I will skip what you have already seen.",
        "Thanks, I will not suggest what you have seen again.",
    ),
    "not_seen": (
        "Noted, not seen yet.",
        "Got it, new to you.",
        "Good to know.",
    ),
    "thanks_bye": (
        "You're welcome, enjoy the film!",
        "Happy watching, and come back any time you want another pick.",
        "Enjoy your movie night! I'm here whenever you want more suggestions.",
        "Glad I could help. Enjoy the film!",
    ),
    "capabilities": (
        "I recommend films from my catalogue. Tell me a film you loved, a genre, an actor, a director or "
        "a mood, and I will suggest a few, with a reason for each.",
        "I'm a film recommender: name a film you enjoyed, or say what you are in the mood for (a genre, "
        "a decade, an actor), and I will pick a few films for you.",
    ),
    "other": (
        "Okay.",
        "Sure.",
        "All right.",
    ),
}
#: After a capabilities opener: what else the engine does.
_CAPABILITIES_MORE = (
    "I can also answer questions about the films I show: who directed them, who is in them, when they "
    "came out, what they are about, or which is the newest.",
    "Ask me about any film I suggest, such as its director, its cast, its year or its genre, and say "
    "\"more like the second one\" to go on from there.",
)
#: Off topic, the first time: back to films (no apology).
_STEERS = (
    "I'm here to talk films. What kind of movie are you in the mood for?",
    "Films are my thing, so let's get back to those. Is there a film you loved recently?",
    "I'll leave that one aside: I only know films. What would you like to watch?",
)
#: Off topic again, right after a steer: a short neutral reply, not the same steer.
_NEUTRAL = (
    "I see.",
    "Fair enough.",
    "Okay.",
    "Understood.",
)
#: Off topic again, and a question: no pretending it was answered ("Understood." to "what's the weather?").
_NEUTRAL_TO_QUESTION = (
    "I can't help with that one: films are all I know.",
    "That's outside what I know; I only know films.",
    "I'll have to pass on that: I only know about films.",
)
#: An answer whose film could not be found: which film is meant.
_WHICH_FILM = (
    "Which film do you mean? Name it, or say \"the first one\", \"the second one\" and so on.",
    "Which of the films are you asking about?",
)
_FEEDBACK_FOLLOWUPS = (
    "With that in mind, here is what I would suggest next.",
    "Here are a few more to consider.",
    "That points me to these.",
)
_GREETING_FOLLOWUPS = (
    "Here are a few popular picks to get started.",
    "While you think about it, here are some crowd favourites.",
    "To get us going, try these.",
)
#: A bare acknowledgement mid-conversation ("cool", "ok"): what can come next, without a question.
_ACK_FOLLOWUPS = (
    "Just say if you want more like one of them, or something different.",
    "Tell me whenever you want more like one of them, or ask me anything about them.",
    "I'm here if you want other picks or more about any of them.",
)
_PROMPTS = (
    "What is a film you loved, or the kind of movie you are in the mood for?",
    "I can find more like the last film you really enjoyed. Which one was it?",
    "Which genre, actor or film do you like? I will take it from there.",
)
_ITEM_LINES = (
    "{title}: {reason}.",
    "{title}, {reason_lc}.",
    "{title}: {reason_lc}.",
    "{title} — {reason_lc}.",
    "There is {title}: {reason_lc}.",
)
_ITEM_LINES_BECAUSE = (
    "{title}, {reason_lc}.",
    "{title} — {reason_lc}.",
    "Try {title}, {reason_lc}.",
)
_ITEM_LINES_NO_REASON = (
    "{title}.",
    "{title} is worth a look.",
    "Try {title}.",
)
_WHY_LINES = (
    "I suggested {title} because {reason_lc}.",
    "{title} made the list because {reason_lc}.",
    "Why {title}? Mainly because {reason_lc}.",
)
_WHY_NO_REASON = (
    "{title} scored well for what you asked for, though I have no specific reason to show.",
    "I suggested {title} because it ranked highly for your request.",
)
_CLOSERS = (
    "Tell me which ones you have seen, and I can refine the list.",
    "Want something older, lighter or from another genre? Just say so.",
    "Let me know what you think of them.",
    "If none of these fit, tell me more about what you are after.",
    "Say more like one of them, and I will find similar films.",
)
#: After an empty slate (the engine's note has already said what found nothing): how to go on.
_EMPTY = (
    "Try loosening one of those, for example a genre or a decade.",
    "Could you relax one of them?",
    "Maybe drop one of them?",
)
_EMPTY_ALONE = "I could not find films that match all of that. Try loosening a constraint, for example a genre or a decade."


def _normalise_intent(intent: str) -> str:
    intent = (intent or "other").strip().lower()
    intent = _INTENT_ALIASES.get(intent, intent)
    return intent if intent in INTENTS else "other"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    return text if re.search(r"[.!?][\"')\]]*$", text) else text + "."


def _lower_first(text: str) -> str:
    # keep acronyms and proper nouns ("Michael Mann", "DiCaprio") as they are
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first.lower() in _LOWERABLE and not (len(first) > 1 and first.isupper()):
        return text[0].lower() + text[1:]
    return text


_LOWERABLE = frozenset(
    "because since matches similar shares directed starring also it its a an the this from with like "
    "liked popular loved highly recommended a fits fans people you your in often close".split()
)


def _strip_end(text: str) -> str:
    return " ".join(text.split()).rstrip(" .;,")


class TemplateGenerator:
    """Deterministic, instant replies built from phrase templates.

    Args:
        seed: mixed into the per-request seed, so two generators with different
            seeds phrase the same request differently.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed

    @property
    def name(self) -> str:
        return "template"

    @property
    def ready(self) -> bool:
        return True  # nothing to load

    def load(self) -> TemplateGenerator:
        return self

    def _rng(self, request: GenerationRequest) -> random.Random:
        h = hashlib.sha256()
        h.update(str(self.seed).encode())
        h.update(request.intent.encode())
        for turn in request.turns:
            h.update(f"\x00{turn.role}\x01{turn.text}".encode())
        for rec in request.recommendations:
            h.update(f"\x02{rec.item.item_id}\x03{rec.reason}".encode())
        for note in request.notes:
            h.update(f"\x04{note}".encode())
        if request.question:  # (absent: the seed of every reply before questions existed)
            h.update(f"\x05{request.question}".encode())
        return random.Random(int.from_bytes(h.digest()[:8], "big"))

    def generate(self, request: GenerationRequest) -> str:
        rng = self._rng(request)
        intent = _normalise_intent(request.intent)
        recs = request.recommendations
        parts: list[str] = []
        if request.answer is not None or (intent in ("ask_fact", "compare") and not recs):
            return self._answer(rng, request)
        if not recs and (intent in ("thanks_bye", "capabilities") or request.act in ("chat", "steer")):
            return self._social(rng, request, intent)
        if intent == "why":
            parts += self._why(rng, recs)
        elif recs or intent not in ("recommend", "more_like", "refine"):
            parts.append(rng.choice(_OPENERS[intent]))
        parts += [_sentence(n) for n in request.notes if n.strip()]
        if intent in ("greeting", "chitchat", "other", "thanks_bye", "capabilities", "ask_fact", "compare"):
            if recs:
                parts.append(rng.choice(_GREETING_FOLLOWUPS))
                parts += self._items(rng, recs)
            elif intent == "other" and any(t.role == "assistant" for t in request.turns):
                # "cool", "ok" mid-conversation: no question back, just what the user can do next
                parts.append(rng.choice(_ACK_FOLLOWUPS))
            else:
                parts.append(rng.choice(_PROMPTS))
        elif intent == "why":
            if not recs:
                parts.append("Which of the films would you like me to explain?")
        elif recs:
            if intent in ("feedback", "seen", "not_seen"):
                parts.append(rng.choice(_FEEDBACK_FOLLOWUPS))
            parts += self._items(rng, recs)
            # the engine's question replaces the closer: one question per reply, after the slate
            parts.append(_sentence(request.question) if request.question.strip() else rng.choice(_CLOSERS))
        elif intent in ("feedback", "seen", "not_seen"):
            parts.append(rng.choice(_PROMPTS))
        elif not (request.notes and request.notes[-1].rstrip().endswith(("?", "look again."))):
            # (a note that already says how to go on, the engine's "every film with X was shown", needs no hint)
            parts.append(rng.choice(_EMPTY) if request.notes else _EMPTY_ALONE)
        return " ".join(p for p in parts if p)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the reply word by word (each piece carries its trailing space)."""
        yield from re.findall(r"\s*\S+", self.generate(request))

    # pieces ---------------------------------------------------------------
    def _answer(self, rng: random.Random, request: GenerationRequest) -> str:
        """An answer from catalogue facts; a slate only when the user also asked for one."""
        if request.answer is None:
            parts = [rng.choice(_WHICH_FILM)]
        else:
            parts = [answer_text(request.answer, rng)]
        parts += [_sentence(n) for n in request.notes if n.strip()]
        if request.recommendations:
            parts.append(rng.choice(_FEEDBACK_FOLLOWUPS))
            parts += self._items(rng, request.recommendations)
            if request.question.strip():
                parts.append(_sentence(request.question))
        return " ".join(p for p in parts if p)

    def _social(self, rng: random.Random, request: GenerationRequest, intent: str) -> str:
        """Closings, capabilities and off-topic talk: short, friendly, no slate, no apology."""
        notes = [_sentence(n) for n in request.notes if n.strip()]
        if request.act == "chat":
            asked = next((t.text for t in reversed(request.turns) if t.role == "user"), "").rstrip().endswith("?")
            return " ".join([rng.choice(_NEUTRAL_TO_QUESTION if asked else _NEUTRAL), *notes])
        if request.act == "steer":
            # with a note owed ("I have no favourites of my own"), the note answers and a plain question follows
            if notes and notes[-1].endswith("?"):  # the note asks already ("Which other film did you enjoy?")
                return " ".join(notes)
            return " ".join([*notes, rng.choice(_PROMPTS) if notes else rng.choice(_STEERS)])
        if intent == "capabilities":
            return " ".join([rng.choice(_OPENERS[intent]), rng.choice(_CAPABILITIES_MORE), *notes])
        return " ".join([rng.choice(_OPENERS[intent]), *notes])

    def _items(self, rng: random.Random, recs: Sequence[Recommendation]) -> list[str]:
        lines = []
        for rec in recs:
            title = rec.item.display_title
            reason = _strip_end(rec.reason)
            if reason:
                because = reason.split(" ", 1)[0].lower() in ("because", "since")
                template = rng.choice(_ITEM_LINES_BECAUSE if because else _ITEM_LINES)
                lines.append(template.format(title=title, reason=reason, reason_lc=_lower_first(reason)))
            else:
                lines.append(rng.choice(_ITEM_LINES_NO_REASON).format(title=title))
        return lines

    def _why(self, rng: random.Random, recs: Sequence[Recommendation]) -> list[str]:
        out = []
        for rec in recs:
            title = rec.item.display_title
            reason = _strip_end(rec.reason)
            if reason:
                out.append(rng.choice(_WHY_LINES).format(title=title, reason_lc=_because(reason)))
            else:
                out.append(rng.choice(_WHY_NO_REASON).format(title=title))
        return out


_IS_WORDS = frozenset("a an the one another popular similar highly well part often close from".split())
_WAS_WORDS = frozenset(
    "directed written produced made set released loved liked rated praised recommended mentioned".split()
)
_IT_WORDS = frozenset("matches shares fits has stars features combines mixes follows".split())


def _because(reason: str) -> str:
    """Turn a reason into a clause that reads after 'because'."""
    low = _lower_first(reason)
    first = low.split(" ", 1)[0].lower()
    if first in ("because", "since"):
        return low.split(" ", 1)[1] if " " in low else ""
    if first in _IS_WORDS:
        return f"it is {low[0].lower()}{low[1:]}"
    if first in _WAS_WORDS:
        return f"it was {low[0].lower()}{low[1:]}"
    if first in ("starring", "featuring", "with"):
        return "it features " + low.split(" ", 1)[1] if " " in low else low
    if first in _IT_WORDS:
        return f"it {low[0].lower()}{low[1:]}"
    return low
