"""The ReDial protocol on hand-built dialogues over the tiny catalogue."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.dialogue_fixtures import tiny_retriever
from workbench.catalog import Catalog
from workbench.errors import EvaluationError
from workbench.evaluate import redial

SEEKER, REC = 1, 2


def _conv(cid: str, *messages: tuple[int, str]) -> dict:
    return {
        "conversationId": cid, "initiatorWorkerId": SEEKER, "respondentWorkerId": REC,
        "messages": [{"text": t, "senderWorkerId": s, "messageId": i} for i, (s, t) in enumerate(messages)],
        "movieMentions": {},
    }


TRAIN = [
    _conv("t1", (SEEKER, "hi, I loved @3"), (REC, "then try @5"), (SEEKER, "great")),
    _conv("t2", (SEEKER, "I like @3 a lot"), (REC, "you will like @5 and @10")),
    _conv("t3", (SEEKER, "I liked @8"), (REC, "@9 is the sequel"), (SEEKER, "and @7?")),
    _conv("t4", (SEEKER, "space movies like @8"), (REC, "@9 then")),
    _conv("t5", (SEEKER, "kids movie please"), (REC, "@1 or @2")),
]
TEST = [
    _conv("d1", (SEEKER, "hello"), (REC, "hi, what do you like?"), (SEEKER, "I loved @3"),
          (REC, "have you seen @5 ?"), (SEEKER, "no"), (REC, "or @3 again, or @10")),
    _conv("d2", (SEEKER, "I like @80"), (REC, "@9 is great")),
    _conv("d3", (REC, "@1 maybe?"), (SEEKER, "ok")),  # nothing before: not a sample
]


def test_samples_follow_the_protocol(tiny_catalog):
    """One sample per new movie in a recommender message with earlier context; repeats excluded."""
    s = redial.samples(TEST, tiny_catalog, "gold")
    assert [(x.conversation, x.target) for x in s] == [("d1", "5"), ("d1", "10"), ("d2", "9")]
    assert s[1].prefix[-1] == ("user", "no")


def test_text_mode_replaces_ids_with_titles(tiny_catalog):
    s = redial.samples(TEST, tiny_catalog, "text")
    assert s[0].prefix[2] == ("user", "I loved Heat")
    assert "@" not in " ".join(t for x in s for _, t in x.prefix)


def test_seeker_texts_are_what_a_user_would_type(tiny_catalog):
    """The benches' replay: only the seeker's messages, titles for markers, empty and overlong handled."""
    from workbench.limits import MAX_MESSAGE_CHARS

    conv = _conv("s1", (SEEKER, "I loved @3"), (REC, "try @5"), (SEEKER, "   "), (SEEKER, "x" * (MAX_MESSAGE_CHARS + 9)))
    texts = list(redial.seeker_texts(conv, tiny_catalog))
    assert texts == ["I loved Heat", "x" * MAX_MESSAGE_CHARS]


def test_engine_learns_from_train_and_finds_co_mentioned_movies(tiny_catalog, hash_embedder):
    """After 'I loved Heat', co-mentions in train put Collateral at the top."""
    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    engine = redial.build_eval_ranker(tiny_catalog, retriever, hash_embedder.encode(tiny_catalog.texts()),
                                      TRAIN, "knn")
    s = redial.samples(TEST, tiny_catalog, "gold")
    cands = redial.gather_all(engine, s)
    ranked = engine.combine(cands[0], 5).ids
    assert ranked[0] == "5"
    assert "3" not in ranked  # already mentioned
    r = redial.recall_of(engine, cands, s)
    assert r[1] >= 1 / 3 and r[50] == 1.0


def test_catalogue_mention_counts_do_not_leak(tiny_catalog, hash_embedder):
    """The evaluated engine must ignore the catalogue's mention counts (they include test data)."""
    flipped = Catalog([dataclasses.replace(i, mentions=1000 - i.mentions) for i in tiny_catalog], "flipped")
    s = redial.samples(TEST, tiny_catalog, "text")
    rankings = []
    for cat in (tiny_catalog, flipped):
        retriever = tiny_retriever(cat, hash_embedder)
        engine = redial.build_eval_ranker(cat, retriever, hash_embedder.encode(cat.texts()), TRAIN, "hybrid")
        rankings.append([engine.combine(c, 12).ids for c in redial.gather_all(engine, s)])
    assert rankings[0] == rankings[1]


def test_report_shape_and_published_anchors(tiny_catalog, hash_embedder, tmp_path):
    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    report = redial.evaluate(tiny_catalog, retriever, hash_embedder.encode(tiny_catalog.texts()), TRAIN * 3,
                             TEST, mentions="gold", log=lambda _: None)
    assert report["dataset"] == "redial" and report["mentions"] == "gold" and report["n"] == 3
    assert len(report["results"]) == len(redial.SYSTEMS)
    for row in report["results"]:
        assert set(row) >= {"system", "recall@1", "recall@10", "recall@50"}
        assert 0 <= row["recall@1"] <= row["recall@10"] <= row["recall@50"] <= 1
    assert [a["system"] for a in report["published"]][-1] == "UniCRS (published)"
    split = report["by_train_mentions"]
    assert split["system"] == report["results"][-1]["system"]
    assert sum(b["n"] for b in split["buckets"].values()) == report["n"]
    json.dumps(report)
    table = redial.format_table(report)
    assert "UniCRS (published)" in table and "by how often the training dialogues mention" in table


def test_bad_files_name_the_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"messages": [], "initiatorWorkerId": 1}\n{oops\n')
    with pytest.raises(EvaluationError, match=r"bad.jsonl: line 2"):
        redial.load_dialogues(p)
    p.write_text('{"initiatorWorkerId": 1}\n')
    with pytest.raises(EvaluationError, match="'messages'"):
        redial.load_dialogues(p)


def test_cli_registers_redial():
    from workbench.cli import build_parser

    args = build_parser().parse_args(["eval", "redial", "--train", "a", "--data", "b", "--mentions", "text"])
    assert args.mentions == "text" and callable(args.func)


def test_chat_json_line_shape(tiny_catalog, hash_embedder):
    from tests.dialogue_fixtures import tiny_engine
    from workbench.cli.chat import turn_json

    engine = tiny_engine(tiny_catalog, hash_embedder, k=2)
    line = turn_json(engine.respond(engine.new_state("s"), "I loved Heat"))
    assert set(line) == {"reply", "items", "intent", "grounding_fixes"}
    assert len(line["items"]) == 2
    assert set(line["items"][0]) == {"item_id", "title", "score", "reason"}
    json.dumps(line)


def test_fast_recall_agrees_with_recall_through_combine(tiny_catalog, hash_embedder):
    """Guards the tuning shortcut: recall from ``position_of`` equals recall from ``combine`` slates."""
    from dataclasses import replace

    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    engine = redial.build_eval_ranker(tiny_catalog, retriever, hash_embedder.encode(tiny_catalog.texts()),
                                      TRAIN, "hybrid")
    s = redial.samples(TEST, tiny_catalog, "gold")
    cands = redial.gather_all(engine, s)
    for w in (engine.weights, replace(engine.weights, recommender=0.0, prior=0.0),
              replace(engine.weights, suggested=2.0, history_dense=1.0, hard_constraints=False)):
        assert redial.fast_recall(engine, cands, s, w) == redial.recall_of(engine, cands, s, w)


def test_validation_folds_are_disjoint_and_cover_train():
    """Guards tuning data: folds never put a dialogue in both fit and validation, and use every one."""
    dialogues = [_conv(f"c{i}", (SEEKER, "hi")) for i in range(10)]
    folds = redial.validation_folds(dialogues, 3)
    seen = []
    for fit, val in folds:
        assert not {d["conversationId"] for d in fit} & {d["conversationId"] for d in val}
        assert len(fit) + len(val) == 10
        seen += [d["conversationId"] for d in val]
    assert sorted(seen) == sorted(d["conversationId"] for d in dialogues)
    assert len(redial.validation_folds(dialogues, 1)) == 1
    with pytest.raises(EvaluationError, match="folds"):
        redial.validation_folds(dialogues, 0)


def test_coordinate_tuning_never_ends_below_its_start(tiny_catalog, hash_embedder):
    """Guards coordinate ascent: the chosen weights score at least as well as the starting ones."""
    from dataclasses import replace

    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    engine = redial.build_eval_ranker(tiny_catalog, retriever, hash_embedder.encode(tiny_catalog.texts()),
                                      TRAIN, "hybrid")
    s = redial.samples(TEST, tiny_catalog, "gold")
    cands = redial.gather_all(engine, s)
    base = replace(engine.weights, recommender=0.0, facts=0.0, prior=1.0)
    start = redial.fast_recall(engine, cands, s, base)
    w, r = redial.tune_weights(engine, cands, s, {"recommender": (0.0, 1.0), "facts": (0.0, 1.0)}, base,
                               method="coordinate")
    assert 2 * r[1] + r[10] + r[50] >= 2 * start[1] + start[10] + start[50]
    assert r == redial.fast_recall(engine, cands, s, w)
    with pytest.raises(EvaluationError, match="tuning method"):
        redial.tune_weights(engine, cands, s, {"facts": (0.0,)}, base, method="random")


def test_breakdown_by_train_mentions_splits_recall_consistently(tiny_catalog, hash_embedder):
    """Guards the per-bucket report: buckets partition the samples, each bucket's recall is the share
    of its own samples found, and the share-weighted buckets give back the overall recall."""
    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    engine = redial.build_eval_ranker(tiny_catalog, retriever, hash_embedder.encode(tiny_catalog.texts()),
                                      TRAIN, "knn")
    s = redial.samples(TEST, tiny_catalog, "gold")
    cands = redial.gather_all(engine, s)
    counts = redial.train_popularity(TRAIN, tiny_catalog)
    assert counts["5"] == 2.0 and "10" in counts and counts.get("3", 0) >= 1  # fixture sanity
    parts = redial.breakdown(engine, cands, s, {"5": 12.0, "9": 1.0})  # "10" is never mentioned
    assert [parts[b]["n"] for b in ("never", "1-2", "3-9", "10+")] == [1, 1, 0, 1]
    overall = redial.recall_of(engine, cands, s)
    for k in redial.KS:
        total = sum(p["n"] * p[f"recall@{k}"] for p in parts.values())
        assert total / len(s) == pytest.approx(overall[k])
    assert parts["10+"]["recall@1"] == float(engine.combine(cands[0], 1).ids == ("5",))
    with pytest.raises(EvaluationError, match="candidate sets"):
        redial.breakdown(engine, cands[:1], s, counts)


def test_report_without_systems_still_has_its_shape(tiny_catalog, hash_embedder):
    """Guards the report when no system is asked for: anchors only, no per-bucket split (it used to
    index the last result of an empty list)."""
    retriever = tiny_retriever(tiny_catalog, hash_embedder)
    report = redial.evaluate(tiny_catalog, retriever, hash_embedder.encode(tiny_catalog.texts()), TRAIN, TEST,
                             systems=(), log=lambda _: None)
    assert report["results"] == [] and report["by_train_mentions"] is None
    assert "UniCRS (published)" in redial.format_table(report)
