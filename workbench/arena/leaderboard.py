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

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "config_hash": self.config_hash, "strength": self.strength,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "wins": self.wins, "losses": self.losses,
                "ties": self.ties, "both_bad": self.both_bad}


def fit_strengths(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray, ridge: float = RIDGE) -> np.ndarray:
    """Bradley-Terry strengths of ``n`` systems from weighted outcomes "``i[k]`` beat ``j[k]``, weight ``w[k]``"."""
    from scipy.optimize import minimize

    def loss(s: np.ndarray) -> tuple[float, np.ndarray]:
        d = s[i] - s[j]
        # -log sigmoid(d) = logaddexp(0, -d); its derivative in d is -sigmoid(-d)
        value = float(np.sum(w * np.logaddexp(0.0, -d)) + 0.5 * ridge * np.sum(s * s))
        g = -w / (1.0 + np.exp(d))
        grad = np.bincount(i, g, minlength=n) - np.bincount(j, g, minlength=n) + ridge * s
        return value, grad

    result = minimize(loss, np.zeros(n), jac=True, method="L-BFGS-B")
    return result.x


def _outcomes(votes: Sequence[Vote], index: dict[str, int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted "i beat j" rows (a win is one row, a tie two half rows, both bad none) and each row's vote."""
    rows: list[tuple[int, int, float, int]] = []
    for k, v in enumerate(votes):
        a, b = index[v.a], index[v.b]
        if v.vote == "a":
            rows.append((a, b, 1.0, k))
        elif v.vote == "b":
            rows.append((b, a, 1.0, k))
        elif v.vote == "tie":
            rows += [(a, b, 0.5, k), (b, a, 0.5, k)]
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    i, j, w, k = zip(*rows, strict=True)
    return (np.array(i, dtype=np.int64), np.array(j, dtype=np.int64), np.array(w, dtype=np.float64),
            np.array(k, dtype=np.int64))


def leaderboard(votes: Sequence[Vote], *, reps: int = BOOTSTRAP_REPS, confidence: float = CONFIDENCE,
                seed: int = 0) -> list[Standing]:
    """Every system in ``votes``, strongest first, with its interval and counts."""
    votes = list(votes)
    systems = sorted({v.a for v in votes} | {v.b for v in votes})
    if not systems:
        return []
    index = {s: k for k, s in enumerate(systems)}
    n = len(systems)
    i, j, w, of_vote = _outcomes(votes, index)
    strengths = fit_strengths(n, i, j, w)
    rng = np.random.default_rng(seed)
    samples = np.empty((reps, n))
    for r in range(reps):
        # a resample of the votes, with replacement: each vote weighs as often as it was drawn
        drawn = np.bincount(rng.integers(0, len(votes), len(votes)), minlength=len(votes))
        samples[r] = fit_strengths(n, i, j, w * drawn[of_vote])
    tail = (1.0 - confidence) / 2 * 100
    low, high = (np.percentile(samples, [tail, 100 - tail], axis=0) if reps else (strengths, strengths))
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
        rows.append(Standing(name, config_hash, round(float(strengths[k]), 4), round(float(low[k]), 4),
                             round(float(high[k]), 4), **counts[s]))
    return sorted(rows, key=lambda row: (-row.strength, row.system, row.config_hash))


def leaderboard_json(votes: Sequence[Vote], **kwargs: Any) -> dict[str, Any]:
    """``{"votes": int, "systems": [...]}``: what ``arena leaderboard --json`` prints."""
    return {"votes": len(votes), "systems": [row.to_dict() for row in leaderboard(votes, **kwargs)]}


def by_annotator(votes: Sequence[Vote], **kwargs: Any) -> dict[str, list[Standing]]:
    """The leaderboard of each annotator's own votes (does one person's taste drive the ranking?)."""
    names = sorted({v.annotator for v in votes})
    return {name: leaderboard([v for v in votes if v.annotator == name], **kwargs) for name in names}
