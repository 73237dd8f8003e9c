"""Live card feedback: what the user marks on a slate card changes the conversation at once.

A card's like / dislike / rating / "haven't seen it" means the same as saying it in the chat
(issue 14, part 1). :func:`card_stance` reads one card; :func:`judge_cards` records cards of one
turn (the slate widgets send the whole slate, the ``/feedback`` endpoint only the cards it names)
and :func:`sync_conversation` hands the session's conversation state every card judgement of the
turns still on screen (:meth:`~workbench.dialogue.state.ConversationState.set_card_stances` applies
only what changed). The next turn then ranks with it: liked items are history for the CF and
content sources, disliked ones are excluded and a negative signal, items not seen are not taste.

Undo and retry (decided, see docs/using.md "Live card feedback"):

* The card judgements live here, per exchange, apart from the state's undo snapshots, and the
  state is re-synced after every undo, turn and judgement. So undoing a turn takes back exactly
  what was judged on *that* turn's slate (it is no longer on screen; the judgements stay saveable
  as feedback records, as before) and keeps what was judged on earlier slates, also judgements
  made after the undone turn ran.
* Retry replaces a slate with another answer to the same message: the judgements on the replaced
  slate carry over to the retried turn (a film just disliked must not come straight back), and
  they are taken back if that retried turn is undone too.
* A judgement that arrives while a turn runs is applied again when the turn commits (the engine
  works on a copy of the state), so it is never lost.

It knows sessions and the conversation state's card stances; it does not know gradio or the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from workbench.chat.session import CardJudgement, ChatSession, Exchange
from workbench.dialogue.state import CardStance

#: Ratings that mean liked / disliked (3 means seen, no taste either way).
LIKED_RATINGS = frozenset({4, 5})
DISLIKED_RATINGS = frozenset({1, 2})
_VERDICT_STANCE = {"like": "liked", "dislike": "disliked", "not_seen": "not_seen"}


def card_stance(card: CardJudgement) -> str | None:
    """The stance one card gives its item: the rating when there is one, else the verdict.

    rating 4-5 / like -> ``"liked"``; rating 1-2 / dislike -> ``"disliked"``; rating 3 ->
    ``"seen"``; "haven't seen it" -> ``"not_seen"``; an empty card -> ``None``. A rating
    outranks a label (like with 2 stars is disliked), the same rule as the exports' and the
    refit's :func:`workbench.feedback.export.item_vote`, so a card means one thing everywhere.
    """
    if card.rating is not None:
        if card.rating in LIKED_RATINGS:
            return "liked"
        if card.rating in DISLIKED_RATINGS:
            return "disliked"
        return "seen"
    return _VERDICT_STANCE[card.verdict] if card.verdict is not None else None


def judge_cards(session: ChatSession, exchange: Exchange, cards: Iterable[tuple[str, CardJudgement]],
                *, replace_all: bool = False) -> None:
    """Record card judgements on ``exchange``'s slate and apply them to the conversation now.

    ``replace_all``: ``cards`` is the whole slate as shown (the UI widgets; a card left out is
    empty); otherwise only the cards named change (``/feedback`` judges some items per call).
    Items not on the slate are skipped here (saving the record names them as errors).
    """
    slate = {r.item.item_id for r in exchange.recommendations}
    with session._jlock:
        mine = {} if replace_all else dict(session.live_cards.get(exchange.uid, {}))
        for item_id, card in cards:
            if item_id not in slate:
                continue
            if card.empty:
                mine.pop(item_id, None)
            else:
                mine[item_id] = card
        session.live_cards[exchange.uid] = mine
        sync_conversation(session)


def judge_slate(session: ChatSession, exchange: Exchange, cards: Sequence[CardJudgement],
                comment: str | None = None) -> None:
    """The slate widgets' cards (in slate order) and comment: kept for saving and taken in by the state."""
    session.set_slate_judgements(exchange, cards, comment)
    judge_cards(session, exchange, zip((r.item.item_id for r in exchange.recommendations), cards, strict=False),
                replace_all=True)


def carry_over(session: ChatSession, undone: Exchange | None) -> None:
    """Retry: the judgements on ``undone``'s slate wait for the turn that replaces it."""
    if undone is None:
        return
    with session._jlock:
        cards = {**session.carried_cards.pop(undone.uid, {}), **session.live_cards.pop(undone.uid, {})}
        session.retry_cards = (undone.index, cards) if cards else None
        sync_conversation(session)


def adopt_carried(session: ChatSession, exchange: Exchange) -> None:
    """A turn completed: judgements carried over by a retry of its place now belong to it."""
    with session._jlock:
        if session.retry_cards is not None and session.retry_cards[0] == exchange.index:
            session.carried_cards[exchange.uid] = session.retry_cards[1]
            session.retry_cards = None
        sync_conversation(session)


def wanted_stances(session: ChatSession) -> dict[str, CardStance]:
    """Every card judgement on the exchanges still in the conversation (newer turns win)."""
    out: dict[str, CardStance] = {}

    def add(cards: dict[str, CardJudgement], turn: int) -> None:
        for item_id, card in cards.items():
            stance = card_stance(card)
            if stance is not None:
                out.pop(item_id, None)
                out[item_id] = CardStance(item_id, stance, turn)

    for ex in session.exchanges:
        add(session.carried_cards.get(ex.uid, {}), ex.index)
        add(session.live_cards.get(ex.uid, {}), ex.index)
    if session.retry_cards is not None:
        index, cards = session.retry_cards
        if len(session.exchanges) < index:  # undone past the retried turn: nothing left to carry to
            session.retry_cards = None
        else:
            add(cards, index)
    return out


def sync_conversation(session: ChatSession) -> bool:
    """Hand the conversation state every current card judgement; returns whether it changed."""
    with session._jlock:
        state = session.conversation
        if not hasattr(state, "set_card_stances"):
            return False
        return state.set_card_stances(wanted_stances(session))
