"""Faults a deployment meets: the model endpoint down, PostgreSQL or Redis briefly away.
A real server on PostgreSQL + Redis, each reached through a proxy the test can cut
(the shared services stay up for the other tests). Every turn ends, nothing is stored
twice or half-way, and /readyz tells the truth meanwhile."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import REDIS_URL, fresh_postgres_database
from tests.e2e.client import Customer, bot_message, queued
from tests.e2e.server import ServerProcess
from tests.faultproxy import FaultProxy

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _through(url: str, proxy: FaultProxy) -> str:
    parts = urlsplit(url)
    return parts._replace(
        netloc=parts.netloc.replace(parts.netloc.split("@")[-1], f"127.0.0.1:{proxy.port}")
    ).geturl()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, stub):
    with fresh_postgres_database() as database:
        pg, redis = urlsplit(database), urlsplit(REDIS_URL)
        with (
            FaultProxy(pg.hostname or "127.0.0.1", pg.port or 5432) as db_proxy,
            FaultProxy(redis.hostname or "127.0.0.1", redis.port or 6379) as bus_proxy,
        ):
            env = {
                "SUPPORTBOT_DATABASE_URL": _through(database, db_proxy),
                "SUPPORTBOT_REDIS_URL": _through(REDIS_URL, bus_proxy),
                "SUPPORTBOT_MINI": "openai:stub-mini",
                "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
                "SUPPORTBOT_LARGE": "none",
                "SUPPORTBOT_MODEL_RETRIES": "0",
            }
            with ServerProcess(tmp_path_factory.mktemp("faults"), env) as server:
                yield server, db_proxy, bus_proxy


async def _ready(server: ServerProcess, want: bool, timeout: float = 20.0) -> dict:
    """Poll /readyz until it says ``want``; its last answer."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            answer = await http.get(f"{server.url}/readyz", timeout=10)
            body = answer.json()
            if (answer.status_code == 200) == want and body["ready"] == want:
                return body
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.25)


def _customer_texts(customer: Customer) -> list[str]:
    return [
        f["message"]["text"]
        for f in customer.frames
        if f["type"] == "message" and f["message"]["role"] == "customer"
    ]


async def _resumed(server: ServerProcess, customer: Customer) -> Customer:
    """The same conversation from scratch (seq 0): what the store holds, once each."""
    fresh = Customer(server.ws_url)
    fresh.conversation_id, fresh.token = customer.conversation_id, customer.token
    await fresh.connect()
    return fresh


async def test_a_model_outage_ends_the_turn_with_an_honest_hand_over(faulty, stub):
    server, _, _ = faulty
    stub.script(default="error")
    customer = Customer(server.ws_url)
    await customer.connect()
    started = time.monotonic()
    await customer.say(REFUND_Q)
    got = await customer.until(queued, timeout=30)
    assert got[-1]["reason"] == "model_unavailable"
    assert any(bot_message(f) and "can't reach" in f["message"]["text"] for f in got)
    assert time.monotonic() - started < 30
    await customer.close()


async def test_while_the_database_is_away_nothing_is_refused_for_good(faulty, stub):
    server, db, _ = faulty
    customer = Customer(server.ws_url)
    await customer.connect()
    db.cut()
    try:
        body = await _ready(server, False)
        assert body["checks"]["store"].startswith("error")
        client_id = await customer.say(REFUND_Q)
        refused = await customer.until(lambda f: f["type"] == "error")
        assert refused[-1]["code"] == "unavailable" and refused[-1]["client_id"] == client_id
        assert refused[-1]["retry_after"] > 0
    finally:
        db.restore()
    await _ready(server, True)
    await customer.say(REFUND_Q, client_id=client_id)  # what the widget's outbox does
    got = await customer.until(bot_message)
    assert any(f["type"] == "ack" and f["client_id"] == client_id for f in got)
    await customer.close()
    fresh = await _resumed(server, customer)
    await fresh.until(bot_message)
    assert _customer_texts(fresh) == [REFUND_Q]
    await fresh.close()


async def _answered_once(server: ServerProcess, customer: Customer) -> dict:
    """The conversation's one bot answer, as a client resuming from scratch sees it."""
    fresh = await _resumed(server, customer)
    await fresh.until(bot_message)
    while True:  # drain what else the store holds: one answer, not two
        try:
            await fresh.recv(timeout=0.5)
        except TimeoutError:
            break
    await fresh.close()
    answers = [f["message"] for f in fresh.frames if bot_message(f)]
    assert len(answers) == 1, answers
    return answers[0]


@pytest.mark.parametrize("when", ["before the answer is written", "while it streams"])
async def test_an_answer_survives_the_database_going_away_mid_turn(faulty, stub, when):
    server, db, _ = faulty
    stub.script(ttft=0.5, tokens_per_second=6)  # about two seconds of streaming
    customer = Customer(server.ws_url)
    await customer.connect()
    client_id = await customer.say(REFUND_Q)
    await customer.until(lambda f: f["type"] == "ack" and f["client_id"] == client_id)
    if when == "while it streams":
        await customer.until(lambda f: f["type"] == "delta")
    db.cut()  # the turn's reads, or storing its answer, fail for a while
    await asyncio.sleep(2.5)
    db.restore()
    answer = (await customer.until(bot_message, timeout=30))[-1]["message"]
    assert answer["tier"] == "mini" and "30 days" in answer["text"]
    await customer.close()
    assert (await _answered_once(server, customer))["id"] == answer["id"]


async def test_redis_away_and_back_loses_no_event(faulty, stub):
    server, _, bus = faulty
    customer = Customer(server.ws_url)
    await customer.connect()
    bus.cut()
    try:
        body = await _ready(server, False)
        assert body["checks"]["bus"].startswith("error")
        # Stored while live delivery is down: the ack comes straight from the socket.
        client_id = await customer.say(REFUND_Q)
        await customer.until(lambda f: f["type"] == "ack" and f["client_id"] == client_id)
        await asyncio.sleep(1.0)  # the answer is written and stored meanwhile
    finally:
        bus.restore()
    await _ready(server, True)
    # Back: the socket resyncs from the store, the answer arrives without a reconnect.
    got = await customer.until(bot_message, timeout=20)
    assert got[-1]["message"]["tier"] == "mini"
    seqs = [f["seq"] for f in customer.frames if "seq" in f and f["type"] != "ack"]
    assert seqs == sorted(set(seqs))  # in order, none twice
    # And live delivery works again.
    await customer.say("and for a monthly plan?")
    await customer.until(bot_message, timeout=20)
    await customer.close()


@pytest.fixture(scope="module")
def chroma_behind_proxy(tmp_path_factory, stub, chroma_url):
    """A server whose knowledge base is a Chroma server reached through a cuttable proxy."""
    target = urlsplit(chroma_url)
    with FaultProxy(target.hostname or "127.0.0.1", target.port or 8000) as proxy:
        env = {
            "SUPPORTBOT_CHROMA_URL": f"http://127.0.0.1:{proxy.port}",
            "SUPPORTBOT_COLLECTION": "faults",
            "SUPPORTBOT_MINI": "openai:stub-mini",
            "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
            "SUPPORTBOT_LARGE": "none",
        }
        with ServerProcess(tmp_path_factory.mktemp("chroma-faults"), env) as server:
            yield server, proxy


async def _answer(server: ServerProcess, question: str) -> dict:
    customer = Customer(server.ws_url)
    await customer.connect()
    await customer.say(question)
    message = (await customer.until(bot_message))[-1]["message"]
    await customer.close()
    return message


async def test_a_chroma_server_away_degrades_search_instead_of_failing_turns(
    chroma_behind_proxy,
):
    server, proxy = chroma_behind_proxy
    normal = await _answer(server, REFUND_Q)
    assert normal["tier"] == "mini" and "30 days" in normal["text"]
    proxy.cut()
    try:
        # /readyz asks Chroma itself: it tells before any customer's search fails.
        body = await _ready(server, True)
        assert body["checks"]["knowledge"].startswith("degraded: vector store unreachable")
        started = time.monotonic()
        degraded = await _answer(server, "my sync icon is red and says E-2041")
        assert degraded["tier"] == "mini", degraded  # answered, not handed over
        assert degraded["citations"][0]["source"] == "troubleshooting/sync-errors.md"
        assert time.monotonic() - started < 15
        body = await _ready(server, True)
        assert body["checks"]["knowledge"].startswith("degraded: vector store unreachable")
    finally:
        proxy.restore()
    await asyncio.sleep(6)  # Chroma is tried again after 5 s
    again = await _answer(server, REFUND_Q)
    assert again["tier"] == "mini" and "30 days" in again["text"]
    body = await _ready(server, True)
    assert body["checks"]["knowledge"] == "ok"
