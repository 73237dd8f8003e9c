"""The recommendation slate: one card per recommended item, each with a feedback widget.

The slate shows the engine's recommendations for the last finished turn (items
always come from the catalogue: the engine's slate, never parsed from text).
:data:`~workbench.limits.MAX_SLATE` card slots are built once and
shown or hidden, so the page layout stays stable and each card's widgets
(like / dislike / haven't seen it, a 1-5 rating) keep fixed ids. One comment box
under the cards is about the whole turn (the feedback record has one comment). A card's
judgement changes the conversation at once (:mod:`workbench.chat.live`), and its "More like
this" button asks for more like that item (wired in :mod:`workbench.ui.chat_panel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.chat.live import judge_slate
from workbench.chat.session import CardJudgement, ChatSession
from workbench.chat.turns import active_constraints
from workbench.errors import WorkbenchError
from workbench.feedback.record import ITEM_LABELS
from workbench.limits import MAX_COMMENT_CHARS, MAX_SLATE
from workbench.ui.format import VERDICT_BUTTONS, card_html

#: The rating buttons on a card.
RATINGS = ("1", "2", "3", "4", "5")
EMPTY_SLATE = (
    '<div class="wb-empty">Recommendations appear here after your first message. '
    "Rate them to help improve the recommender.</div>"
)
#: Widgets per card slot, in the order they appear in :attr:`Slate.values`.
FIELDS_PER_CARD = 2
#: The card fields, in that order (what :func:`cleared` takes).
CARD_FIELDS = ("verdict", "rating")
#: How a card's controls combine, shown above the cards (nothing changes silently).
CARD_RULES = (
    "**Like** or **Dislike** can go with a **rating 1-5**. **Haven't seen it** has no rating: "
    "choosing it clears the rating, and rating the film clears *haven't seen it*. **✕** clears a choice."
)


@dataclass
class CardSlot:
    group: gr.Group
    html: gr.HTML
    verdict: gr.Radio
    rating: gr.Radio
    clear_verdict: gr.Button
    clear_rating: gr.Button
    more: gr.Button  # "More like this": a more-like turn anchored on the card's item

    def clear_button(self, field: str) -> gr.Button:
        return self.clear_verdict if field == "verdict" else self.clear_rating

    def widget(self, field: str) -> gr.Radio:
        return self.verdict if field == "verdict" else self.rating


@dataclass
class Slate:
    header: gr.Markdown
    constraints: gr.Dropdown  # the constraints the next turn inherits, as removable chips
    empty: gr.HTML
    cards: list[CardSlot]
    comment: gr.Textbox
    to_chat: gr.Button  # narrow screens only (CSS): back to the conversation

    @property
    def values(self) -> list[gr.components.Component]:
        """The turn comment, then every card's widgets (verdict, rating per card), as event inputs."""
        return [self.comment] + [w for c in self.cards for w in (c.verdict, c.rating)]

    @property
    def outputs(self) -> list[gr.components.Component]:
        """What :func:`render_slate` fills, in its order."""
        out: list[gr.components.Component] = [self.header, self.constraints, self.empty, self.comment]
        for c in self.cards:
            out += [c.group, c.html, c.verdict, c.rating]
        return out


def parse_cards(values: Sequence[Any]) -> list[CardJudgement]:
    """Flat widget values (verdict, rating per card) -> one :class:`CardJudgement` per card."""
    if len(values) % FIELDS_PER_CARD:
        raise ValueError(f"expected {FIELDS_PER_CARD} values per card, got {len(values)} values")
    out = []
    for slot in range(len(values) // FIELDS_PER_CARD):
        verdict, rating = values[slot * FIELDS_PER_CARD: (slot + 1) * FIELDS_PER_CARD]
        if verdict in ("", None):
            verdict = None
        elif verdict not in ITEM_LABELS:
            raise WorkbenchError(
                f"card {slot + 1}: verdict must be one of {', '.join(ITEM_LABELS)}, got {verdict!r}"
            )
        if rating in ("", None):
            rating = None
        else:
            try:
                rating = int(rating)
            except (TypeError, ValueError):
                raise WorkbenchError(f"card {slot + 1}: rating must be 1-5, got {rating!r}") from None
            if not 1 <= rating <= 5:
                raise WorkbenchError(f"card {slot + 1}: rating must be 1-5, got {rating}")
        if verdict == "not_seen" and rating is not None:
            raise WorkbenchError(f"card {slot + 1}: an item you haven't seen cannot be rated")
        out.append(CardJudgement(verdict, rating))
    return out


def parse_slate_values(values: Sequence[Any]) -> tuple[str, list[CardJudgement]]:
    """:attr:`Slate.values` -> (turn comment, card judgements)."""
    comment, *cards = values
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise WorkbenchError(f"comment has {len(comment)} characters (limit {MAX_COMMENT_CHARS})")
    return comment, parse_cards(cards)


def cleared(values: Sequence[Any], slot: int, field: str) -> list[Any]:
    """:attr:`Slate.values` with card ``slot``'s ``field`` (``"verdict"`` or ``"rating"``) emptied."""
    if field not in CARD_FIELDS:
        raise ValueError(f"field must be one of {CARD_FIELDS}, got {field!r}")
    if not 0 <= slot < (len(values) - 1) // FIELDS_PER_CARD:
        raise ValueError(f"no card slot {slot}")
    out = list(values)
    out[1 + slot * FIELDS_PER_CARD + CARD_FIELDS.index(field)] = None
    return out


def sync_judgements(session: ChatSession, slate_values: list[Any]) -> None:
    """Copy what the slate widgets show into the session's judgements of the slate's turn."""
    ex = session.slate_exchange
    if ex is None or not slate_values:
        return
    comment, cards = parse_slate_values(slate_values)
    judge_slate(session, ex, cards[: len(ex.recommendations)], comment)  # also changes the next turn


def constraint_chips(session: ChatSession | None) -> dict[str, Any]:
    """The chips update: one removable chip per constraint the next turn inherits (hidden when none)."""
    active = active_constraints(session) if isinstance(session, ChatSession) else []
    return gr.update(choices=[(c.label, c.key) for c in active], value=[c.key for c in active],
                     visible=bool(active))


def render_slate(session: ChatSession | None, *, keep_values: bool = False, demo: bool = False) -> list[Any]:
    """Values/updates for :attr:`Slate.outputs` showing ``session``'s current slate.

    The widgets show what is set on that turn (saved or not); ``keep_values``
    leaves them and the cards as they are and refreshes only the header and the chips (after a
    save: the same slate). ``demo`` renders the cards for a stakeholder demo (:func:`card_html`).
    """
    ex = session.slate_exchange if session is not None else None
    recs = ex.recommendations if ex is not None else ()
    judgement = session.judgement(ex) if session is not None and ex is not None else None
    saved = session is not None and ex is not None and session.is_saved(ex)
    header = "### Recommendations"
    if recs:
        header += f" · turn {ex.index + 1}" + (" · saved ✓" if saved else "")
    empty_html = EMPTY_SLATE if ex is None else '<div class="wb-empty">No recommendations this turn.</div>'
    out: list[Any] = [header, constraint_chips(session), gr.update(visible=not recs, value=empty_html)]
    out.append(gr.skip() if keep_values else gr.update(
        value=judgement.comment if judgement else "", interactive=ex is not None))
    for slot in range(MAX_SLATE):
        if slot < len(recs):
            rec = recs[slot]
            card = judgement.item(rec.item.item_id) if judgement else CardJudgement()
            if keep_values:
                out += [gr.update(visible=True), gr.skip(), gr.skip(), gr.skip()]
            else:
                out += [gr.update(visible=True), card_html(rec, demo=demo), card.verdict,
                        str(card.rating) if card.rating else None]
        else:
            out += [gr.update(visible=False), "", None, None]
    return out


def build_slate() -> Slate:
    """The slate column (call inside a Blocks context)."""
    to_chat = gr.Button("💬 Back to the chat", size="sm", elem_id="wb-to-chat", elem_classes=["wb-narrow-only"])
    header = gr.Markdown("### Recommendations", elem_id="wb-slate-header")
    constraints = gr.Dropdown(
        [], value=[], multiselect=True, label="Still applied to your next message (✕ removes one)",
        visible=False, allow_custom_value=False, filterable=False, elem_id="wb-constraints",
    )
    gr.Markdown(CARD_RULES, elem_id="wb-slate-rules", elem_classes=["wb-hint"])
    empty = gr.HTML(EMPTY_SLATE, elem_id="wb-slate-empty")
    cards = []
    with gr.Column(elem_id="wb-slate-cards"):
        for slot in range(MAX_SLATE):
            with gr.Group(visible=False, elem_classes=["wb-card-slot"], elem_id=f"wb-card-{slot}") as group:
                html = gr.HTML("", elem_classes=["wb-card-html"])
                with gr.Row(elem_classes=["wb-feedback-row"], equal_height=True):
                    verdict = gr.Radio(
                        [(label, key) for key, label in VERDICT_BUTTONS.items()], value=None,
                        show_label=False, container=False, elem_classes=["wb-verdict"], scale=3, min_width=300,
                        elem_id=f"wb-verdict-{slot}",
                    )
                    clear_verdict = gr.Button("✕", size="sm", scale=0, min_width=30, elem_classes=["wb-clear"],
                                              elem_id=f"wb-verdict-clear-{slot}")
                    gr.HTML("Rating 1-5", elem_classes=["wb-rating-label"],
                            container=False, min_width=0)
                    rating = gr.Radio(
                        list(RATINGS), value=None, label="Rating 1-5", show_label=False, container=False,
                        elem_classes=["wb-rating"], elem_id=f"wb-rating-{slot}", scale=2, min_width=200,
                    )
                    clear_rating = gr.Button("✕", size="sm", scale=0, min_width=30, elem_classes=["wb-clear"],
                                             elem_id=f"wb-rating-clear-{slot}")
                more = gr.Button("More like this", size="sm", elem_classes=["wb-more"], elem_id=f"wb-more-{slot}")
            cards.append(CardSlot(group, html, verdict, rating, clear_verdict, clear_rating, more))
    comment = gr.Textbox(
        "", placeholder="Comment on this turn's reply or recommendations (optional)", show_label=False,
        lines=2, max_length=MAX_COMMENT_CHARS, interactive=False, elem_id="wb-comment",
    )
    return Slate(header, constraints, empty, cards, comment, to_chat)


def wire(slate: Slate) -> None:
    """Keep each card consistent: a film you haven't seen has no rating, and rating it means you have seen it."""
    for card in slate.cards:
        card.verdict.input(lambda v, r: None if v == "not_seen" else gr.skip(), [card.verdict, card.rating],
                           card.rating, queue=False, show_progress="hidden", api_visibility="private")
        card.rating.input(lambda v, r: None if r and v == "not_seen" else gr.skip(),
                          [card.verdict, card.rating], card.verdict, queue=False, show_progress="hidden",
                          api_visibility="private")
