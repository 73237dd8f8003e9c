"""The ranker alone (no engine, no generator): each source and the tuning shortcut over the tiny catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from tests.dialogue_fixtures import TINY_INTERACTIONS, tiny_retriever
from workbench.dialogue.ranker import EngineWeights, Ranker
from workbench.dialogue.replay import observe
from workbench.dialogue.state import ConversationState
from workbench.interactions import Interactions
from workbench.recommend.factory import build_recommender


@pytest.fixture
def ranker(tiny_catalog, hash_embedder) -> Ranker:
    recommender = build_recommender(
        tiny_catalog, Interactions.from_rows(TINY_INTERACTIONS), hash_embedder.encode(tiny_catalog.texts()),
        weights={"cf": 0.5, "knn": 1.0, "content": 0.5, "popularity": 0.0}, content_neighbors=5,
    )
    return Ranker(tiny_catalog, tiny_retriever(tiny_catalog, hash_embedder), recommender)


def _only(ranker: Ranker, **weights) -> Ranker:
    zero = dict(recommender=0, dense=0, lexical=0, attribute=0, facts=0, prior=0, history_dense=0)
    return ranker.with_weights(EngineWeights(**{**zero, **weights}))


def _replayed(ranker: Ranker, *messages):
    state = ConversationState("s")
    last = None
    for role, text in messages:
        u = observe(ranker.understander, state, role, text)
        if role == "user":
            last = u
    return state, last


def test_recent_source_reads_the_newest_mentions(ranker):
    """Guards recency: with only the ``recent`` source, the newest liked film decides the top pick."""
    rk = _only(ranker, recent=1.0, recent_items=1)
    for first, last, expected in (("@8", "@3", "5"), ("@3", "@8", "9")):
        state, u = _replayed(rk, ("user", f"I loved {first}"), ("user", f"I also loved {last}"))
        assert rk.rank(state, u, k=1).ids == (expected,)


def test_suggested_source_follows_the_assistants_earlier_picks(ranker):
    """Guards the ``suggested`` source: an earlier suggestion (Star Wars) puts its co-liked sequel first."""
    rk = _only(ranker, suggested=1.0)
    state, u = _replayed(rk, ("user", "hi, any ideas?"), ("assistant", "how about @8 ?"), ("user", "ok"))
    cands = rk.gather(state, u)
    assert "suggested" in cands.sources
    assert rk.combine(cands, 1).ids == ("9",)


def test_history_dense_weighs_the_newest_items_by_recency(ranker):
    """Guards recency in ``history_dense``: recency 0 reads only the newest item, recency 1 all of them."""
    messages = (("user", "I loved @1"), ("user", "and also @6"))
    newest_only = _only(ranker, history_dense=1.0, recency=0.0)
    both = _only(ranker, history_dense=1.0, recency=1.0)
    state, u = _replayed(newest_only, *messages)
    alone, u1 = _replayed(newest_only, ("user", "and also @6"))
    v_newest = newest_only.gather(state, u).sources["history_dense"]
    assert np.allclose(v_newest, newest_only.gather(alone, u1).sources["history_dense"])
    assert not np.allclose(v_newest, both.gather(state, u).sources["history_dense"])
    assert 0.0 <= v_newest.min() and v_newest.max() == 1.0


def test_position_of_matches_the_combined_order_including_ties(ranker):
    """Guards the tuning shortcut: ``position_of`` gives each item its place in ``combine`` (ties by row)."""
    for rk in (ranker, _only(ranker, facts=1.0)):  # facts alone leaves many ties at 0
        state, u = _replayed(rk, ("user", "I loved @3"), ("assistant", "try @5"), ("user", "seen it"))
        cands = rk.gather(state, u)
        ranked = rk.combine(cands, len(rk.catalog)).ids
        ids = list(rk.catalog.ids)
        places = rk.position_of(cands, ids)
        for item_id, place in zip(ids, places, strict=True):
            if item_id in ranked:
                assert place == ranked.index(item_id)
            else:
                assert place == len(ids)  # masked out (already mentioned)


def test_with_weights_shares_the_catalogue_features(ranker):
    """Guards the cheap re-weighting the evaluation and the UI rely on: no array is rebuilt."""
    other = ranker.with_weights(EngineWeights(prior=1.0))
    assert other.features is ranker.features and other.understander is ranker.understander
    assert other.weights.prior == 1.0 and ranker.weights == EngineWeights()


def test_the_attribute_source_prefers_films_with_every_asked_genre(tiny_catalog):
    """'a romantic comedy': Amélie (comedy, romance) scores above Toy Story (comedy only)."""
    from workbench.dialogue.ranker import CatalogFeatures
    from workbench.filters import ItemFilter

    f = CatalogFeatures(tiny_catalog, {})
    scores = f.attribute(ItemFilter(genres=frozenset({"comedy", "romance"})))
    assert scores[f.row_of("12")] == 1.0 and scores[f.row_of("1")] == 0.5 and scores[f.row_of("3")] == 0.0


def test_small_talk_earlier_in_the_conversation_is_no_search(ranker):
    """"im sad today" then "maybe something uplifting": the search reads the request, not the mood
    remark (its "sad" found a film titled "Sad Movie"); an earlier request is still read."""
    state, u = _replayed(ranker, ("user", "im sad today"), ("assistant", "A good film might help."),
                         ("user", "maybe something uplifting"))
    assert "sad" not in ranker.query_text(state, u)
    state, u = _replayed(ranker, ("user", "a heist with a twist"), ("assistant", "Here you go."),
                         ("user", "maybe something uplifting"))
    assert "heist" in ranker.query_text(state, u)
