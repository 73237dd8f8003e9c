"""Issue 14 part 1 in a real browser: a card's dislike and its "More like this" button change the next turn.

The same ``python app.py`` (template generator, default catalogue) and Chromium as
tests/e2e/test_browser.py: the user says "I loved Heat", dislikes the first card and presses
"More like this" on the second. The chat shows the turn it asked for, the disliked film is not on
the new slate, and the new reasons name the film it was anchored on.
"""

from __future__ import annotations

import pytest
from test_browser import app, browser, new_page, send  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def card_items(page) -> list[str]:
    return page.locator("#wb-slate-cards .wb-card").evaluate_all("els => els.map(e => e.dataset.itemId)")


def test_dislike_a_card_then_more_like_this_on_another(app, browser):  # noqa: F811
    proc, _ = app
    page, dialogs = new_page(browser, proc.url)
    send(page, "I loved Heat")
    page.wait_for_selector("#wb-card-1 .wb-title", timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=60_000)
    first = card_items(page)
    titles = page.locator("#wb-slate-cards .wb-card .wb-title").all_inner_texts()
    assert len(first) == 5 and page.locator("#wb-more-1").is_visible()

    page.click("#wb-verdict-0 label:has(input[value='dislike'])")
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('1 judgement unsaved')", timeout=30_000)
    page.click("#wb-more-1")
    page.wait_for_function(
        "() => document.querySelector('#wb-slate-header').innerText.includes('turn 2')", timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=60_000)

    assert f"More like {titles[1]}" in page.inner_text("#wb-chat")  # the turn it ran, as if typed
    second = card_items(page)
    assert second and first[0] not in second and first[1] not in second
    reasons = page.locator("#wb-slate-cards .wb-card .wb-reason").all_inner_texts()
    assert any(f"more like {titles[1]}" in r for r in reasons), reasons
    assert dialogs == []
