"""The Review tab in a real browser: Playwright + Debian Chromium against ``python app.py``.

A project of one task, overlap 2, is seeded with two disagreeing answers (ann likes the first
film and rates it 5, bob dislikes it and rates it 2) and reviewer ``rita``. The reviewer opens the
Review tab, picks the project, types her name, presses **Next disputed task**: both answers must
be shown side by side under their annotators' names. She sets the first film to "dislike", writes
a note and saves: the final answer must be in the project store (source ``review``, with the note)
and her record in the feedback store; the tab then says nothing is left to review.

Skipped without Chromium, except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import time

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from test_browser_annotate import seed_demo
from ui_support import AppProcess

from workbench.feedback import JsonlFeedbackStore
from workbench.projects.review_service import final_for_task, set_reviewers
from workbench.projects.service import ProjectService, projects_path
from workbench.projects.store import SQLiteProjectStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def seed_dispute(feedback_dir) -> list[str]:
    ids = seed_demo(feedback_dir)  # the Annotate browser test's project: "demo", 2 tasks, overlap 1
    store = SQLiteProjectStore(projects_path(feedback_dir))
    rows = [{"id": "t0", "messages": [{"role": "user", "content": "a film for a rainy night?"}], "metadata": {}}]
    store.create_project("disputed", "# Settle the slate", 2, {}, rows)
    store.set_answer("disputed", "t0", store.task("demo", "t0").answer)
    store.set_state("disputed", "ready")
    set_reviewers(store, "disputed", "rita")
    svc = ProjectService(store, JsonlFeedbackStore(feedback_dir))
    for who, label, rating in (("ann", "like", 5), ("bob", "dislike", 2)):
        t = svc.next_task("disputed", who)["task_id"]
        svc.submit_task("disputed", t, who, {ids[0]: {"label": label, "rating": rating}}, label, f"{who} thinks so")
    store.close()
    return ids


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    _need_chromium()
    tmp = tmp_path_factory.mktemp("browser-review")
    ids = seed_dispute(tmp / "feedback")
    with AppProcess(tmp / "app.log", generator="template", feedback_dir=str(tmp / "feedback")) as proc:
        proc.wait_until_served()
        yield proc, tmp / "feedback", ids
        print(proc.log_tail())


def test_a_reviewer_sees_who_said_what_and_sets_the_final_answer(app):
    from playwright.sync_api import sync_playwright

    proc, feedback_dir, ids = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
            page.goto(proc.url)
            page.get_by_role("tab", name="Review").click()
            page.wait_for_selector("#wb-review-reviewer textarea", state="visible", timeout=60_000)
            page.click("#wb-review-project input")
            page.get_by_role("option", name="disputed").click()
            page.click("#wb-review-reviewer textarea")
            page.keyboard.type("rita")
            page.click("#wb-review-next")
            page.wait_for_selector("#wb-review-answers-table", timeout=30_000)
            table = page.inner_text("#wb-review-answers-table")
            assert "ann" in table and "bob" in table and "ann thinks so" in table and "bob thinks so" in table
            assert "👍 5★" in table and "👎 2★" in table
            assert "a film for a rainy night" in page.inner_text("#wb-review-chat")
            page.click("#wb-review-verdict-0 input[value='dislike']")
            page.click("#wb-review-rating-0 input[value='2']")
            page.click("#wb-review-note textarea")
            page.keyboard.type("the request was for a rainy night")
            page.click("#wb-review-save")
            page.wait_for_function(
                "() => (document.querySelector('#wb-review-notice') || {innerText: ''}).innerText"
                ".includes('Nothing left to review')",
                timeout=30_000)
        finally:
            browser.close()
    store = SQLiteProjectStore(projects_path(feedback_dir))
    deadline = time.monotonic() + 10
    while store.final_answer("disputed", "t0") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert final_for_task(store, "disputed", "t0") == {
        "judgements": {ids[0]: {"label": "dislike", "rating": 2}}, "reply_label": "", "source": "review"}
    review = store.final_answer("disputed", "t0")
    assert (review.reviewer, review.note) == ("rita", "the request was for a rainy night")
    (record,) = [r for r in JsonlFeedbackStore(feedback_dir).read() if r.record_id == review.record_id]
    assert (record.annotator, record.comment) == ("rita", "the request was for a rainy night")
