"""A real browser against a real ``python app.py``: Playwright driving Debian's headless Chromium.

The app runs on a free local port with the template generator (fast, deterministic) and a
temporary feedback directory. A user types a message (with an HTML payload), sees a slate,
rates two items, saves, and the records are checked in the feedback store. A second browser
context checks that two users never see each other's conversation.

Without Chromium the tests are skipped with the reason, except under CI (``CI`` set), where
they fail: CI's ``.ci/run`` installs ``chromium``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from ui_support import PROJECT_ROOT, AppProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _need_chromium() -> None:
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright (python) is not installed"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    _need_chromium()
    tmp = tmp_path_factory.mktemp("browser-app")
    with AppProcess(tmp / "app.log", generator="template", feedback_dir=str(tmp / "feedback")) as proc:
        proc.wait_until_served()
        yield proc, tmp / "feedback"
        print(proc.log_tail())


@pytest.fixture(scope="module")
def browser(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def new_page(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(f"{d.type}:{d.message}"), d.dismiss()))
    page.goto(url)
    page.wait_for_selector("#wb-message textarea", timeout=60_000)
    return page, dialogs


def send(page, text: str) -> None:
    page.fill("#wb-message textarea", text)
    page.click("#wb-send")


def toast_texts(page) -> list[str]:
    return page.locator("[data-testid='toast-text']").all_inner_texts()


def test_chat_rate_two_items_save_and_find_them_in_the_store(app, browser):
    proc, feedback_dir = app
    page, dialogs = new_page(browser, proc.url)
    send(page, f"I loved Toy Story and Up, something for a family night? {XSS}")
    page.wait_for_selector("#wb-card-1 .wb-title", timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=60_000
    )
    # the payload is shown as text and never executed
    chat_text = page.inner_text("#wb-chat")
    assert XSS in chat_text
    assert page.locator("#wb-chat img[src='x']").count() == 0
    assert dialogs == []
    titles = page.locator(".wb-card .wb-title").all_inner_texts()
    assert len(titles) == 5

    # saving without a name warns and saves nothing
    page.click("#wb-verdict-0 label:has(input[value='like'])")
    page.click("#wb-rating-1 label:has(input[value='4'])")
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('2 judgements unsaved')", timeout=30_000
    )
    page.click("#wb-save")
    page.wait_for_selector("[data-testid='toast-text']", timeout=30_000)
    assert any("enter your name" in t for t in toast_texts(page))
    from workbench.feedback import JsonlFeedbackStore

    assert len(JsonlFeedbackStore(feedback_dir).read()) == 0

    page.fill("#wb-annotator textarea", "browser-annotator")
    page.click("#wb-save")
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('All saved')", timeout=30_000
    )
    for close in page.locator("[data-testid='toast-close']").all():  # a clean picture
        close.click()
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-app.png"), full_page=True)
    if os.environ.get("CHATREC_UPDATE_SCREENSHOT"):  # refresh the README's picture
        (PROJECT_ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(ARTIFACTS / "browser-app.png", PROJECT_ROOT / "docs" / "screenshot.png")

    again = page.context.new_page()  # the browser remembers who is annotating
    again.goto(proc.url)
    again.wait_for_selector("#wb-annotator textarea", timeout=60_000)
    again.wait_for_function(
        "() => document.querySelector('#wb-annotator textarea').value === 'browser-annotator'", timeout=30_000
    )
    again.close()

    (record,) = JsonlFeedbackStore(feedback_dir).read()
    assert record.annotator == "browser-annotator"
    assert record.user_message.endswith(XSS) and record.turn_index == 0
    judged = [(j.title, j.label, j.rating) for j in record.slate if j.judged]
    assert judged == [(record.slate[0].title, "like", None), (record.slate[1].title, None, 4)]
    assert [j.title.split(" (")[0] for j in record.slate] == titles

    from workbench.catalog import load_catalog
    from workbench.config import Settings

    catalog = load_catalog(Settings().catalog)
    assert all(j.item_id in catalog for j in record.slate)  # items only from the catalogue


def test_two_users_never_see_each_others_turns(app, browser):
    proc, _ = app
    alice, _ = new_page(browser, proc.url)
    bob, _ = new_page(browser, proc.url)
    send(alice, "alice likes crime thrillers like Collateral")
    alice.wait_for_selector("#wb-card-0 .wb-title", timeout=120_000)
    assert "alice likes" not in bob.inner_text("#wb-chat")
    assert bob.locator("#wb-card-0 .wb-title").count() == 0  # bob has no slate yet
    send(bob, "bob wants animated family films like Finding Nemo")
    bob.wait_for_selector("#wb-card-0 .wb-title", timeout=120_000)
    bob.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=60_000
    )
    assert "bob wants" not in alice.inner_text("#wb-chat")
    assert "alice likes" not in bob.inner_text("#wb-chat")
    assert alice.locator(".wb-card .wb-title").all_inner_texts() != bob.locator(".wb-card .wb-title").all_inner_texts()


def test_example_prompt_reply_like_undo_and_new_conversation(app, browser):
    proc, _ = app
    page, dialogs = new_page(browser, proc.url)
    page.click("#wb-chat button[aria-label^='Select example 2']")  # "no horror please, a 90s thriller like Heat"
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=120_000
    )
    assert "90s thriller like Heat" in page.inner_text("#wb-chat")
    page.locator("#wb-chat button[aria-label='Like']").last.click()  # like the reply
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('1 judgement unsaved')", timeout=30_000
    )
    page.click("#wb-undo")  # the message goes back into the box, the turn leaves the chat
    page.wait_for_function(
        "() => document.querySelector('#wb-message textarea').value.includes('thriller like Heat')",
        timeout=30_000,
    )
    page.wait_for_function(
        "() => document.querySelectorAll(\"#wb-chat button[aria-label='Like']\").length === 0", timeout=30_000
    )  # no reply left on screen
    assert "1 judgement unsaved" in page.inner_text("#wb-pending")  # undo never drops a judgement
    page.click("#wb-clear")
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('New conversation')", timeout=30_000
    )
    page.close(run_before_unload=True)  # leaving with an unsaved judgement asks first
    page.wait_for_timeout(1000)
    assert any(d.startswith("beforeunload") for d in dialogs), dialogs


def test_settings_long_message_constraint_chips_and_clearing_a_card(app, browser):
    """Issue 16 in the page. Item 1: opening Settings used to fill the year fields with 0 and make
    every Send fail with a bare "Error"; now a turn still gets a reply and the fields stay empty.
    Item 10: a 5,000-character paste is neither cut nor sent; the counter and a warning say why.
    Item 11: a carried-over constraint is a chip, and removing it says so. Item 12: ✕ clears a choice."""
    proc, _ = app
    page, _ = new_page(browser, proc.url)
    page.click("#wb-settings button, #wb-settings .label-wrap")  # open the settings accordion
    page.wait_for_selector("#wb-year-from input, #wb-year-from textarea", timeout=30_000)
    assert page.locator("#wb-year-from input, #wb-year-from textarea").first.input_value() == ""

    long = "x" * 5000
    page.fill("#wb-message textarea", long)
    page.wait_for_function("() => document.querySelector('#wb-count').innerText.includes('over the')",
                           timeout=30_000)
    page.click("#wb-send")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='toast-text']\")].some(t => t.innerText.includes('limit is 2,000'))",
        timeout=30_000,
    )
    assert page.input_value("#wb-message textarea") == long  # nothing cut, nothing lost

    send(page, "no horror please, a 90s thriller like Heat")
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=120_000
    )
    page.wait_for_selector("#wb-card-0 .wb-title", timeout=60_000)
    assert page.locator(".wb-error, [data-testid='status-tracker'] .error").count() == 0
    assert "Error" not in " ".join(toast_texts(page))
    assert "Rating 1-5" in page.inner_text("#wb-card-0")

    chips = page.inner_text("#wb-constraints")
    assert "1990-1999" in chips and "no horror" in chips
    page.locator("#wb-constraints .token").filter(has_text="1990-1999").locator(".token-remove").click()
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('no longer applies it')", timeout=30_000
    )
    assert "1990-1999" not in page.inner_text("#wb-constraints")

    page.click("#wb-verdict-0 label:has(input[value='like'])")
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('1 judgement unsaved')", timeout=30_000
    )
    page.click("#wb-verdict-clear-0")
    page.wait_for_function(
        "() => !document.querySelector('#wb-pending').innerText.includes('unsaved')", timeout=30_000
    )
    assert page.locator("#wb-verdict-0 input:checked").count() == 0


def test_phone_loads_at_the_header_and_the_slate_scrolls_with_the_page(app, browser):
    """Issue 16 item 13: on a phone the page loaded scrolled to the autofocused input, hiding the
    header, and the slate was a nested scroll box (two and a half cards); the Save bar is sticky,
    and the chat and the slate are switched with a button."""
    proc, _ = app
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(proc.url)
    page.wait_for_selector("#wb-message textarea", timeout=60_000)
    page.wait_for_timeout(1000)
    assert page.evaluate("() => window.scrollY") == 0
    assert page.evaluate("() => document.activeElement?.tagName") != "TEXTAREA"
    assert page.locator("#wb-header h1").is_visible()
    cards = page.evaluate("() => getComputedStyle(document.querySelector('#wb-slate-cards')).overflowY")
    assert cards == "visible"
    assert page.evaluate("() => getComputedStyle(document.querySelector('#wb-feedback-bar')).position") == "sticky"
    # chat and slate are switched, one at a time, on a narrow screen
    assert page.locator("#wb-chat").is_visible() and not page.locator("#wb-slate-header").is_visible()
    page.click("#wb-to-slate")
    page.wait_for_selector("#wb-slate-header", state="visible", timeout=10_000)
    assert not page.locator("#wb-chat").is_visible()
    page.click("#wb-to-chat")
    page.wait_for_selector("#wb-chat", state="visible", timeout=10_000)
    assert not page.locator("#wb-slate-header").is_visible()
    context.close()
    wide, _ = new_page(browser, proc.url)  # side by side on a wide screen: no switch
    assert not wide.locator("#wb-to-slate").is_visible() and wide.locator("#wb-slate-header").is_visible()
    wide.context.close()


def test_reload_keeps_the_conversation_and_closing_the_tab_saves_the_pending_judgement(app, browser):
    """Issue 16 item 6: after a reload the conversation and slate were gone, and an unsaved
    judgement was never written. Now the reload draws the chat, the slate and the unsaved choice
    again, and closing the tab saves it under the name typed (without pressing Save or Send)."""
    import time

    from workbench.feedback import JsonlFeedbackStore

    proc, feedback_dir = app
    before = len(JsonlFeedbackStore(feedback_dir).read())
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(proc.url)
    page.wait_for_selector("#wb-message textarea", timeout=60_000)
    page.fill("#wb-annotator textarea", "")  # this browser context starts with no remembered name
    send(page, "reload test: a comedy like Groundhog Day")
    page.wait_for_selector("#wb-card-0 .wb-title", timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')", timeout=60_000
    )
    first_title = page.inner_text("#wb-card-0 .wb-title")
    page.click("#wb-verdict-0 label:has(input[value='like'])")
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('1 judgement unsaved')", timeout=30_000
    )
    page.reload()
    page.wait_for_selector("#wb-card-0 .wb-title", timeout=60_000)
    assert "a comedy like Groundhog Day" in page.inner_text("#wb-chat")
    assert page.inner_text("#wb-card-0 .wb-title") == first_title
    page.wait_for_function(
        "() => document.querySelector('#wb-pending').innerText.includes('1 judgement unsaved')", timeout=30_000
    )
    assert page.locator("#wb-verdict-0 input[value='like']:checked").count() == 1
    assert len(JsonlFeedbackStore(feedback_dir).read()) == before  # nobody to attribute it to yet

    page.fill("#wb-annotator textarea", "closing-annotator")
    page.wait_for_timeout(1000)  # the name reaches the session on change
    page.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(JsonlFeedbackStore(feedback_dir).read()) == before:
        time.sleep(0.5)
    records = list(JsonlFeedbackStore(feedback_dir).read())
    assert len(records) == before + 1, proc.log_tail()
    (record,) = [r for r in records if r.user_message.startswith("reload test")]
    assert record.annotator == "closing-annotator"
    assert [(j.label, j.rating) for j in record.slate if j.judged] == [("like", None)]
    context.close()


def test_an_ambiguous_title_is_corrected_with_one_click(app, browser):
    """Issue 16 item 8: "I took "Heat" as Heat (1995)" offers the other films called Heat; one click
    on one runs the message again as "Heat (2006)", and the guess and its choices are gone."""
    proc, _ = app
    page, _ = new_page(browser, proc.url)
    send(page, "I loved Heat")
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('I took')", timeout=120_000
    )
    page.wait_for_selector("#wb-readings", state="visible", timeout=30_000)
    page.locator("#wb-readings label").filter(has_text="Heat (2006)").click()
    page.wait_for_function(
        "() => document.querySelector('#wb-chat').innerText.includes('I loved Heat (2006)')", timeout=120_000
    )
    page.wait_for_function(
        "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')"
        " && !document.querySelector('#wb-turn-status').innerText.includes('I took')", timeout=60_000
    )
    page.wait_for_selector("#wb-readings", state="hidden", timeout=30_000)
    assert page.inner_text("#wb-chat").count("I loved Heat") == 1  # replaced, not added
    page.context.close()
