"""The arena leaderboard: Bradley-Terry strengths with bootstrap intervals, from votes.

Bradley-Terry: ``P(i beats j) = 1 / (1 + exp(s_j - s_i))``. The strengths ``s`` maximise the
likelihood of the votes (``scipy.optimize.minimize``, L-BFGS-B with the analytic gradient) under
a weak Gaussian prior (``RIDGE``), which pins the scale's origin (strengths sum to about 0) and
keeps a system that won or lost every vote finite. A tie counts as half a win for each side;
"both bad" says nothing about which is better and stays out of the strengths (it is counted
per system). Intervals are percentile bootstrap intervals (votes resampled with replacement,
``reps`` refits, 95% by default), as LMSYS reports them.

Strengths are on the log-odds scale: a difference of 1.0 means the stronger wins about 73% of
the time (``1 / (1 + e^-1)``).

A system's ``rank`` is 1 + the number of systems *significantly* better (whose interval lies
wholly above its own), so systems that cannot be told apart share a rank. Voided votes (a reply
named a system, :mod:`workbench.arena.votes`) are kept but not counted.

Style control (:func:`style_leaderboard`): the same fit with one more term,
``P(i beats j) = 1 / (1 + exp(s_j - s_i - beta * x))`` where ``x`` is the normalised length
difference of the two replies (``(len_i - len_j) / (len_i + len_j)``, in characters), as LMSYS's
style control does; ``beta`` > 0 says annotators prefer the longer reply whatever the system, and
the strengths are then what is left once length is accounted for. It is reported beside the plain fit.

It knows votes and scipy; it does not know records, stores or gradio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.arena.votes import Vote

#: Weight of the Gaussian prior on strengths (per system, 0.5 * RIDGE * s^2).
RIDGE = 0.01
#: Bootstrap refits behind each interval.
BOOTSTRAP_REPS = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Standing:
    """One system's row on the leaderboard (the ``--json`` shape)."""

    system: str
    config_hash: str
    strength: float
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int
    both_bad: int
    rank: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "config_hash": self.config_hash, "rank": self.rank,
                "strength": self.strength, "ci_low": self.ci_low, "ci_high": self.ci_high, "wins": self.wins,
                "losses": self.losses, "ties": self.ties, "both_bad": self.both_bad}


def fit_strengths(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Bradley-Terry strengths of ``n`` systems from weighted outcomes "``i[k]`` beat ``j[k]``, weight ``w[k]``"."""
    return fit_with_covariate(n, i, j, w, None, ridge)[0]


def fit_with_covariate(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray, x: np.ndarray | None,
                       ridge: float = RIDGE) -> tuple[np.ndarray, float]:
    """Strengths and the covariate's coefficient ``beta`` (0 without ``x``): "``i[k]`` beat ``j[k]``"
    with log-odds ``s[i] - s[j] + beta * x[k]``."""
    from scipy.optimize import minimize

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        s, beta = theta[:n], theta[n]
        d = s[i] - s[j] + (beta * x if x is not None else 0.0)
        # -log sigmoid(d) = logaddexp(0, -d); its derivative in d is -sigmoid(-d)
        value = float(np.sum(w * np.logaddexp(0.0, -d)) + 0.5 * ridge * np.sum(theta * theta))
        g = -w / (1.0 + np.exp(d))
        grad = np.empty(n + 1)
        grad[:n] = np.bincount(i, g, minlength=n) - np.bincount(j, g, minlength=n) + ridge * s
        grad[n] = float(np.sum(g * x)) + ridge * beta if x is not None else 0.0
        return value, grad

    result = minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B")
    return result.x[:n], float(result.x[n])


def _outcomes(votes: Sequence[Vote], index: dict[str, int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted "i beat j" rows (a win is one row, a tie two half rows, both bad none), each row's vote,
    and each row's normalised length difference (winner's minus loser's)."""
    rows: list[tuple[int, int, float, int, float]] = []
    for k, v in enumerate(votes):
        a, b = index[v.a], index[v.b]
        total = v.len_a + v.len_b
        x = (v.len_a - v.len_b) / total if total else 0.0
        if v.vote == "a":
            rows.append((a, b, 1.0, k, x))
        elif v.vote == "b":
            rows.append((b, a, 1.0, k, -x))
        elif v.vote == "tie":
            rows += [(a, b, 0.5, k, x), (b, a, 0.5, k, -x)]
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0)
    i, j, w, k, x = zip(*rows, strict=True)
    return (np.array(i, dtype=np.int64), np.array(j, dtype=np.int64), np.array(w, dtype=np.float64),
            np.array(k, dtype=np.int64), np.array(x, dtype=np.float64))


def ranks(low: Sequence[float], high: Sequence[float]) -> list[int]:
    """1 + how many others are significantly better (their interval's low end above this one's high end)."""
    return [1 + sum(1 for other_low in low if other_low > h) for h in high]


def counted(votes: Sequence[Vote]) -> list[Vote]:
    """The votes the fit counts: every vote not voided."""
    return [v for v in votes if not v.void]


def leaderboard(votes: Sequence[Vote], *, reps: int = BOOTSTRAP_REPS, confidence: float = CONFIDENCE,
                seed: int = 0) -> list[Standing]:
    """Every system in ``votes``, strongest first, with its interval, rank and counts (voided votes left out)."""
    return _standings(votes, reps=reps, confidence=confidence, seed=seed, style=False)[0]


def style_leaderboard(votes: Sequence[Vote], *, reps: int = BOOTSTRAP_REPS, confidence: float = CONFIDENCE,
                      seed: int = 0) -> tuple[float, list[Standing]]:
    """The style-controlled fit: ``(beta, standings)`` with reply length as a covariate."""
    rows, beta = _standings(votes, reps=reps, confidence=confidence, seed=seed, style=True)
    return beta, rows


def _standings(votes: Sequence[Vote], *, reps: int, confidence: float, seed: int,
               style: bool) -> tuple[list[Standing], float]:
    votes = counted(votes)
    systems = sorted({v.a for v in votes} | {v.b for v in votes})
    if not systems:
        return [], 0.0
    index = {s: k for k, s in enumerate(systems)}
    n = len(systems)
    i, j, w, of_vote, x = _outcomes(votes, index)
    covariate = x if style else None
    strengths, beta = fit_with_covariate(n, i, j, w, covariate)
    rng = np.random.default_rng(seed)
    samples = np.empty((reps, n))
    for r in range(reps):
        # a resample of the votes, with replacement: each vote weighs as often as it was drawn
        drawn = np.bincount(rng.integers(0, len(votes), len(votes)), minlength=len(votes))
        samples[r] = fit_with_covariate(n, i, j, w * drawn[of_vote], covariate)[0]
    tail = (1.0 - confidence) / 2 * 100
    low, high = (np.percentile(samples, [tail, 100 - tail], axis=0) if reps else (strengths, strengths))
    low, high = np.round(low, 4), np.round(high, 4)
    rank = ranks(low, high)
    counts = {s: {"wins": 0, "losses": 0, "ties": 0, "both_bad": 0} for s in systems}
    for v in votes:
        if v.vote in ("a", "b"):
            winner, loser = (v.a, v.b) if v.vote == "a" else (v.b, v.a)
            counts[winner]["wins"] += 1
            counts[loser]["losses"] += 1
        else:
            key = "ties" if v.vote == "tie" else "both_bad"
            counts[v.a][key] += 1
            counts[v.b][key] += 1
    rows = []
    for s in systems:
        name, _, config_hash = s.partition("@")
        k = index[s]
        rows.append(Standing(name, config_hash, round(float(strengths[k]), 4), float(low[k]), float(high[k]),
                             **counts[s], rank=rank[k]))
    return sorted(rows, key=lambda row: (-row.strength, row.system, row.config_hash)), round(beta, 4)


def leaderboard_json(votes: Sequence[Vote], **kwargs: Any) -> dict[str, Any]:
    """What ``arena leaderboard --json`` prints: ``{"votes", "voided", "systems": [...],
    "style_control": {"length_coef", "systems": [...]}}`` (``votes`` counts every vote, voided ones too)."""
    beta, styled = style_leaderboard(votes, **kwargs)
    return {"votes": len(votes), "voided": len(votes) - len(counted(votes)),
            "systems": [row.to_dict() for row in leaderboard(votes, **kwargs)],
            "style_control": {"length_coef": beta,
                              "systems": [{k: v for k, v in row.to_dict().items()
                                           if k in ("system", "config_hash", "rank", "strength", "ci_low", "ci_high")}
                                          for row in styled]}}


def by_annotator(votes: Sequence[Vote], **kwargs: Any) -> dict[str, list[Standing]]:
    """The leaderboard of each annotator's own votes (does one person's taste drive the ranking?)."""
    names = sorted({v.annotator for v in votes})
    return {name: leaderboard([v for v in votes if v.annotator == name], **kwargs) for name in names}
