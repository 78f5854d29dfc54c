"""The upload service on a real SQLite store, with readers that behave as told.

The real Whisper and OCR are tested in tests/perception and through the server in
tests/e2e/test_uploads.py; here the readers are stand-ins, to make them slow or fail.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from bot.chat.service import hash_token
from bot.chat.uploads import UploadService
from bot.core.attachments import UploadStatus
from bot.errors import InvalidInput
from bot.perception.base import ImageText, Transcript
from bot.store.sql import SqlStore
from tests.media.test_receive import CT, Chunks, body
from tests.mediagen import error_dialog, png_bytes, wav_bytes


class Ear:
    def __init__(self, text="hello there", fail=False, gate: threading.Event | None = None):
        self.text, self.fail, self.gate, self.calls = text, fail, gate, 0

    def transcribe(self, samples):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("the model broke")
        return Transcript(self.text, 0.9, len(samples) / 16_000)


class Eye:
    def read(self, image):
        return ImageText("Error E-2041", 0.99, 1)


@pytest.fixture
async def store(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.start()
    yield store
    await store.close()


def service(store, root, ear, timeout=5.0):
    return UploadService(
        store, root, transcriber=lambda: ear, reader=lambda: Eye(), timeout=timeout
    )


async def conversation(store) -> str:
    c = await store.create_conversation(channel="web", token_hash=hash_token("t"), visitor={})
    return c.id


def voice() -> Chunks:
    return Chunks(body(("file", "n.wav", wav_bytes(np.full(16_000, 0.1, np.float32), 16_000))))


async def test_an_upload_is_read_once_and_attached_with_its_result(store, tmp_path):
    ear = Ear()
    uploads = service(store, tmp_path / "up", ear)
    cid = await conversation(store)
    upload = await uploads.receive(cid, voice(), CT)
    assert upload.status is UploadStatus.PROCESSING and (tmp_path / "up" / upload.path).is_file()
    (attachment,) = await uploads.attachments(cid, [upload.id, upload.id])
    assert attachment["transcript"] == "hello there" and attachment["status"] == "ready"
    assert ear.calls == 1
    shot = await uploads.receive(
        cid, Chunks(body(("f", "s.png", png_bytes(error_dialog("x", []))))), CT
    )
    (seen,) = await uploads.attachments(cid, [shot.id])
    assert seen["text"] == "Error E-2041" and seen["kind"] == "image"


def test_sweep_removes_only_stale_partial_files(store, tmp_path):
    import os
    import time

    uploads = service(store, tmp_path / "up", Ear())
    incoming = tmp_path / "up" / ".incoming"
    incoming.mkdir(parents=True)
    stale, fresh = incoming / "old.part", incoming / "new.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert uploads.sweep() == 1
    assert not stale.exists() and fresh.exists()


async def test_another_conversations_upload_is_refused(store, tmp_path):
    uploads = service(store, tmp_path / "up", Ear())
    mine, other = await conversation(store), await conversation(store)
    upload = await uploads.receive(mine, voice(), CT)
    with pytest.raises(InvalidInput, match="no upload"):
        await uploads.attachments(other, [upload.id])
    await uploads.drain()


async def test_a_reader_that_fails_marks_the_upload_failed_and_the_message_still_goes(
    store, tmp_path
):
    uploads = service(store, tmp_path / "up", Ear(fail=True))
    cid = await conversation(store)
    upload = await uploads.receive(cid, voice(), CT)
    (attachment,) = await uploads.attachments(cid, [upload.id])
    assert attachment["status"] == "failed" and attachment["transcript"] == ""
    assert "could not be read" in attachment["error"]
    assert (await store.get_upload(upload.id)).status is UploadStatus.FAILED


async def test_another_replica_waits_for_the_result_through_the_store(store, tmp_path):
    gate = threading.Event()
    here = service(store, tmp_path / "a", Ear(gate=gate))
    there = service(store, tmp_path / "b", Ear(text="never used"))
    cid = await conversation(store)
    upload = await here.receive(cid, voice(), CT)
    waiting = asyncio.create_task(there.attachments(cid, [upload.id]))
    await asyncio.sleep(0.5)
    assert not waiting.done()  # still being transcribed on the first replica
    gate.set()
    (attachment,) = await asyncio.wait_for(waiting, 5)
    assert attachment["transcript"] == "hello there"


async def test_an_upload_nobody_finishes_is_attached_with_an_error_after_the_timeout(
    store, tmp_path
):
    gate = threading.Event()
    here = service(store, tmp_path / "a", Ear(gate=gate))
    impatient = service(store, tmp_path / "b", Ear(), timeout=0.5)
    cid = await conversation(store)
    upload = await here.receive(cid, voice(), CT)
    (attachment,) = await impatient.attachments(cid, [upload.id])
    assert attachment["status"] == "failed" and "not read within 0.5 s" in attachment["error"]
    gate.set()
    await here.drain()


class SlowEye:
    """An image reader that waits for ``gate``: the image being read holds the pixels."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate

    def read(self, image):
        self.gate.wait(10)
        return ImageText("Error E-2041", 0.99, 1)


async def test_images_wait_their_turn_without_threads_and_past_a_queue_are_told_busy(
    store, tmp_path
):
    from bot.chat.uploads import MAX_QUEUED_IMAGES
    from bot.errors import UploadRefused

    gate = threading.Event()
    uploads = UploadService(
        store, tmp_path / "up", transcriber=lambda: Ear(), reader=lambda: SlowEye(gate)
    )
    cid = await conversation(store)
    shot = png_bytes(error_dialog("Sync failed", ["Error E-2041"]))
    first = await uploads.receive(cid, Chunks(body(("file", "a.png", shot))), CT)
    await asyncio.sleep(0.2)  # its reading has begun and holds the one image turn
    threads = threading.active_count()
    queued = [
        asyncio.create_task(uploads.receive(cid, Chunks(body(("file", "b.png", shot))), CT))
        for _ in range(MAX_QUEUED_IMAGES)
    ]
    await asyncio.sleep(0.3)
    # Waiting for the turn happens on the event loop: no worker thread per queued upload.
    assert threading.active_count() <= threads + 1 and not any(t.done() for t in queued)
    with pytest.raises(UploadRefused) as busy:
        await uploads.receive(cid, Chunks(body(("file", "c.png", shot))), CT)
    assert busy.value.code == "busy"
    gate.set()
    done = await asyncio.wait_for(asyncio.gather(*queued), 30)
    ids = [first.id] + [u.id for u in done]
    attached = await uploads.attachments(cid, ids)
    assert len(attached) == 1 + MAX_QUEUED_IMAGES
