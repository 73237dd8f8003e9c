"""The default-catalogue evaluation: the leave-some-out split and the `python -m workbench eval` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from workbench.cli import main
from workbench.errors import EvaluationError
from workbench.evaluate.default import evaluate_default, split_likes
from workbench.interactions import Interactions
from workbench.recommend import EASEScorer, PopularityScorer


def rows_for(n_users=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        star_wars = "80" if u % 4 == 0 else "8"  # "80" is an alias of "8"
        group = ["1", "2", "11"] if u % 2 else [star_wars, "9", "10"]
        for item in rng.permutation(group):
            rows.append((f"c{u}", item, "liked", 1.0))
        rows.append((f"c{u}", "6", "suggested", 0.5))
        rows.append((f"c{u}", "7", "disliked", -1.0))
    return rows


def test_split_holds_out_only_likes_of_users_with_enough(tiny_catalog):
    """Guards the protocol: held-out items are likes, never in training, only from users with >= 3 likes."""
    rows = rows_for() + [("short", "3", "liked", 1.0), ("short", "5", "liked", 1.0)]
    train, held, users, items = split_likes(Interactions.from_rows(rows), tiny_catalog, 0.2, 3, seed=1)
    assert "80" not in items and "8" in items  # aliases resolved to canonical ids
    assert train.multiply(held).nnz == 0
    assert held[users.index("short")].nnz == 0
    assert (np.diff(held.indptr)[[users.index(f"c{u}") for u in range(30)]] == 1).all()
    held_items = {items[j] for j in held.indices}
    assert "6" not in held_items and "7" not in held_items  # suggestions/dislikes are never targets
    col7 = items.index("7")
    assert train[:, col7].nnz == 0  # a dislike is not a positive training signal


def test_evaluate_default_on_generated_files(tmp_path, tiny_catalog):
    """Guards the whole run on small files: both systems scored, EASE beats popularity on clustered likes."""
    cat = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(cat)
    inter = tmp_path / "interactions.csv"
    Interactions.from_rows(rows_for()).save_csv(inter)
    systems = {"Popularity": PopularityScorer, "EASE": lambda: EASEScorer(lambda_=1.0)}
    report = evaluate_default(cat, inter, [3], systems=systems, seed=0)
    assert report.get("EASE", "liked", 3)["hit_rate"] > report.get("Popularity", "liked", 3)["hit_rate"]
    assert set(report.to_json()) == {"dataset", "folds", "results"}


def test_no_user_with_enough_likes_is_an_error(tmp_path, tiny_catalog):
    """Guards a clear error instead of an empty table."""
    cat = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(cat)
    inter = tmp_path / "interactions.csv"
    Interactions.from_rows([("a", "1", "liked", 1.0)]).save_csv(inter)
    with pytest.raises(EvaluationError, match="3 or more liked"):
        evaluate_default(cat, inter, [5], content="none")


def test_plain_eval_command_runs_the_default_evaluation(tmp_path, tiny_catalog, monkeypatch, capsys):
    """Guards `python -m workbench eval` with no protocol: it evaluates the configured catalogue."""
    cat = tmp_path / "catalog.jsonl"
    tiny_catalog.save_jsonl(cat)
    inter = tmp_path / "interactions.csv"
    Interactions.from_rows(rows_for()).save_csv(inter)
    monkeypatch.setenv("WORKBENCH_CATALOG", str(cat))
    monkeypatch.setenv("WORKBENCH_INTERACTIONS", str(inter))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    from workbench.cli import build_parser
    from workbench.cli.eval_default import run

    args = build_parser().parse_args(["eval"])
    assert args.func is run and args.content == "minilm"  # no protocol -> default evaluation
    out = tmp_path / "d.json"
    assert main(["eval", "default", "--content", "hash", "--k", "3", "--json", str(out), "--quiet"]) == 0
    data = json.loads(out.read_text())
    assert data["dataset"] == "default-catalogue"
    assert any(r["system"].startswith("Hybrid") for r in data["results"])
    assert "relevance=liked" in capsys.readouterr().out
