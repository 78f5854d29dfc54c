"""Uploads never attached to a message are swept: file and transcript gone after the
grace period, while attached and recent ones stay. Time is a fake clock, not a sleep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.chat.uploads import UploadService
from bot.core.conversation import utcnow
from bot.errors import InvalidInput
from bot.store.sql import SqlStore
from tests.chat.test_uploads import Ear, Eye, conversation, voice
from tests.media.test_receive import CT

GRACE = timedelta(hours=24)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
async def store(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    yield store
    await store.close()


def replica(store, root, clock):
    return UploadService(
        store,
        root,
        transcriber=lambda: Ear(),
        reader=lambda: Eye(),
        unattached_grace=GRACE.total_seconds(),
        clock=clock,
    )


async def test_an_upload_never_attached_is_swept_after_the_grace_period(store, tmp_path):
    clock = Clock()
    uploads = replica(store, tmp_path / "up", clock)
    cid = await conversation(store)
    forgotten = await uploads.receive(cid, voice(), CT)
    sent = await uploads.receive(cid, voice(), CT)
    (attachment,) = await uploads.attachments(cid, [sent.id])
    assert attachment["transcript"] == "hello there"
    clock.advance(GRACE - timedelta(hours=1))
    late = await uploads.receive(cid, voice(), CT)  # uploaded, send not pressed yet
    await uploads.drain()
    assert (await uploads.sweep_unattached()).rows == 0  # nothing is past the grace yet

    clock.advance(timedelta(hours=2))
    swept = await uploads.sweep_unattached()
    assert swept.rows == 1 and swept.files == 1
    assert not uploads.path(forgotten).exists()
    assert uploads.path(sent).is_file() and uploads.path(late).is_file()
    assert (await store.get_upload(forgotten.id)).result == {}  # its transcript is gone
    # The late one can still be sent; the swept one says why it cannot.
    (kept,) = await uploads.attachments(cid, [late.id])
    assert kept["transcript"] == "hello there"
    with pytest.raises(InvalidInput, match=r"expired.*attach it again"):
        await uploads.attachments(cid, [forgotten.id])


async def test_each_replica_removes_the_swept_files_on_its_own_disk(store, tmp_path):
    clock = Clock()
    here = replica(store, tmp_path / "a", clock)
    there = replica(store, tmp_path / "b", clock)
    cid = await conversation(store)
    upload = await here.receive(cid, voice(), CT)
    await here.drain()
    clock.advance(GRACE + timedelta(hours=1))
    swept = await there.sweep_unattached()  # the row is swept by the other replica ...
    assert swept.rows == 1 and swept.files == 0
    assert here.path(upload).is_file()
    swept = await here.sweep_unattached()  # ... and the file by the one that holds it
    assert swept.rows == 0 and swept.files == 1
    assert not here.path(upload).exists()


async def test_a_file_whose_row_is_gone_is_removed_and_a_fresh_one_is_not(store, tmp_path):
    import os
    import time

    clock = Clock()
    uploads = replica(store, tmp_path / "up", clock)
    cid = await conversation(store)
    folder = tmp_path / "up" / cid
    folder.mkdir(parents=True)
    stray = folder / "0b7c4a1e-0000-4000-8000-000000000000.wav"
    arriving = folder / "0b7c4a1e-0000-4000-8000-000000000001.wav"  # its row comes next
    stray.write_bytes(b"x")
    arriving.write_bytes(b"y")
    long_ago = time.time() - GRACE.total_seconds() - 3600
    os.utime(stray, (long_ago, long_ago))
    assert (await uploads.sweep_unattached()).files == 1
    assert not stray.exists() and arriving.exists()
