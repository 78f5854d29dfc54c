"""No loss, no duplicates: random connection drops and server crashes (tests/e2e/chaos.py).

The full run (``make chaos``: 1,000 drops and 10 crashes, over SQLite with one server
and over PostgreSQL + Redis with two replicas) is marked ``chaos``; the default suite
runs a short one on each backend (``SUPPORTBOT_CHAOS_DROPS`` / ``_RESTARTS`` override).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.store.sql import SqlStore
from tests.benchmarks.conftest import report
from tests.conftest import REDIS_URL, fresh_postgres_database
from tests.e2e.chaos import Chaos, ChaosAgent, ChaosCustomer
from tests.e2e.server import ServerProcess

CUSTOMERS = 8
WANT_A_PERSON = 3  # of them
AGENTS = 2


def _env(stub) -> dict[str, str]:
    return {
        "SUPPORTBOT_MINI": "openai:stub-mini",
        "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
        "SUPPORTBOT_LARGE": "none",
        "SUPPORTBOT_MODEL_RETRIES": "0",
        "SUPPORTBOT_CONVERSATION_TOKEN_BUDGET": "100000000",
    }


async def _chaos(
    servers: list[ServerProcess],
    database: str,
    drops: int,
    restarts: int,
    replicas: list[ServerProcess] | None = None,
) -> dict:
    """``servers`` are what clients connect to; ``replicas`` (default: the same) crash."""
    chaos = Chaos(servers, random.Random(8), drops, restarts, replicas)
    customers = [ChaosCustomer(f"c{i}", wants_person=i < WANT_A_PERSON) for i in range(CUSTOMERS)]
    agents = [ChaosAgent(f"chaos-agent-{i}", "chaos agent password") for i in range(AGENTS)]
    for agent in agents:
        (replicas or servers)[0].add_agent(agent.name, agent.password)
    restarter = asyncio.create_task(chaos.restart_servers())
    await asyncio.gather(*(c.run(chaos) for c in customers), *(a.run(chaos) for a in agents))
    await restarter
    for server in replicas or servers:
        await asyncio.to_thread(server.wait_ready)

    store = SqlStore(database)
    await store.start()
    try:
        # Settling sends what was never acknowledged, which starts turns and takes: wait
        # for the database to be still, then let everyone catch up again.
        for _ in range(2):
            for client in (*agents, *customers):
                await client.settle(chaos, store)
            await _quiet(store, [c.conversation_id for c in customers])
        for client in (*agents, *customers):
            await client.settle(chaos, store)
        return await _compare(chaos, store, customers, agents)
    finally:
        await store.close()


def _waiting(events) -> bool:
    """Whether the conversation ends with a question to the bot that nothing answered."""
    state, waiting = "bot", False
    for event in events:
        if event.type == "state":
            state = event.payload["state"]
            waiting = waiting and state in ("bot", "closed")
        elif event.payload["message"]["role"] == "customer":
            waiting = state in ("bot", "closed")
        else:
            waiting = False
    return waiting


async def _quiet(store: SqlStore, conversations: list[str], still: float = 2.0) -> None:
    """Until no conversation waits for an answer (a turn a crash cut is taken up again
    once its lease lapses) and none has had a new event for ``still`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 90
    last, since = -1, loop.time()
    while loop.time() < deadline:
        histories = [await store.events_after(c, 0) for c in conversations]
        total = sum(len(h) for h in histories)
        now = loop.time()
        if total != last:
            last, since = total, now
        elif now - since >= still and not any(_waiting(h) for h in histories):
            return
        await asyncio.sleep(0.5)


async def _compare(chaos, store, customers, agents) -> dict:
    figures: Counter[str] = Counter()
    problems: list[str] = []
    stored_by_conversation = {}
    for c in customers:
        events = await store.events_after(c.conversation_id, 0)
        messages = await store.messages(c.conversation_id, limit=100_000)
        stored_by_conversation[c.conversation_id] = (events, messages)
        by_client_id = Counter(m.client_id for m in messages if m.role.value == "customer")
        figures["customer messages sent"] += len(c.sent)
        for client_id in c.sent:
            if by_client_id[client_id] == 0:
                problems.append(f"{c.name}: message {client_id} lost")
                figures["customer messages lost"] += 1
            elif by_client_id[client_id] > 1:
                problems.append(f"{c.name}: message {client_id} stored {by_client_id[client_id]}×")
                figures["customer messages duplicated"] += 1
        figures["events stored"] += len(events)
        for event in events:
            if c.seqs[event.seq] == 0:
                problems.append(f"{c.name}: event {event.seq} ({event.type}) never received")
                figures["events the customer never received"] += 1
            elif c.seqs[event.seq] > 1:
                # At least once on the wire (a resume repeats what arrived past a gap, an
                # ack and its message share a seq); exactly once on screen (keyed by id).
                figures["events delivered more than once (shown once)"] += 1
        for message in messages:
            if message.id not in c.rendered:
                problems.append(
                    f"{c.name}: stored {message.role.value} message {message.id} not rendered"
                )
                figures["stored messages not rendered"] += 1
        phantoms = set(c.rendered) - {m.id for m in messages}
        figures["rendered messages not stored"] += len(phantoms)
        problems += [f"{c.name}: rendered {p} is not stored" for p in phantoms]
        figures["bot answers"] += sum(m.role.value == "bot" for m in messages)
        # Questions asked while the bot owned the conversation whose own turn never ran
        # (queued or running when their server died): the next answer, or the turn a
        # lapsed lease let another process run, answers them in context.
        turned = {t["message_id"] for t in await store.turns(c.conversation_id)}
        state = "bot"
        for event in events:
            if event.type == "state":
                state = event.payload["state"]
            elif event.payload["message"]["role"] == "customer" and state in ("bot", "closed"):
                figures["questions asked of the bot"] += 1
                if event.payload["message"]["id"] not in turned:
                    figures["questions whose own turn a crash cut"] += 1
        if _waiting(events):
            problems.append(f"{c.name}: the last question was never answered")
            figures["conversations left waiting for an answer"] += 1
    for a in agents:
        figures["agent replies sent"] += len(a.sent)
        for client_id, (cid, _) in a.sent.items():
            _, messages = stored_by_conversation[cid]
            # An agent's client_id is stored under its own namespace.
            ids = (client_id, f"agent:{client_id}")
            count = sum(m.client_id in ids and m.role.value == "agent" for m in messages)
            if count == 0:
                problems.append(f"{a.name}: reply {client_id} lost")
                figures["agent replies lost"] += 1
            elif count > 1:
                problems.append(f"{a.name}: reply {client_id} stored {count}×")
                figures["agent replies duplicated"] += 1
            customer = next(c for c in customers if c.conversation_id == cid)
            mine = [m for m in messages if m.client_id in ids]
            if mine and mine[0].id not in customer.rendered:
                problems.append(f"{a.name}: reply {client_id} not rendered by the customer")
                figures["agent replies the customer never rendered"] += 1
        for cid in a.owned:
            events, _ = stored_by_conversation[cid]
            missing = [e.seq for e in events if a.seqs[cid][e.seq] == 0]
            figures["events an owning agent never received"] += len(missing)
            problems += [f"{a.name}: {cid} event {s} never received" for s in missing]
    figures["drops"] = chaos.dropped
    for point, n in sorted(chaos.drops.items()):
        figures[f"drops {point}"] = n
    figures["server crashes"] = chaos.crashes
    figures["questions taken up again after a crash (lapsed lease)"] = sum(
        server.log.read_text(errors="replace").count("left without a turn")
        for server in chaos.replicas or chaos.servers
    )
    figures["conversations owned by agents"] = sum(len(a.owned) for a in agents)
    return {"figures": dict(figures), "problems": problems}


def _check(result: dict, name: str, drops: int, restarts: int) -> None:
    figures = result["figures"]
    report(name, figures)
    assert result["problems"] == [], result["problems"][:20]
    assert figures["drops"] >= drops and figures["server crashes"] == restarts
    assert figures["customer messages sent"] >= drops // 2
    assert figures["agent replies sent"] > 0 and figures["bot answers"] > 0
    for lost in ("customer messages lost", "customer messages duplicated", "agent replies lost"):
        assert figures.get(lost, 0) == 0


def _scale(full: bool) -> tuple[int, int]:
    if full:
        return 1000, 10
    return int(os.environ.get("SUPPORTBOT_CHAOS_DROPS", 120)), int(
        os.environ.get("SUPPORTBOT_CHAOS_RESTARTS", 2)
    )


def _sqlite(tmp_path: Path, stub, full: bool) -> None:
    drops, restarts = _scale(full)
    with ServerProcess(tmp_path, _env(stub)) as server:
        database = f"sqlite:///{tmp_path / 'supportbot.db'}"
        result = asyncio.run(_chaos([server], database, drops, restarts))
    _check(result, f"chaos_sqlite_{drops}", drops, restarts)


def _replicas(tmp_path: Path, stub, full: bool) -> None:
    drops, restarts = _scale(full)
    with fresh_postgres_database() as database, contextlib.ExitStack() as stack:
        env = {**_env(stub), "SUPPORTBOT_DATABASE_URL": database, "SUPPORTBOT_REDIS_URL": REDIS_URL}
        servers = [
            stack.enter_context(ServerProcess(tmp_path / f"replica{i}", env)) for i in range(2)
        ]
        result = asyncio.run(_chaos(servers, database, drops, restarts))
    _check(result, f"chaos_replicas_{drops}", drops, restarts)


def test_short_chaos_on_sqlite(tmp_path, stub):
    _sqlite(tmp_path, stub, full=False)


# The default suite covers two replicas through nginx (tests/e2e/test_scaleout.py).
@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_short_chaos_on_two_replicas(tmp_path, stub):
    _replicas(tmp_path, stub, full=False)


@pytest.mark.chaos
def test_chaos_on_sqlite(tmp_path, stub):
    _sqlite(tmp_path, stub, full=True)


@pytest.mark.chaos
@pytest.mark.postgres
@pytest.mark.redis
def test_chaos_on_two_replicas(tmp_path, stub):
    _replicas(tmp_path, stub, full=True)


def test_a_question_whose_server_died_mid_turn_is_answered_after_the_restart(tmp_path, stub):
    question = "how long do I have to ask for a refund on a yearly plan?"
    stub.script(ttft=60)  # the model is slow: the turn is running when the server dies
    with ServerProcess(tmp_path, _env(stub)) as server:

        async def ask_then_crash():
            customer = ChaosCustomer("c", wants_person=False)
            chaos = Chaos([server], random.Random(1), target_drops=0, restarts=0)
            ws, _ = await chaos.connect("/ws/chat")
            await ws.send(customer.hello())
            welcome = json.loads(await ws.recv())
            customer.conversation_id, customer.token = welcome["conversation_id"], welcome["token"]
            await ws.send(json.dumps({"type": "message", "client_id": "q1", "text": question}))
            while (frame := json.loads(await ws.recv()))["type"] != "typing":
                customer.take(frame)  # the ack and the question (seq 1)
            # The turn has started (the model is slow): the server dies.
            await asyncio.to_thread(server.crash)
            stub.script()  # the model is fine again; the restarted server's sweep will ask it
            await asyncio.to_thread(server.start)
            await asyncio.to_thread(server.wait_ready)
            # The customer reconnects and says nothing more.
            started = time.monotonic()
            ws, _ = await chaos.connect("/ws/chat")
            await ws.send(customer.hello())
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if frame["type"] == "message" and frame["message"]["role"] == "bot":
                    return frame["message"], time.monotonic() - started

        answer, waited = asyncio.run(ask_then_crash())
    assert "30 days" in answer["text"] and answer["tier"] == "mini"
    assert waited < 40  # the lease (15 s) lapses, the next sweep (5 s) takes it up
    assert "left without a turn" in server.log.read_text()
