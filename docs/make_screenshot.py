"""Refresh docs/screenshot.png: start ``python app.py``, chat, rate two items, take a picture.

    python docs/make_screenshot.py [--generator auto|template]

Needs Debian's chromium and playwright (the browser test's requirements).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ui_support import AppProcess  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generator", default="auto")
    parser.add_argument("--message", default="I loved Toy Story and Up, something for a family night?")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, AppProcess(
        Path(tmp) / "app.log", generator=args.generator, feedback_dir=str(Path(tmp) / "fb")
    ) as app:
        app.wait_until_served()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(app.url)
            page.wait_for_selector("#wb-message textarea", timeout=60_000)
            if args.generator == "auto":  # let the local LLM finish loading in the background
                page.wait_for_function(
                    "() => !document.body.innerText.includes('loading')", timeout=180_000
                )
            page.fill("#wb-message textarea", args.message)
            page.click("#wb-send")
            page.wait_for_function(
                "() => document.querySelector('#wb-turn-status').innerText.includes('Reply by')",
                timeout=180_000,
            )
            page.click("#wb-verdict-0 label:has(input[value='like'])")
            page.click("#wb-rating-1 label:has(input[value='4'])")
            page.fill("#wb-annotator textarea", "annotator-1")
            page.wait_for_timeout(500)
            out = ROOT / "docs" / "screenshot.png"
            page.screenshot(path=str(out), full_page=True)
            browser.close()
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
