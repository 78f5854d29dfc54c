"""The conversation service on a real SQLite store, the in-process bus and the demo KB."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from bot.bus.memory import MemoryBus
from bot.chat.service import QUEUE_TOPIC, AuthError, ChatService
from bot.core.conversation import State
from bot.core.protocols import conversation_topic
from bot.core.turn import answer_question
from bot.errors import InvalidInput
from bot.models.extractive import ExtractiveModel
from bot.models.fake import FakeModel
from bot.store.sql import SqlStore

REFUND_Q = "how long do I have to ask for a refund on a yearly plan?"


@pytest.fixture
async def parts(tmp_path, demo_kb):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    bus = MemoryBus()
    ladder = [("mini", ExtractiveModel())]
    answer = partial(answer_question, kb=demo_kb, ladder=ladder, threshold=0.45)

    async def answerer(question, **kwargs):
        return await answer(question, **kwargs)

    turns = []
    service = ChatService(store, bus, answerer, on_turn=lambda o, ms: turns.append(o))
    yield service, store, bus, turns
    await service.drain()
    await bus.close()
    await store.close()


async def frames_until(subscription, stop, timeout=20.0):
    got = []
    iterator = subscription.__aiter__()
    while True:
        frame = await asyncio.wait_for(iterator.__anext__(), timeout)
        got.append(frame)
        if stop(frame):
            return got


def bot_message(frame):
    return frame["type"] == "message" and frame["message"]["role"] == "bot"


def queued(frame):
    return frame["type"] == "state" and frame["state"] == "queued"


async def open_conversation(service, bus):
    conversation, token = await service.start()
    subscription = await bus.subscribe(conversation_topic(conversation.id))
    return conversation, token, subscription


async def test_a_question_is_stored_answered_with_citations_and_streamed(parts):
    service, store, bus, turns = parts
    conv, _, sub = await open_conversation(service, bus)
    _message, event, created = await service.customer_message(conv.id, "c1", REFUND_Q)
    assert created and event.seq == 1
    got = await frames_until(sub, bot_message)
    kinds = [f["type"] for f in got]
    assert kinds[0] == "message" and "typing" in kinds and "delta" in kinds
    answer = got[-1]
    assert answer["seq"] == 2 and answer["message"]["tier"] == "mini"
    assert answer["message"]["citations"][0]["n"] == 1
    # The deltas carry the final message's id and add up to its text.
    deltas = [f for f in got if f["type"] == "delta"]
    assert {d["message_id"] for d in deltas} == {answer["message"]["id"]}
    assert "".join(d["text"] for d in deltas) == answer["message"]["text"]
    await service.drain()
    record = (await store.turns(conv.id))[0]
    assert record["tier"] == "mini" and record["reply_id"] == answer["message"]["id"]
    assert [s["stage"] for s in record["decision"]] == ["rules", "retrieve", "answer:mini"]
    assert len(turns) == 1 and not turns[0].escalated


async def test_a_resent_message_is_stored_once_and_answered_once(parts):
    service, store, bus, _ = parts
    conv, _, sub = await open_conversation(service, bus)
    first = await service.customer_message(conv.id, "same", REFUND_Q)
    again = await service.customer_message(conv.id, "same", REFUND_Q)
    assert first[0].id == again[0].id and not again[2]
    await frames_until(sub, bot_message)
    await service.drain()
    events = await store.events_after(conv.id, 0)
    assert [e.payload["message"]["role"] for e in events] == ["customer", "bot"]


async def test_an_off_topic_question_escalates_with_reason_summary_and_queue_notice(parts):
    service, store, bus, turns = parts
    queue = await bus.subscribe(QUEUE_TOPIC)
    conv, _, sub = await open_conversation(service, bus)
    await service.customer_message(conv.id, "c1", "what's the weather in Berlin tomorrow?")
    got = await frames_until(sub, queued)
    assert bot_message(got[-2]) and "rather not guess" in got[-2]["message"]["text"]
    assert got[-1]["reason"] == "low_confidence"
    notice = (await frames_until(queue, lambda f: True))[0]
    assert notice["conversation_id"] == conv.id and "weather in Berlin" in notice["summary"]
    stored = await store.get_conversation(conv.id)
    assert stored.state is State.QUEUED and stored.reason == "low_confidence"
    await service.drain()
    assert turns[-1].escalated and turns[-1].reason == "low_confidence"


async def test_while_a_person_owns_the_conversation_the_bot_is_silent(parts):
    service, store, bus, _ = parts
    conv, _, sub = await open_conversation(service, bus)
    await service.request_human(conv.id)
    await frames_until(sub, queued)
    await service.customer_message(conv.id, "c2", REFUND_Q)
    await service.drain()
    roles = [e.payload.get("message", {}).get("role") for e in await store.events_after(conv.id, 0)]
    assert roles == ["bot", None, "customer"]  # the handover notice, the state, the message
    await service.request_human(conv.id)  # asking again changes nothing
    assert (await store.get_conversation(conv.id)).last_seq == 3


async def test_a_thumbs_down_then_a_rephrase_goes_to_a_person(parts):
    service, store, bus, _ = parts
    conv, _, sub = await open_conversation(service, bus)
    await service.customer_message(conv.id, "c1", REFUND_Q)
    answer = (await frames_until(sub, bot_message))[-1]["message"]
    await service.feedback(conv.id, answer["id"], "down")
    await service.customer_message(conv.id, "c2", "I mean the refund window for annual billing")
    got = await frames_until(sub, queued)
    assert got[-1]["reason"] == "repeated_failure"
    assert "haven't helped" in got[-2]["message"]["text"]
    await service.drain()
    record = (await store.turns(conv.id))[-1]
    assert record["reason"] == "repeated_failure" and record["tier"] == "human"
    assert record["reply_id"] == got[-2]["message"]["id"]
    assert record["decision"] == [
        {"stage": "conversation_rules", "ms": 0.0, "fired": "repeated_failure"}
    ]


async def test_feedback_only_on_the_bots_messages_of_this_conversation(parts):
    service, _, bus, _ = parts
    conv, _, sub = await open_conversation(service, bus)
    customer, _, _ = await service.customer_message(conv.id, "c1", REFUND_Q)
    await frames_until(sub, bot_message)
    with pytest.raises(InvalidInput, match="Only the bot"):
        await service.feedback(conv.id, customer.id, "up")
    with pytest.raises(InvalidInput, match="no such message"):
        await service.feedback(conv.id, "not-a-message", "up")


async def test_bad_messages_are_refused_naming_the_limit(parts):
    service, _, _, _ = parts
    conv, _ = await service.start()
    with pytest.raises(InvalidInput, match="empty"):
        await service.customer_message(conv.id, "c1", "   ")
    with pytest.raises(InvalidInput, match="limit is 4000 characters"):
        await service.customer_message(conv.id, "c2", "x" * 4001)


async def test_tokens_are_checked(parts):
    service, _, _, _ = parts
    conv, token = await service.start()
    assert (await service.authenticate(conv.id, token)).id == conv.id
    with pytest.raises(AuthError):
        await service.authenticate(conv.id, token + "x")
    with pytest.raises(AuthError):
        await service.authenticate("no-such-conversation", token)


async def test_when_the_answer_path_breaks_a_person_takes_over(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    bus = MemoryBus()

    async def broken(question, **kwargs):
        raise RuntimeError("chroma exploded")

    service = ChatService(store, bus, broken)
    conv, _ = await service.start()
    sub = await bus.subscribe(conversation_topic(conv.id))
    await service.customer_message(conv.id, "c1", "hello?")
    got = await frames_until(sub, queued)
    assert got[-1]["reason"] == "internal_error"
    assert "went wrong on our side" in got[-2]["message"]["text"]
    await service.drain()
    await store.close()


async def test_a_closed_conversation_reopens_when_the_customer_writes(parts):
    service, store, bus, _ = parts
    conv, _, sub = await open_conversation(service, bus)
    await store.set_state(conv.id, State.CLOSED)
    await service.customer_message(conv.id, "c1", REFUND_Q)
    got = await frames_until(sub, bot_message)
    assert any(f["type"] == "state" and f["state"] == "bot" for f in got)


async def test_a_generative_tier_that_invents_is_retracted_on_the_bus(tmp_path, demo_kb):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    bus = MemoryBus()
    mini, large = FakeModel("mini"), FakeModel("large")
    mini.enqueue(["Refunds take 90 days and need a notarised letter. [1]"])
    large.enqueue(["Yearly plans can be refunded within 30 days of purchase. [1]"])
    answer = partial(
        answer_question, kb=demo_kb, ladder=[("mini", mini), ("large", large)], threshold=0.45
    )

    async def answerer(question, **kwargs):
        return await answer(question, **kwargs)

    service = ChatService(store, bus, answerer)
    conv, _ = await service.start()
    sub = await bus.subscribe(conversation_topic(conv.id))
    await service.customer_message(conv.id, "c1", REFUND_Q)
    got = await frames_until(sub, bot_message)
    retract = next(f for f in got if f["type"] == "retract")
    final = got[-1]["message"]
    assert retract["message_id"] != final["id"] and final["tier"] == "large"
    drafts = {f["message_id"] for f in got if f["type"] == "delta"}
    assert drafts == {retract["message_id"], final["id"]}
    await service.drain()
    await store.close()


async def test_a_phone_conversation_gets_gate_checked_sentences_and_can_be_interrupted(
    tmp_path, demo_kb
):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    bus = MemoryBus()
    mini = FakeModel("mini", delay=0.05)
    grounded = "Yearly plans can be refunded within 30 days of purchase. [1]"
    mini.enqueue([f"{grounded} {grounded}", " ".join([grounded] * 40)])
    answer = partial(answer_question, kb=demo_kb, ladder=[("mini", mini)], threshold=0.45)
    styles = []

    async def answerer(question, **kwargs):
        styles.append(kwargs["style"])
        return await answer(question, **kwargs)

    turns = []
    service = ChatService(store, bus, answerer, on_turn=lambda o, ms: turns.append(o))
    conv, _ = await service.start("phone")
    sub = await bus.subscribe(conversation_topic(conv.id))
    await service.customer_message(conv.id, "c1", REFUND_Q)
    got = await frames_until(sub, bot_message)
    sentences = [f for f in got if f["type"] == "sentence"]
    assert styles == ["phone"] and [f["text"] for f in sentences] == [grounded, grounded]
    assert sentences[0]["message_id"] == got[-1]["message"]["id"]
    # A caller speaks over the next answer while it is being written: it stops.
    await service.customer_message(conv.id, "c2", REFUND_Q)
    await frames_until(sub, lambda f: f["type"] == "delta")
    assert await service.interrupt(conv.id)
    got = await frames_until(sub, lambda f: f["type"] == "retract")
    assert got[-1]["reason"] == "interrupted"
    await service.drain()
    assert turns[-1].reason == "interrupted" and turns[-1].tier == "interrupted"
    bots = [m for m in await store.messages(conv.id) if m.role == "bot"]
    assert len(bots) == 1  # the interrupted answer was not stored as said
    assert not await service.interrupt(conv.id)  # nothing left to stop
    await bus.close()
    await store.close()
