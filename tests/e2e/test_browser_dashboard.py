"""The Dashboard tab in a real browser: Playwright + Debian Chromium against ``python app.py``.

A project of two tasks is seeded and answered by two annotators (liked and disliked items and
replies), so every plot has data. Opening the Dashboard tab must render each of the four plots
(an ``svg`` or ``canvas`` inside it), list the project, and show no error toast.

Skipped without Chromium, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium, toast_texts
from test_browser_annotate import seed_demo
from ui_support import AppProcess

from workbench.feedback import JsonlFeedbackStore
from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLOTS = ("#wb-dash-per-day", "#wb-dash-per-annotator", "#wb-dash-item-like", "#wb-dash-reply-like")


def seed_judgements(feedback_dir) -> None:
    ids = seed_demo(feedback_dir)
    svc = ProjectService(SQLiteProjectStore(projects_path(feedback_dir)), JsonlFeedbackStore(feedback_dir))
    for who, label in (("ann", "like"), ("bob", "dislike")):
        task = svc.next_task("demo", who)
        svc.submit_task("demo", task["task_id"], who, {ids[0]: {"label": label, "rating": 4}}, label)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    _need_chromium()
    tmp = tmp_path_factory.mktemp("browser-dashboard")
    seed_judgements(tmp / "feedback")
    with AppProcess(tmp / "app.log", generator="template", feedback_dir=str(tmp / "feedback")) as proc:
        proc.wait_until_served()
        yield proc
        print(proc.log_tail())


def test_dashboard_tab_renders_every_plot(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
            page.goto(app.url)
            page.get_by_role("tab", name="Dashboard").click(timeout=60_000)
            for plot in PLOTS:
                page.wait_for_selector(f"{plot} svg, {plot} canvas", state="attached", timeout=30_000)
            page.wait_for_function(
                "() => (document.querySelector('#wb-dash-progress') || {innerText: ''}).innerText.includes('Pick')",
                timeout=30_000)
            assert not [t for t in toast_texts(page) if "rror" in t]
        finally:
            browser.close()
