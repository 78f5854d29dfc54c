"""``/ws/chat`` against a real server process, with real WebSocket and HTTP clients."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest
import websockets

from tests.e2e.client import Customer, bot_message, queued

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


async def test_a_conversation_streams_a_cited_answer(server, stub):
    stub.script(tokens_per_second=40)  # pieces come over ~0.5 s: several delta frames
    customer = Customer(server.ws_url)
    welcome = await customer.connect()
    assert welcome["state"] == "bot" and welcome["last_seq"] == 0 and welcome["token"]
    client_id = await customer.say(REFUND_Q)
    got = await customer.until(bot_message)
    ack = next(f for f in got if f["type"] == "ack")
    assert ack["client_id"] == client_id and ack["seq"] == 1
    deltas = [f for f in got if f["type"] == "delta"]
    answer = got[-1]["message"]
    assert len(deltas) > 2 and "".join(d["text"] for d in deltas) == answer["text"]
    assert answer["tier"] == "mini" and answer["text"].endswith("[1]")
    assert answer["citations"][0]["source"] and answer["citations"][0]["title"]
    # The stub (our mini) saw the question and the numbered passages.
    request = stub.history()[-1]
    assert REFUND_Q in request["messages"][-1]["content"] and request["stream"] is True
    await customer.close()


async def test_dropping_mid_answer_and_resuming_sees_every_event_exactly_once(server, stub):
    stub.script(
        replies=[{"text": "Yearly plans can be refunded within 30 days of purchase. " * 4 + "[1]"}],
        tokens_per_second=40,
    )
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.say(REFUND_Q)
    await customer.until(lambda f: f["type"] == "delta")  # the answer is streaming…
    await customer.close()  # …and the connection drops
    seen_before = customer.last_seq
    await asyncio.sleep(1.5)  # the answer finishes while nobody is connected
    welcome = await customer.connect()
    assert welcome["last_seq"] >= 2
    replayed = await customer.until(bot_message)
    assert all(f.get("seq", 10**9) > seen_before for f in replayed if "seq" in f)
    seqs = [f["seq"] for f in customer.frames if "seq" in f and f["type"] != "ack"]
    assert sorted(seqs) == list(range(1, max(seqs) + 1))
    assert Counter(seqs).most_common(1)[0][1] == 1  # exactly once
    await customer.close()


async def test_resending_a_message_never_duplicates_it(server):
    customer = Customer(server.ws_url)
    await customer.connect()
    client_id = await customer.say(REFUND_Q)
    first = (await customer.until(lambda f: f["type"] == "ack"))[-1]
    await customer.until(bot_message)
    await customer.close()
    await customer.connect()  # e.g. the widget's outbox resends after a reconnect
    await customer.say(REFUND_Q, client_id=client_id)
    again = (await customer.until(lambda f: f["type"] == "ack"))[-1]
    assert (again["message_id"], again["seq"]) == (first["message_id"], first["seq"])
    with pytest.raises(TimeoutError):
        await customer.recv(timeout=1.5)  # no second message, no second answer
    fresh = Customer(server.ws_url)
    fresh.conversation_id, fresh.token = customer.conversation_id, customer.token
    await fresh.connect()  # a full replay from seq 0
    history = await fresh.until(bot_message)
    customers = [
        f for f in history if f["type"] == "message" and f["message"]["role"] == "customer"
    ]
    assert len(customers) == 1
    await customer.close()
    await fresh.close()


async def test_an_off_topic_question_escalates_with_reason_and_state(server):
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.say("what's the weather going to be like in Berlin tomorrow?")
    got = await customer.until(queued)
    assert got[-1]["reason"] == "low_confidence"
    notice = next(f for f in got if bot_message(f))
    assert "rather not guess" in notice["message"]["text"] and notice["message"]["tier"] == "human"
    await customer.close()
    # A reconnect is told the conversation is queued.
    assert (await customer.connect())["state"] == "queued"
    await customer.close()


async def test_the_human_frame_hands_over(server):
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.send({"type": "human", "client_id": "h1"})
    got = await customer.until(lambda f: f["type"] == "position")
    if not any(f["type"] == "ack" for f in got):  # it may pass the bus's frames, or not
        got += await customer.until(lambda f: f["type"] == "ack")
    assert [f["client_id"] for f in got if f["type"] == "ack"] == ["h1"]
    (state,) = [f for f in got if queued(f)]
    assert state["reason"] == "asked_for_human"
    # The customer is told whether someone can answer now (no console is open on this
    # server unless a console test left one), and sees their place in the queue.
    said = [f["message"]["text"] for f in got if f["type"] == "message"]
    if state["availability"]["status"] == "nobody_online":
        assert "Nobody from our support team is online" in said[-1]
    else:
        assert state["availability"]["status"] == "open" and "online" not in said[-1]
    await customer.close()


async def test_bad_frames_get_errors_and_the_conversation_goes_on(server):
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.ws.send("{not json")
    assert (await customer.recv())["code"] == "bad_json"
    await customer.send({"type": "message", "client_id": "big", "text": "x" * 5000})
    error = await customer.recv()
    assert error["code"] == "invalid_input" and "limit is 4000" in error["message"]
    assert error["client_id"] == "big"
    # An oversized frame ends the connection (1009); the conversation goes on after a resume.
    await customer.ws.send(json.dumps({"type": "message", "client_id": "h", "text": "y" * 70_000}))
    assert "64 KiB" in (await customer.recv())["message"]
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await customer.recv()
    assert closed.value.rcvd.code == 1009
    await customer.connect()
    await customer.send({"type": "feedback", "message_id": "nope", "rating": "up"})
    assert (await customer.recv())["code"] == "invalid_input"
    await customer.send({"type": "message", "client_id": "a", "attachments": [{"upload_id": "u"}]})
    refused = await customer.recv()
    assert refused["code"] == "invalid_input"
    assert "no upload u in this conversation" in refused["message"]
    await customer.say(REFUND_Q)
    assert (await customer.until(bot_message))[-1]["message"]["tier"] == "mini"
    await customer.close()


async def test_a_wrong_token_is_refused_and_the_socket_closed(server):
    customer = Customer(server.ws_url)
    await customer.connect()
    conversation_id = customer.conversation_id
    await customer.close()
    ws = await websockets.connect(server.ws_url)
    await ws.send(json.dumps({"type": "hello", "conversation_id": conversation_id, "token": "x"}))
    error = json.loads(await ws.recv())
    assert error["type"] == "error" and error["code"] == "unauthorized"
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd.code == 1008


async def test_the_first_frame_must_be_hello(server):
    ws = await websockets.connect(server.ws_url)
    await ws.send(json.dumps({"type": "message", "client_id": "c", "text": "hi"}))
    assert json.loads(await ws.recv())["code"] == "hello_required"
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()


async def test_foreign_origins_are_refused_at_the_handshake(server):
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(server.ws_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    allowed = Customer(server.ws_url, origin="https://shop.example.com")
    await allowed.connect()
    await allowed.close()
    own = Customer(server.ws_url, origin=server.url)
    await own.connect()
    await own.close()


def test_health_readiness_metrics_and_the_demo_page(server):
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz").json()
    checks = ready["checks"]
    assert ready["ready"] and checks.pop("perception") in ("loading", "ok")
    assert checks == {"store": "ok", "bus": "ok", "knowledge": "ok"}
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and 'src="/widget.js"' in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    bundle = httpx.get(f"{server.url}/widget.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in bundle.text  # model output is never rendered as HTML


async def test_metrics_count_turns_escalations_stages_and_tokens(server):
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.say(REFUND_Q)
    await customer.until(bot_message)
    await customer.close()
    await asyncio.sleep(0.3)
    text = httpx.get(f"{server.url}/metrics").text
    assert 'supportbot_turns_total{outcome="answered",tier="mini"}' in text
    assert 'supportbot_stage_seconds_count{stage="retrieve"}' in text
    tokens = [
        line
        for line in text.splitlines()
        if line.startswith('supportbot_tokens_total{direction="out",tier="mini"}')
    ]
    assert tokens and float(tokens[0].split()[-1]) > 0


async def test_the_agent_socket_takes_only_agent_tokens_from_the_servers_own_origin(server):
    async with httpx.AsyncClient() as http:
        wrong = await http.post(
            f"{server.url}/api/agent/login", json={"name": "nobody", "password": "nothing"}
        )
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    agent_url = server.ws_url.replace("/ws/chat", "/ws/agent")
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        await websockets.connect(agent_url, origin="https://shop.example.com")  # allowed for chat
    assert refused.value.response.status_code == 403
    customer = Customer(server.ws_url)
    await customer.connect()
    async with websockets.connect(agent_url, origin=server.url) as ws:
        await ws.send(json.dumps({"type": "hello", "token": customer.token}))
        assert json.loads(await ws.recv())["code"] == "unauthorized"
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await ws.recv()
    await customer.close()
