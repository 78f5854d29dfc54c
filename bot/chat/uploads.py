"""Uploads of a conversation: receive, check, clean, store, then read them.

``receive`` runs while the customer's upload request is open: the body is streamed
to a temporary file under a cap, the type is decided by content and confirmed by a
real decode, and only the cleaned file is kept (re-encoded image, 16 kHz WAV). The
request is answered as soon as the upload is stored; transcription or OCR then
starts at once in the background, so it is usually done by the time the customer
presses send. :meth:`UploadService.attachments` waits for it (here, or on another
replica through the store) and gives the message its ``attachments``.

Perception is CPU-bound and runs in worker threads, one job at a time, so text
turns of other conversations keep the event loop and a core.

An upload no message attaches within the grace period (a day by default) is swept by
:meth:`UploadService.sweep_unattached`, hourly in the server: otherwise anyone with a
conversation token could fill the disk with files nobody reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from bot.core.attachments import Kind, Upload, UploadStatus
from bot.core.conversation import new_id, utcnow
from bot.core.protocols import UploadStore
from bot.errors import InvalidInput, UploadRefused
from bot.media.audio import CleanAudio, clean_audio
from bot.media.images import CleanImage, clean_image, read_image
from bot.media.receive import receive_file
from bot.media.sniff import Sniffed
from bot.perception.base import ImageReader, Transcriber

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2  # how often a replica that did not receive an upload checks the store
STALE_SECONDS = 3600.0  # an incoming file this old belongs to no running upload
UNATTACHED_SECONDS = 24 * 3600.0  # an upload no message attached in this time is swept
# Images waiting for their turn to be decoded (one at a time, bot/media/images.py) before
# another upload is told to come back: the wait is on the event loop, but it is a wait.
MAX_QUEUED_IMAGES = 8
BUSY_RETRY_SECONDS = 5
# A swept upload's row is kept this long, so a late attach hears that it expired.
EXPIRED_KEPT = timedelta(days=7)
SWEEP_BATCH = 500
_ID = re.compile(r"[0-9a-f-]{8,64}")  # conversation folders and upload files are named so


class SweptUploadStore(UploadStore, Protocol):
    """The upload store with attaching and sweeping (:mod:`bot.store.upload_rows`)."""

    async def attach_uploads(
        self, conversation_id: str, upload_ids: Sequence[str], now: datetime
    ) -> set[str]: ...

    async def sweep_unattached(
        self, before: datetime, now: datetime, limit: int = SWEEP_BATCH
    ) -> list[str]: ...

    async def purge_swept(self, before: datetime) -> int: ...

    async def live_uploads(self, upload_ids: Sequence[str]) -> set[str]: ...


class Swept(NamedTuple):
    rows: int  # uploads marked swept in the store (their files may be on any replica)
    files: int  # files removed from this replica's disk


def clean(source: Path, sniffed: Sniffed, stem: Path, limits: Limits) -> CleanImage | CleanAudio:
    """Decode ``source`` for real and keep the cleaned file at ``stem`` (blocking)."""
    if sniffed.kind == "image":
        return clean_image(source, stem, max_pixels=limits.image_pixels)
    return clean_audio(source, sniffed.format, stem, max_seconds=limits.audio_seconds)


def perceive(
    cleaned: CleanImage | CleanAudio,
    transcriber: Callable[[], Transcriber],
    reader: Callable[[], ImageReader],
) -> dict[str, Any]:
    """What an upload says: the ``result`` stored on it (blocking)."""
    if isinstance(cleaned, CleanAudio):
        heard = transcriber().transcribe(cleaned.samples)
        return {
            "transcript": heard.text,
            "confidence": heard.confidence,
            "speech_s": heard.speech_s,
        }
    seen = read_image(cleaned.path, reader().read)
    return {"text": seen.text, "confidence": seen.confidence, "lines": seen.lines}


@dataclass(frozen=True)
class Limits:
    image_bytes: int = 10 * 1024 * 1024
    image_pixels: int = 40_000_000
    audio_bytes: int = 10 * 1024 * 1024
    audio_seconds: float = 120.0

    def bytes_for(self, kind: Kind | None) -> int:
        if kind == "image":
            return self.image_bytes
        if kind == "audio":
            return self.audio_bytes
        return max(self.image_bytes, self.audio_bytes)


class UploadService:
    def __init__(
        self,
        store: SweptUploadStore,
        root: Path,
        *,
        transcriber: Callable[[], Transcriber],
        reader: Callable[[], ImageReader],
        limits: Limits | None = None,
        timeout: float = 60.0,
        on_perceived: Callable[[Kind, float], None] | None = None,
        unattached_grace: float = UNATTACHED_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.root = root
        self.transcriber = transcriber
        self.reader = reader
        self.limits = limits or Limits()
        self.timeout = timeout
        self.on_perceived = on_perceived
        self.unattached_grace = timedelta(seconds=unattached_grace)
        self.clock = clock
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._one_at_a_time = asyncio.Semaphore(1)
        # One image's pixels at a time, awaited here so that uploads waiting their turn
        # hold no worker thread (the pool is the chat turns' too).
        self._pixels = asyncio.Semaphore(1)
        self._queued_images = 0

    # -- receiving -------------------------------------------------------------------

    def sweep(self, older_than: float = STALE_SECONDS) -> int:
        """Remove partial files that a crashed process left in the incoming folder.

        Only old ones: replicas sharing a data directory may be receiving right now.
        """
        removed = 0
        cutoff = time.time() - older_than
        for path in (self.root / ".incoming").glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    async def receive(
        self, conversation_id: str, body: AsyncIterator[bytes], content_type: str
    ) -> Upload:
        """Store one uploaded file of ``conversation_id``; raises :class:`UploadRefused`."""
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        upload_id = new_id()
        raw = incoming / f"{upload_id}.part"
        received = await receive_file(body, content_type, raw, self.limits.bytes_for)
        folder = self.root / conversation_id
        try:
            folder.mkdir(parents=True, exist_ok=True)
            image = received.sniffed.kind == "image"
            async with self._image_turn() if image else contextlib.nullcontext():
                cleaned = await asyncio.to_thread(
                    clean, raw, received.sniffed, folder / upload_id, self.limits
                )
        finally:
            raw.unlink(missing_ok=True)
        if isinstance(cleaned, CleanImage):
            meta: dict[str, Any] = {"width": cleaned.width, "height": cleaned.height}
        else:
            meta = {"duration_s": cleaned.duration_s}
        upload = Upload(
            id=upload_id,
            conversation_id=conversation_id,
            kind=received.sniffed.kind,
            mime=cleaned.mime,
            bytes=received.bytes,
            path=str(cleaned.path.relative_to(self.root)),
            created_at=self.clock(),
            meta=meta,
        )
        try:
            await self.store.add_upload(upload)
        except BaseException:
            cleaned.path.unlink(missing_ok=True)
            raise
        self._jobs[upload_id] = asyncio.create_task(self._perceive(upload, cleaned))
        return upload

    @contextlib.asynccontextmanager
    async def _image_turn(self) -> AsyncIterator[None]:
        """This upload's turn to decode its image; ``busy`` when too many are waiting."""
        if self._queued_images >= MAX_QUEUED_IMAGES:
            raise UploadRefused(
                "busy",
                f"Too many images are being read right now. Send it again in "
                f"{BUSY_RETRY_SECONDS} s.",
            )
        self._queued_images += 1
        try:
            await self._pixels.acquire()
        finally:
            self._queued_images -= 1
        try:
            yield
        finally:
            self._pixels.release()

    # -- reading ---------------------------------------------------------------------

    async def _perceive(self, upload: Upload, cleaned: CleanImage | CleanAudio) -> None:
        started = time.perf_counter()
        try:
            image = isinstance(cleaned, CleanImage)
            async with self._one_at_a_time, self._pixels if image else contextlib.nullcontext():
                result = await asyncio.to_thread(perceive, cleaned, self.transcriber, self.reader)
            status = UploadStatus.READY
        except Exception as exc:
            log.exception("reading upload %s failed", upload.id)
            result = {"error": f"could not be read ({type(exc).__name__})"}
            status = UploadStatus.FAILED
        try:
            await self.store.finish_upload(upload.id, status, result)
        finally:
            self._jobs.pop(upload.id, None)
        if self.on_perceived is not None:
            self.on_perceived(upload.kind, time.perf_counter() - started)

    async def attachments(
        self, conversation_id: str, upload_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The ``attachments`` of a message, once each upload has been read.

        Raises :class:`InvalidInput` for an upload that is not this conversation's, or
        that was swept (not attached within the grace period). The uploads are marked
        attached before the wait, so the sweep cannot take one while its message is
        being stored. An upload still unread after the timeout is attached with an
        ``error``.
        """
        uploads = []
        for upload_id in dict.fromkeys(upload_ids):  # the same upload twice counts once
            upload = await self.store.get_upload(upload_id)
            if upload is None or upload.conversation_id != conversation_id:
                raise InvalidInput(f"There is no upload {upload_id[:64]} in this conversation.")
            uploads.append(upload)
        attached = await self.store.attach_uploads(
            conversation_id, [u.id for u in uploads], self.clock()
        )
        for upload in uploads:
            if upload.id not in attached:
                hours = self.unattached_grace / timedelta(hours=1)
                raise InvalidInput(
                    f"The upload {upload.id} has expired: it was not sent within {hours:g} "
                    "hours of uploading. Please attach it again."
                )
        deadline = time.monotonic() + self.timeout
        return [(await self._settled(u, deadline)).attachment() for u in uploads]

    async def _settled(self, upload: Upload, deadline: float) -> Upload:
        job = self._jobs.get(upload.id)
        if job is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(job), max(0.0, deadline - time.monotonic()))
        while True:
            current = await self.store.get_upload(upload.id)
            if current is None:
                raise InvalidInput(f"The upload {upload.id} is gone.")
            if current.status is not UploadStatus.PROCESSING:
                return current
            if time.monotonic() >= deadline:
                # Received by another replica that stopped, or slower than the limit.
                return dataclasses.replace(
                    current,
                    status=UploadStatus.FAILED,
                    result={"error": f"not read within {self.timeout:g} s"},
                )
            await asyncio.sleep(POLL_SECONDS)

    def path(self, upload: Upload) -> Path:
        return self.root / upload.path

    async def image_bytes(self, attachments: Sequence[dict[str, Any]]) -> list[tuple[str, bytes]]:
        """The cleaned images of these attachments (mime, bytes) that this replica has."""
        out = []
        for att in attachments:
            if att.get("kind") != "image":
                continue
            upload = await self.store.get_upload(str(att.get("upload_id")))
            if upload is None:
                continue
            path = self.path(upload)
            if path.is_file():
                out.append((upload.mime, await asyncio.to_thread(path.read_bytes)))
        return out

    # -- sweeping uploads never attached ----------------------------------------------

    async def sweep_unattached(self, now: datetime | None = None) -> Swept:
        """Give up on uploads no message attached within the grace period.

        The store marks them swept (any replica may; their transcripts are cleared) and
        forgets those swept over :data:`EXPIRED_KEPT` ago. Then this replica deletes
        the files on its own disk whose upload is swept or gone: an upload's file lives
        on the replica that received it, which removes it on its own sweep (as
        :meth:`~bot.chat.privacy.Privacy.sweep` does for erased conversations).
        """
        now = now or self.clock()
        cutoff = now - self.unattached_grace
        rows = 0
        while batch := await self.store.sweep_unattached(cutoff, now, SWEEP_BATCH):
            rows += len(batch)
            if len(batch) < SWEEP_BATCH:
                break
        await self.store.purge_swept(now - EXPIRED_KEPT)
        files = 0
        # Only files older than the grace: a younger one may not have its row yet.
        old = await asyncio.to_thread(_files_before, self.root, cutoff.timestamp())
        for start in range(0, len(old), SWEEP_BATCH):
            chunk = old[start : start + SWEEP_BATCH]
            live = await self.store.live_uploads([path.stem for path in chunk])
            dead = [path for path in chunk if path.stem not in live]
            files += await asyncio.to_thread(_unlink, dead)
        return Swept(rows, files)

    async def drain(self, timeout: float = 30.0) -> None:
        if self._jobs:
            await asyncio.wait(set(self._jobs.values()), timeout=timeout)


def _files_before(root: Path, cutoff: float) -> list[Path]:
    """Upload files (``<conversation>/<upload>.<ext>``) last written before ``cutoff``."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for folder in root.iterdir():
            if not (_ID.fullmatch(folder.name) and folder.is_dir()):
                continue  # .incoming, and anything that is not a conversation's folder
            with contextlib.suppress(FileNotFoundError):  # erased meanwhile
                for path in folder.iterdir():
                    if _ID.fullmatch(path.stem) and _older(path, cutoff):
                        found.append(path)
    return found


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _unlink(paths: Sequence[Path]) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
