"""After hours, presence, queue positions, the customer's email, CSAT and the report,
through a real server process (outside its business hours) over real sockets."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.client import AgentClient, Customer, queued


@pytest.fixture(scope="module")
def agents(after_hours_server):
    names = [f"ana-{uuid.uuid4().hex[:6]}", f"ben-{uuid.uuid4().hex[:6]}"]
    for name in names:
        after_hours_server.add_agent(name, "correct horse battery")
    return names


async def login(server, name):
    agent = AgentClient(server.url)
    welcome = await agent.login(name, "correct horse battery")
    return agent, welcome


async def queue_of(agent):
    return (await agent.until(lambda f: f["type"] == "queue"))[-1]["conversations"]


async def waiting_customer(server):
    customer = Customer(server.ws_url, origin=server.url)
    await customer.connect()
    await customer.send({"type": "human", "client_id": str(uuid.uuid4())})
    await customer.until(lambda f: f["type"] == "position")
    return customer


def position(customer):
    return [f["position"] for f in customer.frames if f["type"] == "position"][-1]


async def test_after_hours_the_customer_is_told_leaves_an_email_and_rates_the_close(
    after_hours_server, agents
):
    server = after_hours_server
    customer = Customer(server.ws_url, origin=server.url)
    await customer.connect()
    await customer.send({"type": "human", "client_id": "h1"})
    got = await customer.until(lambda f: f["type"] == "position")
    state = next(f for f in got if queued(f))
    assert state["availability"]["status"] == "after_hours"
    assert state["availability"]["next_open"].endswith("09:00:00+00:00")
    said = [f["message"]["text"] for f in got if f["type"] == "message"]
    assert "away right now" in said[-1] and "at 09:00 (UTC)" in said[-1]
    # A malformed email is refused with the reason; the conversation goes on.
    await customer.send({"type": "contact", "client_id": "e0", "email": "not an email"})
    refused = await customer.until(lambda f: f["type"] == "error")
    assert refused[-1]["code"] == "invalid_input" and refused[-1]["client_id"] == "e0"
    await customer.send({"type": "contact", "client_id": "e1", "email": "ana.c@example.com"})
    thanks = await customer.until(lambda f: f["type"] == "message")
    assert "ana.c@example.com" in thanks[-1]["message"]["text"]

    agent, welcome = await login(server, agents[0])
    assert welcome["hours"]["open"] is False and welcome["status"] == "online"
    entry = next(
        q for q in await queue_of(agent) if q["conversation_id"] == customer.conversation_id
    )
    assert entry["email"] == "ana.c@example.com"
    cid = customer.conversation_id
    await agent.send({"type": "take", "conversation_id": cid})
    await agent.until(lambda f: f.get("state") == "agent" and f.get("conversation_id") == cid)
    # Rating before the close is refused.
    await customer.send({"type": "rating", "client_id": "r0", "score": 5})
    early = await customer.until(lambda f: f["type"] == "error")
    assert "closed" in early[-1]["message"]
    await agent.send({"type": "close", "conversation_id": cid})
    closed = (await customer.until(lambda f: f.get("state") == "closed"))[-1]
    assert closed["rate"] is True and closed["agent"]["name"] == agents[0]
    await customer.send({"type": "rating", "client_id": "r9", "score": 9})
    assert (await customer.until(lambda f: f["type"] == "error"))[-1]["code"] == "bad_frame"
    await customer.send({"type": "rating", "client_id": "r1", "score": 4, "comment": "Quick."})
    assert (await customer.until(lambda f: f["type"] == "ack"))[-1]["client_id"] == "r1"
    rating = (await agent.until(lambda f: f["type"] == "rating"))[-1]
    assert rating["rating"]["score"] == 4 and rating["conversation_id"] == cid

    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/agent/report")).status_code == 401
        token = await _token(http, agents[0])
        auth = {"Authorization": f"Bearer {token}"}
        assert (await http.get("/api/agent/report?days=0", headers=auth)).status_code == 422
        report = (await http.get("/api/agent/report?days=1", headers=auth)).json()
    assert report["conversations"] >= 1 and report["resolved_by_agent"] >= 1
    assert "asked_for_human" in {e["reason"] for e in report["escalations_by_reason"]}
    assert report["csat"]["ratings"] >= 1 and report["csat"]["distribution"]["4"] >= 1
    assert any(c["comment"] == "Quick." for c in report["recent_comments"])
    await agent.close()
    await customer.close()


async def _token(http, name):
    answer = await http.post(
        "/api/agent/login", json={"name": name, "password": "correct horse battery"}
    )
    return answer.json()["token"]


async def test_presence_reaches_every_console_and_positions_move_up(after_hours_server, agents):
    server = after_hours_server
    ana, _ = await login(server, agents[0])
    ben, _ = await login(server, agents[1])
    team = (await ana.until(lambda f: f["type"] == "team" and len(_ours(f, agents)) == 2))[-1]
    assert _ours(team, agents) == {agents[0]: "online", agents[1]: "online"}
    await ben.send({"type": "presence", "status": "away"})
    team = await ana.until(
        lambda f: f["type"] == "team" and _ours(f, agents).get(agents[1]) == "away"
    )
    await ben.send({"type": "presence", "status": "asleep"})
    assert (await ben.until(lambda f: f["type"] == "error"))[-1]["code"] == "invalid_input"
    await ben.close()
    await ana.until(lambda f: f["type"] == "team" and agents[1] not in _ours(f, agents))

    # Whatever earlier tests left waiting is taken first, so the places are exact.
    for entry in [f for f in ana.frames if f["type"] == "queue"][-1]["conversations"]:
        left = entry["conversation_id"]
        await ana.send({"type": "take", "conversation_id": left})
        await ana.send({"type": "close", "conversation_id": left})
        await ana.until(
            lambda f, left=left: f.get("state") == "closed" and f.get("conversation_id") == left
        )
    first, second, third = [await waiting_customer(server) for _ in range(3)]
    assert [position(c) for c in (first, second, third)] == [1, 2, 3]
    await ana.send({"type": "take", "conversation_id": first.conversation_id})
    await second.until(lambda f: f["type"] == "position" and f["position"] == 1)
    await third.until(lambda f: f["type"] == "position" and f["position"] == 2)
    for c in (first, second, third):
        await c.close()
    await ana.close()


def _ours(frame, names):
    return {a["name"]: a["status"] for a in frame["agents"] if a["name"] in names}
