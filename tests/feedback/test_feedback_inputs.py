"""One checker for judgement values from clients: /feedback and the project endpoints word alike."""

from __future__ import annotations

import math

import pytest

from workbench.errors import FeedbackError, ProjectError
from workbench.feedback.inputs import check_judgements
from workbench.projects.service import parse_judgements

BAD = [
    ({"1": {"rating": 0}}, r"judgements\['1'\]\.rating: expected an integer 1-5, got 0"),
    ({"1": {"rating": 6}}, r"judgements\['1'\]\.rating: expected an integer 1-5, got 6"),
    ({"1": {"rating": 3.5}}, r"judgements\['1'\]\.rating: expected an integer 1-5, got 3\.5"),
    ({"1": {"rating": True}}, r"judgements\['1'\]\.rating: expected an integer 1-5, got True"),
    ({"1": {"rating": math.nan}}, r"judgements\['1'\]\.rating: expected an integer 1-5, got nan"),
    ({"1": {"label": "love"}}, r"judgements\['1'\]\.label: must be one of like, dislike, not_seen, got 'love'"),
    ({"1": {"label": ["like"]}}, r"judgements\['1'\]\.label: expected text, got list \['like'\]"),
    ({"1": {"stars": 2}}, r"judgements\['1'\]: unknown key 'stars' \(allowed: label, rating\)"),
    ({"1": "like"}, r"judgements\['1'\]: expected \{\"label\": \.\.\., \"rating\": \.\.\.\}, got 'like'"),
    ({1: {"label": "like"}}, r"judgements\[1\]: item ids must be strings"),
    ([["1", "like"]], r"judgements: expected an object item_id -> .*got list"),
]


@pytest.mark.parametrize(("judgements", "message"), BAD)
def test_feedback_and_projects_refuse_the_same_values_with_the_same_words(judgements, message):
    with pytest.raises(FeedbackError, match=message):
        check_judgements(judgements)
    with pytest.raises(ProjectError, match="^task t: " + message):
        parse_judgements(judgements, ["1", "2"], "task t")


def test_good_judgements_keep_only_what_was_judged_and_the_slate_is_enforced():
    given = {"1": {"label": "like", "rating": 5.0}, "2": {"label": "", "rating": ""}, "3": {"rating": 2}}
    assert check_judgements(given) == [("1", "like", 5), ("3", None, 2)]
    assert check_judgements(None) == check_judgements("") == []
    with pytest.raises(ProjectError, match=r"item '3' is not on this task's slate \(1, 2\)"):
        parse_judgements(given, ["1", "2"], "task t")
    assert parse_judgements({"2": {"label": "not_seen"}}, ["1", "2"], "t") == {
        "2": {"label": "not_seen", "rating": None}}
