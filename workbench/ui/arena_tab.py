"""The Arena tab: two anonymous systems answer side by side; the annotator votes, then sees who was who.

The annotator types a message; both systems of the tab's arena conversation answer at once
(:meth:`~workbench.arena.service.ArenaService.stream_pair`), each in its own chat under "A" or
"B" with its slate (cards in the demo view: no ids, scores or sources, which would tell the
systems apart). The vote buttons (A is better, B is better, Tie, Both are bad), an optional
comment and per-item likes / dislikes on either slate save one vote
(:meth:`~workbench.arena.service.ArenaService.vote`); only then are the systems' names shown.
Later messages continue both conversations; "New pair" draws another pair. The leaderboard
(Bradley-Terry strengths with 95% intervals) is shown below and refreshed after each vote.

It builds widgets and wires their events; every decision is the arena service's.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from workbench.arena.service import ArenaConversation, ArenaService, ArenaTurn
from workbench.chat.identity import identify
from workbench.errors import ArenaError
from workbench.limits import MAX_ANNOTATOR_CHARS, MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS
from workbench.services import Services
from workbench.ui.boundary import shows_errors
from workbench.ui.format import card_html

#: Bootstrap refits behind the tab's intervals (the CLI's default is 1000; the tab refreshes often).
TAB_BOOTSTRAP_REPS = 200
VOTES = (("a", "👈 A is better"), ("b", "👉 B is better"), ("tie", "🤝 Tie"), ("both_bad", "👎 Both are bad"))
LEADERBOARD_HEADERS = ["rank", "system", "hash", "strength", "95% low", "95% high", "wins", "losses", "ties",
                       "both bad"]


@dataclass
class ArenaTab:
    annotator: gr.Textbox
    chat_a: gr.Chatbot
    chat_b: gr.Chatbot
    slate_a: gr.HTML
    slate_b: gr.HTML
    liked_a: gr.CheckboxGroup
    disliked_a: gr.CheckboxGroup
    liked_b: gr.CheckboxGroup
    disliked_b: gr.CheckboxGroup
    message: gr.Textbox
    send: gr.Button
    new_pair: gr.Button
    comment: gr.Textbox
    votes: list[gr.Button]
    reveal: gr.Markdown
    leaderboard: gr.Dataframe
    per_annotator: gr.Dataframe
    refresh: gr.Button
    state: gr.State


def _side(label: str) -> tuple[gr.Chatbot, gr.HTML, gr.CheckboxGroup, gr.CheckboxGroup]:
    """One side's column (``A`` or ``B``): its conversation, its slate and its per-item judgements."""
    side = label.lower()
    with gr.Column(elem_id=f"wb-arena-col-{side}"):
        chat = gr.Chatbot(label=label, height=360, elem_id=f"wb-arena-chat-{side}", sanitize_html=True,
                          allow_tags=False, layout="bubble", buttons=["copy"])
        slate = gr.HTML(elem_id=f"wb-arena-slate-{side}")
        with gr.Row():
            liked = gr.CheckboxGroup(label=f"{label}: fits", choices=[], elem_id=f"wb-arena-liked-{side}")
            disliked = gr.CheckboxGroup(label=f"{label}: does not fit", choices=[],
                                        elem_id=f"wb-arena-disliked-{side}")
    return chat, slate, liked, disliked


def build_arena_tab(services: Services, arena: ArenaService | None) -> ArenaTab:
    gr.Markdown(
        "Two anonymous systems answer each message side by side. Vote for the better answer "
        "(reply and recommendations together); the systems' names appear after your vote."
        if arena is not None else "The arena is not available on this server.", elem_id="wb-arena-intro")
    annotator = gr.Textbox(label="Your name", placeholder="who is voting", max_length=MAX_ANNOTATOR_CHARS,
                           elem_id="wb-arena-name")
    with gr.Row(equal_height=False):
        chat_a, slate_a, liked_a, disliked_a = _side("A")
        chat_b, slate_b, liked_b, disliked_b = _side("B")
    with gr.Row():
        message = gr.Textbox(label="Message", placeholder="Ask both for films…", scale=6, max_length=MAX_MESSAGE_CHARS,
                             elem_id="wb-arena-message")
        send = gr.Button("Send", variant="primary", scale=1, elem_id="wb-arena-send")
        new_pair = gr.Button("New pair", scale=1, elem_id="wb-arena-new")
    comment = gr.Textbox(label="Comment (optional)", lines=1, max_length=MAX_COMMENT_CHARS,
                         elem_id="wb-arena-comment")
    with gr.Row():
        votes = [gr.Button(label, elem_id=f"wb-arena-vote-{key}", interactive=False) for key, label in VOTES]
    reveal = gr.Markdown("", elem_id="wb-arena-reveal")
    with gr.Accordion("Leaderboard", open=True, elem_id="wb-arena-board"):
        leaderboard = gr.Dataframe(headers=LEADERBOARD_HEADERS, value=[], interactive=False,
                                   elem_id="wb-arena-leaderboard")
        gr.Markdown("Each annotator's own standings (does one person's taste drive the ranking?):")
        per_annotator = gr.Dataframe(headers=["annotator", *LEADERBOARD_HEADERS], value=[], interactive=False,
                                     elem_id="wb-arena-per-annotator")
        refresh = gr.Button("Refresh leaderboard", size="sm", elem_id="wb-arena-refresh")
    state = gr.State({"sid": "", "pair_id": "", "voted": True})
    return ArenaTab(annotator, chat_a, chat_b, slate_a, slate_b, liked_a, disliked_a, liked_b, disliked_b,
                    message, send, new_pair, comment, votes, reveal, leaderboard, per_annotator, refresh, state)


# ---------------------------------------------------------------------------
# formatting


def chat_messages(conv: ArenaConversation | None, side: str, current: ArenaTurn | None = None) -> list[dict]:
    """One side's conversation as Gradio messages (the turn still streaming last)."""
    turns = list(conv.turns) if conv is not None else []
    if current is not None and current not in turns:
        turns.append(current)
    out: list[dict] = []
    for t in turns:
        out += [{"role": "user", "content": t.message}, {"role": "assistant", "content": t.text[side]}]
    return out


def slate_html(turn: ArenaTurn | None, side: str) -> str:
    result = turn.results.get(side) if turn is not None else None
    if result is None or not result.recommendations:
        return ""
    return '<div class="wb-slate">' + "".join(card_html(r, demo=True) for r in result.recommendations) + "</div>"


def item_choices(turn: ArenaTurn | None, side: str) -> list[tuple[str, str]]:
    result = turn.results.get(side) if turn is not None else None
    return [(r.item.display_title, r.item.item_id) for r in (result.recommendations if result else ())]


def _row(r: Any) -> list[Any]:
    return [r.rank, r.system, r.config_hash, r.strength, r.ci_low, r.ci_high, r.wins, r.losses, r.ties, r.both_bad]


def leaderboard_rows(arena: ArenaService | None) -> tuple[list[list[Any]], list[list[Any]]]:
    """The overall standings and each annotator's, as table rows."""
    if arena is None:
        return [], []
    _n, rows, per = arena.standings(reps=TAB_BOOTSTRAP_REPS)
    return [_row(r) for r in rows], [[name, *_row(r)] for name, own in per.items() for r in own]


def reveal_markdown(names: dict[str, str], vote: str) -> str:
    said = dict(VOTES)[vote].split(" ", 1)[1]
    return (f"**A** was **{html.escape(names['a'])}**, **B** was **{html.escape(names['b'])}**. "
            f"You voted: {said}. Send another message to continue, or start a new pair.")


# ---------------------------------------------------------------------------
# events


def wire(services: Services, arena: ArenaService | None, demo: gr.Blocks, tab: ArenaTab) -> None:
    """Wire the tab's events: send (streams both sides), new pair, the four votes, the leaderboard."""
    outputs = [tab.chat_a, tab.chat_b, tab.slate_a, tab.slate_b, tab.liked_a, tab.disliked_a, tab.liked_b,
               tab.disliked_b, tab.message, tab.reveal, tab.state, *tab.votes]

    def no_votes() -> list[Any]:  # updates, built in the handler: a gr.Button made here would be rendered
        return [gr.Button(interactive=False) for _ in VOTES]

    def keep(*args: Any, **kwargs: Any) -> list[Any]:
        return [gr.skip()] * len(outputs)

    @shows_errors(keep)
    def send(message: str, state: dict, request: gr.Request = None) -> Any:
        if arena is None:
            raise ArenaError("the arena is not available on this server")
        state = dict(state or {})
        conv = arena.conversation(state.get("sid", ""), owner="")  # the tab's own conversation
        last = None
        for turn in arena.stream_pair(conv, message):
            last = turn
            yield [chat_messages(conv, "a", turn), chat_messages(conv, "b", turn), gr.skip(), gr.skip(),
                   gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), "", gr.skip(), *no_votes()]
        assert last is not None
        state = {"sid": conv.pair_session_id, "pair_id": last.pair_id, "voted": False}
        choices_a, choices_b = item_choices(last, "a"), item_choices(last, "b")
        yield [chat_messages(conv, "a"), chat_messages(conv, "b"), slate_html(last, "a"), slate_html(last, "b"),
               gr.CheckboxGroup(choices=choices_a, value=[]), gr.CheckboxGroup(choices=choices_a, value=[]),
               gr.CheckboxGroup(choices=choices_b, value=[]), gr.CheckboxGroup(choices=choices_b, value=[]),
               "", "", state, *[gr.Button(interactive=True) for _ in VOTES]]

    for trigger in (tab.send.click, tab.message.submit):
        trigger(send, [tab.message, tab.state], outputs, concurrency_id="turn", api_visibility="private")

    def new_pair(state: dict) -> list[Any]:
        empty = gr.CheckboxGroup(choices=[], value=[])
        return [[], [], "", "", empty, empty, empty, empty, gr.skip(), "", {"sid": "", "pair_id": "", "voted": True},
                *no_votes()]

    tab.new_pair.click(new_pair, [tab.state], outputs, queue=False, api_visibility="private")

    board_outputs = [tab.reveal, tab.state, tab.comment, tab.leaderboard, tab.per_annotator, *tab.votes]

    def keep_board(*args: Any, **kwargs: Any) -> list[Any]:
        return [gr.skip()] * len(board_outputs)

    for key, button in zip((k for k, _ in VOTES), tab.votes, strict=True):
        @shows_errors(keep_board)
        def cast(annotator: str, comment: str, liked_a: list, disliked_a: list, liked_b: list, disliked_b: list,
                 state: dict, request: gr.Request = None, profile: gr.OAuthProfile | None = None,
                 _key: str = key) -> list[Any]:
            if arena is None:
                raise ArenaError("the arena is not available on this server")
            state = dict(state or {})
            if not state.get("pair_id") or state.get("voted"):
                raise ArenaError("send a message first: both systems answer it, then you vote")
            who = identify(services, annotator, profile, request)
            if not who:
                raise ArenaError("type your name first (votes are saved under it)")
            judgements = {"a": _judged(liked_a, disliked_a), "b": _judged(liked_b, disliked_b)}
            arena.vote(state["pair_id"], who, _key, comment or "", judgements)
            names = arena.revealed(state["pair_id"], who)
            state["voted"] = True
            return [reveal_markdown(names, _key), state, "", *leaderboard_rows(arena), *no_votes()]

        button.click(cast, [tab.annotator, tab.comment, tab.liked_a, tab.disliked_a, tab.liked_b, tab.disliked_b,
                            tab.state], board_outputs, api_visibility="private")

    def refresh() -> tuple[list[list[Any]], list[list[Any]]]:
        return leaderboard_rows(arena)

    boards = [tab.leaderboard, tab.per_annotator]
    tab.refresh.click(refresh, None, boards, api_visibility="private")
    demo.load(refresh, None, boards, api_visibility="private")


def _judged(liked: list | None, disliked: list | None) -> dict[str, dict[str, str]]:
    both = set(liked or ()) & set(disliked or ())
    if both:
        raise ArenaError(f"an item cannot both fit and not fit: {sorted(both)[0]!r}")
    return {**{i: {"label": "like"} for i in liked or ()}, **{i: {"label": "dislike"} for i in disliked or ()}}
