"""``python -m workbench project ...`` end to end on the tiny catalogue with the template generator.

Guards: ``create --redial`` cuts conversations before recommender turns with titles for ``@id``
markers and stores one engine answer per task; an interrupted creation resumes without
re-answering; ``progress --json`` has exactly the documented keys; ``list --json``; every export
format loads (``hf`` with ``datasets.load_from_disk``); bad task files fail naming file, row and
field; a saved ``datasets`` folder is a task source.
"""

from __future__ import annotations

import json

import pytest
from conftest import TINY_ITEMS

from workbench.catalog import Catalog
from workbench.cli import main
from workbench.errors import ProjectError
from workbench.evaluate.redial import mention_ids
from workbench.interactions import Interactions
from workbench.projects import create as create_module
from workbench.projects.service import open_project_service

ROWS = [(u, i, "liked", 1.0) for u, items in {"u1": ["1", "2"], "u2": ["3", "5"], "u3": ["8", "9"]}.items()
        for i in items]


def _msg(who: str, text: str) -> dict:
    return {"text": text, "senderWorkerId": who, "messageId": 0, "timeOffset": 0}


REDIAL = [
    {"conversationId": "c1", "initiatorWorkerId": "s", "respondentWorkerId": "r",
     "movieMentions": {"111": "Toy Story (1995)", "222": "The Conjuring (2013)"},
     "messages": [_msg("s", "Hi, I like @111 a lot"), _msg("r", "Hello! What genre?"),
                  _msg("s", "something scary"), _msg("r", "Try @222"), _msg("s", "thanks")]},
    {"conversationId": "c2", "initiatorWorkerId": "s", "respondentWorkerId": "r", "movieMentions": {},
     "messages": [_msg("r", "Have you seen @333?"), _msg("s", "I loved @8, more space films please"),
                  _msg("r", "@9 then")]},
    {"conversationId": "c3", "initiatorWorkerId": "s", "respondentWorkerId": "r", "movieMentions": {},
     "messages": [_msg("s", "hello"), _msg("r", "hi")]},
    {"conversationId": "c4", "initiatorWorkerId": "s", "respondentWorkerId": "r", "movieMentions": {},
     "messages": [_msg("s", "a crime film?"), _msg("r", "@3")]},
]


@pytest.fixture
def env(tmp_path, monkeypatch):
    Catalog(TINY_ITEMS, source="tiny").save_jsonl(tmp_path / "catalog.jsonl")
    Interactions.from_rows(ROWS).save_csv(tmp_path / "interactions.csv")
    for name, value in {"CATALOG": tmp_path / "catalog.jsonl", "INTERACTIONS": tmp_path / "interactions.csv",
                        "INDEX_DIR": tmp_path / "no-index", "EMBED_MODEL": "hash-64", "GENERATOR": "template",
                        "FEEDBACK_DIR": tmp_path / "default-feedback", "CACHE_DIR": tmp_path / "cache", "K": 3,
                        "BUILD_INDEX": 1}.items():
        monkeypatch.setenv(f"WORKBENCH_{name}", str(value))
    redial = tmp_path / "redial.jsonl"
    redial.write_text("".join(json.dumps(c) + "\n" for c in REDIAL), encoding="utf-8")
    return tmp_path


def _json(capsys, argv: list[str]) -> object:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_create_from_redial_then_progress_list_and_every_export(env, capsys):
    data = env / "data"
    (env / "guide.md").write_text("# Judge the slate\nLike what fits the request.", encoding="utf-8")
    assert main(["project", "create", "demo", "--redial", str(env / "redial.jsonl"), "--n", "2", "--overlap", "2",
                 "--guidelines", str(env / "guide.md"), "--data-dir", str(data), "--quiet"]) == 0
    svc = open_project_service(data)
    assert svc.guidelines("demo").startswith("# Judge the slate")
    first = svc.store.task("demo", "redial-c1-3")
    assert first.messages == [{"role": "user", "content": "Hi, I like Toy Story a lot"},
                              {"role": "assistant", "content": "Hello! What genre?"},
                              {"role": "user", "content": "something scary"}]
    assert first.metadata["next_mentions"] == ["222"]
    assert first.answer["reply"] and first.answer["generator"] == "template"
    assert [i["item_id"] for i in first.answer["items"]] == ["7", "6"]  # the two horror films: "scary" was heard
    assert first.answer["index_id"].startswith("no-index@")
    second = svc.store.task("demo", "redial-c2-2")
    assert second.messages == [{"role": "assistant", "content": "Have you seen that movie?"},
                               {"role": "user", "content": "I loved Star Wars, more space films please"}]

    progress = _json(capsys, ["project", "progress", "demo", "--json", "--data-dir", str(data)])
    assert progress == {"project": "demo", "tasks": 2, "overlap": 2, "complete": 0, "submissions": 0,
                        "skipped": 0, "per_annotator": {}}
    for who in ("ann", "bob"):
        while not (task := svc.next_task("demo", who)).get("done"):
            item = task["items"][0]["item_id"]
            svc.submit_task("demo", task["task_id"], who, {item: {"label": "like", "rating": 5}}, "like", who)
    progress = _json(capsys, ["project", "progress", "demo", "--json", "--data-dir", str(data)])
    assert progress == {"project": "demo", "tasks": 2, "overlap": 2, "complete": 2, "submissions": 4,
                        "skipped": 0, "per_annotator": {"ann": {"submitted": 2, "skipped": 0},
                                                        "bob": {"submitted": 2, "skipped": 0}}}
    (listed,) = _json(capsys, ["project", "list", "--json", "--data-dir", str(data)])
    assert (listed["name"], listed["tasks"], listed["state"]) == ("demo", 2, "ready")

    import datasets
    import pandas as pd

    for fmt, out in (("hf", env / "out-hf"), ("parquet", env / "out.parquet"), ("jsonl", env / "out.jsonl")):
        assert main(["project", "export", "demo", "--format", fmt, "--out", str(out), "--data-dir", str(data)]) == 0
    ds = datasets.load_from_disk(str(env / "out-hf"))
    assert len(ds) == 4 and {"task_id", "messages", "reply", "slate", "annotator", "record_id"} <= set(ds.column_names)
    assert sorted(ds["annotator"]) == ["ann", "ann", "bob", "bob"]
    assert ds[0]["slate"][0]["label"] == "like" and ds[0]["slate"][0]["rating"] == 5
    assert len(pd.read_parquet(env / "out.parquet")) == 4
    rows = [json.loads(line) for line in (env / "out.jsonl").read_text().splitlines()]
    assert {r["record_id"] for r in rows} == {r.record_id for r in svc.feedback.read()}


def test_interrupted_creation_resumes_without_reanswering(env, monkeypatch):
    real, calls, interrupt = create_module.answer_task, [], [True]

    def flaky(engine, task_id, messages, **kw):
        calls.append(task_id)
        if interrupt[0] and len(calls) == 2:
            raise KeyboardInterrupt
        return real(engine, task_id, messages, **kw)

    monkeypatch.setattr(create_module, "answer_task", flaky)
    argv = ["project", "create", "demo", "--redial", str(env / "redial.jsonl"), "--n", "3", "--overlap", "1",
            "--data-dir", str(env / "data"), "--quiet"]
    assert main(argv) == 130
    svc = open_project_service(env / "data")
    assert [t.task_id for t in svc.store.unanswered("demo")] == ["redial-c2-2", "redial-c4-1"]
    with pytest.raises(ProjectError, match="still being created"):
        svc.next_task("demo", "ann")
    interrupt[0] = False
    calls.clear()
    assert main(argv) == 0
    assert calls == ["redial-c2-2", "redial-c4-1"]  # the answered task was not answered again
    assert svc.next_task("demo", "ann")["task_id"] == "redial-c1-3"
    assert main([*argv[:7], "--overlap", "2", *argv[9:]]) == 2  # a resume must keep the overlap


def test_bad_task_files_name_file_row_and_field(env, capsys):
    data = env / "data"
    cases = {
        "missing.jsonl": (None, "task file not found"),
        "bad.jsonl": ('{"messages": [{"role": "user", "content": "hi"}]}\n{"id": "x"}\n',
                      "bad.jsonl: line 2: field 'messages' must be a non-empty list"),
        "role.csv": ('id,messages\na,"[{""role"": ""user"", ""content"": ""hi""}]"\n'
                     'b,"[{""role"": ""robot"", ""content"": ""hi""}]"\n',
                     "role.csv: row 3: field 'messages\\[0\\]'.role: must be one of user, assistant, system, got 'robot'"),
        "ends.jsonl": ('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n',
                       "line 1: field 'messages' must end with a user turn"),
        "twice.jsonl": ('{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n' * 2,
                        "task id 'a' appears twice"),
        "tasks.txt": ("", "unknown task file type '.txt'"),
    }
    import re

    for name, (text, message) in cases.items():
        if text is not None:
            (env / name).write_text(text, encoding="utf-8")
        capsys.readouterr()
        assert main(["project", "create", "x", "--file", str(env / name), "--overlap", "1",
                     "--data-dir", str(data)]) == 2, name
        assert re.search(message, capsys.readouterr().err), name
    assert main(["project", "create", "x", "--redial", str(env / "redial.jsonl"), "--overlap", "1"]) == 2
    assert "--redial needs --n" in capsys.readouterr().err
    assert main(["project", "progress", "nope", "--data-dir", str(data)]) == 2
    assert "unknown project 'nope'" in capsys.readouterr().err


def test_create_from_a_saved_datasets_folder_and_refuse_a_second_create(env, capsys):
    import datasets

    folder = env / "tasks-ds"
    datasets.Dataset.from_list([
        {"id": "q1", "messages": [{"role": "user", "content": "a heist film like Heat"}]},
        {"id": "q2", "messages": [{"role": "user", "content": "something for the family"}]},
    ]).save_to_disk(str(folder))
    argv = ["project", "create", "ds", "--file", str(folder), "--overlap", "3", "--data-dir", str(env / "data"),
            "--quiet"]
    assert main(argv) == 0
    svc = open_project_service(env / "data")
    assert [t["task_id"] for t in [svc.next_task("ds", "ann")]] == ["q1"]
    capsys.readouterr()
    assert main(argv) == 2 and "project 'ds' already exists (ready)" in capsys.readouterr().err


def test_create_from_the_real_redial_file(env, shared_data):
    """The shipped ReDial format (not only our fixture): three contexts, each ending with a seeker turn
    and with no ``@id`` marker left."""
    data = env / "data"
    assert main(["project", "create", "real", "--redial", str(shared_data / "redial" / "test.jsonl"), "--n", "3",
                 "--overlap", "1", "--data-dir", str(data), "--quiet"]) == 0
    svc = open_project_service(data)
    assert svc.store.unanswered("real") == [] and svc.progress("real")["tasks"] == 3
    for _ in range(3):
        task = svc.next_task("real", "ann")
        assert task["messages"][-1]["role"] == "user" and task["reply"]
        assert not any(mention_ids(m["content"]) for m in task["messages"])
        svc.skip_task("real", task["task_id"], "ann")


def test_close_stops_claims_and_answers(tmp_path, capsys):
    """``project close NAME``: the project is listed closed and takes no more claims (nothing written)."""
    from projects_support import seed_project

    svc = open_project_service(tmp_path)
    seed_project(svc.store, "p", tasks=2, overlap=1)
    t = svc.next_task("p", "ann")["task_id"]
    capsys.readouterr()
    assert main(["project", "close", "p", "--data-dir", str(tmp_path)]) == 0
    assert "project p closed: 0 of 2 tasks complete" in capsys.readouterr().out
    (listed,) = _json(capsys, ["project", "list", "--json", "--data-dir", str(tmp_path)])
    assert listed["state"] == "closed"
    with pytest.raises(ProjectError, match="closed"):
        svc.next_task("p", "bob")
    with pytest.raises(ProjectError, match="closed"):
        svc.submit_task("p", t, "ann", {"1": {"label": "like"}})
    assert len(svc.feedback.read()) == 0
