"""The SQL store on SQLite and on PostgreSQL (both real)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect

from bot.core.attachments import Upload, UploadStatus
from bot.core.conversation import Role, State, TransitionError, utcnow
from bot.core.protocols import TurnRecord
from bot.store import migrate
from bot.store.sql import SqlStore, async_url
from bot.store.tables import metadata
from tests.conftest import backdate, fresh_postgres_database


@pytest.fixture
async def store(database_url):
    s = SqlStore(database_url)
    await s.start()
    yield s
    await s.close()


async def new_conversation(store):
    return await store.create_conversation(channel="web", token_hash="h" * 64, visitor={"a": 1})


async def test_a_conversation_starts_with_the_bot_and_no_events(store):
    conv = await new_conversation(store)
    again = await store.get_conversation(conv.id)
    assert again is not None and again.state is State.BOT and again.last_seq == 0
    assert again.visitor == {"a": 1}
    assert await store.events_after(conv.id, 0) == []
    assert await store.token_hash(conv.id) == "h" * 64
    assert await store.get_conversation("no-such-id") is None


async def test_messages_and_state_changes_get_consecutive_seqs(store):
    conv = await new_conversation(store)
    _m1, e1, created = await store.add_message(conv.id, Role.CUSTOMER, "hi", client_id="c1")
    assert created and e1.seq == 1 and e1.frame()["message"]["text"] == "hi"
    m2, _e2, _ = await store.add_message(
        conv.id, Role.BOT, "hello [1]", citations=[{"n": 1}], tier="mini"
    )
    e3 = await store.set_state(conv.id, State.QUEUED, reason="low_confidence", summary="s")
    assert [e.seq for e in await store.events_after(conv.id, 0)] == [1, 2, 3]
    assert [e.seq for e in await store.events_after(conv.id, 1)] == [2, 3]
    assert e3.frame() == {"type": "state", "seq": 3, "state": "queued", "reason": "low_confidence"}
    conv = await store.get_conversation(conv.id)
    assert conv.state is State.QUEUED and conv.summary == "s" and conv.last_seq == 3
    assert [m.text for m in await store.messages(conv.id)] == ["hi", "hello [1]"]
    assert (await store.get_message(m2.id)).tier == "mini"


async def test_a_client_id_is_stored_once(store):
    conv = await new_conversation(store)
    first, e1, created1 = await store.add_message(conv.id, Role.CUSTOMER, "hi", client_id="c1")
    again, e2, created2 = await store.add_message(conv.id, Role.CUSTOMER, "hi", client_id="c1")
    assert created1 and not created2
    assert again.id == first.id and e2.seq == e1.seq
    assert len(await store.events_after(conv.id, 0)) == 1


async def test_concurrent_writers_never_share_a_seq_or_duplicate_a_client_id(store):
    conv = await new_conversation(store)
    results = await asyncio.gather(
        *(
            store.add_message(conv.id, Role.CUSTOMER, f"m{i % 10}", client_id=f"c{i % 10}")
            for i in range(30)
        )
    )
    assert sum(created for _, _, created in results) == 10
    events = await store.events_after(conv.id, 0)
    assert [e.seq for e in events] == list(range(1, 11))


async def test_forbidden_transitions_are_refused_and_use_no_seq(store):
    conv = await new_conversation(store)
    await store.set_state(conv.id, State.CLOSED)
    with pytest.raises(TransitionError):
        await store.set_state(conv.id, State.AGENT)
    assert (await store.get_conversation(conv.id)).last_seq == 1
    reopened = await store.set_state(conv.id, State.BOT)
    assert reopened.seq == 2


async def test_turns_and_feedback_are_recorded(store):
    conv = await new_conversation(store)
    msg, _, _ = await store.add_message(conv.id, Role.BOT, "answer [1]")
    await store.record_turn(
        TurnRecord(
            conv.id,
            None,
            msg.id,
            "mini",
            False,
            None,
            0.7,
            [{"stage": "retrieve", "ms": 3.0}],
            10,
            5,
            0.001,
            12.5,
        )
    )
    turns = await store.turns(conv.id)
    assert turns[0]["tier"] == "mini" and turns[0]["decision"][0]["stage"] == "retrieve"
    assert await store.ratings([msg.id]) == {}
    await store.record_feedback(conv.id, msg.id, "down")
    await store.record_feedback(conv.id, msg.id, "up")
    assert await store.ratings([msg.id, "other"]) == {msg.id: "up"}


async def test_uploads_are_stored_found_by_token_and_finished(store):
    conv = await store.create_conversation(channel="web", token_hash="t" * 64, visitor={})
    assert await store.conversation_by_token("t" * 64) == conv.id
    assert await store.conversation_by_token("x" * 64) is None
    upload = Upload(
        id="u-1",
        conversation_id=conv.id,
        kind="image",
        mime="image/png",
        bytes=1234,
        path=f"{conv.id}/u-1.png",
        created_at=utcnow(),
        meta={"width": 10, "height": 20},
    )
    await store.add_upload(upload)
    stored = await store.get_upload("u-1")
    assert stored == upload and stored.status is UploadStatus.PROCESSING
    await store.finish_upload("u-1", UploadStatus.READY, {"text": "E-2041", "confidence": 0.9})
    done = await store.get_upload("u-1")
    assert done.status is UploadStatus.READY and done.result["text"] == "E-2041"
    assert done.created_at.tzinfo is not None
    assert await store.get_upload("nope") is None


async def test_starting_twice_is_a_no_op(database_url):
    for _ in range(2):
        s = SqlStore(database_url)
        await s.start()
        await s.close()


def test_urls_people_write_get_async_drivers():
    assert async_url("postgresql://u@h/db").startswith("postgresql+asyncpg://")
    assert async_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"


@pytest.mark.postgres
def test_migrations_create_exactly_the_declared_schema_and_downgrade_cleanly():
    with fresh_postgres_database() as url:

        async def run():
            store = SqlStore(url)
            await store.start()
            async with store.engine.connect() as conn:
                revision = await conn.run_sync(migrate.current)
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
                columns = await conn.run_sync(
                    lambda c: {
                        t: {col["name"] for col in inspect(c).get_columns(t)}
                        for t in metadata.tables
                    }
                )
            assert revision == migrate.head()
            assert set(metadata.tables) <= tables
            for name, table in metadata.tables.items():
                assert columns[name] == {c.name for c in table.columns}, name
            async with store.engine.begin() as conn:
                await conn.run_sync(migrate.downgrade, "base")
            async with store.engine.connect() as conn:
                left = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert left <= {"alembic_version"}
            await store.close()

        asyncio.run(run())


async def test_of_concurrent_take_overs_exactly_one_wins(store):
    """Row-locked ownership: 20 rounds of 5 agents taking the same conversation at once."""
    from bot.core.conversation import OwnershipConflict

    for _ in range(20):
        conv = await new_conversation(store)
        await store.set_state(conv.id, State.QUEUED, reason="asked_for_human")
        results = await asyncio.gather(
            *(
                store.set_state(
                    conv.id,
                    State.AGENT,
                    agent=f"agent-{i}",
                    expect=frozenset({State.QUEUED, State.BOT}),
                )
                for i in range(5)
            ),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(r, OwnershipConflict) for r in results if r not in winners)
        owner = (await store.get_conversation(conv.id)).agent
        assert winners[0].payload["agent"] == {"name": owner}
        assert (await store.get_conversation(conv.id)).reason == "asked_for_human"


async def test_agents_sessions_notes_and_the_queue(store):
    agent = await store.add_agent("dana", "hash", "admin")
    with pytest.raises(ValueError, match="exists already"):
        await store.add_agent("dana", "other")
    assert (await store.agent_by_name("dana")).password_hash == "hash"
    from datetime import timedelta

    await store.add_session(agent.id, "s" * 64, timedelta(hours=1))
    await store.add_session(agent.id, "e" * 64, timedelta(seconds=-1))
    assert (await store.agent_for_session("s" * 64)).name == "dana"
    assert await store.agent_for_session("e" * 64) is None  # expired
    first, second = await new_conversation(store), await new_conversation(store)
    await store.set_state(second.id, State.QUEUED, reason="low_confidence", summary="s2")
    await store.set_state(first.id, State.QUEUED, reason="asked_for_human", summary="s1")
    mine = {first.id, second.id}  # the database may hold other tests' conversations
    queue = [q for q in await store.queue() if q["conversation_id"] in mine]
    assert [q["conversation_id"] for q in queue] == [second.id, first.id]  # oldest first
    assert queue[0]["reason"] == "low_confidence" and queue[0]["summary"] == "s2"
    note, created = await store.add_note(first.id, "dana", "VIP customer", "n1")
    again, created_again = await store.add_note(first.id, "dana", "VIP customer", "n1")
    assert created and not created_again and again.id == note.id
    assert [n.text for n in await store.notes(first.id)] == ["VIP customer"]


async def test_presence_rows_say_who_is_online_and_go_stale(store):
    from datetime import timedelta

    from bot.core.conversation import new_id

    dana = await store.add_agent(f"dana-{new_id()[:8]}", "hash")
    lee = await store.add_agent(f"lee-{new_id()[:8]}", "hash")
    ours = {dana.name, lee.name}
    past = utcnow() - timedelta(minutes=5)

    async def team():
        return {a["name"]: a["status"] for a in await store.team(utcnow() - timedelta(seconds=90))}

    await store.set_presence("d1", dana.id, "away", stale_before=past)
    await store.set_presence("d2", dana.id, "online", stale_before=past)  # a second tab
    await store.set_presence("l1", lee.id, "away", stale_before=past)
    assert {k: v for k, v in (await team()).items() if k in ours} == {
        dana.name: "online",  # one of her sockets says online
        lee.name: "away",
    }
    await store.set_presence("d2", dana.id, "away", stale_before=past)  # a refresh replaces
    await store.drop_presence("l1")
    assert {k: v for k, v in (await team()).items() if k in ours} == {dana.name: "away"}
    # Seen too long ago (a replica that died): not in the team, and swept by the next write.
    assert dana.name not in {a["name"] for a in await store.team(utcnow() + timedelta(seconds=1))}


async def test_contact_email_rides_with_the_queue_entry_and_ratings_replace(store):
    conv = await new_conversation(store)
    await store.set_state(conv.id, State.QUEUED, reason="asked_for_human", summary="s")
    await store.set_contact_email(conv.id, "ana@example.com")
    assert await store.contact_email(conv.id) == "ana@example.com"
    (entry,) = [q for q in await store.queue() if q["conversation_id"] == conv.id]
    assert entry["email"] == "ana@example.com"
    await store.rate(conv.id, 2, "slow", "dana")
    await store.rate(conv.id, 5, "sorted in the end", "dana")
    rating = await store.rating(conv.id)
    assert (rating.score, rating.comment, rating.agent) == (5, "sorted in the end", "dana")
    recent = [r for r in await store.ratings_since(utcnow() - timedelta_minutes(1))]
    assert [r.score for r in recent if r.conversation_id == conv.id] == [5]


def timedelta_minutes(n):
    from datetime import timedelta

    return timedelta(minutes=n)


async def test_report_facts_follow_each_conversation(store):
    since = utcnow() - timedelta_minutes(1)
    answered, handed = await new_conversation(store), await new_conversation(store)
    await store.add_message(answered.id, Role.CUSTOMER, "q", client_id="a1")
    await store.add_message(answered.id, Role.BOT, "answer", tier="mini")
    for tier, cost in (("mini", 0.001), ("large", 0.004)):
        await store.record_turn(
            TurnRecord(answered.id, None, None, tier, False, None, 0.7, [], 10, 5, cost, 12.5)
        )
    await store.add_message(handed.id, Role.CUSTOMER, "a person please", client_id="h1")
    await store.add_message(handed.id, Role.BOT, "handing over", tier="human")
    await store.set_state(handed.id, State.QUEUED, reason="asked_for_human")
    await store.set_state(handed.id, State.AGENT, agent="dana")
    await store.add_message(handed.id, Role.AGENT, "hi, Dana here", client_id="agent:1")
    await store.set_state(handed.id, State.CLOSED, agent="dana", extra={"rate": True})
    facts = {f.conversation_id: f for f in await store.report_facts(since, utcnow())}
    a, h = facts[answered.id], facts[handed.id]
    assert (a.customer_messages, a.bot_answers, a.escalated_at, a.closed) == (1, 1, None, False)
    assert round(a.cost_usd, 6) == 0.005 and a.tiers == {"mini": 1, "large": 1}
    assert (h.customer_messages, h.bot_answers, h.reason, h.closed) == (
        1,
        0,  # the hand-over notice is no answer
        "asked_for_human",
        True,
    )
    assert h.first_agent_reply is not None and h.first_agent_reply >= h.escalated_at
    closed = (await store.events_after(handed.id, 0))[-1]
    assert closed.payload == {"state": "closed", "agent": {"name": "dana"}, "rate": True}
    # Conversations started before the period are not in it.
    assert answered.id not in {
        f.conversation_id for f in await store.report_facts(utcnow(), utcnow())
    }


async def test_a_call_is_claimed_once_and_its_caller_rides_with_the_queue_entry(store):
    assert await store.claim_call("CA1", "+15550001111", "t" * 64)
    assert not await store.claim_call("CA1", "+15550001111", "u" * 64)  # a replay
    call = await store.get_call("CA1")
    assert call.conversation_id is None and call.stream_token_hash == "u" * 64
    conv = await store.create_conversation(channel="phone", token_hash="h" * 64, visitor={})
    await store.attach_call("CA1", conv.id)
    await store.set_call_outcome("CA1", "callback")
    await store.set_state(conv.id, State.QUEUED, reason="asked_for_human")
    web = await new_conversation(store)
    await store.set_state(web.id, State.QUEUED, reason="low_confidence")
    entries = {q["conversation_id"]: q for q in await store.queue()}
    assert entries[conv.id]["phone"] == "+15550001111" and entries[conv.id]["callback"]
    assert entries[web.id]["phone"] is None and not entries[web.id]["callback"]
    assert (await store.get_call("CA1")).outcome == "callback"
    assert await store.get_call("CA2") is None


async def test_concurrent_webhooks_of_one_call_claim_it_once(store):
    claims = await asyncio.gather(
        *(store.claim_call("CA9", "+1555", f"{i}" * 64) for i in range(5))
    )
    assert sorted(claims) == [False, False, False, False, True]


async def _full_conversation(store, token: str):
    """A conversation with a row in every table that can hold what was said in it."""
    conv = await store.create_conversation(channel="phone", token_hash=token * 64, visitor={})
    question, _, _ = await store.add_message(conv.id, Role.CUSTOMER, "my email is a@b.io")
    answer, _, _ = await store.add_message(conv.id, Role.BOT, "answer [1]")
    await store.record_turn(
        TurnRecord(conv.id, question.id, answer.id, "mini", False, None, 0.7, [], 10, 5, 0.01, 9)
    )
    await store.record_feedback(conv.id, answer.id, "up")
    await store.add_note(conv.id, "Dana", "customer is a VIP", "n1")
    await store.set_contact_email(conv.id, "a@b.io")
    await store.set_state(conv.id, State.QUEUED, reason="asked_for_human", summary="VIP")
    await store.set_state(conv.id, State.AGENT, agent="Dana")
    await store.set_state(conv.id, State.CLOSED)
    await store.rate(conv.id, 5, "great", "Dana")
    await store.add_upload(
        Upload(
            id=f"u-{token}",
            conversation_id=conv.id,
            kind="audio",
            mime="audio/wav",
            bytes=10,
            path=f"{conv.id}/u-{token}.wav",
            created_at=utcnow(),
            meta={},
        )
    )
    sid = f"CA{token * 32}"
    await store.claim_call(sid, "+15550100", "s" * 64)
    await store.attach_call(sid, conv.id)
    return conv


async def test_erasing_a_conversation_deletes_every_row_of_it_and_nothing_else(store):
    from sqlalchemy import func, select

    from bot.store import tables as t

    erased = await _full_conversation(store, "a")
    kept = await _full_conversation(store, "b")

    async def rows(conversation_id):
        counts = {}
        async with store.engine.connect() as conn:
            for table in (t.messages, t.events, t.turns, t.feedback, t.notes, t.csat, t.uploads):
                counts[table.name] = await conn.scalar(
                    select(func.count()).where(table.c.conversation_id == conversation_id)
                )
            counts["calls"] = await conn.scalar(
                select(func.count()).where(t.calls.c.conversation_id == conversation_id)
            )
        return counts

    assert all((await rows(erased.id)).values())  # every table had a row to erase
    paths = await store.erase_conversation(erased.id)
    assert paths == [f"{erased.id}/u-a.wav"]
    assert not any((await rows(erased.id)).values())
    assert await store.get_conversation(erased.id) is None
    assert await store.events_after(erased.id, 0) == []
    assert all((await rows(kept.id)).values())
    assert await store.erase_conversation(erased.id) is None  # already gone


async def test_inactive_conversations_are_those_without_a_recent_message(store):
    from datetime import timedelta

    old, recent, silent = [await new_conversation(store) for _ in range(3)]
    await store.add_message(old.id, Role.CUSTOMER, "hi")
    await store.add_message(recent.id, Role.CUSTOMER, "hi")
    long_ago = utcnow() - timedelta(days=40)
    await backdate(store, long_ago, [old.id, recent.id, silent.id], [old.id])
    cutoff = utcnow() - timedelta(days=30)
    # The database may hold other tests' conversations, all of them recent.
    assert set(await store.inactive_conversations(cutoff)) == {old.id, silent.id}
    assert len(await store.inactive_conversations(cutoff, limit=1)) == 1


async def test_spend_is_counted_per_conversation_and_over_a_period(store):
    from datetime import timedelta

    hour_ago = utcnow() - timedelta(hours=1)
    before = await store.cost_since(hour_ago)  # other tests' turns on a shared database
    a, b = await new_conversation(store), await new_conversation(store)
    for conv, tokens_in, tokens_out, cost in ((a, 100, 20, 0.5), (a, 50, 5, 0.25), (b, 7, 3, 1.0)):
        await store.record_turn(
            TurnRecord(
                conv.id, None, None, "mini", False, None, 0.7, [], tokens_in, tokens_out, cost, 1
            )
        )
    assert await store.conversation_tokens(a.id) == 175
    assert await store.conversation_tokens(b.id) == 10
    assert await store.conversation_tokens("nobody") == 0
    assert await store.cost_since(hour_ago) - before == pytest.approx(1.75)
    assert await store.cost_since(utcnow() + timedelta(hours=1)) == 0.0
