"""The arena's use cases: draw a blind pair, run both systems at once, take a vote.

:class:`ArenaService` is what the Arena tab and the ``/arena_pair`` / ``/arena_vote`` endpoints
call. A conversation (``pair_session_id``) is two systems drawn once, the least-voted pair of the
configured systems first (ties broken at random), labelled A (left) and B (right) in random
order; each side keeps its own :class:`~workbench.dialogue.state.ConversationState`, so every
later message continues both conversations, each on its own replies (as in LMSYS). Every message
is one *pair* (``pair_id``) that annotators vote on.

:meth:`ArenaService.stream_pair` runs the two engines in two threads and yields after every piece
either side streams, so both replies grow at the same time; both states commit only when both
turns completed. :meth:`ArenaService.vote` writes the vote through the feedback store
(:mod:`workbench.arena.votes`); a second vote by the same annotator on the same pair is refused
and writes nothing. Nothing returned before the vote names a system (:func:`blind_items`).

It knows services, systems, engines and votes; it does not know gradio.
"""

from __future__ import annotations

import itertools
import queue
import random
import secrets
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from workbench.arena.engines import SystemEngines
from workbench.arena.leaderboard import BOOTSTRAP_REPS, Standing, by_annotator, leaderboard
from workbench.arena.systems import ResolvedSystem, arena_system_names, resolve_systems
from workbench.arena.votes import (
    SideShown,
    Vote,
    has_voted,
    read_votes,
    system_names,
    void_reason,
    vote_records,
)
from workbench.chat.session import SessionRegistry, new_session_id
from workbench.dialogue.state import ConversationState
from workbench.dialogue.types import Recommendation, ReplyRestart, TurnResult
from workbench.errors import ArenaError, WorkbenchError
from workbench.feedback.record import ARENA_VOTES
from workbench.services import Services
from workbench.text import check_message

#: Arena conversations kept in memory (a :class:`~workbench.chat.session.SessionRegistry`: the
#: biggest owner's oldest goes first; an idle one expires after ``SESSION_TTL_S`` like a chat session).
MAX_ARENA_CONVERSATIONS = 2000
#: Pairs (turns) that can still be voted on; older ones are forgotten.
MAX_ARENA_PAIRS = 20000
#: Seconds a conversation awaiting its vote counts toward its pair's balance.
PENDING_WINDOW_S = 600.0
#: Bootstrap refits behind the intervals that choose pairs once every pair has its minimum of votes.
DRAW_BOOTSTRAP_REPS = 200
#: Cast members listed per item in a pair payload.
PAIR_CAST = 4
SIDES = ("a", "b")


def blind_items(recommendations: Sequence[Recommendation]) -> list[dict[str, Any]]:
    """A slate as a pair shows it: what the annotator judges, without scores or their sources.

    Which sources scored an item (and on which scale) would tell the systems apart.
    """
    return [{"item_id": r.item.item_id, "title": r.item.display_title, "year": r.item.year,
             "genres": list(r.item.genres), "directors": list(r.item.directors),
             "cast": list(r.item.cast[:PAIR_CAST]), "rank": r.rank, "reason": r.reason}
            for r in recommendations]


@dataclass
class ArenaSide:
    system: ResolvedSystem
    state: ConversationState


@dataclass
class ArenaTurn:
    """One message answered by both sides: a pair to vote on."""

    pair_id: str
    index: int
    message: str
    text: dict[str, str] = field(default_factory=lambda: {"a": "", "b": ""})
    results: dict[str, TurnResult] = field(default_factory=dict)
    shown: dict[str, SideShown] = field(default_factory=dict)
    voters: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return set(self.shown) == set(SIDES)

    def items(self, side: str) -> list[dict[str, Any]]:
        result = self.results.get(side)
        return blind_items(result.recommendations) if result is not None else []

    def payload(self, pair_session_id: str) -> dict[str, Any]:
        """The ``/arena_pair`` JSON: replies and blind slates, labelled only A and B."""
        return {"pair_session_id": pair_session_id, "pair_id": self.pair_id,
                "a": {"reply": self.text["a"], "items": self.items("a")},
                "b": {"reply": self.text["b"], "items": self.items("b")}}


@dataclass
class ArenaConversation:
    pair_session_id: str
    sides: dict[str, ArenaSide]
    turns: list[ArenaTurn] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)

    @property
    def session_id(self) -> str:
        """The id its :class:`~workbench.chat.session.SessionRegistry` keeps it under."""
        return self.pair_session_id


_DONE = object()


class ArenaService:
    """Blind pairs of the configured systems, their votes, and the leaderboard.

    Args:
        services: the app's services (the systems' engines share their parts).
        systems: the systems to pair, by name (default: ``WORKBENCH_ARENA_SYSTEMS`` resolved).
        rng: randomness for drawing pairs and sides (tests pass a seeded one).
    """

    def __init__(self, services: Services, systems: Mapping[str, ResolvedSystem] | None = None, *,
                 rng: random.Random | None = None):
        settings = services.settings
        if systems is None:
            names = arena_system_names(settings)
            systems = resolve_systems(settings, names, {settings.index_dir: services.index_id})
        if len(systems) < 2:
            raise ArenaError(f"the arena needs at least two systems, got {list(systems)}")
        self.services = services
        self.systems: dict[str, ResolvedSystem] = dict(systems)
        self.engines = SystemEngines(services)
        self.rng = rng or random.Random(secrets.randbits(64))
        self._conversations: SessionRegistry[ArenaConversation] = SessionRegistry(
            max_sessions=MAX_ARENA_CONVERSATIONS)
        self._pairs: OrderedDict[str, tuple[ArenaConversation, ArenaTurn]] = OrderedDict()
        self._lock = threading.Lock()
        self._vote_lock = threading.Lock()
        self._intervals: tuple[int, dict[str, tuple[float, float]]] | None = None  # (votes seen, intervals)

    # drawing pairs -------------------------------------------------------------------------
    def pair_counts(self) -> Counter[frozenset[str]]:
        """Votes so far per pair of the configured systems' ids, plus recent conversations awaiting a vote."""
        ids = {s.system_id for s in self.systems.values()}
        counts: Counter[frozenset[str]] = Counter()
        for v in self.votes():
            if v.a in ids and v.b in ids:
                counts[frozenset((v.a, v.b))] += 1
        # A conversation opened in the last PENDING_WINDOW_S whose latest pair has no vote yet counts as
        # one vote to come, so annotators starting at the same time are spread over the pairs.
        recent = time.monotonic() - PENDING_WINDOW_S
        for conv in self._conversations.sessions():
            if conv.last_used >= recent and not (conv.turns and conv.turns[-1].voters):
                counts[frozenset(s.system.system_id for s in conv.sides.values())] += 1
        return counts

    def draw(self) -> tuple[ResolvedSystem, ResolvedSystem]:
        """The next pair ``(A, B)``, in random order: a least-voted pair while some pair has fewer than
        ``arena_min_pair_votes`` votes, then a pair whose systems' intervals overlap most (the pair the
        leaderboard is least sure how to order)."""
        counts = self.pair_counts()
        pairs = list(itertools.combinations(sorted(self.systems), 2))
        key = {p: frozenset((self.systems[p[0]].system_id, self.systems[p[1]].system_id)) for p in pairs}
        fewest = min(counts[key[p]] for p in pairs)
        if fewest >= self.services.settings.arena_min_pair_votes:
            candidates = self._most_overlapping(pairs, key)
        else:
            candidates = [p for p in pairs if counts[key[p]] == fewest]
        x, y = self.rng.choice(candidates)
        if self.rng.random() < 0.5:
            x, y = y, x
        return self.systems[x], self.systems[y]

    def _most_overlapping(self, pairs: list[tuple[str, str]],
                          key: Mapping[tuple[str, str], frozenset[str]]) -> list[tuple[str, str]]:
        """The pairs whose 95% intervals overlap most (the length of the overlap; a gap counts negative)."""
        votes = self.votes()
        cached = self._intervals
        if cached is None or cached[0] != len(votes):
            rows = leaderboard(votes, reps=DRAW_BOOTSTRAP_REPS)
            cached = self._intervals = (len(votes), {f"{r.system}@{r.config_hash}": (r.ci_low, r.ci_high)
                                                     for r in rows})
        intervals = cached[1]

        def overlap(p: tuple[str, str]) -> float:
            a, b = (intervals.get(self.systems[s].system_id) for s in p)
            if a is None or b is None:
                return float("inf")  # a system without counted votes: nothing is known, ask
            return min(a[1], b[1]) - max(a[0], b[0])

        scores = {p: overlap(p) for p in pairs}
        best = max(scores.values())
        return [p for p in pairs if scores[p] == best]

    def conversation(self, pair_session_id: str = "", owner: str = "") -> ArenaConversation:
        """The conversation ``pair_session_id`` (of ``owner``), or a new one with a new pair when empty."""
        if pair_session_id:
            try:  # unknown, expired and someone else's are refused alike
                return self._conversations.get(pair_session_id, owner)
            except WorkbenchError:
                raise ArenaError(f"pair_session_id: no arena conversation {pair_session_id[:80]!r} here "
                                 "(leave it empty to start one)") from None
        a, b = self.draw()
        sid = new_session_id()
        return self._conversations.add(ArenaConversation(sid, {
            "a": ArenaSide(a, self.services.engine.new_state(f"{sid}-a")),
            "b": ArenaSide(b, self.services.engine.new_state(f"{sid}-b")),
        }), owner)

    # running a pair -------------------------------------------------------------------------
    def stream_pair(self, conv: ArenaConversation, message: str) -> Iterator[ArenaTurn]:
        """Both sides answer ``message`` at once; yields the growing turn after every piece.

        The last value yielded is complete (its ``shown`` filled) and can be voted on. Both sides'
        states change only when both turns complete; a failure on either side raises and changes neither.
        """
        text = check_message(message)
        with conv.lock:
            turn = ArenaTurn(secrets.token_hex(16), len(conv.turns), text)
            if any("recommender" in s.system.config["sources"] for s in conv.sides.values()):
                self.services.wait_for_recommender()
            choices = {side: self.engines.generator(conv.sides[side].system) for side in SIDES}
            if not all(c.ready for c in choices.values()):
                # The template would answer for the LLM and the vote would be credited to the wrong
                # configuration. Which model is loading would tell the sides apart: not named here.
                raise ArenaError("a system of this pair is still loading its language model; "
                                 "send the message again in a moment")
            events: queue.Queue[tuple[str, Any]] = queue.Queue()
            works: dict[str, ConversationState] = {}
            for side in SIDES:
                threading.Thread(target=self._run_side, args=(conv.sides[side], choices[side].generator, text,
                                                              events, works, side),
                                 name=f"arena-{side}", daemon=True).start()
            done: set[str] = set()
            while len(done) < len(SIDES):
                side, item = events.get()
                if item is _DONE:
                    done.add(side)
                    continue
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, ReplyRestart):  # that side's model failed midway: its text is replaced
                    turn.text[side] = ""
                    continue
                if isinstance(item, TurnResult):
                    turn.results[side] = item
                    turn.text[side] = item.reply
                else:
                    turn.text[side] += item
                yield turn
            for side in SIDES:
                s = conv.sides[side]
                result = turn.results[side]
                turn.shown[side] = SideShown(
                    s.system.system_id, s.system.config_hash, s.system.config, tuple(s.state.turns),
                    result.reply, result.generator or choices[side].name, result.recommendations)
            for side in SIDES:
                conv.sides[side].state.commit(works[side])
            conv.turns.append(turn)
            with self._lock:
                self._pairs[turn.pair_id] = (conv, turn)
                while len(self._pairs) > MAX_ARENA_PAIRS:
                    self._pairs.popitem(last=False)
        yield turn

    def _run_side(self, side_state: ArenaSide, generator: Any, message: str, events: queue.Queue,
                  works: dict[str, ConversationState], side: str) -> None:
        try:
            system = side_state.system
            engine = self.engines.engine(system)
            work = side_state.state.copy()
            works[side] = work
            for piece in engine.stream(work, message, k=system.config["k"], generator=generator):
                events.put((side, piece))
            events.put((side, _DONE))
        except BaseException as exc:  # handed to the consumer, which raises it
            events.put((side, exc))

    def pair(self, message: str, pair_session_id: str = "", owner: str = "") -> dict[str, Any]:
        """``/arena_pair``: run one pair to the end and return its blind JSON."""
        conv = self.conversation(pair_session_id, owner)
        turn = None
        for step in self.stream_pair(conv, message):
            turn = step
        assert turn is not None and turn.complete
        return turn.payload(conv.pair_session_id)

    # voting ----------------------------------------------------------------------------------
    def vote(self, pair_id: str, annotator: str, vote: str, comment: str = "",
             judgements: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None) -> dict[str, Any]:
        """Save ``annotator``'s ``vote`` on ``pair_id``; reveals the systems' names.

        Raises:
            ArenaError: unknown pair, a bad vote, or a second vote by this annotator (nothing written).
            FeedbackError: a record check failed (a bad judgement, comment too long; nothing written).
        """
        if vote not in ARENA_VOTES:
            raise ArenaError(f"vote: must be one of {', '.join(ARENA_VOTES)}, got {vote!r:.80}")
        if not annotator.strip():
            raise ArenaError("annotator: must not be empty (a name or a Hugging Face username)")
        with self._lock:
            entry = self._pairs.get(pair_id)
        if entry is None:
            raise ArenaError(f"pair_id: no pair {pair_id[:80]!r} to vote on here (pairs come from /arena_pair)")
        conv, turn = entry
        with self._vote_lock:
            stored = self.services.store.read().records
            if annotator in turn.voters or has_voted(stored, pair_id, annotator):
                raise ArenaError(f"pair_id: {annotator!r} already voted on pair {pair_id!r}; a pair takes one "
                                 "vote per annotator (nothing was saved)")
            self._check_daily_cap(stored, annotator)
            records = vote_records(
                pair_id=pair_id, session_id=conv.pair_session_id, turn_index=turn.index, message=turn.message,
                vote=vote, annotator=annotator, comment=comment, a=turn.shown["a"], b=turn.shown["b"],
                judgements=judgements or {}, catalog=self.services.catalog,
                index_ids={s.system.system_id: str(s.system.config["index"]) for s in conv.sides.values()})
            self.services.store.append_many(records)
            turn.voters.add(annotator)
        void = void_reason({"a": turn.shown["a"].reply, "b": turn.shown["b"].reply},
                           {s.system.name for s in conv.sides.values()} | system_names(records))
        return {"saved": True, "record_id": records[0].record_id, "a_system": conv.sides["a"].system.name,
                "b_system": conv.sides["b"].system.name, "voided": void}

    def _check_daily_cap(self, records: Sequence[Any], annotator: str) -> None:
        """Refuse a vote past ``arena_daily_vote_cap`` votes by ``annotator`` this UTC day."""
        cap = self.services.settings.arena_daily_vote_cap
        if not cap:
            return
        today = datetime.now(timezone.utc).date().isoformat()
        cast = sum(1 for v in read_votes(records) if v.annotator == annotator and v.created_at[:10] == today)
        if cast >= cap:
            raise ArenaError(f"annotator {annotator!r} has cast {cast} arena votes today (UTC), the daily cap "
                             f"(setting arena_daily_vote_cap, WORKBENCH_ARENA_DAILY_VOTE_CAP = {cap}); "
                             "nothing was saved, vote again tomorrow")

    def revealed(self, pair_id: str, annotator: str) -> dict[str, str]:
        """The systems behind a pair, for an annotator who has voted on it."""
        with self._lock:
            entry = self._pairs.get(pair_id)
        if entry is None or annotator not in entry[1].voters:
            raise ArenaError("the systems are shown after your vote")
        conv = entry[0]
        return {side: conv.sides[side].system.name for side in SIDES}

    # the leaderboard ---------------------------------------------------------------------------
    def votes(self) -> list[Vote]:
        return read_votes(self.services.store.read().records)

    def standings(self, *, reps: int = BOOTSTRAP_REPS) -> tuple[int, list[Standing], dict[str, list[Standing]]]:
        """``(votes, overall standings, standings per annotator)`` over every arena vote in the store."""
        votes = self.votes()
        return len(votes), leaderboard(votes, reps=reps), by_annotator(votes, reps=reps)


def open_arena(services: Services) -> ArenaService | None:
    """The arena over ``services``' configured systems, or ``None`` when their engine is not a
    :class:`~workbench.dialogue.engine.ChatEngine` (a scripted engine in UI tests).

    Raises:
        ConfigError: the systems file or ``WORKBENCH_ARENA_SYSTEMS`` is wrong (at start-up, not at a vote).
    """
    from workbench.dialogue.engine import ChatEngine

    settings = services.settings
    systems = resolve_systems(settings, arena_system_names(settings), {settings.index_dir: services.index_id})
    if not isinstance(services.engine, ChatEngine):
        return None
    return ArenaService(services, systems)
