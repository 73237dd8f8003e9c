"""``WORKBENCH_MCP=1``: the app as an MCP server, listed and called with the ``mcp`` client package.

Guards issue 27 part 4: a live server on 127.0.0.1 lists exactly the three agent tools (not the
``gradio_client`` endpoints, not UI events), each with a description and argument help; calling
them returns catalogue films (the recommendation honours its constraints), and a bad argument comes
back as a tool error with our message, not a crash. With the setting off there is no MCP server.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

pytest.importorskip("mcp")

from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402
from ui_support import free_port, make_services  # noqa: E402

from workbench.ui.mcp_tools import MCP_TOOLS  # noqa: E402


def launch(services):
    from workbench.ui import build_demo, serving_options

    demo = build_demo(services)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **serving_options(services.settings, services, demo))
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def mcp_url(tmp_path_factory):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    services = make_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path_factory.mktemp("fb"), mcp=True)
    demo, url = launch(services)
    try:
        yield url + "gradio_api/mcp/"
    finally:
        demo.close()


async def _session(url: str, work):
    async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        return await asyncio.wait_for(work(session), timeout=60)


def run(url: str, work):
    return asyncio.run(_session(url, work))


def payload(result) -> dict:
    assert not result.isError, result.content
    return json.loads(result.content[0].text)


def test_lists_exactly_the_agent_tools_with_descriptions(mcp_url):
    tools = run(mcp_url, lambda s: s.list_tools()).tools
    assert sorted(t.name for t in tools) == sorted(MCP_TOOLS)
    by_name = {t.name: t for t in tools}
    assert "Recommend films" in by_name["recommend_films"].description
    props = by_name["recommend_films"].inputSchema["properties"]
    assert {"message", "genres", "exclude_genres", "year_from", "year_to", "people", "k"} <= set(props)
    assert "comma-separated" in props["genres"]["description"]
    assert by_name["film_facts"].inputSchema["required"] == ["title"]


def test_calls_return_catalogue_films(mcp_url):
    async def work(session):
        rec = await session.call_tool("recommend_films", {"message": "a thriller like Heat", "genres": "Thriller",
                                                          "year_from": 1990, "k": 3})
        facts = await session.call_tool("film_facts", {"title": "Heat (1986)"})
        found = await session.call_tool("search_catalogue", {"query": "jedi", "k": 2})
        return payload(rec), payload(facts), payload(found)

    rec, facts, found = run(mcp_url, work)
    assert rec["reply"] and rec["items"]
    assert all("Thriller" in i["genres"] and i["year"] >= 1990 for i in rec["items"])  # the constraints held
    assert (facts["film"]["item_id"], facts["film"]["directors"]) == ("4", ["Dick Richards"])
    assert [o["item_id"] for o in facts["others"]] == ["3"]  # the namesake
    assert {i["title"] for i in found["items"]} <= {"Star Wars", "Return of the Jedi"} and found["items"]


def test_bad_arguments_are_tool_errors_with_our_message(mcp_url):
    async def work(session):
        return (await session.call_tool("film_facts", {"title": "No Such Film"}),
                await session.call_tool("recommend_films", {"message": "x", "year_from": 2000, "year_to": 1990}))

    missing, backwards = run(mcp_url, work)
    assert missing.isError and "no film called 'No Such Film'" in missing.content[0].text
    assert backwards.isError and "year_from 2000 is after year_to 1990" in backwards.content[0].text


def test_no_mcp_server_unless_the_setting_is_on(tmp_path):
    from conftest import TINY_ITEMS

    from workbench.catalog import Catalog

    demo, url = launch(make_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path / "fb"))
    try:
        assert httpx.get(url + "gradio_api/mcp/schema").status_code == 404
    finally:
        demo.close()
