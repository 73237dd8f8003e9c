"""A simulated user with a target film in mind, for interactive evaluation (iEvaLM's attribute mode).

:class:`AttributeSimulator` reads the recommender's reply as a person would (only its questions,
sentences that end in "?" and open with a question word) and answers only what was asked, from the
target's catalogue facts: a genre ("I'd like a comedy movie."), a decade ("Something from the
'90s."), a director, a lead actor, a tag ("Something about time travel."). When the slate shown
misses the target it says so ("Not those."); asked nothing, it says something generic ("Something
else, please."). It never says the title or any word of it that is not a function word
(:func:`leaks`): a phrasing that would is replaced by the next one, a fact that would is not told.

Every phrasing is a template in :data:`PHRASINGS`; the engine's understanding must read each one
(a table test checks it), so whatever the simulator says reaches the engine as ordinary text.

It knows catalogue items and words; it does not know the engine, its scores or gradio.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from workbench.catalog import Catalog, Item
from workbench.filters import genre_keys
from workbench.text import MESSAGE_TOKEN_RE, STOPWORDS, norm_token

#: How the simulator says each fact, in order of preference ({value} is the fact).
PHRASINGS: Mapping[str, tuple[str, ...]] = {
    "genre": ("I'd like a {value} movie.", "Maybe a {value} film?", "Something in the {value} genre."),
    "decade": ("Something from the {value}.", "I'd prefer the {value}.", "Ideally from the {value}."),
    "director": ("Something directed by {value}.", "A film by {value}.", "I like films directed by {value}."),
    "actor": ("Something with {value}.", "I'd like to see {value} in it.", "Starring {value}, ideally."),
    "tag": ("Something about {value}.", "It should be about {value}.", "Ideally one about {value}."),
}
#: Said when the slate shown misses the target.
NOT_THOSE: tuple[str, ...] = ("Not those.", "None of those.", "No, not these.")
#: Said when asked nothing.
GENERIC: tuple[str, ...] = ("Something else, please.", "Any other ideas?", "Show me different ones.",
                            "Hmm, what else?", "Next.")
#: Said when asked about something the catalogue does not know for the target.
UNSURE: tuple[str, ...] = ("Not sure, something else please.", "No idea, show me others.", "Hmm, no idea.")
#: The last resort when every phrasing would leak the title: says nothing in words.
SILENT = "?"

#: What a question is about, read from a question sentence.
ASKS: Mapping[str, re.Pattern[str]] = {
    "genre": re.compile(r"\bgenres?\b|\bwhat (?:kind|sort|type) of (?:movie|film)s?\b", re.IGNORECASE),
    "decade": re.compile(r"\bdecades?\b|\bera\b|\brecent or\b|\bhow old\b|\bwhat years?\b|\bwhich years?\b"
                         r"|\bold or new\b", re.IGNORECASE),
    "director": re.compile(r"\bdirect(?:or|ors|ed)\b|\bfilm ?makers?\b", re.IGNORECASE),
    "actor": re.compile(r"\bactor|\bactress|\bstar(?:s|ring)?\b|\bcast\b", re.IGNORECASE),
    "tag": re.compile(r"\bbe about\b|\babout\?|\btopics?\b|\bthemes?\b|\bplot\b|\bsubject\b", re.IGNORECASE),
}
_QUESTION_RE = re.compile(r"[^.!?]*\?")
_OPENS_QUESTION_RE = re.compile(
    r"^\W*(?:(?:and|so|also|or|but|now|then|ok|okay|tell me)\b[\s,]*)?(?:what|which|who|whose|when|how|is there|are there|are you|do you|did you|would you|"
    r"could you|any|anything|can you|have you|is it|was it|should)\b", re.IGNORECASE)
#: Lead actors and tags the simulator may name (the first ones the catalogue lists).
LEAD_ACTORS = 2
LEAD_TAGS = 3


def title_words(item: Item) -> tuple[frozenset[str], tuple[str, ...]]:
    """(the title's words that are not function words, the title's whole word sequence), normalised."""
    toks = tuple(t for t in (norm_token(m.group()) for m in MESSAGE_TOKEN_RE.finditer(item.title)) if t)
    return frozenset(t for t in toks if t not in STOPWORDS), toks


def leaks(text: str, item: Item) -> bool:
    """Whether ``text`` gives away ``item``'s title: it holds a word of the title that is not a function
    word, or the title's whole word sequence ("It", "Up", "Her" are titles made of function words)."""
    distinctive, sequence = title_words(item)
    toks = [t for t in (norm_token(m.group()) for m in MESSAGE_TOKEN_RE.finditer(text)) if t]
    if distinctive & set(toks):
        return True
    n = len(sequence)
    return n > 0 and any(tuple(toks[i:i + n]) == sequence for i in range(len(toks) - n + 1))


def asked(text: str) -> list[str]:
    """The attributes the questions of ``text`` ask about, in the order of :data:`ASKS`."""
    questions = [q for q in (m.group().strip() for m in _QUESTION_RE.finditer(text)) if _OPENS_QUESTION_RE.search(q)]
    return [a for a, pattern in ASKS.items() if any(pattern.search(q) for q in questions)]


def _people(names: Sequence[str]) -> list[str]:
    """Names one by one ("Anna Boden and Ryan Fleck" is two directors)."""
    return [n.strip() for name in names for n in re.split(r"\s+(?:and|&)\s+|,\s*", name) if n.strip()]


def _decade(year: int) -> str:
    start = year // 10 * 10
    return f"'{start % 100:02d}s" if 1950 <= start <= 1990 else f"{start}s"


def target_facts(item: Item) -> dict[str, tuple[str, ...]]:
    """What the simulator may tell about ``item``, per attribute, best first."""
    genres: list[str] = []
    for g in item.genres:
        genres += sorted(genre_keys(g))
    return {
        "genre": tuple(dict.fromkeys(genres)),
        "decade": (_decade(item.year),) if item.year else (),
        "director": tuple(dict.fromkeys(_people(item.directors)))[:2],
        "actor": tuple(c for c in item.cast[:LEAD_ACTORS] if c[:1].isalnum()),
        "tag": tuple(item.tags[:LEAD_TAGS]),
    }


class AttributeSimulator:
    """Answers the recommender's questions from one target's catalogue facts. Stateless, deterministic.

    Args:
        catalog: where targets' facts come from.
    """

    mode = "attribute"

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def counts(self) -> dict[str, int]:
        """Nothing to correct: every phrasing is checked before it is said."""
        return {}

    def reply(self, target_id: str, assistant_text: str, slate: Sequence[str], turn: int = 0) -> str:
        """What the user says after the recommender's reply ``assistant_text`` with ``slate`` (item ids).

        ``turn`` varies the phrasing between rounds (the same inputs always give the same reply).
        """
        item = self.catalog[target_id]
        parts: list[str] = []
        if slate and item.item_id not in {self.catalog.canonical_id(i) for i in slate if i in self.catalog}:
            parts.append(self._say(NOT_THOSE, item, turn))
        facts = target_facts(item)
        answers = [a for a in (self._answer(attr, facts[attr], item, turn) for attr in asked(assistant_text)) if a]
        parts += answers
        if not answers:
            parts.append(self._say(GENERIC, item, turn))
        text = " ".join(p for p in parts if p and p != SILENT)
        return text or SILENT

    def _answer(self, attribute: str, values: Sequence[str], item: Item, turn: int) -> str:
        for value in values:
            templates = PHRASINGS[attribute]
            start = _pick(item.item_id, turn, len(templates))
            for j in range(len(templates)):
                text = templates[(start + j) % len(templates)].format(value=value)
                if not leaks(text, item):
                    return text
        return self._say(UNSURE, item, turn)

    def _say(self, options: Sequence[str], item: Item, turn: int) -> str:
        start = _pick(item.item_id, turn, len(options))
        for j in range(len(options)):
            text = options[(start + j) % len(options)]
            if not leaks(text, item):
                return text
        return SILENT


def _pick(item_id: str, turn: int, n: int) -> int:
    """A stable index in ``range(n)`` for this target and turn (phrasing varies, reruns agree)."""
    digest = hashlib.sha256(f"{item_id}\x00{turn}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % n


__all__ = ["ASKS", "GENERIC", "NOT_THOSE", "PHRASINGS", "SILENT", "UNSURE", "AttributeSimulator", "asked", "leaks",
           "target_facts", "title_words"]
