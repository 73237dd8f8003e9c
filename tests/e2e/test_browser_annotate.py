"""The Annotate tab in a real browser, keyboard only: Playwright + Debian Chromium against ``python app.py``.

A project of two tasks is seeded in the app's feedback folder (its slates use ids of the default
catalogue, which the feedback store checks). The annotator opens ``/?project=demo`` (the Annotate
tab opens with the project chosen), types a name, presses Enter (the first task opens), Esc, then
J (second card), 4 (rated 4), L (liked), Enter (submitted): the record must be in the feedback
store with that rating and label, and the next task must be open.

Skipped without Chromium, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import gzip
import json
import time

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from ui_support import PROJECT_ROOT, AppProcess

from workbench.feedback import JsonlFeedbackStore
from workbench.projects.service import projects_path
from workbench.projects.store import SQLiteProjectStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def default_catalog_ids(n: int) -> list[tuple[str, str]]:
    with gzip.open(PROJECT_ROOT / "assets" / "catalog.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(n)]
    return [(r["item_id"], r["title"]) for r in rows]


def seed_demo(feedback_dir) -> list[str]:
    items = default_catalog_ids(3)
    store = SQLiteProjectStore(projects_path(feedback_dir))
    rows = [{"id": f"t{i}", "messages": [{"role": "user", "content": f"a film for night {i}?"}], "metadata": {}}
            for i in range(2)]
    store.create_project("demo", "# Judge the slate\nRate what fits the request.", 1, {}, rows)
    answer = {"reply": "Try these.", "generator": "template", "index_id": "test@0", "catalog_hash": "",
              "items": [{"item_id": i, "title": t, "rank": r, "score": 1.0 / r, "sources": {"content": 0.5},
                         "reason": "fits", "year": None, "genres": [], "directors": [], "cast": []}
                        for r, (i, t) in enumerate(items, start=1)]}
    for row in rows:
        store.set_answer("demo", row["id"], answer)
    store.set_state("demo", "ready")
    return [i for i, _ in items]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    _need_chromium()
    tmp = tmp_path_factory.mktemp("browser-annotate")
    ids = seed_demo(tmp / "feedback")
    with AppProcess(tmp / "app.log", generator="template", feedback_dir=str(tmp / "feedback")) as proc:
        proc.wait_until_served()
        yield proc, tmp / "feedback", ids
        print(proc.log_tail())


def test_rate_and_submit_a_task_with_the_keyboard_only(app):
    from playwright.sync_api import sync_playwright

    proc, feedback_dir, ids = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
            page.goto(proc.url + "?project=demo")
            page.wait_for_selector("#wb-ann-annotator textarea", state="visible", timeout=60_000)
            page.wait_for_function(
                "() => (document.querySelector('#wb-ann-progress') || {innerText: ''}).innerText.includes('2 tasks')",
                timeout=30_000)
            page.click("#wb-ann-annotator textarea")
            page.keyboard.type("kb-annotator")
            page.keyboard.press("Enter")
            page.wait_for_selector("#wb-ann-card-1 .wb-title", timeout=30_000)
            first = page.inner_text("#wb-ann-chat")
            assert "a film for night" in first
            for key in ("Escape", "j", "4", "l", "Enter"):
                page.keyboard.press(key)
            deadline = time.monotonic() + 30
            while not (records := list(JsonlFeedbackStore(feedback_dir).read())) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(records) == 1, proc.log_tail()
            (record,) = records
            assert (record.project, record.annotator) == ("demo", "kb-annotator")
            assert [(j.item_id, j.label, j.rating) for j in record.slate] == [
                (ids[0], None, None), (ids[1], "like", 4), (ids[2], None, None)]
            page.wait_for_function(
                "() => document.querySelector('#wb-ann-progress').innerText.includes('you: 1 submitted')",
                timeout=30_000)
        finally:
            browser.close()
