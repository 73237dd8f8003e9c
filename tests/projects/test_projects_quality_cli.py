"""``python -m workbench project gold|configure|quality|guidelines|requeue`` end to end.

Guards issue 28 from the terminal: gold answers from a task file (items by title or id), from
``--answer`` and (without a review) a clear ``--from-review`` error; ``--gold-rate`` at creation
and later; ``project quality --json`` with exactly the documented per-annotator keys, flagging
the one annotator of four who answers at random by gold accuracy *and* by leave-one-out
agreement (and a straight-liner by straight-lining), while the careful ones stay unflagged;
guidelines versions, agreement and quality split by version, and ``requeue``; every bad input
exits 2 with a message naming the value.
"""

from __future__ import annotations

import json

import pytest
from conftest import TINY_ITEMS
from quality_support import Clock, seed_team_project, simulate_team

from workbench.catalog import Catalog
from workbench.cli import main
from workbench.interactions import Interactions
from workbench.projects.service import ProjectService, open_project_service, projects_path
from workbench.projects.store import SQLiteProjectStore

ROWS = [(u, i, "liked", 1.0) for u, items in {"u1": ["1", "2"], "u2": ["3", "5"], "u3": ["8", "9"]}.items()
        for i in items]
QUALITY_KEYS = {"submitted", "gold_seen", "gold_accuracy", "agreement", "median_seconds", "flagged", "reasons"}


@pytest.fixture
def env(tmp_path, monkeypatch):
    Catalog(TINY_ITEMS, source="tiny").save_jsonl(tmp_path / "catalog.jsonl")
    Interactions.from_rows(ROWS).save_csv(tmp_path / "interactions.csv")
    for name, value in {"CATALOG": tmp_path / "catalog.jsonl", "INTERACTIONS": tmp_path / "interactions.csv",
                        "INDEX_DIR": tmp_path / "no-index", "EMBED_MODEL": "hash-64", "GENERATOR": "template",
                        "FEEDBACK_DIR": tmp_path / "default-feedback", "CACHE_DIR": tmp_path / "cache", "K": 3,
                        "BUILD_INDEX": 1}.items():
        monkeypatch.setenv(f"WORKBENCH_{name}", str(value))
    return tmp_path


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _write_tasks(path, gold: dict | None = None) -> None:
    rows = [{"id": "a", "messages": [{"role": "user", "content": "a space adventure please"}]},
            {"id": "b", "messages": [{"role": "user", "content": "something scary"}]},
            {"id": "c", "messages": [{"role": "user", "content": "a crime film"}]}]
    for row in rows:
        if gold and row["id"] in gold:
            row["gold"] = gold[row["id"]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_gold_from_the_task_file_by_title_rate_and_the_gold_command(env, capsys):
    data = env / "data"
    _write_tasks(env / "probe.jsonl")
    assert main(["project", "create", "probe", "--file", str(env / "probe.jsonl"), "--overlap", "1",
                 "--data-dir", str(data), "--quiet"]) == 0
    probe = open_project_service(data).store
    slate = probe.task("probe", "a").answer["items"]
    title, other = slate[0]["title"], probe.task("probe", "b").answer["items"][0]["item_id"]
    _write_tasks(env / "tasks.jsonl", {"a": {"judgements": {title: {"label": "like", "rating": 5}},
                                             "reply_label": "like"}})
    assert main(["project", "create", "gp", "--file", str(env / "tasks.jsonl"), "--overlap", "2",
                 "--gold-rate", "0.5", "--data-dir", str(data), "--quiet"]) == 0
    store = open_project_service(data).store
    assert store.gold("gp") == {"a": {"judgements": {slate[0]["item_id"]: {"label": "like", "rating": 5}},
                                      "reply_label": "like"}}
    assert store.quality_settings("gp").gold_rate == 0.5
    code, out, _ = _run(capsys, ["project", "progress", "gp", "--json", "--data-dir", str(data)])
    assert json.loads(out)["tasks"] == 2  # the gold task does not count toward completion

    code, out, _ = _run(capsys, ["project", "gold", "gp", "b", "--answer",
                                 json.dumps({"judgements": {other: {"label": "not_seen"}}}), "--data-dir", str(data)])
    assert code == 0 and "task b is a gold task" in out and set(store.gold("gp")) == {"a", "b"}
    code, out, _ = _run(capsys, ["project", "gold", "gp", "b", "--remove", "--data-dir", str(data)])
    assert code == 0 and set(store.gold("gp")) == {"a"}
    code, out, _ = _run(capsys, ["project", "configure", "gp", "--gold-rate", "0.25", "--min-gold-tasks", "4",
                                 "--data-dir", str(data)])
    assert code == 0 and "gold_rate 0.25" in out
    assert (store.quality_settings("gp").gold_rate, store.quality_settings("gp").min_gold_tasks) == (0.25, 4)


@pytest.mark.parametrize(("argv", "message"), [
    (["gold", "gp", "a", "--answer", "{nope"], "--answer: not valid JSON"),
    (["gold", "gp", "a", "--answer", '{"judgements": {"Nope": {"label": "like"}}}'],
     "item 'Nope' is neither an id nor a title"),
    (["gold", "gp", "zz", "--answer", '{"reply_label": "like"}'], "unknown task 'zz'"),
    (["gold", "gp", "a", "--from-review"], "task 'a' has no review"),
    (["configure", "gp", "--gold-rate", "2"], "--gold-rate: must be a number 0-1"),
    (["configure", "nope", "--gold-rate", "0.1"], "unknown project 'nope'"),
    (["requeue", "gp", "--before-version", "2"], "--before-version: must be a guidelines version"),
    (["quality", "nope"], "unknown project 'nope'"),
    (["guidelines", "gp", "--file", "missing.md"], "missing.md: cannot read the guidelines"),
])
def test_bad_input_exits_2_naming_the_value(env, capsys, argv, message):
    data = env / "data"
    _write_tasks(env / "tasks.jsonl")
    assert main(["project", "create", "gp", "--file", str(env / "tasks.jsonl"), "--overlap", "1",
                 "--data-dir", str(data), "--quiet"]) == 0
    code, _, err = _run(capsys, ["project", *argv, "--data-dir", str(data)])
    assert code == 2 and message in err, err


def test_create_refuses_a_bad_gold_rate_and_a_gold_item_off_the_slate(env, capsys):
    _write_tasks(env / "tasks.jsonl", {"a": {"judgements": {"Not A Film": {"label": "like"}}}})
    code, _, err = _run(capsys, ["project", "create", "x", "--file", str(env / "tasks.jsonl"), "--overlap", "1",
                                 "--data-dir", str(env / "data"), "--quiet"])
    assert code == 2 and "gold task 'a'" in err and "item 'Not A Film' is neither an id nor a title" in err
    code, _, err = _run(capsys, ["project", "create", "y", "--file", str(env / "tasks.jsonl"), "--overlap", "1",
                                 "--gold-rate", "-0.1", "--data-dir", str(env / "data"), "--quiet"])
    assert code == 2 and "--gold-rate: must be a number 0-1" in err


def _team(data, team: dict[str, str], **kw) -> tuple[ProjectService, Clock]:
    clock = Clock()
    svc = ProjectService(SQLiteProjectStore(projects_path(data), clock=clock), open_project_service(data).feedback)
    truths = seed_team_project(svc.store, **kw)
    simulate_team(svc, "team", truths, team, clock)
    return svc, clock


def test_a_random_annotator_of_four_is_flagged_by_gold_and_by_agreement(env, capsys):
    data = env / "data"
    _team(data, {"ann": "careful", "bob": "careful", "cy": "careful", "dee": "random"})
    code, out, _ = _run(capsys, ["project", "quality", "team", "--json", "--data-dir", str(data)])
    report = json.loads(out)
    assert code == 0 and report["project"] == "team" and set(report["annotators"]) == {"ann", "bob", "cy", "dee"}
    for name, row in report["annotators"].items():
        assert QUALITY_KEYS <= set(row), name
        assert row["gold_seen"] == 8 and row["submitted"] == 24
        assert row["median_seconds"] > (10 if name != "dee" else 1)
    dee = report["annotators"]["dee"]
    assert dee["flagged"] is True
    assert any(r.startswith("gold accuracy") for r in dee["reasons"])
    assert any("higher without them" in r for r in dee["reasons"])
    assert dee["gold_accuracy"] < 0.5 and dee["agreement"] < -0.1 and dee["median_seconds"] < 10
    lo, hi = dee["gold_interval"]
    assert lo <= dee["gold_accuracy"] <= hi < 0.7
    for name in ("ann", "bob", "cy"):
        row = report["annotators"][name]
        assert row["flagged"] is False and row["reasons"] == [] and row["gold_accuracy"] > 0.8
    code, out, _ = _run(capsys, ["project", "quality", "team", "--data-dir", str(data)])
    flagged = [line for line in out.splitlines() if "FLAGGED" in line]
    assert len(flagged) == 1 and flagged[0].strip().startswith("dee:")


def test_a_straight_liner_is_flagged(env, capsys):
    data = env / "data"
    _team(data, {"ann": "careful", "bob": "careful", "sam": "straight"}, tasks=20, gold=4, overlap=2)
    report = json.loads(_run(capsys, ["project", "quality", "team", "--json", "--data-dir", str(data)])[1])
    sam = report["annotators"]["sam"]
    assert sam["flagged"] and sam["straight_run"] >= 6 and any("straight-lining" in r for r in sam["reasons"])
    assert not report["annotators"]["ann"]["flagged"] and report["annotators"]["ann"]["straight_run"] < 6


def test_guidelines_versions_split_quality_and_requeue(env, capsys):
    data = env / "data"
    svc, clock = _team(data, {"ann": "careful", "bob": "careful"}, tasks=6, gold=0, overlap=2, gold_rate=0.0)
    (env / "g2.md").write_text("# v2\nNot seen means you never watched it.", encoding="utf-8")
    code, out, _ = _run(capsys, ["project", "guidelines", "team", "--file", str(env / "g2.md"), "--data-dir", str(data)])
    assert code == 0 and "guidelines version 2" in out
    versions = json.loads(_run(capsys, ["project", "guidelines", "team", "--json", "--data-dir", str(data)])[1])
    assert [v["version"] for v in versions] == [1, 2]
    code, out, _ = _run(capsys, ["project", "requeue", "team", "--before-version", "2", "--data-dir", str(data)])
    assert code == 0 and "re-queued 12 answers to 6 tasks" in out
    assert svc.progress("team")["complete"] == 0
    simulate_team(svc, "team", {f"t{i:03d}": {} for i in range(6)}, {"ann": "straight"}, clock)  # ignores truths
    by_version = json.loads(_run(capsys, ["project", "quality", "team", "--json", "--data-dir", str(data)])[1])
    assert by_version["versions"]["2"]["submissions"] == 6 and "1" not in by_version["versions"]
    only_2 = json.loads(_run(capsys, ["project", "quality", "team", "--json", "--guidelines-version", "2",
                                      "--data-dir", str(data)])[1])
    assert set(only_2["annotators"]) == {"ann"} and only_2["annotators"]["ann"]["submitted"] == 6
    agreement = json.loads(_run(capsys, ["project", "agreement", "team", "--json", "--guidelines-version", "1",
                                         "--data-dir", str(data)])[1])
    assert agreement["per_annotator"] == {}  # the version-1 answers were re-queued: none is counted now
