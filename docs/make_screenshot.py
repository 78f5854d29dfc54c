"""Takes docs/widget.png, the README's screenshot: the demo with the widget open.

Run from the repository root with the venv: ``.venv/bin/python docs/make_screenshot.py``
(starts `supportbot demo` on a free port with the extractive tier; needs /usr/bin/chromium).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.browser import launch  # noqa: E402
from tests.e2e.server import ServerProcess  # noqa: E402
from tests.mediagen import error_dialog  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp)) as server:
        shot = Path(tmp) / "error.png"
        error_dialog("Sync failed", ["Error E-2041: Your notes could not be synced."]).save(shot)
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            page.goto(server.url)
            chat = page.locator("support-chat")
            chat.locator(".launcher").click()
            chat.locator("input[type=file]").set_input_files(str(shot))
            chat.locator(".chip").wait_for()
            chat.locator("textarea").fill("what does this mean?")
            chat.locator("textarea").press("Enter")
            chat.locator(".msg.bot[data-id] .sources").last.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ROOT / "docs" / "widget.png"))
            browser.close()


if __name__ == "__main__":
    main()
