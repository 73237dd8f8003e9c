"""The truth detector: what in a reply nothing supports, judged apart from the grounder.

``eval replies`` reports, per model, the share of replies with each kind of unsupported content
before grounding (what the model wrote) and after (what a user sees). A grounder that judged its
own output would always pass; this module therefore shares no code with the grounding modules
(``workbench.dialogue.*``; a test reads its imports): its own patterns, its own sentence split,
its own list of names from the catalogue. It is deliberately simpler than the grounder (regular
expressions over whole replies), so the two disagree where either is wrong, and the hand audit
(``bench/results/truth_audit_*.md``) says which.

Kinds (:data:`TRUTH_KINDS`), each a yes/no per reply:

* ``link``: a URL, a bare domain, an e-mail address, a phone number, "click here";
* ``shop``: a streaming service, a store, a price or deal, buying or renting, "available on";
* ``instruction``: text about the conversation rather than in it: "the user", a role label
  ("Assistant:"), "as an AI", "candidates", "the prompt", "Note:";
* ``cut``: brackets or quotes left open, or a reply that stops on a word no sentence ends on;
* ``person``: a person (a catalogue name, a known first name and a surname, or a name after a
  credit: "by", "director", "starring", a possessive before "film") who is in none of the credits
  of the slate films or of the films named in the conversation ("Title (Year)"), and whom the
  conversation did not name; and "X's <slate title>" where X is not
  in that film's credits;
* ``off_task``: no sentence names a slate film or talks about films at all; or it says nothing
  matched while a slate is shown; or it offers condolences nobody asked for.

Known limits: a wrong credit of a person who *is* in a slate film ("Tom Cruise in Heat" when he
is in Collateral) is not a ``person`` finding; plot claims are not judged; the detector does not
know whether a reply answers a question.

It knows items and text; it does not know the grounder, generators or gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from workbench.catalog import Item

#: The kinds of unsupported content, in report order.
TRUTH_KINDS = ("link", "shop", "instruction", "cut", "person", "off_task")

_I = re.IGNORECASE
_LINK = re.compile(r"https?:|www\.|\b\w+\.(?:com|net|org|tv|io|co\.uk)\b|[\w.]+@\w+\.\w+|\b\d{3}[-.\s)]+\d{3}[-.\s]\d{4}\b"
                   r"|\bclick\s+(?:here|on)\b|\blinks?\s+(?:below|above)\b", _I)
_SHOP = re.compile(
    r"\b(?:netflix|hulu|amazon|prime\s+video|disney\s*\+|disney\s+plus|hbo|youtube|redbox|itunes|vudu|peacock"
    r"|paramount\s*\+|tubi|apple\s+tv|google\s+play|fandango|showtime|starz|crunchyroll)\b"
    r"|\b(?:stores?|shops?|mall|retailers?|amazon\.com)\b|\$\s?\d|\bprices?\b|\b(?:a|great|good)\s+deal\b|\bon\s+sale\b"
    r"|\b(?:buy|rent|purchase)\s+(?:it|them|this|the|a)\b|\bavailable\s+(?:on|at|to\s+stream)\b|\bstream(?:ing)?\s+on\b"
    r"|\bon\s+(?:dvd|blu-?ray)\b|\bin\s+(?:theaters|theatres|cinemas)\s+(?:now|near)\b", _I)
_INSTRUCTION = re.compile(
    r"\bthe\s+user\b|\buser['’]s\b|\b(?:user|assistant|system|seeker|recommender|ai)\s*:|\bas\s+an?\s+ai\b"
    r"|\blanguage\s+model\b|(?:^|[.!?]\s+)(?:note|n\.b|response|answer)\s*:|\bcandidates?\b|\bthe\s+prompt\b"
    r"|\binstructions?\b|\byour\s+task\b|\bthe\s+task\b|\bi\s+am\s+an\s+ai\b|\bi['’]m\s+(?:just\s+)?an\s+ai\b", _I)
_NO_MATCH = re.compile(r"\bno\s+(?:films?|movies?)\s+(?:match|fit|found)|\bcould(?:n['’]t|\s+not)\s+find\s+(?:any|a)\b"
                       r"|\bnothing\s+(?:matches|matched|fits)\b", _I)
_CONDOLENCE = re.compile(r"\bsorry\s+for\s+your\s+loss\b|\bcondolences\b|\bsympathies\b", _I)
_LOSS = re.compile(r"\b(?:died|death|passed\s+away|loss|funeral)\b", _I)
_FILM_WORDS = re.compile(
    r"\b(?:film|films|movie|movies|watch|watched|seen|cast|director|directed|actor|actress|story|plot|comedy"
    r"|comedies|drama|thriller|horror|action|romance|animated|animation|sci-fi|western|classic|sequel|genre"
    r"|character|characters|starring|stars|recommend|suggest|picks?)\b", _I)
_LAST_WORDS = frozenset("a an the and or but of to from by with his her their its your my our that which if because "
                        "than as at in on into".split())
_NAME = re.compile(r"\b([A-Z][a-z]+(?:-[A-Z]?[a-z]+)?(?:\s+(?:[A-Z]\.\s*)?[A-Z][a-zA-Z-]*(?:['’][A-Z][a-zA-Z-]+)?){1,2})"
                   r"(['’]s)?")
_ONE_NAME_AFTER_CUE = re.compile(r"\b(?:directed\s+by|director|starring|(?:film|movie|comedy|thriller|drama)\s+by)"
                                 r"\s+([A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'.-]+){0,2})")
_POSSESSIVE_CREDIT = re.compile(r"\b([A-Z][a-zA-Z-]+(?:\s+[A-Z][a-zA-Z-]+){0,2})['’]s\s+(?:\w+\s+){0,2}"
                                r"(?:film|movie|thriller|comedy|drama|classic|masterpiece|epic)\b")
# capitalised words that start a name-like run in prose without being anybody's first name
_NOT_FIRST = frozenset("the a an you your i it its this that these those if and but or so both also try "
                       "since because when while my our their his her he she they we what which who how why "
                       "here there then just yes no oh hi hello hey great happy sure thanks thank "
                       "new los san las santa saint st mount lake north south east west "
                       "christmas halloween easter netflix disney marvel pixar".split())


def _without_titles(reply: str, items: Sequence[Item]) -> str:
    """The reply with the slate's titles blanked: titles say nothing about shops or people."""
    for item in items:
        reply = re.sub(re.escape(item.title), " ", reply, flags=_I)
    return reply


def _low(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


class TruthDetector:
    """Judges replies against a catalogue. Build once per catalogue; read-only afterwards.

    Args:
        catalog: every item (names of directors and cast, titles).
    """

    def __init__(self, catalog: Iterable[Item]):
        self._people: set[str] = set()
        self._first: set[str] = set()
        self._title_text: set[str] = set()
        self._display: dict[str, Item] = {}  # "heat (1995)" -> the item: films named in a conversation
        for item in catalog:
            self._title_text.add(_low(item.title))
            self._display.setdefault(_low(item.display_title), item)
            for person in (*item.directors, *item.cast):
                name = _low(person)
                if " " in name:
                    self._people.add(name)
                    self._first.add(name.split(" ", 1)[0])
        self._first -= _NOT_FIRST

    def _person_ok(self, name: str, credited: set[str], user: str, titles: str) -> bool:
        low = re.sub(r"'s?$", "", _low(name))
        if low in credited or f" {low} " in user or low in titles:
            return True
        last = low.split()[-1]
        return any(c.split()[-1] == last or c.split()[0] == low for c in credited)

    def _unsupported_person(self, reply: str, slate: Sequence[Item], user_text: str) -> bool:
        """Whether the reply names a person who is in no slate film and whom the user did not name."""
        low_conv = _low(user_text)
        talked_about = [item for title, item in self._display.items() if title in low_conv]
        credited = {_low(p) for item in (*slate, *talked_about) for p in (*item.directors, *item.cast)}
        user = " " + re.sub(r"[^a-z' ]", " ", _low(user_text)) + " "
        titles = " | ".join(_low(i.title) for i in slate)
        names: list[str] = []
        plain = _without_titles(reply, slate)
        for m in _NAME.finditer(plain):
            name = re.sub(r"['’]s?$", "", m.group(1))
            low = _low(name)
            words = low.split()
            if words[0] in _NOT_FIRST or low in self._title_text:
                continue
            if low in self._people or words[0] in self._first:
                names.append(name)
        names += [m.group(1) for m in _ONE_NAME_AFTER_CUE.finditer(plain)]
        names += [m.group(1) for m in _POSSESSIVE_CREDIT.finditer(plain)
                  if _low(m.group(1)).split()[0] not in _NOT_FIRST]
        if any(not self._person_ok(n, credited, user, titles) for n in names):
            return True
        for item in slate:  # "X's <title>": X must be in that film's credits
            for m in re.finditer(r"([A-Z][a-zA-Z-]+(?:\s+[A-Z][a-zA-Z.-]+){0,2})['’]s\s+(?:\w+\s+){0,2}?"
                                 + re.escape(item.title), reply):
                own = {_low(p) for p in (*item.directors, *item.cast)}
                if not self._person_ok(m.group(1), own, " ", "") and _low(m.group(1)).split()[0] not in _NOT_FIRST:
                    return True
        return False

    @staticmethod
    def _cut(reply: str) -> bool:
        text = reply.strip()
        if not text:
            return False
        for op, cl in (("(", ")"), ("[", "]")):
            if text.count(op) != text.count(cl):
                return True
        if text.count('"') % 2 or text.count("“") != text.count("”"):
            return True
        if text[-1] in ",;-–(":
            return True
        last = re.findall(r"[A-Za-z']+", text[-30:])
        return bool(last) and text[-1].isalnum() and last[-1].lower() in _LAST_WORDS

    def kinds(self, reply: str, slate: Sequence[Any], user_text: str = "") -> set[str]:
        """The kinds of unsupported content in ``reply`` (a subset of :data:`TRUTH_KINDS`).

        Args:
            reply: a reply as written or as shown.
            slate: the turn's films (Items, or anything with an ``item``).
            user_text: the conversation so far (people named in it may be named back).
        """
        items = [getattr(s, "item", s) for s in slate]
        low = _low(reply)
        plain = _without_titles(reply, [*items, *(it for t, it in self._display.items() if t in low)])
        found = set()
        if _LINK.search(plain):
            found.add("link")
        if _SHOP.search(plain):
            found.add("shop")
        if _INSTRUCTION.search(plain):
            found.add("instruction")
        if self._cut(reply):
            found.add("cut")
        if self._unsupported_person(reply, items, user_text):
            found.add("person")
        names_film = any(_low(i.title) in _low(reply) for i in items)
        if (not names_film and not _FILM_WORDS.search(reply)) or (items and _NO_MATCH.search(reply)) \
                or (_CONDOLENCE.search(reply) and not _LOSS.search(user_text)):
            found.add("off_task")
        return found


def truth_block(before: Sequence[set[str]], after: Sequence[set[str]], replaced: Sequence[bool]) -> dict[str, Any]:
    """The report's ``truth`` block: per kind the share of replies with it before and after grounding.

    Args:
        before: the kinds found in each reply as the model wrote it.
        after: the kinds found in each reply as a user sees it.
        replaced: per reply, whether the template reply was shown instead.
    """
    n = len(before)
    if n == 0 or len(after) != n or len(replaced) != n:
        return {"n": n}

    def shares(found: Sequence[set[str]]) -> dict[str, float]:
        out = {k: round(sum(k in f for f in found) / n, 4) for k in TRUTH_KINDS}
        out["any"] = round(sum(bool(f) for f in found) / n, 4)
        return out

    return {"n": n, "before": shares(before), "after": shares(after),
            "counts_after": {k: sum(k in f for f in after) for k in TRUTH_KINDS},
            "replaced_by_template": round(sum(replaced) / n, 4)}
