"""People pointed at without a name: "more from that director", "anything else with him?".

A message that asks for films by a person it does not name points at one the conversation just
talked about. :func:`resolve_person_pointer` finds that person from the conversation state, in
this order:

1. the last answer, when it named people ("who directed the second one?" ... "more from him"):
   a director answer gives its director, a cast answer its first-billed actor;
2. the person the user named in the last few messages ("something with Keanu Reeves" ... "what else has
   he been in?"), when the pointer's role allows;
3. the film the conversation is on (the last answer's film, a card the user liked, the film the
   previous message pointed at or named: "I loved Heat" ... "more by the same director") or, with
   none, the top pick of the last slate: "that director" is its director, "that actor" / "the same
   star" its lead.

The person joins the message's people and constraints (``people``) as if the user had typed the
name, so the slate holds that person's films and the reply says whom it took. A pointer with
nothing to resolve ("more from that director" as a first message) gets a note asking whom the
user means, and no slate.

It knows understandings, the conversation state and the catalogue; it does not know ranking,
generators or gradio.
"""

from __future__ import annotations

import re
from dataclasses import replace

from workbench.catalog import Catalog
from workbench.dialogue.linking import PersonMention
from workbench.dialogue.state import ConversationState
from workbench.dialogue.understand import Understanding
from workbench.filters import ItemFilter

#: "that director", "the same director", "this filmmaker": a director pointed at
_DIRECTOR_PTR = r"(?:that|this|the\s+same|same|the)\s+(?:director|filmmaker|film\s*maker)"
#: "that actor", "the same actress", "that star", "the lead": an actor pointed at
_ACTOR_PTR = r"(?:that|this|the\s+same|same|the)\s+(?:actor|actress|star|lead|guy|girl|woman|man)"
#: "him", "her", "them" after a word that asks for a person's films
_PRONOUN_PTR = (r"(?:by|from|with|starring|featuring|of)\s+(?:him|her)\b|\b(?:his|her)\s+(?:other\s+)?(?:films|movies|work|stuff)"
                r"|\b(?:has|did|does|is|was)\s+(?:he|she)\s+(?:also\s+|ever\s+)?(?:been\s+in|done|made|directed|starred\s+in"
                r"|acted\s+in|played\s+in|in)\b")
_POINTER_RE = re.compile(rf"\b(?:(?P<director>{_DIRECTOR_PTR})|(?P<actor>{_ACTOR_PTR})|(?P<pronoun>{_PRONOUN_PTR}))\b",
                         re.IGNORECASE)
#: A request word beside the pointer: "more from that director", "anything else by him", "other films of his"
_WANTS_RE = re.compile(r"\b(?:more|other|others|another|anything|something|films?|movies?|else|what\s+else|recommend|suggest)\b",
                       re.IGNORECASE)
#: Intents a pointer request can come as (a question about a film keeps its own reading)
_OPEN_INTENTS = frozenset({"recommend", "refine", "more_like", "chitchat", "other"})


def resolve_person_pointer(u: Understanding, state: ConversationState, catalog: Catalog,
                           focus: str | None, named: PersonMention | None = None) -> Understanding:
    """``u`` with the person a name-less pointer means, when the conversation makes it clear.

    Args:
        u: the message's reading.
        state: the conversation before this message.
        catalog: the items (their directors and cast).
        focus: the film the conversation is on, if any (else the last slate's top pick is used).
        named: the person the user named last ("something with Keanu Reeves" ... "what else has he been
            in?"), used when the pointer's role allows it.
    """
    m = person_pointer(u)
    if m is None:
        return u
    role = "director" if m.group("director") else "cast" if m.group("actor") else None
    by_user = named.name if named is not None and (role is None or named.role in (role, "any")) else None
    name = _person_of_last_answer(state, catalog, role) or by_user or _person_of_film(focus, state, catalog, role)
    if name is None:  # nothing in the conversation to point at: ask, with no slate of random films
        who = "director" if role == "director" else "actor" if role == "cast" else "person"
        return replace(u, intent="chitchat", target=None, refs=(),
                       notes=(*u.notes, f"I'm not sure which {who} you mean: name them, or a film of theirs."))
    person = PersonMention(name, m.span(), role or "any")
    constraints = replace(u.constraints, people=u.constraints.people | ItemFilter.make(people=[name]).people)
    said = m.group().strip()
    if m.group("pronoun"):  # "has he been in": the pronoun is what was taken
        said = re.search(r"\b(?:he|she|him|her|his)\b", said, re.IGNORECASE).group()
    note = f"I took \"{said}\" as {name}."
    return replace(u, intent="recommend", target=None, refs=(), people=(person,), constraints=constraints,
                   constraint_fields=u.constraint_fields | {"people"}, notes=(*u.notes, note))


def person_pointer(u: Understanding) -> re.Match[str] | None:
    """The name-less pointer at a person in a request (``None``: none, or the message names people)."""
    if u.people or u.intent not in _OPEN_INTENTS:
        return None
    m = _POINTER_RE.search(u.text)
    return m if m is not None and _WANTS_RE.search(u.text) else None


def _person_of_last_answer(state: ConversationState, catalog: Catalog, role: str | None) -> str | None:
    last = state.log[-1] if state.log else None
    if last is None or last.act != "answer":
        return None
    attribute = last.answer.get("attribute")
    item = catalog.get(last.answer.get("item_id") or "")
    if item is None or attribute not in ("director", "cast"):
        return None
    if role is not None and role != attribute:
        return None  # "who directed it?" then "more with that actor": the film's lead, below
    names = item.directors if attribute == "director" else item.cast
    return names[0] if names else None


def _person_of_film(focus: str | None, state: ConversationState, catalog: Catalog, role: str | None) -> str | None:
    film = catalog.get(focus) if focus else None
    if film is None and state.last_slate:
        film = catalog.get(state.last_slate[0])
    if film is None:
        return None
    if role == "cast":
        return film.cast[0] if film.cast else None
    # "that director", or a bare "him": a film's director is the person most said to "make" it
    return film.directors[0] if film.directors else None
