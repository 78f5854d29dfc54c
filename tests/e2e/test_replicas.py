"""Two server replicas sharing PostgreSQL and Redis: one conversation seen live on both."""

from __future__ import annotations

import contextlib

import pytest

from tests.conftest import REDIS_URL, fresh_postgres_database
from tests.e2e.client import Customer, bot_message
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
