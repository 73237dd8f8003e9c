"""Shared tiny fixtures, built in code: a dozen films, a hash embedder, a temp dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pg_support import pg_server, pg_url  # noqa: F401  (PostgreSQL fixtures, see pg_support)

from workbench.catalog import Catalog, Item
from workbench.retrieval.embed import HashEmbedder

# Keep every test offline, even on a machine that could reach the Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

TINY_ITEMS = [
    Item("1", "Toy Story", 1995, ("Animation", "Comedy", "Family"), ("John Lasseter",),
         ("Tom Hanks", "Tim Allen"), ("toys", "cowboy"), mentions=50),
    Item("2", "Up", 2009, ("Animation", "Adventure", "Family"), ("Pete Docter",),
         ("Ed Asner",), ("balloons", "old man"), mentions=30),
    Item("3", "Heat", 1995, ("Crime", "Thriller"), ("Michael Mann",),
         ("Al Pacino", "Robert De Niro"), ("heist", "detective"), mentions=40),
    Item("4", "Heat", 1986, ("Action", "Thriller"), ("Dick Richards",),
         ("Burt Reynolds",), (), mentions=2),
    Item("5", "Collateral", 2004, ("Crime", "Thriller"), ("Michael Mann",),
         ("Tom Cruise", "Jamie Foxx"), ("taxi", "hitman"), mentions=20),
    Item("6", "The Conjuring", 2013, ("Horror",), ("James Wan",),
         ("Vera Farmiga", "Patrick Wilson"), ("haunting", "demon"), mentions=35),
    Item("7", "Alien", 1979, ("Horror", "Science Fiction"), ("Ridley Scott",),
         ("Sigourney Weaver",), ("spaceship", "creature"), mentions=25),
    Item("8", "Star Wars", 1977, ("Science Fiction", "Adventure"), ("George Lucas",),
         ("Mark Hamill", "Harrison Ford"), ("jedi", "space opera"), mentions=60, aliases=("80",)),
    Item("9", "Return of the Jedi", 1983, ("Science Fiction", "Adventure"), ("Richard Marquand",),
         ("Mark Hamill", "Harrison Ford"), ("jedi", "empire"), mentions=30),
    Item("10", "Inception", 2010, ("Science Fiction", "Thriller"), ("Christopher Nolan",),
         ("Leonardo DiCaprio",), ("dreams", "heist"), mentions=45),
    Item("11", "Forrest Gump", 1994, ("Drama", "Comedy"), ("Robert Zemeckis",),
         ("Tom Hanks",), ("running", "vietnam"), mentions=40),
    Item("12", "Amélie", 2001, ("Comedy", "Romance"), ("Jean-Pierre Jeunet",),
         ("Audrey Tautou",), ("paris", "café"), mentions=10),
]


@pytest.fixture
def tiny_catalog() -> Catalog:
    return Catalog(TINY_ITEMS, source="tiny")


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder(dimension=64)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


#: Live-server and browser tests; each carries the ``e2e`` marker (``-m "not e2e"`` runs the rest).
E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
