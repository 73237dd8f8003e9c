"""The Arena tab in a real browser (Playwright + Debian Chromium): send one message, see both replies
labelled only A and B (no system name on the page), vote, and see the names revealed.

Skipped without Chromium, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import pytest
from arena_support import arena_services
from test_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from ui_support import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_vote_once_and_see_the_names(tmp_path):
    from conftest import TINY_ITEMS
    from playwright.sync_api import sync_playwright

    from workbench.catalog import Catalog
    from workbench.ui import build_demo

    _need_chromium()
    services = arena_services(Catalog(TINY_ITEMS, source="tiny"), tmp_path / "feedback")
    with serve(build_demo(services)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
            page.goto(url)
            page.get_by_role("tab", name="Arena").click()
            page.fill("#wb-arena-name textarea, #wb-arena-name input", "alice")
            page.fill("#wb-arena-message textarea, #wb-arena-message input", "I loved Toy Story, something funny?")
            page.click("#wb-arena-send")
            page.wait_for_selector("#wb-arena-slate-a .wb-card", timeout=60_000)
            page.wait_for_selector("#wb-arena-slate-b .wb-card", timeout=60_000)
            page.wait_for_function("!document.querySelector('#wb-arena-vote-b').disabled", timeout=30_000)
            tab = page.locator("#wb-arena-tab").inner_text()
            assert "default" not in tab.lower() and "baseline" not in tab.lower()  # blind before the vote
            assert page.locator("#wb-arena-reveal").inner_text().strip() == ""
            # regression: vote-button updates built while wiring were rendered as stray "Run" buttons
            assert page.get_by_role("button", name="Run").count() == 0
            page.click("#wb-arena-vote-b")
            page.wait_for_function(
                "document.querySelector('#wb-arena-reveal').innerText.includes('was')", timeout=30_000)
            reveal = page.locator("#wb-arena-reveal").inner_text()
            assert "default" in reveal and "baseline" in reveal
            page.wait_for_function(
                "document.querySelector('#wb-arena-leaderboard').innerText.includes('baseline')", timeout=30_000)
        finally:
            browser.close()
    records = [r for r in services.store.read().records if r.arena_pair]
    assert len(records) == 2 and {r.arena_vote for r in records} == {"b"} and {r.annotator for r in records} == {
        "alice"}
