"""The MovieLens evaluation: file reading, output format, the CLI, and one real fold when the data exists."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli import main
from workbench.errors import EvaluationError
from workbench.evaluate.movielens import PUBLISHED, evaluate_movielens, format_table, plot_ndcg
from workbench.evaluate.movielens_data import RELEVANCE, _title_key, item_texts, read_fold, read_items
from workbench.recommend import EASEScorer, PopularityScorer

N_USERS, N_ITEMS = 40, 24


def write_fake_movielens(directory, seed=0):
    """A generated MovieLens-shaped folder (not MovieLens data): users like one of 4 item clusters."""
    rng = np.random.default_rng(seed)
    directory.mkdir()
    genres = ["0"] * 19
    lines = []
    for i in range(1, N_ITEMS + 1):
        g = list(genres)
        g[1 + (i % 4)] = "1"
        lines.append(f"{i}|Film {i}, The ({1990 + i % 5})|01-Jan-1995||http://x|" + "|".join(g))
    (directory / "u.item").write_text("\n".join(lines) + "\n", encoding="latin-1")
    (directory / "u.user").write_text("".join(f"{u}|30|M|x|0\n" for u in range(1, N_USERS + 1)))
    rows = []
    for u in range(1, N_USERS + 1):
        members = [i for i in range(1, N_ITEMS + 1) if i % 4 == u % 4]
        for i in rng.choice(members, size=5, replace=False):
            rows.append((u, int(i), int(rng.integers(3, 6))))
        rows.append((u, int(rng.integers(1, N_ITEMS + 1)), 2))
    rows = list({(u, i): (u, i, r) for u, i, r in rows}.values())
    for fold in range(1, 6):
        test = [r for n, r in enumerate(rows) if n % 5 == fold - 1]
        base = [r for n, r in enumerate(rows) if n % 5 != fold - 1]
        for name, part in ((f"u{fold}.base", base), (f"u{fold}.test", test)):
            (directory / name).write_text("".join(f"{u}\t{i}\t{r}\t881250949\n" for u, i, r in part))
    return directory


@pytest.fixture
def fake_ml(tmp_path):
    return write_fake_movielens(tmp_path / "ml")


def test_reads_items_and_folds(fake_ml):
    """Guards parsing: titles lose their year, genres come from the flags, folds are 1/0 and ratings."""
    items = read_items(fake_ml)
    assert len(items) == N_ITEMS and items[0]["title"] == "Film 1, The" and items[0]["year"] == 1991
    assert items[0]["genres"] == ["Adventure"]
    fold = read_fold(fake_ml, 1, N_USERS, [i["item_id"] for i in items])
    assert set(np.unique(fold.train.data)) == {1.0}
    assert fold.relevant("rating>=4").nnz <= fold.relevant("all").nnz == fold.test_ratings.nnz


def test_missing_files_name_the_path(tmp_path):
    """Guards the error for a wrong --data folder."""
    with pytest.raises(EvaluationError, match="u.item"):
        evaluate_movielens(tmp_path, folds=[1])
    with pytest.raises(EvaluationError, match="fold 7"):
        evaluate_movielens(tmp_path, folds=[7])


def test_title_key_and_item_text():
    """Guards the Wikipedia match key ("Usual Suspects, The" == "The Usual Suspects") and text shape."""
    assert _title_key("Usual Suspects, The") == _title_key("The Usual Suspects")
    assert _title_key("Cité des enfants perdus, La (City of Lost Children, The)") == "la cité des enfants perdus"
    texts, enriched = item_texts([{"item_id": "1", "title": "Heat", "year": 1995, "genres": ["Crime"]}])
    assert texts == ["1990s film. Crime."] and enriched == 0


def test_report_json_table_and_chart(fake_ml, tmp_path):
    """Guards the output contract: JSON exactly as the issue, both protocols, published rows labelled."""
    systems = {"Popularity": PopularityScorer, "EASE": lambda: EASEScorer(lambda_=10.0)}
    report = evaluate_movielens(fake_ml, folds=[1, 2], ks=[5, 10], systems=systems)
    data = report.to_json()
    assert set(data) == {"dataset", "folds", "results"} and data["folds"] == [1, 2]
    assert len(data["results"]) == 2 * 2 * 2
    keys = {"system", "relevance", "k", "precision", "recall", "ndcg", "hit_rate", "mrr", "coverage"}
    assert all(set(r) == keys for r in data["results"])
    assert {r["relevance"] for r in data["results"]} == set(RELEVANCE)
    # clustered generated data: EASE must beat popularity
    assert report.get("EASE", "all", 5)["ndcg"] > report.get("Popularity", "all", 5)["ndcg"]
    table = format_table(report)
    assert all(f"[published] {p['system']}" in table for p in PUBLISHED)
    assert "u1..u5" in table  # the split is stated
    png = plot_ndcg(report, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_writes_json_and_png(fake_ml, tmp_path, capsys):
    """Guards `python -m workbench eval movielens` end to end on generated files (hash content)."""
    out = tmp_path / "res" / "ml.json"
    code = main(["eval", "movielens", "--data", str(fake_ml), "--folds", "1", "--k", "5",
                 "--content", "hash", "--enrich", "none", "--json", str(out), "--quiet"])
    assert code == 0
    results = json.loads(out.read_text())["results"]
    systems = {r["system"] for r in results}
    assert any(s.startswith("Hybrid") for s in systems) and any(s.startswith("ALS") for s in systems)
    assert out.with_suffix(".png").exists()
    chosen = json.loads(out.read_text())["tuning"]["per_fold"][0]["chosen"]
    assert set(chosen) == {"ease_lambda", "ease_value_lambda", "als", "content_neighbors"}
    printed = capsys.readouterr().out
    assert "[published]" in printed and "chosen per fold on validation data" in printed


def test_cli_bad_data_dir_exits_2(tmp_path, capsys):
    """Guards the CLI error path: a clear message and exit code 2, no traceback."""
    assert main(["eval", "movielens", "--data", str(tmp_path / "nope"), "--content", "none", "--quiet"]) == 2
    assert "u.item" in capsys.readouterr().err


def test_real_movielens_fold_1(shared_data):
    """Guards the headline number on real data: EASE on official fold 1 (fold 1 alone scores higher
    than the five-fold mean of about 0.47 / 0.507, because u1.test holds the heaviest users)."""
    data = shared_data / "ml-100k"
    if not (data / "u1.base").exists():
        pytest.skip(f"MovieLens-100K not found at {data}")
    systems = {"Popularity": PopularityScorer, "EASE": lambda: EASEScorer(lambda_=500)}
    report = evaluate_movielens(data, folds=[1], ks=[5], systems=systems)
    ease = report.get("EASE", "all", 5)
    assert 0.56 < ease["precision"] < 0.62 and 0.59 < ease["ndcg"] < 0.64
    assert report.get("EASE", "rating>=4", 5)["ndcg"] > report.get("Popularity", "rating>=4", 5)["ndcg"]


def test_ease_path_matches_ease_weights():
    """Guards the shared-Gram shortcut: EASE for several lambdas from one eigendecomposition
    equals a fresh EASE fit (ease_weights) at each lambda."""
    import scipy.sparse as sp

    from workbench.recommend.ease import ease_weights
    from workbench.recommend.tuning import ease_path

    rng = np.random.default_rng(3)
    X = sp.csr_matrix((rng.random((30, 12)) < 0.3).astype(np.float32) * rng.integers(1, 6, (30, 12)) / 5)
    lambdas = [0.5, 2.0, 10.0]
    got = list(ease_path(X, lambdas))
    assert [lam for lam, _ in got] == lambdas
    for lam, B in got:
        np.testing.assert_allclose(B, ease_weights(X, lam), atol=1e-5)


def test_pick_best_keeps_first_of_ties():
    """Guards the tie rule of hyperparameter choice (earlier grid entry wins, so reruns agree)."""
    from workbench.recommend.tuning import pick_best

    assert pick_best({100: 0.2, 250: 0.3, 500: 0.3}) == 250
    with pytest.raises(ValueError):
        pick_best({})


def test_tuning_never_reads_the_test_fold(fake_ml):
    """Guards against test-set tuning: the chosen hyperparameters and validation scores depend on
    the fold's training ratings only; replacing the test ratings changes nothing."""
    import scipy.sparse as sp

    from workbench.evaluate.movielens import tune_fold
    from workbench.evaluate.movielens_data import TrainTest

    items = read_items(fake_ml)
    ids = [i["item_id"] for i in items]
    split = read_fold(fake_ml, 1, N_USERS, ids).split()
    rng = np.random.default_rng(7)
    other = sp.csr_matrix(rng.random((N_USERS, N_ITEMS)) < 0.3)
    shuffled = TrainTest(split.train, split.values, split.value_scale, {"all": other, "rating>=4": other})
    grid = [1.0, 10.0, 100.0]
    a = tune_fold(split, ids, k=5, lambdas=grid, needs={"ease_lambda", "ease_value_lambda"})
    b = tune_fold(shuffled, ids, k=5, lambdas=grid, needs={"ease_lambda", "ease_value_lambda"})
    assert a == b
    chosen, validation = a
    assert set(chosen) == {"ease_lambda", "ease_value_lambda"} and chosen["ease_lambda"] in grid
    assert list(validation["ease_lambda"]) == ["1", "10", "100"]
    # and the validation split itself is carved from training entries only
    from workbench.evaluate.movielens import validation_split

    kept, held, _ = validation_split(split)
    assert (kept + held - split.values).nnz == 0 and kept.multiply(held).nnz == 0


def test_tuned_systems_record_choices_per_fold(fake_ml):
    """Guards the report of per-fold choices: each fold's chosen lambda is in the JSON (extra
    top-level key; the issue's keys and result rows unchanged) and in the printed table."""
    from workbench.evaluate.movielens import Tuned

    systems = {"EASE fixed": lambda: EASEScorer(lambda_=10.0),
               "EASE tuned": Tuned(lambda c: EASEScorer(lambda_=c.get("ease_lambda", 10.0)), ("ease_lambda",))}
    report = evaluate_movielens(fake_ml, folds=[1, 3], ks=[5], systems=systems)
    data = report.to_json()
    assert set(data) == {"dataset", "folds", "results", "tuning"} and len(data["results"]) == 2 * 2
    per_fold = data["tuning"]["per_fold"]
    assert [r["fold"] for r in per_fold] == [1, 3]
    for record in per_fold:
        lam = record["chosen"]["ease_lambda"]
        assert record["systems"] == {"EASE tuned": {"ease_lambda": lam}}
        assert set(record["chosen"]) == {"ease_lambda"}  # only what the systems need is tuned
    assert "fold 3: EASE lambda=" in format_table(report)
    untuned = evaluate_movielens(fake_ml, folds=[1], ks=[5], systems=systems, tune=False)
    assert "tuning" not in untuned.to_json()
