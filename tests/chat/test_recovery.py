"""Questions whose turn died with its process: leases and the sweep, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

import pytest

from bot.bus.memory import MemoryBus
from bot.chat.recovery import TurnLeases, sweep
from bot.chat.service import ChatService
from bot.core.conversation import Role, State, utcnow
from bot.core.turn import answer_question
from bot.models.extractive import ExtractiveModel
from bot.store.sql import SqlStore
from tests.conftest import backdate

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


@pytest.fixture
async def store(database_url):
    store = SqlStore(database_url)
    await store.start()
    yield store
    await store.close()


@pytest.fixture
async def service(store, demo_kb):
    ladder = [("mini", ExtractiveModel())]
    answer = partial(answer_question, kb=demo_kb, ladder=ladder, threshold=0.45)

    async def answerer(question, **kwargs):
        return await answer(question, **kwargs)

    bus = MemoryBus()
    service = ChatService(store, bus, answerer, leases=TurnLeases(store, seconds=2))
    yield service
    await service.drain()
    await bus.close()


async def crashed_question(store: SqlStore, text: str = REFUND_Q, age: float = 60) -> str:
    """A conversation whose question was stored by a process that died before its turn."""
    conversation = await store.create_conversation(channel="web", token_hash="x", visitor={})
    await store.add_message(conversation.id, Role.CUSTOMER, text, client_id="c1")
    await backdate(store, utcnow() - timedelta(seconds=age), [], [conversation.id])
    return conversation.id


async def test_leases_are_exclusive_until_they_lapse(store):
    cid = await crashed_question(store)
    a, b = TurnLeases(store, seconds=0.5), TurnLeases(store, seconds=0.5)
    assert await a.claim(cid)
    assert not await b.claim(cid)  # held by a
    await asyncio.sleep(0.7)
    assert await b.claim(cid)  # a lapsed (its process died)
    await store.hold_turns(cid, a.holder, 5)  # a new message arrived at a: a answers it
    assert not await b.claim(cid)
    await store.release_turns(cid, a.holder)
    assert await b.claim(cid)


async def test_only_questions_no_turn_took_up_and_no_live_lease_covers_are_found(store):
    now = utcnow()
    orphan = await crashed_question(store)
    fresh = await crashed_question(store, age=0)  # its turn may be starting right now
    answered = await crashed_question(store)
    await store.add_message(answered, Role.BOT, "Within 30 days. [1]")
    leased = await crashed_question(store)
    await store.hold_turns(leased, "a live process", 30)
    handed_over = await crashed_question(store)
    await store.set_state(handed_over, State.QUEUED, reason="asked_for_human")
    phone = (await store.create_conversation(channel="phone", token_hash="y", visitor={})).id
    await store.add_message(phone, Role.CUSTOMER, REFUND_Q, client_id="p1")
    await backdate(store, now - timedelta(seconds=60), [], [phone])
    # A customer's last word before an agent handed the conversation back to the bot:
    # not a question for the bot.
    released = await crashed_question(store, text="thanks, that solved it")
    await store.set_state(released, State.AGENT, agent="Dana")
    await store.set_state(released, State.BOT, reason="resolved")
    ancient = await crashed_question(store, age=3 * 86400)

    found = await store.unanswered(
        asked_before=now - timedelta(seconds=15), since=now - timedelta(days=1)
    )
    # (The PostgreSQL database is shared by the session's tests: look at ours only.)
    mine = {orphan, fresh, answered, leased, handed_over, phone, released, ancient}
    assert [m.conversation_id for m in found if m.conversation_id in mine] == [orphan]


async def test_the_sweep_answers_a_question_left_by_a_crashed_process(store, service):
    cid = await crashed_question(store)
    assert await sweep(store, service.leases, service.resume_turn) >= 1
    await service.drain()
    messages = await store.messages(cid)
    assert [m.role for m in messages] == [Role.CUSTOMER, Role.BOT]
    assert "30 days" in messages[-1].text
    assert [t["message_id"] for t in await store.turns(cid)] == [messages[0].id]
    # Answered, recorded, lease released: nothing left for the next sweep.
    now = utcnow()
    left = await store.unanswered(asked_before=now, since=now - timedelta(days=1))
    assert cid not in {m.conversation_id for m in left}
    assert await TurnLeases(store).claim(cid)


async def test_a_question_a_live_process_is_answering_is_left_alone(store, service):
    cid = await crashed_question(store)
    live = TurnLeases(store, seconds=30)
    async with live.held(cid):
        await sweep(store, service.leases, service.resume_turn)
        await service.drain()
    assert len(await store.messages(cid)) == 1


async def test_turns_hold_the_lease_while_queued_and_running_and_release_it(store, service):
    conversation, _ = await service.start()
    await service.customer_message(conversation.id, "c1", REFUND_Q)
    await service.customer_message(conversation.id, "c2", "and for a monthly plan?")
    await asyncio.sleep(0)  # the turns have started; the lease is ours
    assert not await TurnLeases(store).claim(conversation.id)
    await service.drain()
    assert len(await store.turns(conversation.id)) == 2
    assert await TurnLeases(store).claim(conversation.id)  # released after the last turn
