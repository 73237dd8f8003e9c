"""Agent-facing use cases: recommend films for a message, facts about a film, search the catalogue.

These are what the MCP tools (:mod:`workbench.ui.mcp_tools`, ``WORKBENCH_MCP=1``) call: each call
stands alone (no session, nothing saved), checks what it is sent (the same message limit as
``/chat``; bounded ``k`` and years) and returns plain JSON made of catalogue fields. A
recommendation runs one real turn of the dialogue engine in a throw-away conversation, so its
slate and reply are those ``/chat`` would give, with the caller's constraints as the turn's filters.

It knows the services and the catalogue; it knows nothing of gradio or MCP.
"""

from __future__ import annotations

import threading
from typing import Any

from workbench.chat.turns import TurnPrefs, check_message, new_session, stream_turn
from workbench.errors import WorkbenchError
from workbench.feedback.inputs import check_int, check_text
from workbench.filters import ItemFilter
from workbench.services import Services
from workbench.text import normalize_title, split_title_year

#: Most films one tool call returns.
MAX_TOOL_K = 20
#: Years a constraint may name (0: no bound).
YEAR_RANGE = (0, 2100)
#: "Heat (1995)": a title with its year.


def film_json(item: Any) -> dict[str, Any]:
    """A catalogue film as the tools return it (catalogue fields only; no prose)."""
    return {"item_id": item.item_id, "title": item.title, "year": item.year, "genres": list(item.genres),
            "directors": list(item.directors), "cast": list(item.cast), "tags": list(item.tags)}


def _names(field: str, value: Any) -> list[str]:
    """A comma-separated list of names (genres, people) from text."""
    return [part.strip() for part in check_text(field, value).split(",") if part.strip()]


def tool_filter(genres: Any = "", exclude_genres: Any = "", year_from: Any = 0, year_to: Any = 0,
                people: Any = "") -> ItemFilter | None:
    """The constraints of a tool call as an :class:`ItemFilter` (``None`` when there are none)."""
    lo = check_int("year_from", year_from or 0, *YEAR_RANGE, " (0: no lower bound)")
    hi = check_int("year_to", year_to or 0, *YEAR_RANGE, " (0: no upper bound)")
    if lo and hi and lo > hi:
        raise WorkbenchError(f"year_from {lo} is after year_to {hi}")
    found = ItemFilter.make(_names("genres", genres), _names("exclude_genres", exclude_genres),
                            lo or None, hi or None, _names("people", people))
    return None if found.is_empty else found


def recommend_films(services: Services, message: Any, genres: Any = "", exclude_genres: Any = "",
                    year_from: Any = 0, year_to: Any = 0, people: Any = "", k: Any = 5) -> dict[str, Any]:
    """One turn of the engine on ``message`` with the constraints as filters: ``{"reply", "items"}``."""
    text = check_message(check_text("message", message))
    k = check_int("k", k, 1, MAX_TOOL_K)
    filters = tool_filter(genres, exclude_genres, year_from, year_to, people)
    session = new_session(services)
    steps = stream_turn(services, session, text, TurnPrefs(backend="", model="", k=k, filters=filters))
    exchange = None
    for exchange, _choice in steps:  # noqa: B007 (the last step holds the turn's result)
        continue
    assert exchange is not None and exchange.result is not None
    result = exchange.result
    return {"reply": result.reply,
            "items": [{**film_json(r.item), "rank": r.rank, "reason": r.reason} for r in result.recommendations]}


class _Titles:
    """Normalised title -> films, built once per catalogue object (the first lookup pays for it)."""

    _lock = threading.Lock()
    _built: dict[int, tuple[Any, dict[str, list[Any]]]] = {}

    @classmethod
    def of(cls, catalog: Any) -> dict[str, list[Any]]:
        with cls._lock:
            held = cls._built.get(id(catalog))
            if held is None or held[0] is not catalog:
                index: dict[str, list[Any]] = {}
                for item in catalog:
                    index.setdefault(normalize_title(item.title), []).append(item)
                held = cls._built[id(catalog)] = (catalog, index)
            return held[1]


def film_facts(services: Services, title: Any) -> dict[str, Any]:
    """The catalogue's facts about the film called ``title`` ("Heat" or "Heat (1995)").

    Returns ``{"film", "others"}``: the best-known film of that title (the year picks one), and the
    other films of the same title. Raises when the catalogue has none, naming close titles.
    """
    raw = check_text("title", title, optional=False).strip()
    if not raw:
        raise WorkbenchError("title: must not be empty (a film title, optionally with its year: 'Heat (1995)')")
    name, year = split_title_year(raw)
    films = sorted(_Titles.of(services.catalog).get(normalize_title(name), ()), key=lambda i: -i.mentions)
    if year is not None:
        films = sorted(films, key=lambda i: i.year != year)
    if not films or (year is not None and films[0].year != year):
        close = [i["title"] for i in search_catalogue(services, name, 3)["items"]]
        hint = f"; close titles: {', '.join(close)}" if close else ""
        raise WorkbenchError(f"title: no film called {raw[:120]!r} in the catalogue{hint}")
    return {"film": film_json(films[0]), "others": [film_json(i) for i in films[1:]]}


def search_catalogue(services: Services, query: Any, k: Any = 10, genres: Any = "", year_from: Any = 0,
                     year_to: Any = 0) -> dict[str, Any]:
    """Films matching ``query`` (words of a title, a person, a plot, a mood), best first: ``{"items"}``."""
    text = check_message(check_text("query", query))
    k = check_int("k", k, 1, MAX_TOOL_K)
    filters = tool_filter(genres, "", year_from, year_to)
    if services.retriever is not None:
        found = services.retriever.search(text, k, filters)
    else:  # no index (a test's services): words only
        from workbench.retrieval.lexical import LexicalRetriever

        allowed = filters.allowed_ids(services.catalog) if filters is not None else None
        found = LexicalRetriever.from_catalog(services.catalog).search(text, k, allowed=allowed)
    return {"items": [{**film_json(services.catalog[s.item_id]), "score": round(float(s.score), 4)}
                      for s in found]}
