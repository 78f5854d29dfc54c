"""Hostile frames on both sockets, against a real server process (issue 19's frame
items): text that cannot be stored, frames nested too deep, floods of garbage, and
agent frames of the wrong shape. Each must get a clear error frame; a socket is only
closed when the limits say so, and a customer's later messages still go through."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from typing import Any

import pytest
import websockets

from tests.e2e.client import AgentClient, Customer, queued
from tests.e2e.server import ServerProcess

AGENT, PASSWORD = "Fran", "frames-password"
LONE_SURROGATE = '{"type":"message","client_id":"s1","text":"\\ud800 hi"}'
DEEP = "[" * 20_000


@pytest.fixture(scope="module")
def tight(tmp_path_factory, stub):
    env = {
        "SUPPORTBOT_MINI": "openai:stub-mini",
        "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
        "SUPPORTBOT_LARGE": "none",
        "SUPPORTBOT_MODEL_RETRIES": "0",
        "SUPPORTBOT_MESSAGES_PER_MINUTE": "30",  # frames: a burst of 75, then 5 a second
    }
    with ServerProcess(tmp_path_factory.mktemp("frames"), env) as process:
        process.add_agent(AGENT, PASSWORD)
        yield process


async def _closed(socket: Any, timeout: float = 15.0) -> tuple[list[dict[str, Any]], int]:
    """Every frame until the server closes ``socket`` (a websockets connection), and the code."""
    got: list[dict[str, Any]] = []
    try:
        while True:
            got.append(json.loads(await asyncio.wait_for(socket.recv(), timeout)))
    except websockets.ConnectionClosed as closed:
        return got, closed.rcvd.code if closed.rcvd else 1006


async def _quiet(socket: Any, seconds: float) -> list[dict[str, Any]]:
    """What arrives on ``socket`` within ``seconds``."""
    got: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                got.append(json.loads(await socket.recv()))
    return got


async def test_text_that_cannot_be_stored_is_refused_and_the_conversation_goes_on(tight):
    customer = Customer(tight.ws_url)
    await customer.connect()
    await customer.ws.send(LONE_SURROGATE)
    refused = await customer.recv(10)
    assert refused["type"] == "error" and refused["code"] == "invalid_input", refused
    assert refused["client_id"] == "s1" and "text" in refused["message"]
    client_id = await customer.say("a normal message after a refused one")
    got = await customer.until(lambda f: f["type"] == "ack", timeout=15)
    assert got[-1]["client_id"] == client_id
    # Other string fields too: a visitor field of a hello, a rating's comment.
    await customer.ws.send('{"type":"rating","client_id":"r1","score":3,"comment":"\\udfff"}')
    refused = await customer.until(lambda f: f["type"] == "error", timeout=10)
    assert refused[-1]["code"] == "invalid_input" and refused[-1]["client_id"] == "r1"
    await customer.close()
    socket = await websockets.connect(tight.ws_url)
    await socket.send('{"type":"hello","visitor":{"name":"\\ud83d"}}')
    got, code = await _closed(socket)
    assert [f["code"] for f in got] == ["invalid_input"] and code == 1008


async def test_frames_nested_too_deep_get_bad_json_and_the_socket_stays(tight):
    customer = Customer(tight.ws_url)
    await customer.connect()
    await customer.ws.send(DEEP)
    refused = await customer.recv(10)
    assert refused["code"] == "bad_json" and "32" in refused["message"], refused
    client_id = await customer.say("still here")
    got = await customer.until(lambda f: f["type"] == "ack", timeout=15)
    assert got[-1]["client_id"] == client_id
    await customer.close()
    # As the first frame: an error frame and a clean close.
    socket = await websockets.connect(tight.ws_url)
    await socket.send(DEEP)
    got, code = await _closed(socket)
    assert [f["code"] for f in got] == ["bad_json"] and code == 1008


async def test_a_flood_of_garbage_frames_is_rate_limited_then_closed(tight):
    customer = Customer(tight.ws_url)
    await customer.connect()
    garbage = ["{not json", '{"type":"launch"}', b"\x00binary", DEEP[:100]]
    with contextlib.suppress(websockets.ConnectionClosed):  # cut off mid-flood
        for i in range(2_000):
            await customer.ws.send(garbage[i % len(garbage)])
    got, code = await _closed(customer.ws)
    codes = [f.get("code") for f in got]
    print(f"2,000 garbage frames: {len(got)} answered, then closed {code}")
    assert "rate_limited" in codes and codes[-1] == "too_many_requests"
    assert code == 4429 and len(got) < 200


async def _agent_with_a_conversation(tight: ServerProcess) -> tuple[AgentClient, Customer, str]:
    customer = Customer(tight.ws_url)
    await customer.connect()
    await customer.send({"type": "human", "client_id": str(uuid.uuid4())})
    await customer.until(queued, timeout=15)
    agent = AgentClient(tight.url)
    await agent.login(AGENT, PASSWORD)
    cid = customer.conversation_id
    assert cid is not None
    await agent.send({"type": "take", "conversation_id": cid})
    await agent.until(lambda f: f["type"] == "state" and f.get("state") == "agent", timeout=15)
    await customer.until(lambda f: f["type"] == "state" and f["state"] == "agent", timeout=15)
    return agent, customer, cid


async def test_an_agent_frame_of_the_wrong_shape_is_refused_and_reaches_nobody(tight):
    agent, customer, cid = await _agent_with_a_conversation(tight)
    await agent.send({"type": "reply", "conversation_id": cid, "client_id": "x1", "text": {"a": 1}})
    refused = await agent.until(lambda f: f["type"] == "error", timeout=10)
    assert refused[-1]["code"] == "bad_frame" and "text" in refused[-1]["message"]
    assert refused[-1]["client_id"] == "x1"
    assert await _quiet(customer.ws, 1.5) == []  # the customer received nothing
    # json.dumps writes a lone surrogate as the escape \\ud800, as a browser's JSON does.
    await agent.send({"type": "reply", "conversation_id": cid, "client_id": "x2", "text": "\ud800"})
    refused = await agent.until(lambda f: f["type"] == "error", timeout=10)
    assert refused[-1]["code"] == "invalid_input" and refused[-1]["client_id"] == "x2"
    await agent.ws.send(DEEP)  # too deep: the agent's socket stays too
    refused = await agent.until(lambda f: f["type"] == "error", timeout=10)
    assert refused[-1]["code"] == "bad_json"
    # The socket is kept: a proper reply goes through.
    await agent.send({"type": "reply", "conversation_id": cid, "client_id": "x3", "text": "Hi!"})
    await agent.until(lambda f: f["type"] == "ack" and f["client_id"] == "x3", timeout=10)
    got = await customer.until(lambda f: f["type"] == "message", timeout=10)
    assert got[-1]["message"]["text"] == "Hi!"
    await asyncio.gather(agent.close(), customer.close())


@pytest.mark.parametrize("hello", ["not json", DEEP, '{"type":"hello","token":"\\ud800"}'])
async def test_a_bad_agent_hello_gets_an_error_frame_before_the_close(tight, hello):
    origin = tight.url
    socket = await websockets.connect(tight.url.replace("http", "ws") + "/ws/agent", origin=origin)
    await socket.send(hello)
    got, code = await _closed(socket)
    assert len(got) == 1 and got[0]["type"] == "error", got
    assert got[0]["code"] in {"unauthorized", "bad_json", "invalid_input"} and got[0]["message"]
    assert code == 1008


async def test_an_agent_socket_that_never_says_hello_is_told_before_the_close(tight):
    socket = await websockets.connect(
        tight.url.replace("http", "ws") + "/ws/agent", origin=tight.url
    )
    # Before: closed after the hello timeout (10 s) without a word.
    got, code = await _closed(socket)
    assert [f["code"] for f in got] == ["hello_required"] and code == 1008


async def test_a_flood_on_the_agent_socket_is_rate_limited_then_closed(tight):
    agent = AgentClient(tight.url)
    await agent.login(AGENT, PASSWORD)
    with contextlib.suppress(websockets.ConnectionClosed):
        for _ in range(2_000):
            await agent.ws.send("{not json")
    got, code = await _closed(agent.ws)
    errors = [f.get("code") for f in got if f["type"] == "error"]
    print(f"2,000 garbage agent frames: {len(errors)} answered, then closed {code}")
    assert "rate_limited" in errors and errors[-1] == "too_many_requests"
    assert code == 4429 and len(errors) < 400


# Browser tests last: the module's browser fixture holds this thread's event loop.
def _widget_page(browser, url, route=None):
    context = browser.new_context()
    page = context.new_page()
    if route is not None:
        page.route_web_socket(re.compile(r".*/ws/chat$"), route)
    sockets: list[str] = []
    errors: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    chat = page.locator("support-chat")
    chat.locator(".launcher").click()
    return context, page, chat, sockets, errors


def _type(chat, text):
    chat.locator("textarea").fill(text)
    chat.locator("textarea").press("Enter")


def _outbox(page):
    stored = page.evaluate("Object.values(localStorage)")
    return [f for v in stored for f in json.loads(v).get("outbox", [])]


def test_the_widget_marks_a_refused_message_not_sent_and_delivers_later_ones(tight, browser):
    """A lone surrogate in the customer's text, sent through the widget's own box: refused
    by the server (invalid_input), shown as not sent, never resent; the socket stays."""
    from playwright.sync_api import expect

    context, page, chat, sockets, errors = _widget_page(browser, tight.url)
    stored = chat.locator(".msg.customer[data-id]")
    _type(chat, "first, a normal message")
    expect(stored).to_have_count(1, timeout=15_000)
    chat.locator("textarea").evaluate("t => { t.value = 'broken \\ud800 text'; }")
    chat.locator("textarea").press("Enter")
    failed = chat.locator(".msg.customer.failed")
    expect(failed).to_have_count(1, timeout=10_000)
    expect(failed).to_contain_text("Not sent")
    # Among the system lines (the first message's hand-over notice may come after it).
    expect(chat.locator(".msg.system", has_text="not valid Unicode")).to_have_count(1)
    _type(chat, "and a normal one after it")
    expect(stored).to_have_count(2, timeout=15_000)
    expect(stored.last).to_have_text("and a normal one after it")
    page.wait_for_timeout(3000)
    assert len(sockets) == 1, sockets  # no reconnection, let alone a loop
    assert _outbox(page) == []
    assert errors == []
    context.close()


def test_the_widget_gives_up_a_frame_the_server_never_answers(tight, browser):
    """A server that drops the connection on one frame (as this one did on a lone
    surrogate): the widget resends it a few times, then marks it not sent and goes on."""
    from playwright.sync_api import expect

    dropped: list[str] = []

    def route(ws):
        upstream = ws.connect_to_server()

        def from_page(message):
            if "poison" in str(message):
                dropped.append(message)
                ws.close(code=1013)
                upstream.close()
                return
            upstream.send(message)

        ws.on_message(from_page)
        upstream.on_message(lambda message: ws.send(message))

    context, page, chat, sockets, errors = _widget_page(browser, tight.url, route)
    _type(chat, "poison")
    failed = chat.locator(".msg.customer.failed")
    expect(failed).to_have_count(1, timeout=30_000)
    expect(failed).to_contain_text("Not sent")
    # Sent once and resent five times, then given up; five in all when it was typed
    # before the first welcome (its first sending is then already a resend).
    assert len(dropped) in (5, 6), dropped
    given_up = len(dropped)
    _type(chat, "a normal message afterwards")
    expect(chat.locator(".msg.customer[data-id]")).to_have_text(
        ["a normal message afterwards"], timeout=15_000
    )
    page.wait_for_timeout(2000)
    # Never sent again, and one connection per sending plus the one that goes on.
    assert len(dropped) == given_up and len(sockets) == given_up + 1, (len(dropped), sockets)
    assert _outbox(page) == []
    assert errors == []
    context.close()
