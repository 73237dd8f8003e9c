"""`python -m workbench index build` and `search`: custom catalogues, JSON shape, clear errors."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main

CSV = """movieId,name,yr,genre_list,people
1,Return of the Jedi,1983,Science Fiction|Adventure,Mark Hamill|Harrison Ford
2,Heat,1995,Crime|Thriller,Al Pacino|Robert De Niro
3,Amélie,2001,Comedy|Romance,Audrey Tautou
4,Alien,1979,Horror|Science Fiction,Sigourney Weaver
"""
COLUMNS = "id=movieId,title=name,year=yr,genres=genre_list,cast=people"


@pytest.fixture
def built(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "films.csv").write_text(CSV, encoding="utf-8")
    out = tmp_path / "indexes" / "films"
    code = main(["index", "build", "--catalog", str(tmp_path / "films.csv"), "--columns", COLUMNS,
                 "--out", str(out), "--model", "hash-64", "--kind", "flat"])
    assert code == 0
    assert "indexed 4 items (flat, 64 dims, model hash-64-0)" in capsys.readouterr().out
    return out


def test_index_build_writes_manifest(built):
    """Guards: a build writes the FAISS file, ids and a manifest with model, kind and source."""
    meta = json.loads((built / "meta.json").read_text())
    assert (built / "index.faiss").exists() and json.loads((built / "ids.json").read_text()) == ["1", "2", "3", "4"]
    assert meta["model_id"] == "hash-64-0" and meta["kind"] == "flat" and meta["count"] == 4
    assert meta["catalog_columns"] == COLUMNS and meta["catalog_source"].endswith("films.csv")


def test_search_json_has_exactly_the_documented_shape(built, capsys):
    """Guards: --json prints one object {query, items: [{item_id, title, score}]}, best first,
    using the catalogue, columns and model recorded in the index manifest."""
    assert main(["search", "jedi", "-k", "2", "--index", str(built), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"query", "items"} and payload["query"] == "jedi"
    assert len(payload["items"]) == 2
    assert all(set(i) == {"item_id", "title", "score"} for i in payload["items"])
    assert payload["items"][0] == {"item_id": "1", "title": "Return of the Jedi",
                                   "score": payload["items"][0]["score"]}
    assert payload["items"][0]["score"] >= payload["items"][1]["score"]


def test_search_text_output_lists_id_title_year_score(built, capsys):
    """Guards: the human output shows rank, id, score and 'Title (Year)', unicode intact."""
    assert main(["search", "Audrey Tautou", "-k", "3", "--index", str(built)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["#", "id", "score"]
    assert out[1].split()[:2] == ["1", "3"] and out[1].endswith("Amélie (2001)")
    assert len(out) == 4


def test_search_with_stale_index_fails_with_rebuild_command(built, tmp_path, capsys):
    """Guards: searching after the catalogue changed exits 2 with what differs and the fix."""
    edited = tmp_path / "films.csv"
    edited.write_text(CSV.replace("Heat", "Heat 2"), encoding="utf-8")
    assert main(["search", "heat", "--index", str(built)]) == 2
    err = capsys.readouterr().err
    assert "catalog_hash" in err and "python -m workbench index build" in err and str(built) in err


def test_bad_inputs_exit_cleanly(tmp_path, monkeypatch, capsys):
    """Guards: a missing catalogue or a bad -k is an 'error:' line with exit code 2, no traceback."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["index", "build", "--catalog", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "x"),
                 "--model", "hash-8"]) == 2
    assert "nope.csv: catalogue file not found" in capsys.readouterr().err
    assert main(["search", "x", "-k", "0", "--index", str(tmp_path / "x")]) == 2
    assert "-k must be 1-1000" in capsys.readouterr().err


def test_index_build_with_infinite_mentions_is_an_error_line(tmp_path, monkeypatch, capsys):
    """Issue 19 item 12: `mentions=inf` in a catalogue crashed `index build` with an OverflowError
    traceback; now it is one error naming the file, line and field, exit code 2."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "films.csv"
    path.write_text("item_id,title,mentions\n1,Up,4\n2,Heat,inf\n", encoding="utf-8")
    assert main(["index", "build", "--catalog", str(path), "--out", str(tmp_path / "x"), "--model", "hash-8"]) == 2
    assert f"error: {path}: line 3: field 'mentions' (mentions) must be a finite number" in capsys.readouterr().err


def test_search_with_a_mistyped_index_stops_with_the_build_command(tmp_path, capsys):
    from workbench.cli import main

    missing = tmp_path / "defualt"
    assert main(["search", "space opera", "--index", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"no index at {missing} (folder not found)" in err
    assert "python -m workbench index build" in err
    assert not missing.exists()
