"""Issue 14 part 3: the recommender learns from annotations.

Feedback records become one pseudo-user per annotator session; ``refit recommender`` fits the
hybrid on the interactions plus those sessions and writes it with its manifest; the app serves it
from ``WORKBENCH_RECOMMENDER_DIR`` (checked against the catalogue); ``eval feedback`` scores it
before/after on the held-out sessions. Everything runs on the tiny catalogue with hash embeddings.
"""

from __future__ import annotations

import json

import pytest
from dialogue_fixtures import TINY_INTERACTIONS

from workbench.errors import FeedbackError, RecommenderError
from workbench.feedback import JsonlFeedbackStore, make_record
from workbench.feedback.signals import (
    feedback_interactions,
    session_user,
    session_users,
    split_sessions,
)
from workbench.interactions import Interactions


def record(catalog, annotator, session, judgements, turn=0):
    ids = list(judgements)
    slate = [{"item_id": i, "title": catalog[i].display_title, "rank": n + 1, "score": 0.0, "sources": {}}
             for n, i in enumerate(ids)]
    return make_record(annotator=annotator, session_id=session, turn_index=turn, conversation=[],
                       user_message="something good", reply="Here you go.", generator_backend="template",
                       generator_model="", slate=slate,
                       judgements={i: {"label": lab, "rating": rat} for i, (lab, rat) in judgements.items()
                                   if lab or rat}, catalog=catalog)


def rows(inter):
    return sorted(map(tuple, inter.frame[["user", "item_id", "signal", "value"]].itertuples(index=False)))


def test_feedback_becomes_one_pseudo_user_per_annotator_session(tiny_catalog):
    recs = [
        record(tiny_catalog, "ann", "s1", {"3": ("like", None), "5": ("like", 2), "7": (None, 3),
                                           "8": ("not_seen", None), "9": (None, None)}),
        record(tiny_catalog, "ann", "s1", {"3": ("dislike", None)}, turn=1),  # newer: wins
        record(tiny_catalog, "bob", "s1", {"12": (None, 5)}),
    ]
    inter = feedback_interactions(recs, tiny_catalog)
    a, b = session_user("ann", "s1"), session_user("bob", "s1")
    assert rows(inter) == [(a, "3", "disliked", -1.0), (a, "5", "disliked", -1.0), (a, "7", "seen", 0.5),
                           (b, "12", "liked", 1.0)]
    assert session_users(recs) == [a, b]
    assert rows(feedback_interactions(recs, tiny_catalog, sessions={b})) == [(b, "12", "liked", 1.0)]


def test_feedback_of_another_catalogue_is_refused_naming_the_record(tiny_catalog):
    from workbench.catalog import Catalog, Item

    other = Catalog([Item("99", "Other", 2000, ("Drama",), (), (), ())], source="other")
    rec = record(other, "ann", "s1", {"99": ("like", None)})
    with pytest.raises(FeedbackError, match=f"record {rec.record_id}: item '99' is not in the catalogue"):
        feedback_interactions([rec], tiny_catalog)


def test_split_sessions_is_seeded_keeps_one_out_and_never_all():
    users = [f"feedback:a:{i}" for i in range(10)]
    fit, held = split_sessions(users, 0.2, seed=1)
    assert len(held) == 2 and not set(fit) & set(held) and sorted(fit + held) == sorted(users)
    assert split_sessions(users, 0.2, seed=1) == (fit, held)
    assert split_sessions(users, 0.2, seed=2) != (fit, held)
    assert split_sessions(users[:2], 0.9)[1] and split_sessions(users[:2], 0.9)[0]  # never all held out
    assert split_sessions(users, 0.0) == (sorted(users), [])
    with pytest.raises(FeedbackError, match="--holdout"):
        split_sessions(users, 1.0)


def co_liking_sessions(catalog, n, start=0):
    """Annotator sessions that like Amélie (12) and Forrest Gump (11) together: no base user does."""
    return [record(catalog, "ann", f"s{i}", {"12": ("like", None), "11": (None, 5), "6": ("dislike", None)})
            for i in range(start, start + n)]


def test_refit_learns_what_the_base_interactions_lack_and_the_eval_shows_it(tiny_catalog, hash_embedder):
    from workbench.evaluate.feedback import compare
    from workbench.recommend.factory import build_recommender
    from workbench.recommend.refit import refit

    base = Interactions.from_rows(TINY_INTERACTIONS)
    vectors = hash_embedder.encode(tiny_catalog.texts())
    before = build_recommender(tiny_catalog, base, vectors)
    train = feedback_interactions(co_liking_sessions(tiny_catalog, 8), tiny_catalog)
    held = feedback_interactions(co_liking_sessions(tiny_catalog, 4, start=100), tiny_catalog)
    after = refit(tiny_catalog, base, train, vectors)
    result = compare(before, after, held, tiny_catalog, ks=(1, 3), bootstrap=200)
    assert result["sessions"] == 4 and result["cases"] == 8  # each held-out session: 2 likes, one hidden at a time
    assert result["after"]["mrr"] > result["before"]["mrr"]
    assert result["after"]["hr@1"] == 1.0  # the co-liked film is now the top pick
    assert result["difference"]["mrr"]["low"] > 0
    same = compare(before, before, held, tiny_catalog, ks=(1, 3), bootstrap=200)
    assert same["difference"]["mrr"] == {"mean": 0.0, "low": 0.0, "high": 0.0}


def test_saved_refit_carries_its_manifest_and_loading_checks_it(tiny_catalog, hash_embedder, tmp_path):
    from workbench.catalog import Catalog
    from workbench.recommend.refit import load_refit, refit, refit_info, save_refit

    base = Interactions.from_rows(TINY_INTERACTIONS)
    model = refit(tiny_catalog, base, feedback_interactions(co_liking_sessions(tiny_catalog, 3), tiny_catalog),
                  hash_embedder.encode(tiny_catalog.texts()))
    save_refit(model, tmp_path / "m", {"catalog_hash": tiny_catalog.content_hash, "index_id": "idx@1",
                                       "heldout_sessions": []})
    info = refit_info(tmp_path / "m")
    assert info["data_hash"] == model.data_hash and info["index_id"] == "idx@1"
    loaded = load_refit(tmp_path / "m", tiny_catalog, "idx@1")
    history = {"12": 1.0}
    assert loaded.recommend(history, 3).ids == model.recommend(history, 3).ids
    with pytest.raises(RecommenderError, match="WORKBENCH_RECOMMENDER_DIR.*index_id.*Rebuild it with"):
        load_refit(tmp_path / "m", tiny_catalog, "other@2")
    smaller = Catalog(list(tiny_catalog)[:5], source="small")
    with pytest.raises(RecommenderError, match="WORKBENCH_RECOMMENDER_DIR.*catalog_hash"):
        load_refit(tmp_path / "m", smaller)
    model.save(tmp_path / "plain")
    with pytest.raises(RecommenderError, match="not a refitted recommender"):
        load_refit(tmp_path / "plain", tiny_catalog)
    with pytest.raises(RecommenderError, match="is not a directory"):
        load_refit(tmp_path / "nothing", tiny_catalog)


@pytest.fixture
def tiny_setup(tiny_catalog, tmp_path, monkeypatch, capsys):
    """The tiny catalogue as files, a hash-64 index, base interactions and a feedback store, as settings."""
    from workbench.cli import main

    tiny_catalog.save_jsonl(tmp_path / "catalog.jsonl")
    Interactions.from_rows(TINY_INTERACTIONS).save_csv(tmp_path / "interactions.csv")
    for key, value in {"CACHE_DIR": tmp_path / "cache", "CATALOG": tmp_path / "catalog.jsonl",
                       "INDEX_DIR": tmp_path / "index", "EMBED_MODEL": "hash-64",
                       "INTERACTIONS": tmp_path / "interactions.csv"}.items():
        monkeypatch.setenv(f"WORKBENCH_{key}", str(value))
    assert main(["index", "build", "--catalog", str(tmp_path / "catalog.jsonl"), "--out", str(tmp_path / "index"),
                 "--model", "hash-64", "--kind", "flat"]) == 0
    store = JsonlFeedbackStore(tmp_path / "feedback", catalog=tiny_catalog)
    store.append_many(co_liking_sessions(tiny_catalog, 12))
    store.close()
    capsys.readouterr()
    return tmp_path


def test_refit_and_eval_commands_and_the_app_serves_the_refit(tiny_setup, tiny_catalog, capsys, monkeypatch):
    from workbench.cli import main
    from workbench.config import Settings
    from workbench.services import build_services

    tmp = tiny_setup
    assert main(["refit", "recommender", "--feedback", str(tmp / "feedback"), "--out", str(tmp / "refit"),
                 "--holdout", "0.25", "--json", str(tmp / "refit.json")]) == 0
    out = capsys.readouterr().out
    assert f"WORKBENCH_RECOMMENDER_DIR={tmp / 'refit'}" in out
    info = json.loads((tmp / "refit.json").read_text())
    assert info["feedback_sessions"] == 9 and len(info["heldout_sessions"]) == 3
    assert info["feedback_rows"] == 27 and info["base_rows"] == len(TINY_INTERACTIONS)
    meta = json.loads((tmp / "refit" / "meta.json").read_text())
    assert meta["kind"] == "hybrid" and meta["refit"]["heldout_sessions"] == info["heldout_sessions"]

    assert main(["eval", "feedback", "--model", str(tmp / "refit"), "--k", "1,3", "--json", str(tmp / "e.json")]) == 0
    table = capsys.readouterr().out
    assert "3 held-out sessions, 6 hidden likes" in table and "after-before [95% CI]" in table
    result = json.loads((tmp / "e.json").read_text())
    assert set(result) >= {"sessions", "cases", "before", "after", "difference"}
    assert result["after"]["mrr"] > result["before"]["mrr"]

    monkeypatch.setenv("WORKBENCH_RECOMMENDER_DIR", str(tmp / "refit"))
    services = build_services(Settings.from_env(), load_generator_in_background=False, fit_in_background=False)
    assert services.recommender.data_hash == meta["data_hash"]
    assert services.recommender.recommend({"12": 1.0}, 1).ids == ("11",)  # learnt from the annotators


def test_a_refit_for_another_catalogue_stops_start_up_naming_the_setting(tiny_setup, monkeypatch):
    from workbench.cli import main
    from workbench.config import Settings
    from workbench.errors import WorkbenchError
    from workbench.services import build_services

    tmp = tiny_setup
    assert main(["refit", "recommender", "--feedback", str(tmp / "feedback"), "--out", str(tmp / "refit")]) == 0
    meta = json.loads((tmp / "refit" / "meta.json").read_text())
    meta["refit"]["catalog_hash"] = "0" * 16
    (tmp / "refit" / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setenv("WORKBENCH_RECOMMENDER_DIR", str(tmp / "refit"))
    with pytest.raises(WorkbenchError, match="WORKBENCH_RECOMMENDER_DIR: the recommender in .* catalog_hash"):
        build_services(Settings.from_env(), load_generator_in_background=False, fit_in_background=True)


def test_refit_without_judged_items_says_so(tiny_setup, capsys):
    from workbench.cli import main

    empty = tiny_setup / "empty"
    empty.mkdir()
    assert main(["refit", "recommender", "--feedback", str(empty), "--out", str(tiny_setup / "r")]) == 2
    assert "holds no judged item" in capsys.readouterr().err
    assert main(["refit", "recommender", "--feedback", str(tiny_setup / "missing"), "--out", "x"]) == 2
    assert "is not a folder" in capsys.readouterr().err
