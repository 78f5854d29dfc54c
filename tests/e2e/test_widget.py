"""The widget in a real browser (Debian's Chromium) against a real server process."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from functools import partial

import pytest
from playwright.sync_api import expect

from tests.mediagen import error_dialog, png_bytes

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors  # no script errors on the page


def widget(page):
    return page.locator("support-chat")


def open_chat(page, url):
    page.goto(url)
    widget(page).locator(".launcher").click()
    expect(widget(page).locator(".panel")).to_be_visible()


def ask(page, text):
    box = widget(page).locator("textarea")
    box.fill(text)
    box.press("Enter")


def bot_answers(page):
    return widget(page).locator(".msg.bot[data-id]")


def test_a_question_gets_a_streamed_cited_answer(server, stub, page):
    stub.script(tokens_per_second=30)
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    expect(widget(page).locator(".msg.bot.draft")).to_have_count(1)  # streaming
    answer = bot_answers(page).last
    expect(answer.locator(".sources li")).not_to_have_count(0, timeout=30_000)
    expect(answer.locator("a.cite").first).to_have_text("[1]")
    expect(answer.locator(".rate button")).to_have_count(2)
    assert "refund" in answer.locator(".sources").inner_text().lower()
    answer.locator(".rate button").first.click()
    expect(answer.locator(".rate button").first).to_have_attribute("aria-pressed", "true")
    expect(widget(page).locator(".msg.customer")).to_have_count(1)


def test_the_host_pages_css_does_not_reach_the_widget(server, page):
    open_chat(page, server.url)
    send = widget(page).locator("button.send")
    colour = send.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(31, 95, 191)"  # not the host page's hotpink !important


def test_a_screenshot_is_uploaded_read_and_answered(server, page, tmp_path):
    shot = tmp_path / "error.png"
    error_dialog("Sync failed", ["Error E-2041: Your notes could not be synced."]).save(shot)
    open_chat(page, server.url)
    widget(page).locator("input[type=file]").set_input_files(str(shot))
    chip = widget(page).locator(".chip")
    expect(chip.locator("img")).to_be_visible()
    expect(chip.locator("progress")).to_have_count(0, timeout=20_000)  # uploaded
    widget(page).locator("button.send").click()
    mine = widget(page).locator(".msg.customer[data-id]")
    expect(mine.locator(".attachment")).to_contain_text("E-2041", timeout=30_000)
    answer = bot_answers(page).last
    expect(answer.locator(".sources")).to_contain_text("E-2041", timeout=30_000)


def test_a_recorded_voice_note_is_transcribed_and_answered(server, page):
    open_chat(page, server.url)
    widget(page).get_by_role("button", name="Record a voice note").click()
    recorder = widget(page).locator(".recorder")
    expect(recorder).to_be_visible()
    page.wait_for_timeout(5500)  # the fake microphone speaks the question
    recorder.get_by_role("button", name="Stop and attach").click()
    expect(widget(page).locator(".chip")).to_contain_text("Voice note")
    widget(page).locator("button.send").click()  # sent as soon as the upload is done
    mine = widget(page).locator(".msg.customer[data-id]")
    expect(mine.locator(".attachment")).to_contain_text("password", timeout=30_000)
    expect(bot_answers(page).last.locator(".sources li")).not_to_have_count(0, timeout=30_000)


def test_reloading_mid_answer_keeps_the_conversation_intact(server, stub, page):
    stub.script(
        replies=[{"text": "Yearly plans can be refunded within 30 days of purchase. " * 3 + "[1]"}],
        tokens_per_second=15,
    )
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    expect(widget(page).locator(".msg.bot.draft")).to_have_count(1, timeout=15_000)
    page.reload()
    widget(page).locator(".launcher").click()
    expect(bot_answers(page).locator(".sources")).to_have_count(1, timeout=30_000)
    time.sleep(1)
    expect(widget(page).locator(".msg.customer")).to_have_count(1)
    expect(widget(page).locator(".msg.bot.draft")).to_have_count(0)
    expect(bot_answers(page)).to_have_count(1)


def test_losing_the_connection_while_sending_delivers_exactly_one_copy(server, page):
    """The socket dies right after the message leaves (its ack is lost); the widget
    reconnects and resends from its outbox with the same client_id."""
    state = {"cut": False}

    def route(ws):
        upstream = ws.connect_to_server()

        def from_page(message):
            upstream.send(message)
            if not state["cut"] and json.loads(message).get("type") == "message":
                state["cut"] = True
                ws.close()
                upstream.close()

        ws.on_message(from_page)
        upstream.on_message(lambda message: ws.send(message))

    page.route_web_socket(re.compile(r".*/ws/chat$"), route)
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    expect(bot_answers(page).locator(".sources")).to_have_count(1, timeout=30_000)
    assert state["cut"]
    time.sleep(1)
    expect(widget(page).locator(".msg.customer")).to_have_count(1)
    expect(bot_answers(page)).to_have_count(1)
    stored = page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k))")
    assert all(json.loads(v).get("outbox") == [] for v in stored)


def test_going_offline_shows_it_and_sends_once_back_online(server, page):
    open_chat(page, server.url)
    ask(page, "how do I reset my password?")
    expect(bot_answers(page)).to_have_count(1, timeout=30_000)
    page.context.set_offline(True)
    page.evaluate("dispatchEvent(new Event('offline'))")
    expect(widget(page).locator(".status")).to_contain_text("offline")
    ask(page, REFUND_Q)
    expect(widget(page).locator(".msg.customer.pending")).to_have_count(1)
    page.context.set_offline(False)
    page.evaluate("dispatchEvent(new Event('online'))")
    expect(widget(page).locator(".status")).to_be_hidden(timeout=15_000)
    expect(bot_answers(page)).to_have_count(2, timeout=30_000)
    expect(widget(page).locator(".msg.customer")).to_have_count(2)


def test_talk_to_a_person_shows_the_queued_state(server, page):
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    expect(bot_answers(page)).to_have_count(1, timeout=30_000)
    widget(page).get_by_role("button", name="Talk to a person").click()
    expect(widget(page).locator(".msg.system")).to_contain_text("Waiting for a person")
    expect(widget(page)).to_have_attribute("data-state", "queued")


def test_keyboard_only(server, page):
    page.goto(server.url)
    for _ in range(20):  # Tab through the host page until the launcher has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.tagName") == "SUPPORT-CHAT":
            break
    page.keyboard.press("Enter")
    panel = widget(page).locator(".panel")
    expect(panel).to_be_visible()
    expect(widget(page).locator("textarea")).to_be_focused()
    page.keyboard.type(REFUND_Q)
    page.keyboard.press("Enter")
    expect(bot_answers(page)).to_have_count(1, timeout=30_000)
    # Focus stays inside the open panel however far you tab.
    for _ in range(30):
        page.keyboard.press("Tab")
        inside = widget(page).evaluate(
            "w => w.shadowRoot.querySelector('.panel').contains(w.shadowRoot.activeElement)"
        )
        assert inside
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(widget(page).locator(".launcher")).to_be_focused()


def test_hostile_markup_in_an_answer_renders_inert(server, stub, page):
    stub.script(
        replies=[
            {
                "text": '**Now** try this <img src=x onerror="window.__xss=1"> and '
                "[open settings](javascript:window.__xss=2) then wait while the rest of "
                "this long answer keeps streaming in slowly enough to be looked at [1]"
            }
        ],
        tokens_per_second=12,
    )
    open_chat(page, server.url)
    # Record every element ever added to the widget, not only what is left at the end.
    widget(page).evaluate(
        """w => { window.__added = [];
        new MutationObserver(ms => ms.forEach(m => m.addedNodes.forEach(n => {
          if (n.querySelectorAll) for (const e of [n, ...n.querySelectorAll('*')])
            window.__added.push(e.tagName + ' ' + (e.getAttribute('href') || '')
              + (e.getAttribute('src') || ''));
        }))).observe(w.shadowRoot, {subtree: true, childList: true}); }"""
    )
    ask(page, REFUND_Q)
    draft = widget(page).locator(".msg.bot.draft")
    expect(draft.locator("strong")).to_have_text("Now", timeout=15_000)  # markdown works
    expect(draft).to_contain_text("<img src=x", timeout=15_000)  # shown as text
    expect(draft).to_contain_text("open settings", timeout=15_000)
    added = page.evaluate("window.__added")
    assert not [a for a in added if a.startswith("IMG") and "x" in a.split(" ", 1)[1]]
    assert not [a for a in added if "javascript" in a.lower()]
    assert page.evaluate("window.__xss") is None
    # The gate withdraws the unsupported draft and a person takes over.
    expect(draft).to_have_count(0, timeout=15_000)


class _Site(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def customer_site(server, host_port, tmp_path):
    """A shop on another origin that embeds the widget with one tag and some theming."""
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><html><head><meta charset="utf-8">
        <style>* {{ font-size: 40px !important }}</style></head>
        <body><h1>Shop</h1>
        <script src="{server.url}/widget.js" data-server="{server.url}" data-locale="ar"
          data-title="متجرنا" data-color="#0a7d3b" data-position="left" async></script>
        </body></html>"""
    )
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", host_port), partial(_Site, directory=str(tmp_path))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{host_port}/"
    httpd.shutdown()


def test_one_tag_on_another_origin_with_theming_and_a_right_to_left_locale(
    customer_site, page, tmp_path
):
    open_chat(page, customer_site)
    panel = widget(page).locator(".panel")
    expect(panel).to_have_attribute("dir", "rtl")
    expect(widget(page).locator("h2")).to_have_text("متجرنا")
    assert (
        widget(page).locator("button.send").evaluate("b => getComputedStyle(b).backgroundColor")
        == "rgb(10, 125, 59)"
    )
    ask(page, REFUND_Q)
    expect(bot_answers(page).locator(".sources li")).not_to_have_count(0, timeout=30_000)
    shot = tmp_path / "e.png"
    error_dialog("Payment failed", ["Error E-4010: The card on file has expired."]).save(shot)
    widget(page).locator("input[type=file]").set_input_files(str(shot))  # CORS upload
    expect(widget(page).locator(".chip progress")).to_have_count(0, timeout=20_000)
    expect(widget(page).locator(".chip .error")).to_have_count(0)


def test_unread_badge_counts_answers_that_arrive_while_closed(server, stub, page):
    stub.script(tokens_per_second=10)
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    widget(page).locator(".panel header button").click()  # close before the answer lands
    badge = widget(page).locator(".badge")
    expect(badge).to_have_text("1", timeout=30_000)
    widget(page).locator(".launcher").click()
    expect(badge).to_be_hidden()


def test_a_pasted_and_a_dropped_screenshot_are_both_attached(server, page, tmp_path):
    open_chat(page, server.url)
    data = list(png_bytes(error_dialog("Card expired", ["Error E-4010: The card has expired."])))
    widget(page).evaluate(
        """(w, bytes) => {
        const file = () => new File([new Uint8Array(bytes)], 'shot.png', {type: 'image/png'});
        const root = w.shadowRoot;
        const paste = new DataTransfer(); paste.items.add(file());
        root.querySelector('textarea').dispatchEvent(
          new ClipboardEvent('paste', {clipboardData: paste, bubbles: true}));
        const drop = new DataTransfer(); drop.items.add(file());
        root.querySelector('.panel').dispatchEvent(
          new DragEvent('drop', {dataTransfer: drop, bubbles: true, cancelable: true}));
        }""",
        data,
    )
    chips = widget(page).locator(".chip")
    expect(chips).to_have_count(2)
    widget(page).locator("button.send").click()
    mine = widget(page).locator(".msg.customer[data-id]")
    expect(mine.locator(".attachment")).to_have_count(2, timeout=30_000)
    expect(mine.locator(".attachment").first).to_contain_text("E-4010")


def test_on_a_phone_the_panel_fills_the_screen(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    open_chat(page, server.url)
    box = widget(page).locator(".panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    context.close()


def test_agent_and_closed_states_are_announced(server, page):
    """The staff console (a later issue) sends these; the widget's rendering of them."""
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    expect(bot_answers(page)).to_have_count(1, timeout=30_000)
    for frame in (
        {"type": "state", "seq": 1000, "state": "queued", "position": 3},
        {"type": "state", "seq": 1001, "state": "agent", "agent": {"name": "Dana"}},
        {"type": "typing", "role": "agent"},
    ):
        widget(page).evaluate("(w, f) => w.onFrame(f)", frame)
    notices = widget(page).locator(".msg.system")
    expect(notices.nth(0)).to_contain_text("number 3 in line")
    expect(notices.nth(1)).to_contain_text("Dana joined")
    expect(widget(page).locator(".typing")).to_have_text("The agent is typing…")
    widget(page).evaluate(
        "(w, f) => w.onFrame(f)", {"type": "state", "seq": 1002, "state": "closed"}
    )
    expect(notices.nth(2)).to_contain_text("closed")
    expect(widget(page)).to_have_attribute("data-state", "closed")


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_text_contrast_meets_wcag_aa(server, page):
    open_chat(page, server.url)
    ask(page, REFUND_Q)
    expect(bot_answers(page)).to_have_count(1, timeout=30_000)
    pairs = widget(page).evaluate(
        """w => ['.msg.customer', '.msg.bot', 'header h2', 'button.send', '.human', 'textarea']
          .map(sel => { const e = w.shadowRoot.querySelector(sel); let b = e, bg;
            while (b && (bg = getComputedStyle(b).backgroundColor) === 'rgba(0, 0, 0, 0)')
              b = b.parentElement || b.getRootNode().host;
            return [sel, getComputedStyle(e).color, bg]; })"""
    )
    for selector, fg, bg in pairs:
        light, dark = sorted([_luminance(fg), _luminance(bg)], reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (selector, fg, bg)
