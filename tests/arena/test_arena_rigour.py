"""Arena rigour (issue 28 part 6): daily vote caps, voided votes, style control, ranks, pair choice.

Guards: a vote past ``arena_daily_vote_cap`` is refused and writes nothing; a vote whose reply
names a system is kept (both records stored), flagged and left out of the fit; the style-control
fit recovers a length preference planted in synthetic votes (and the plain fit does not see it as
such) and gives the systems' own strengths back; rank is 1 + the number of systems significantly
better (tied systems share a rank); once every pair has its minimum of votes the pair whose
intervals overlap most is drawn.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from arena_support import arena, arena_services

from workbench.arena.leaderboard import leaderboard, leaderboard_json, ranks, style_leaderboard
from workbench.arena.votes import Vote, read_votes, void_reason
from workbench.config import Settings
from workbench.errors import ArenaError, ConfigError


def test_a_vote_past_the_daily_cap_is_refused_and_writes_nothing(tiny_catalog, tmp_path):
    services = arena_services(tiny_catalog, tmp_path / "fb", arena_daily_vote_cap=2)
    a = arena(services, seed=1)
    for _ in range(2):
        out = a.pair("a comedy please")
        a.vote(out["pair_id"], "alice", "a")
    out = a.pair("a comedy please")
    before = len(services.store.read().records)
    with pytest.raises(ArenaError, match="'alice' has cast 2 arena votes today.*arena_daily_vote_cap.*nothing was saved"):
        a.vote(out["pair_id"], "alice", "b")
    assert len(services.store.read().records) == before
    assert a.vote(out["pair_id"], "bob", "b")["saved"]  # the cap is per annotator


def test_bad_cap_and_minimum_settings_name_the_setting():
    with pytest.raises(ConfigError, match="WORKBENCH_ARENA_DAILY_VOTE_CAP"):
        Settings(arena_daily_vote_cap=-1)
    with pytest.raises(ConfigError, match="WORKBENCH_ARENA_MIN_PAIR_VOTES.*1-100000, got 0"):
        Settings(arena_min_pair_votes=0)


def test_a_reply_naming_a_system_voids_the_vote_kept_but_not_counted(tiny_catalog, tmp_path):
    services = arena_services(tiny_catalog, tmp_path / "fb")
    a = arena(services, seed=2)
    fair = a.pair("a comedy please")
    a.vote(fair["pair_id"], "alice", "a")
    conv = a.conversation("")
    *_, turn = a.stream_pair(conv, "a thriller please")
    # the side shown as B gives itself away
    name = conv.sides["b"].system.name
    turn.shown["b"] = dataclasses.replace(turn.shown["b"], reply=f"As the {name} system, I suggest Heat.")
    saved = a.vote(turn.pair_id, "alice", "b")
    assert saved["voided"] == f"reply B names system {name!r}"
    records = [r for r in services.store.read().records if r.arena_pair == turn.pair_id]
    assert len(records) == 2  # kept
    votes = read_votes(services.store.read().records)
    assert [bool(v.void) for v in votes] == [False, True]
    out = leaderboard_json(votes, reps=0)
    assert out["votes"] == 2 and out["voided"] == 1
    assert sum(r["wins"] for r in out["systems"]) == 1  # only the fair vote counts
    assert void_reason({"a": "Try Heat (1995).", "b": "By the way: Alien."}, {"baseline", "no-llm"}) == ""
    assert void_reason({"a": "", "b": "I run Qwen2.5-0.5B."}, {"Qwen2.5-0.5B"}) == "reply B names system 'Qwen2.5-0.5B'"


def _length_biased(n: int, rng: np.random.Generator, beta: float) -> list[Vote]:
    """Two equally strong systems; the longer reply wins with log-odds ``beta * x``."""
    votes = []
    for k in range(n):
        la, lb = int(rng.integers(50, 600)), int(rng.integers(50, 600))
        # x@1 writes longer replies than y@2 on the whole: plain BT credits the system with the length
        a, b = ("x@1", "y@2") if k % 2 == 0 else ("y@2", "x@1")
        if a == "x@1":
            la += 300
        else:
            lb += 300
        x = (la - lb) / (la + lb)
        p_a = 1 / (1 + np.exp(-beta * x))
        votes.append(Vote(f"p{k}", "ann", a, b, "a" if rng.random() < p_a else "b", len_a=la, len_b=lb))
    return votes


def test_style_control_recovers_a_planted_length_preference():
    votes = _length_biased(3000, np.random.default_rng(7), beta=3.0)
    plain = {r.system: r.strength for r in leaderboard(votes, reps=0)}
    beta, styled = style_leaderboard(votes, reps=0)
    styled_gap = abs(styled[0].strength - styled[1].strength)
    assert 2.3 < beta < 3.7  # the planted coefficient, within sampling error
    assert plain["x"] - plain["y"] > 0.5  # the plain fit credits x with its long replies
    assert styled_gap < 0.2  # controlled for length, the two are equally strong


def test_rank_is_one_plus_the_systems_significantly_better():
    assert ranks([0.5, -0.1, -0.2, -2.0], [1.0, 0.4, 0.3, -1.0]) == [1, 2, 2, 4]
    truth = {"s1@a": 1.5, "s2@b": 1.45, "s3@c": -1.5}
    rng = np.random.default_rng(3)
    votes = []
    for k in range(1500):
        a, b = rng.choice(list(truth), 2, replace=False)
        p = 1 / (1 + np.exp(truth[b] - truth[a]))
        votes.append(Vote(f"p{k}", "ann", a, b, "a" if rng.random() < p else "b"))
    rows = {r.system: r.rank for r in leaderboard(votes, reps=60)}
    assert rows == {"s1": 1, "s2": 1, "s3": 3}  # s1 and s2 cannot be told apart


def test_pairs_where_intervals_overlap_most_are_drawn_after_the_minimum(tiny_catalog, tmp_path):
    services = arena_services(tiny_catalog, tmp_path / "fb", arena_systems="default,baseline,no-llm",
                              arena_min_pair_votes=3)
    a = arena(services, seed=5)
    ids = {s.name: s.system_id for s in a.systems.values()}
    # default >> no-llm >> baseline, but default vs no-llm only barely: their intervals overlap most
    plan = [("default", "baseline", "a")] * 6 + [("no-llm", "baseline", "a")] * 6 + \
           [("default", "no-llm", v) for v in "abababaa"]
    votes = [Vote(f"p{k}", "ann", ids[x], ids[y], v) for k, (x, y, v) in enumerate(plan)]
    a.votes = lambda: votes  # type: ignore[method-assign]
    a.pair_counts = lambda: Counter(frozenset((v.a, v.b)) for v in votes)  # type: ignore[method-assign]
    drawn = Counter(frozenset(s.name for s in a.draw()) for _ in range(20))
    assert drawn == {frozenset(("default", "no-llm")): 20}
    a.services.settings = dataclasses.replace(services.settings, arena_min_pair_votes=7)
    drawn = Counter(frozenset(s.name for s in a.draw()) for _ in range(40))
    # below the minimum: the least-voted pairs (6 votes each), never the well-voted close one
    assert set(drawn) == {frozenset(("default", "baseline")), frozenset(("no-llm", "baseline"))}


def test_the_cap_and_the_void_flag_through_the_live_api(tiny_catalog, tmp_path):
    """``/arena_vote`` on a live server: a counted vote says ``"voided": ""``; past the cap, an AppError."""
    from gradio_client.exceptions import AppError
    from ui_support import serve_client

    services = arena_services(tiny_catalog, tmp_path / "fb", arena_daily_vote_cap=1)
    with serve_client(services) as client:
        out = client.predict("a comedy please", "", "alice", api_name="/arena_pair")
        saved = client.predict(out["pair_id"], "alice", "a", "", None, api_name="/arena_vote")
        assert saved["saved"] is True and saved["voided"] == ""
        more = client.predict("something darker", out["pair_session_id"], "alice", api_name="/arena_pair")
        before = len(services.store.read().records)
        with pytest.raises(AppError, match="'alice' has cast 1 arena votes today"):
            client.predict(more["pair_id"], "alice", "b", "", None, api_name="/arena_vote")
        assert len(services.store.read().records) == before
