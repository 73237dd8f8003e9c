"""ScoredItems: the one result type; sorted, immutable, ids unique, provenance kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.scored import ScoredItem, ScoredItems


def test_from_scores_sorts_descending_and_keeps_sources():
    s = ScoredItems.from_scores(["a", "b", "c"], [0.1, 0.9, 0.5], [{"cf": 1}, {"cf": 2}, {"cf": 3}])
    assert s.ids == ("b", "c", "a")
    assert s[0] == ScoredItem("b", 0.9, {"cf": 2})


def test_ties_break_by_id_for_determinism():
    s = ScoredItems.from_scores(["z", "a", "m"], [1.0, 1.0, 1.0])
    assert s.ids == ("a", "m", "z")


def test_duplicate_ids_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        ScoredItems(("a", "a"), (1.0, 2.0))


def test_sources_cannot_be_mutated_through_the_result():
    s = ScoredItems.from_scores(["a"], [1.0], [{"cf": 1.0}])
    with pytest.raises(TypeError):
        s.sources[0]["cf"] = 2.0  # type: ignore[index]


def test_exclude_and_top_keep_order():
    s = ScoredItems.from_scores(list("abcde"), [5, 4, 3, 2, 1])
    assert s.exclude({"b", "d"}).ids == ("a", "c", "e")
    assert s.top(2).ids == ("a", "b")
    assert s.score_of("c") == 3 and s.score_of("x") is None


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.floats(-1e6, 1e6), max_size=30), st.integers(0, 40))
def test_from_scores_top_k_is_a_sorted_prefix(scores, k):
    s = ScoredItems.from_scores(scores.keys(), scores.values(), k=k)
    assert len(s) == min(k, len(scores))
    assert list(s.scores) == sorted(s.scores, reverse=True)
    full = ScoredItems.from_scores(scores.keys(), scores.values())
    assert s.ids == full.ids[: len(s)]
