"""The app as an MCP server (``WORKBENCH_MCP=1``): three tools for agents, nothing else.

Gradio's MCP server (``launch(mcp_server=True)``, at ``/gradio_api/mcp/``) turns every public named
endpoint into a tool. This module declares the three this app means for agents, each a thin
wrapper over a use case of :mod:`workbench.chat.tools` with a docstring Gradio reads for the
tool's description and argument help:

* ``recommend_films``: recommendations for a message, with optional genre / year / people constraints;
* ``film_facts``: what the catalogue knows about a film (year, genres, directors, cast, tags);
* ``search_catalogue``: films matching words of a title, a person, a plot or a mood.

:func:`only_agent_tools` then keeps the MCP server to these three: the ``gradio_client``
endpoints (``/chat``, ``/feedback``, projects, arena) stay public for ``gradio_client`` but are no
MCP tools (they keep sessions and write records under an annotator), and UI events are private
already. Errors come back as the tool's error text (:func:`~workbench.ui.boundary.as_app_error`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from workbench.chat.tools import film_facts, recommend_films, search_catalogue
from workbench.services import Services
from workbench.ui.boundary import as_app_error

#: The endpoints served as MCP tools (their api_name; also each tool's name off a Space).
MCP_TOOLS = ("recommend_films", "film_facts", "search_catalogue")


def as_json(out: dict[str, Any]) -> str:
    """A tool's result as JSON text (Gradio's MCP server would send a dict as its Python repr)."""
    return json.dumps(out, ensure_ascii=False)


def register_mcp_tools(services: Services) -> None:
    """Declare the agent tools as named endpoints (call inside a Blocks context)."""

    def recommend(message: str, genres: str = "", exclude_genres: str = "", year_from: int = 0,
                  year_to: int = 0, people: str = "", k: int = 5) -> str:
        """Recommend films from the catalogue for what a user says, with the reasons for each.

        Runs one turn of the recommender conversation (collaborative filtering, content similarity and
        semantic search, ranked by the hybrid) and writes a short reply around the films. Constraints
        narrow the films considered.

        Args:
            message: what the user wants, in their words, e.g. "I loved Heat and Collateral, something similar".
            genres: optional, comma-separated genres a film must have one of, e.g. "Thriller, Crime".
            exclude_genres: optional, comma-separated genres to avoid, e.g. "Horror".
            year_from: optional earliest release year (0: no bound).
            year_to: optional latest release year (0: no bound).
            people: optional, comma-separated directors or actors a film must involve, e.g. "Michael Mann".
            k: how many films, 1-20.

        Returns:
            JSON text: {"reply": text for the user, "items": [{"item_id", "title", "year", "genres", "directors", "cast",
            "tags", "rank", "reason"}]}
        """
        return as_json(as_app_error(recommend_films)(services, message, genres, exclude_genres, year_from, year_to,
                                             people, k))

    def facts(title: str) -> str:
        """Look up a film in the catalogue by its title and return what the catalogue knows about it.

        Args:
            title: the film's title, optionally with its year to pick among namesakes, e.g. "Heat (1995)".

        Returns:
            JSON text: {"film": {"item_id", "title", "year", "genres", "directors", "cast", "tags"}, "others": [films of the
            same title]}; an error naming close titles when the catalogue has no such film.
        """
        return as_json(as_app_error(film_facts)(services, title))

    def search(query: str, k: int = 10, genres: str = "", year_from: int = 0, year_to: int = 0) -> str:
        """Search the film catalogue by words of a title, a person, a plot or a mood.

        Args:
            query: what to look for, e.g. "heist thriller in Los Angeles" or "Tom Hanks".
            k: how many films, 1-20.
            genres: optional, comma-separated genres a film must have one of.
            year_from: optional earliest release year (0: no bound).
            year_to: optional latest release year (0: no bound).

        Returns:
            JSON text: {"items": [{"item_id", "title", "year", "genres", "directors", "cast", "tags", "score"}]}, best first.
        """
        return as_json(as_app_error(search_catalogue)(services, query, k, genres, year_from, year_to))

    # the function names are the tool names Gradio gives (off a Space)
    recommend.__name__, facts.__name__, search.__name__ = MCP_TOOLS
    gr.api(recommend, api_name="recommend_films", concurrency_id="turn")
    gr.api(facts, api_name="film_facts", queue=False)  # cheap look-ups: Gradio's MCP calls them directly
    gr.api(search, api_name="search_catalogue", queue=False)


@contextlib.asynccontextmanager
async def only_agent_tools(app: Any) -> AsyncIterator[None]:
    """A lifespan for the app Gradio creates: its MCP server lists and calls :data:`MCP_TOOLS` only."""
    server = getattr(app.get_blocks(), "mcp_server_obj", None)
    if server is not None:
        keep = {f"/{name}" for name in MCP_TOOLS}
        server.tool_to_endpoint = {tool: ep for tool, ep in server.tool_to_endpoint.items() if ep in keep}
    yield
