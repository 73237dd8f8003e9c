"""Keyword tags: short phrases only, never description sentences, never the film's own facts."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from workbench.tags import MAX_TAG_WORDS, MAX_TAGS, KeywordTagger

ROWS = [
    {"title": "Inception", "directors": ["Christopher Nolan"], "cast": ["Leonardo DiCaprio"],
     "description": "Inception is a 2010 science fiction action film written and directed by Christopher "
                    "Nolan. The film stars Leonardo DiCaprio as a professional thief who steals information "
                    "by infiltrating the subconscious of his targets through shared dreams."},
    {"title": "Toy Story", "directors": ["John Lasseter"], "cast": ["Tom Hanks"],
     "description": "Toy Story is a 1995 American computer-animated comedy film produced by Pixar. "
                    "Toys come alive when humans are not around."},
    {"title": "Heat", "directors": ["Michael Mann"], "cast": ["Al Pacino"],
     "description": "Heat is a 1995 American crime film written by Michael Mann and produced by "
                    "Art Linson. A detective hunts a professional thief after a heist."},
    {"title": "No text", "cast": ["Art Carney"], "description": None},  # teaches "art" as a first name
]


@pytest.fixture
def tagger() -> KeywordTagger:
    return KeywordTagger.fit_rows(ROWS)


def test_tags_are_short_phrases_capped_in_number(tagger):
    """Guards: at most MAX_TAGS tags of at most MAX_TAG_WORDS words each, never a sentence."""
    for row in ROWS:
        tags = tagger(row)
        assert len(tags) <= MAX_TAGS
        assert all(1 <= len(t.split()) <= MAX_TAG_WORDS for t in tags)
        assert all(not re.search(r"[.!?]", t) for t in tags)
    assert tagger(ROWS[3]) == []


def test_tags_keep_plot_words_and_drop_own_facts_and_boilerplate(tagger):
    """Guards: plot words survive; the title, credited people, writers/producers (a capitalised
    run starting with a first name seen in any credits) and film-making boilerplate ('directed', 'american', years) do not."""
    tags = tagger(ROWS[0])
    words = {w for t in tags for w in t.split()}
    assert {"subconscious", "thief"} <= words or "professional thief" in tags
    assert not words & {"inception", "christopher", "nolan", "leonardo", "dicaprio", "directed",
                        "written", "film", "2010"}
    heat_words = {w for t in tagger(ROWS[2]) for w in t.split()}
    assert "heist" in heat_words
    assert not heat_words & {"art", "linson", "michael", "mann", "american"}  # producer dropped


def test_tags_are_deterministic(tagger):
    """Guards: rebuilding the assets gives byte-identical tags."""
    assert tagger(ROWS[0]) == KeywordTagger.fit_rows(ROWS)(ROWS[0])


def test_shipped_catalogue_holds_no_description_prose(shared_data):
    """Guards the licence rule: no 6-word run of any Wikipedia description appears anywhere in
    the shipped catalogue file, and every shipped tag is short."""
    from workbench.config import ASSETS_DIR

    with gzip.open(ASSETS_DIR / "catalog.jsonl.gz", "rt", encoding="utf-8") as f:
        raw = f.read()
    shipped = [json.loads(line) for line in raw.splitlines()]
    for row in shipped:
        tags = row.get("tags", [])
        assert len(tags) <= MAX_TAGS and all(len(t.split()) <= MAX_TAG_WORDS for t in tags), row["item_id"]
    def grams(text: str) -> set[str]:
        w = text.lower().split()
        return {" ".join(w[i : i + 6]) for i in range(len(w) - 5)}

    shipped_grams: set[str] = set()  # 6-word runs inside any one shipped text value
    title_grams: set[str] = set()  # titles are facts, and descriptions quote them
    for row in shipped:
        title_grams |= grams(row["title"])
        for value in row.values():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    shipped_grams |= grams(text)
    meta = shared_data / "movie-metadata" / "redial_catalogue.jsonl"
    checked = 0
    with open(meta, encoding="utf-8") as f:
        for line in f:
            desc_grams = grams(json.loads(line).get("description") or "") - title_grams
            leaked = desc_grams & shipped_grams
            assert not leaked, leaked
            checked += len(desc_grams)
    assert checked > 10_000
