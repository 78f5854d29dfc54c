"""Two server replicas sharing PostgreSQL and Redis: one conversation seen live on both."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from tests.conftest import REDIS_URL, fresh_postgres_database
from tests.e2e.client import AgentClient, Customer, bot_message, queued
from tests.e2e.server import ServerProcess

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, stub):
    with fresh_postgres_database() as database, contextlib.ExitStack() as stack:
        env = {
            "SUPPORTBOT_DATABASE_URL": database,
            "SUPPORTBOT_REDIS_URL": REDIS_URL,
            "SUPPORTBOT_MINI": "openai:stub-mini",
            "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
            "SUPPORTBOT_LARGE": "none",
        }
        servers = [
            stack.enter_context(ServerProcess(tmp_path_factory.mktemp(f"replica{i}"), env))
            for i in range(2)
        ]
        yield servers


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_customer_on_one_replica_is_seen_live_on_the_other(replicas):
    a, b = replicas
    on_a = Customer(a.ws_url)
    await on_a.connect()
    on_b = Customer(b.ws_url)
    on_b.conversation_id, on_b.token = on_a.conversation_id, on_a.token
    await on_b.connect()  # e.g. the same customer in a second tab, or an agent later
    await on_a.say(REFUND_Q)
    seen_on_b = await on_b.until(bot_message)
    kinds = [f["type"] for f in seen_on_b]
    assert "delta" in kinds  # streamed live across replicas, not only replayed
    assert seen_on_b[0]["type"] == "message" and seen_on_b[0]["message"]["text"] == REFUND_Q
    answer_a = (await on_a.until(bot_message))[-1]
    assert answer_a == seen_on_b[-1]
    await on_a.close()
    await on_b.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_conversation_resumes_on_any_replica(replicas):
    a, b = replicas
    customer = Customer(a.ws_url)
    await customer.connect()
    await customer.say(REFUND_Q)
    await customer.until(lambda f: f["type"] == "ack")
    await customer.close()
    customer.url = b.ws_url  # the load balancer sends the reconnect elsewhere
    welcome = await customer.connect()
    assert welcome["conversation_id"] == customer.conversation_id
    await customer.until(bot_message)
    events = [f["seq"] for f in customer.frames if "seq" in f and f["type"] != "ack"]
    acked = {f["seq"] for f in customer.frames if f["type"] == "ack"}
    # Nothing twice; nothing missing (an acked message needs no replay: the client has it).
    assert len(events) == len(set(events))
    assert set(events) | acked == set(range(1, max(events) + 1))
    await customer.close()


def in_queue(conversation_id):
    return lambda f: (
        f["type"] == "queue"
        and any(q["conversation_id"] == conversation_id for q in f["conversations"])
    )


@pytest.mark.postgres
@pytest.mark.redis
async def test_an_agent_on_one_replica_takes_over_a_customer_on_the_other(replicas, stub):
    a, b = replicas
    a.add_agent("Dana", "correct horse battery")
    customer = Customer(a.ws_url)
    await customer.connect()
    await customer.say(REFUND_Q)
    await customer.until(bot_message)
    agent = AgentClient(b.url)
    welcome = await agent.login("Dana", "correct horse battery")
    assert welcome["agent"]["name"] == "Dana"
    await customer.send({"type": "human", "client_id": "h1"})
    await customer.until(queued)
    entry = next(
        q
        for q in (await agent.until(in_queue(customer.conversation_id)))[-1]["conversations"]
        if q["conversation_id"] == customer.conversation_id
    )
    assert entry["reason"] == "asked_for_human" and entry["channel"] == "web"
    assert REFUND_Q[:20] in entry["summary"]
    await agent.send({"type": "take", "conversation_id": customer.conversation_id})
    taken = await customer.until(lambda f: f["type"] == "state" and f["state"] == "agent")
    assert taken[-1]["agent"] == {"name": "Dana"}
    history = await agent.until(lambda f: f["type"] == "state" and f["state"] == "agent")
    assert any(f["type"] == "message" and f["message"]["text"] == REFUND_Q for f in history)
    assert all(f.get("conversation_id") == customer.conversation_id for f in history[1:])
    # The agent's reply reaches the customer live; the customer's reaches the agent.
    await agent.send(
        {
            "type": "reply",
            "conversation_id": customer.conversation_id,
            "client_id": "r1",
            "text": "Hi, I'm Dana. Let me check your plan.",
        }
    )
    reply = await customer.until(
        lambda f: f["type"] == "message" and f["message"]["role"] == "agent"
    )
    assert reply[-1]["message"]["text"].startswith("Hi, I'm Dana")
    await agent.send(
        {
            "type": "note",
            "conversation_id": customer.conversation_id,
            "client_id": "n1",
            "text": "INTERNAL: refund window already passed",
        }
    )
    await agent.until(lambda f: f["type"] == "note")
    stub.reset()
    await customer.say("it was bought 10 days ago")
    said = await agent.until(
        lambda f: f["type"] == "message" and f["message"]["text"] == "it was bought 10 days ago"
    )
    assert said[-1]["conversation_id"] == customer.conversation_id
    await asyncio.sleep(1.5)
    assert stub.history() == []  # the bot stayed silent while Dana owned the conversation
    # Hand back to the bot: it answers again.
    await agent.send(
        {"type": "release", "conversation_id": customer.conversation_id, "reason": "resolved"}
    )
    back = await customer.until(lambda f: f["type"] == "state" and f["state"] == "bot")
    assert back[-1]["reason"] == "resolved"
    await customer.say(REFUND_Q)
    assert (await customer.until(bot_message))[-1]["message"]["tier"] == "mini"
    assert not [f for f in customer.frames if "INTERNAL" in json.dumps(f)]  # notes stay inside
    await customer.close()
    await agent.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_agents_on_two_replicas_racing_for_a_conversation_one_wins(replicas):
    a, b = replicas
    a.add_agent("Ana", "password one")
    a.add_agent("Ben", "password two")
    ana, ben = AgentClient(a.url), AgentClient(b.url)
    await ana.login("Ana", "password one")
    await ben.login("Ben", "password two")
    for _ in range(100):
        customer = Customer(a.ws_url)
        await customer.connect()
        await customer.send({"type": "human", "client_id": "h"})
        await customer.until(queued)
        cid = customer.conversation_id
        take = {"type": "take", "conversation_id": cid}
        await asyncio.gather(ana.send(take), ben.send(take))

        def outcome(f, cid=cid):
            return f.get("conversation_id") == cid and (
                f["type"] == "error" or (f["type"] == "state" and f["state"] == "agent")
            )

        got = await asyncio.gather(ana.until(outcome), ben.until(outcome))
        errors = [g[-1] for g in got if g[-1]["type"] == "error"]
        assert len(errors) == 1 and errors[0]["code"] == "already_taken"
        await customer.until(lambda f: f.get("state") == "agent")
        await asyncio.sleep(0.05)  # a second owner change, if there were one, would follow
        while True:
            try:
                await customer.recv(timeout=0.05)
            except TimeoutError:
                break
        owners = [f["agent"]["name"] for f in customer.frames if f.get("state") == "agent"]
        winner = "Ben" if errors[0] is got[0][-1] else "Ana"
        assert owners == [winner]
        await customer.close()
    await ana.close()
    await ben.close()
