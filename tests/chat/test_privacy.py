"""Erasure, retention and the sweep of left-over upload folders (real SQLite, real files)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta

from bot.bus.memory import MemoryBus
from bot.chat.privacy import SWEEP_GRACE, Privacy
from bot.chat.service import QUEUE_TOPIC
from bot.core.conversation import Role, utcnow
from bot.core.protocols import agent_topic, conversation_topic
from bot.store.sql import SqlStore
from tests.conftest import backdate


async def _parts(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    bus = MemoryBus()
    return store, bus, Privacy(store, bus, tmp_path / "uploads")


async def _conversation(store, uploads, words="my card is 4111 1111 1111 1111"):
    conv = await store.create_conversation(
        channel="web", token_hash=os.urandom(32).hex(), visitor={}
    )
    await store.add_message(conv.id, Role.CUSTOMER, words)
    folder = uploads / conv.id
    folder.mkdir(parents=True)
    (folder / "voice.wav").write_bytes(b"RIFF....")
    return conv, folder


async def test_erase_removes_the_rows_and_files_and_tells_every_listener(tmp_path):
    store, bus, privacy = await _parts(tmp_path)
    conv, folder = await _conversation(store, privacy.uploads_dir)
    kept, kept_folder = await _conversation(store, privacy.uploads_dir)
    topics = [conversation_topic(conv.id), agent_topic(conv.id), QUEUE_TOPIC]
    subscriptions = [await bus.subscribe(topic) for topic in topics]
    assert await privacy.erase(conv.id, "test")
    assert await store.get_conversation(conv.id) is None and not folder.exists()
    assert await store.get_conversation(kept.id) is not None and kept_folder.exists()
    for subscription in subscriptions:
        frame = await asyncio.wait_for(subscription.__aiter__().__anext__(), 5)
        assert frame == {"type": "erased", "conversation_id": conv.id}
    assert not await privacy.erase(conv.id, "test")  # nothing left to erase
    await store.close()


async def test_a_conversation_id_never_reaches_outside_the_uploads_folder(tmp_path):
    store, _, privacy = await _parts(tmp_path)
    outside = tmp_path / "precious"
    outside.mkdir()
    privacy._remove_folder("../precious")
    assert outside.exists()
    await store.close()


async def test_retention_erases_only_conversations_silent_for_longer(tmp_path):
    store, _, privacy = await _parts(tmp_path)
    old, old_folder = await _conversation(store, privacy.uploads_dir)
    new, new_folder = await _conversation(store, privacy.uploads_dir)
    await backdate(store, utcnow() - timedelta(days=31), [old.id], [old.id])
    assert await privacy.expire(30) == 1
    assert await store.get_conversation(old.id) is None and not old_folder.exists()
    assert await store.get_conversation(new.id) is not None and new_folder.exists()
    assert await privacy.expire(30) == 0
    await store.close()


async def test_the_sweep_removes_old_folders_of_conversations_erased_elsewhere(tmp_path):
    store, _, privacy = await _parts(tmp_path)
    _alive, alive_folder = await _conversation(store, privacy.uploads_dir)
    gone, gone_folder = await _conversation(store, privacy.uploads_dir)
    young = privacy.uploads_dir / "0b7a3c1e-1111-4222-8333-944455556666"
    young.mkdir()
    # Another replica erased ``gone``: the rows are gone, this disk still has its files.
    await store.erase_conversation(gone.id)
    past = time.time() - SWEEP_GRACE - 60
    for folder in (alive_folder, gone_folder):
        os.utime(folder, (past, past))
    assert await privacy.sweep() == 1
    assert alive_folder.exists() and not gone_folder.exists()
    assert young.exists()  # may belong to a conversation being created right now
    await store.close()
