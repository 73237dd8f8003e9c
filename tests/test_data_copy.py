"""``data copy`` between a feedback folder and PostgreSQL, and exports from either (issue 18).

Guards: a Space's folder (shards + projects.sqlite) copied into PostgreSQL holds the same records
and projects; running the copy again copies nothing twice; ``feedback export`` and ``project
export`` give byte-identical files from the folder and from the database; the way back (database
-> a new folder) round-trips too, and the copied projects keep working (back, next task).
"""

from __future__ import annotations

import json

import pytest
from projects_support import annotate_all, seed_project, service

from workbench.cli import main
from workbench.feedback.backends import store_at
from workbench.feedback.record import make_record
from workbench.projects.service import open_project_service


def _records(n: int) -> list:
    return [make_record(
        annotator=f"ann-{i % 3}", session_id=f"s{i // 4}", turn_index=i % 4,
        conversation=[{"role": "user", "text": f"something tense n°{i} ✨"}], user_message=f"like Heat {i}?",
        reply=f"Try Heat (1995) — {i}.", generator_backend="template", generator_model="",
        slate=[{"item_id": "3", "title": "Heat (1995)", "rank": 1, "score": i / 7, "sources": {"cf": i / 3, "content": 0.5}},
               {"item_id": "5", "title": "Collateral (2004)", "rank": 2, "score": 0.25, "sources": {}}],
        judgements={"3": {"label": ("like", "dislike")[i % 2], "rating": 1 + i % 5}},
        reply_label=("like", "dislike", None)[i % 3], comment="Ünïcödé" if i % 2 else "",
    ) for i in range(10)]


@pytest.fixture
def space_folder(tmp_path):
    """A feedback folder as a Space leaves it: plain records and a project half done by two annotators."""
    folder = tmp_path / "space"
    svc = service("sqlite", folder)
    seed_project(svc.store, tasks=6, overlap=2)
    annotate_all(svc, "p", "ann")
    task = svc.next_task("p", "bob")
    svc.submit_task("p", task["task_id"], "bob", {"3": {"label": "dislike", "rating": 2}}, "like", "hm")
    svc.skip_task("p", svc.next_task("p", "bob")["task_id"], "bob", "not a movie question")
    store_at(folder).append_many(_records(10))
    return folder


def _export(monkeypatch, tmp_path, where: str, name: str) -> dict[str, bytes]:
    """Every export format that writes a file, from ``where`` (a folder or a database URL)."""
    out = tmp_path / name
    out.mkdir()
    if where.startswith("postgresql://"):
        monkeypatch.setenv("WORKBENCH_DATABASE_URL", where)
        source: list[str] = []
        project_source: list[str] = []
    else:
        monkeypatch.delenv("WORKBENCH_DATABASE_URL", raising=False)
        source, project_source = ["--dir", where], ["--data-dir", where]
    for fmt, suffix in (("jsonl", "jsonl"), ("sft", "jsonl"), ("parquet", "parquet")):
        assert main(["feedback", "export", "--format", fmt, "--out", str(out / f"{fmt}.{suffix}"), *source]) == 0
    assert main(["project", "export", "p", "--format", "jsonl", "--out", str(out / "project.jsonl"),
                 *project_source]) == 0
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_copy_into_postgresql_and_back_keeps_every_export_identical(space_folder, pg_url, tmp_path, monkeypatch,
                                                                   capsys):
    assert main(["data", "copy", "--from", str(space_folder), "--to", pg_url, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["records_read"], first["records_copied"]) == (17, 17)  # 6 + 1 project records, 10 plain ones
    assert first["projects_copied"] == ["p"] and first["answers_copied"] == 8

    assert main(["data", "copy", "--from", str(space_folder), "--to", pg_url, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["records_copied"] == 0 and again["projects_skipped"] == ["p"] and again["projects_copied"] == []
    assert len(store_at(pg_url)) == 17

    from_folder = _export(monkeypatch, tmp_path, str(space_folder), "from-folder")
    from_db = _export(monkeypatch, tmp_path, pg_url, "from-db")
    assert set(from_folder) == {"jsonl.jsonl", "sft.jsonl", "parquet.parquet", "project.jsonl"}
    assert all(from_folder[name] for name in from_folder)  # nothing trivially equal because empty
    assert from_db == from_folder

    back = tmp_path / "back"
    assert main(["data", "copy", "--from", pg_url, "--to", str(back)]) == 0
    assert "17 of 17 feedback records copied" in capsys.readouterr().out
    assert _export(monkeypatch, tmp_path, str(back), "from-back") == from_folder

    # the copied project still works on the database: progress, back and the tasks left to do
    svc = open_project_service(pg_url)
    assert svc.progress("p") == open_project_service(space_folder).progress("p")
    assert svc.back("p", "bob")["previous"]["skipped"] is True
    assert len(annotate_all(svc, "p", "cy")) == 5  # every task but the one ann and bob both submitted
    svc.store.close()


def test_copy_to_itself_is_refused(tmp_path):
    from workbench.datacopy import copy_data
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="--from and --to are the same"):
        copy_data(tmp_path, tmp_path)
