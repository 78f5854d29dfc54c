"""Upload rows on SQLite and PostgreSQL: marking an upload attached, sweeping the ones
never attached, and the migration that decides about uploads stored before it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.core.attachments import Upload, UploadStatus
from bot.core.conversation import Role, utcnow
from bot.store import migrate
from bot.store import tables as t
from bot.store.sql import SqlStore
from tests.conftest import fresh_postgres_database

HOUR = timedelta(hours=1)


@pytest.fixture
async def store(database_url):
    s = SqlStore(database_url)
    await s.start()
    yield s
    await s.close()


async def add(store, conversation_id, upload_id, age=timedelta(0)):
    await store.add_upload(
        Upload(
            id=upload_id,
            conversation_id=conversation_id,
            kind="audio",
            mime="audio/wav",
            bytes=10,
            path=f"{conversation_id}/{upload_id}.wav",
            created_at=utcnow() - age,
            meta={"duration_s": 1.0},
        )
    )
    await store.finish_upload(upload_id, UploadStatus.READY, {"transcript": "my card is 4242"})


async def conversation(store):
    c = await store.create_conversation(channel="web", token_hash="u" * 64, visitor={})
    return c.id


def ids(prefix):
    return [f"{prefix}-{n}" for n in range(3)]


async def test_attaching_marks_only_this_conversations_uploads_and_is_idempotent(store):
    mine, other = await conversation(store), await conversation(store)
    a, b, c = ids(mine[:8])
    await add(store, mine, a)
    await add(store, mine, b)
    await add(store, other, c)
    now = utcnow()
    assert await store.attach_uploads(mine, [a, c, "nope"], now) == {a}
    assert await store.attach_uploads(mine, [a], now + HOUR) == {a}  # a retried message
    assert await store.live_uploads([a, b, c, "nope"]) == {a, b, c}


async def test_the_sweep_takes_exactly_the_unattached_uploads_older_than_the_cutoff(store):
    cid = await conversation(store)
    old, attached, recent = ids(cid[:8])
    await add(store, cid, old, age=25 * HOUR)
    await add(store, cid, attached, age=25 * HOUR)
    await add(store, cid, recent, age=HOUR)
    await store.attach_uploads(cid, [attached], utcnow() - 24 * HOUR)
    now = utcnow()
    swept = await store.sweep_unattached(now - 24 * HOUR, now)
    # The database may hold other tests' uploads, all of them recent.
    assert swept == [old]
    assert await store.sweep_unattached(now - 24 * HOUR, now) == []  # already swept
    assert await store.live_uploads([old, attached, recent]) == {attached, recent}
    # What was heard or read in a swept upload is not kept; the row says it expired.
    tombstone = await store.get_upload(old)
    assert tombstone is not None and tombstone.result == {}
    # A swept upload can no longer be attached.
    assert await store.attach_uploads(cid, [old, recent], now) == {recent}


async def test_swept_rows_are_deleted_once_past_their_own_grace(store):
    cid = await conversation(store)
    old, _, _ = ids(cid[:8])
    await add(store, cid, old, age=25 * HOUR)
    swept_at = utcnow() - 8 * 24 * HOUR
    await store.sweep_unattached(utcnow() - 24 * HOUR, swept_at)
    assert await store.purge_swept(swept_at - HOUR) == 0
    assert await store.purge_swept(swept_at + HOUR) == 1
    assert await store.get_upload(old) is None


async def _upgrade_with_rows(url: str) -> dict[str, object]:
    """Upgrade a database at 0007 that holds an attached and an unattached upload."""
    store = SqlStore(url)
    async with store.engine.begin() as conn:
        await conn.run_sync(migrate.upgrade, "0007")
        now = utcnow()
        await conn.execute(
            insert(t.conversations).values(
                id="c-1",
                channel="web",
                token_hash="m" * 64,
                state="bot",
                last_seq=2,
                visitor={},
                created_at=now,
                updated_at=now,
            )
        )
        for n in (1, 2):
            await conn.execute(
                insert(t.uploads).values(
                    id=f"u-{n}",
                    conversation_id="c-1",
                    kind="image",
                    mime="image/png",
                    bytes=1,
                    path=f"c-1/u-{n}.png",
                    meta={},
                    status="ready",
                    result={},
                    created_at=now,
                    updated_at=now,
                )
            )
        for seq, attachments in ((1, [{"upload_id": "u-1", "kind": "image"}]), (2, [])):
            await conn.execute(
                insert(t.messages).values(
                    id=f"m-{seq}",
                    conversation_id="c-1",
                    seq=seq,
                    role=str(Role.CUSTOMER),
                    text="hi",
                    citations=[],
                    attachments=attachments,
                    created_at=now,
                )
            )
    await store.start()  # upgrade head, as `supportbot serve` does
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(t.uploads.c.id, t.uploads.c.attached_at))).all()
    await store.close()
    return {i: attached for i, attached in rows}


def test_the_migration_marks_uploads_a_stored_message_attaches_sqlite(tmp_path: Path):
    attached = asyncio.run(_upgrade_with_rows(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    assert attached["u-1"] is not None and attached["u-2"] is None


@pytest.mark.postgres
def test_the_migration_marks_uploads_a_stored_message_attaches_postgres():
    with fresh_postgres_database() as url:
        attached = asyncio.run(_upgrade_with_rows(url))
    assert attached["u-1"] is not None and attached["u-2"] is None
