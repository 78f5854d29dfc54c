"""The model budgets on a real SQLite store: per conversation (tokens) and per day (USD)."""

from __future__ import annotations

from functools import partial

from bot.bus.memory import MemoryBus
from bot.chat.budget import Budget
from bot.chat.service import ChatService
from bot.core.protocols import TurnRecord, conversation_topic
from bot.core.turn import CONVERSATION_BUDGET, DAILY_BUDGET, answer_question
from bot.models.extractive import ExtractiveModel
from bot.models.fake import FakeModel
from bot.store.sql import SqlStore
from tests.chat.test_service import REFUND_Q, bot_message, frames_until, queued

SUPPORTED = "Yearly plans can be refunded within 30 days of purchase. [1]"


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def _store(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    return store


async def _spend(store, conversation_id, tokens, cost):
    await store.record_turn(
        TurnRecord(conversation_id, None, None, "mini", False, None, 0.7, [], tokens, 0, cost, 1)
    )


async def test_a_conversation_past_its_tokens_is_paused_others_are_not(tmp_path):
    store = await _store(tmp_path)
    budget = Budget(store, conversation_tokens=1000)
    spender = await store.create_conversation(channel="web", token_hash="a" * 64, visitor={})
    other = await store.create_conversation(channel="web", token_hash="b" * 64, visitor={})
    await _spend(store, spender.id, 999, 0.0)
    assert await budget.paused(spender.id) is None
    await _spend(store, spender.id, 1, 0.0)
    assert await budget.paused(spender.id) == CONVERSATION_BUDGET
    assert await budget.paused(other.id) is None
    assert await Budget(store).paused(spender.id) is None  # 0: no limit
    await store.close()


async def test_the_daily_budget_counts_everyone_and_is_cached_briefly(tmp_path):
    store = await _store(tmp_path)
    clock = Clock()
    budget = Budget(store, daily_usd=1.0, clock=clock)
    a = await store.create_conversation(channel="web", token_hash="a" * 64, visitor={})
    b = await store.create_conversation(channel="web", token_hash="b" * 64, visitor={})
    await _spend(store, a.id, 10, 0.6)
    assert await budget.paused(b.id) is None
    await _spend(store, a.id, 10, 0.4)
    assert await budget.paused(b.id) is None  # the total of 5 s ago is still used
    clock.now += 5
    assert await budget.paused(b.id) == DAILY_BUDGET
    await store.close()


async def test_past_the_budget_the_generative_tier_is_skipped_and_the_free_one_answers(
    tmp_path, demo_kb
):
    store = await _store(tmp_path)
    bus = MemoryBus()
    mini = FakeModel("mini")
    mini.enqueue([SUPPORTED, SUPPORTED])
    ladder = [("mini", mini), ("large", ExtractiveModel())]
    answer = partial(answer_question, kb=demo_kb, ladder=ladder, threshold=0.45)

    async def answerer(question, **kwargs):
        return await answer(question, **kwargs)

    budget = Budget(store, conversation_tokens=1)
    service = ChatService(store, bus, answerer, budget=budget)
    conv, _ = await service.start()
    sub = await bus.subscribe(conversation_topic(conv.id))
    await service.customer_message(conv.id, "c1", REFUND_Q)
    first = (await frames_until(sub, bot_message))[-1]["message"]
    assert first["tier"] == "mini" and len(mini.history) == 1
    await service.customer_message(conv.id, "c2", REFUND_Q + " (monthly?)")
    second = (await frames_until(sub, bot_message))[-1]["message"]
    assert second["tier"] == "large" and len(mini.history) == 1  # mini was not asked
    await service.drain()  # the turn is recorded after its answer is published
    turns = await store.turns(conv.id)
    assert {"stage": "budget", "ms": 0.0, "paused": CONVERSATION_BUDGET, "skipped": ["mini"]} in (
        turns[-1]["decision"]
    )
    await service.drain()
    await store.close()


async def test_with_only_generative_tiers_the_customer_is_told_and_handed_over(tmp_path, demo_kb):
    store = await _store(tmp_path)
    bus = MemoryBus()
    mini = FakeModel("mini")
    ladder = [("mini", mini)]
    answer = partial(answer_question, kb=demo_kb, ladder=ladder, threshold=0.45)

    async def answerer(question, **kwargs):
        return await answer(question, **kwargs)

    service = ChatService(store, bus, answerer, budget=Budget(store, daily_usd=0.5))
    spender = await store.create_conversation(channel="web", token_hash="s" * 64, visitor={})
    await _spend(store, spender.id, 10, 0.5)
    conv, _ = await service.start()
    sub = await bus.subscribe(conversation_topic(conv.id))
    await service.customer_message(conv.id, "c1", REFUND_Q)
    got = await frames_until(sub, queued)
    assert got[-1]["reason"] == DAILY_BUDGET
    told = [f["message"]["text"] for f in got if bot_message(f)]
    assert told and "paused" in told[0] and "person" in told[0]
    assert mini.history == []
    await service.drain()
    await store.close()
