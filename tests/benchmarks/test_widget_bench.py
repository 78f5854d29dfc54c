"""The widget: bundle size, script tag → launcher visible, send → first streamed token.

The first token is compared with the same turn over a raw WebSocket client (the
``websockets`` library) in the same run, against the same server and stub (time to
first token 200 ms), alternating the two; medians are compared.
"""

from __future__ import annotations

import asyncio
import gzip
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import websockets
from playwright.sync_api import sync_playwright

from tests.benchmarks.conftest import report
from tests.e2e.browser import launch
from tests.e2e.server import ServerProcess
from tests.server.test_widget_bundle import BUNDLE
from tests.stubs.openai_stub import StubServer

pytestmark = pytest.mark.bench
ROUNDS = 10
QUESTION = "how long do I have to ask for a refund on a yearly plan?"
TTFT = 0.2

# Inserts the one tag and reports when the launcher has been painted.
LAUNCHER = """async (server) => {
  const t0 = performance.now();
  const s = document.createElement('script');
  s.src = server + '/widget.js?' + Math.random();
  s.dataset.server = server;
  document.body.append(s);
  for (;;) {
    const w = document.querySelector('support-chat');
    const b = w && w.shadowRoot && w.shadowRoot.querySelector('.launcher');
    if (b && b.getBoundingClientRect().width > 0) {
      await new Promise(requestAnimationFrame);
      return performance.now() - t0;
    }
    await new Promise(requestAnimationFrame);
  }
}"""

# Sends a question and reports when the first streamed piece is on screen.
FIRST_TOKEN = """async (question) => {
  const w = document.querySelector('support-chat');
  const root = w.shadowRoot;
  const box = root.querySelector('textarea');
  const seen = root.querySelectorAll('.msg.bot[data-id]').length;
  box.value = question;
  const t0 = performance.now();
  box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
  for (;;) {
    if (root.querySelectorAll('.msg.bot[data-id]').length > seen) return performance.now() - t0;
    await new Promise(r => setTimeout(r, 2));
  }
}"""


async def raw_first_delta(ws_url: str) -> float:
    async with websockets.connect(ws_url) as ws:
        await ws.send('{"type": "hello"}')
        await ws.recv()
        started = time.perf_counter()
        await ws.send(f'{{"type": "message", "client_id": "{uuid.uuid4()}", "text": "{QUESTION}"}}')
        while True:
            frame = await ws.recv()
            if '"delta"' in frame[:20]:
                return time.perf_counter() - started


def raw(ws_url: str) -> float:
    # Playwright's sync API owns this thread's event loop: the raw client gets its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, raw_first_delta(ws_url)).result()


def test_widget_size_launcher_and_first_token(tmp_path):
    size = len(gzip.compress(BUNDLE.read_bytes(), 9))
    with StubServer() as stub:
        env = {
            "SUPPORTBOT_MINI": "openai:stub-mini",
            "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
            "SUPPORTBOT_LARGE": "none",
        }
        stub.script(ttft=TTFT)
        with ServerProcess(tmp_path / "server", env) as server, sync_playwright() as pw:
            browser = launch(pw)
            launcher, widget_ms, raw_ms = [], [], []
            for i in range(ROUNDS):
                context = browser.new_context()
                page = context.new_page()
                page.goto(server.url + "/healthz")  # a same-origin page without the widget
                page.set_content("<!doctype html><html><body><h1>Shop</h1></body></html>")
                launcher.append(page.evaluate(LAUNCHER, server.url))
                page.locator("support-chat .launcher").click()
                page.locator("support-chat textarea").wait_for()
                page.evaluate(FIRST_TOKEN, "warm up " + QUESTION)  # connect + first turn
                time.sleep(0.5)
                for which in ("widget", "raw") if i % 2 == 0 else ("raw", "widget"):
                    if which == "widget":
                        widget_ms.append(page.evaluate(FIRST_TOKEN, QUESTION))
                    else:
                        raw_ms.append(raw(server.ws_url) * 1000)
                    time.sleep(0.5)
                context.close()
            browser.close()
    widget_p50 = statistics.median(widget_ms)
    raw_p50 = statistics.median(raw_ms)
    figures = {
        "bundle_bytes": BUNDLE.stat().st_size,
        "bundle_gzip_bytes": size,
        "budget_gzip_bytes": 30 * 1024,
        "script_tag_to_launcher_p50_ms": round(statistics.median(launcher), 1),
        "script_tag_to_launcher_max_ms": round(max(launcher), 1),
        "widget_first_token_p50_ms": round(widget_p50, 1),
        "raw_websocket_first_delta_p50_ms": round(raw_p50, 1),
        "first_token_ratio": round(widget_p50 / raw_p50, 3),
        "stub_ttft_ms": TTFT * 1000,
        "rounds": ROUNDS,
    }
    report("widget", figures)
    assert size <= 30 * 1024
