"""Receive one file from a ``multipart/form-data`` body, capped while reading.

The body is parsed as it arrives (python-multipart's streaming parser), the file's
bytes go straight to a temporary file, and reading stops at the first byte past
the cap: a 1-hour WAV costs the server 10 MiB of disk and reading, not an hour of
audio. The type is sniffed from the first bytes of the file, so a file that is none
of the accepted types is refused before the rest of it arrives, and the cap that
applies is the one of its kind.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from bot.core.attachments import Kind
from bot.errors import UploadRefused
from bot.media.sniff import ACCEPTED, SNIFF_BYTES, Sniffed, sniff

MAX_FIELD_BYTES = 8 * 1024  # a form field that is not the file (ignored, but bounded)


@dataclass(frozen=True)
class Received:
    path: Path
    bytes: int
    sniffed: Sniffed


def mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


class _FilePart:
    """Parser callbacks that write the one file part to ``target``."""

    def __init__(self, target: Path, cap_for: Callable[[Kind | None], int]) -> None:
        self.target = target
        self.cap_for = cap_for
        self.out: BinaryIO | None = None
        self.size = 0
        self.head = b""
        self.sniffed: Sniffed | None = None
        self.files = 0
        self.field_bytes = 0
        self._header_field = b""
        self._header_value = b""
        self._is_file = False

    def on_part_begin(self) -> None:
        self._is_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_field.strip().lower() == b"content-disposition":
            _, params = parse_options_header(self._header_value)
            self._is_file = b"filename" in params
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        if self._is_file:
            self.files += 1
            if self.files > 1:
                raise UploadRefused("too_many_files", "Send one file per upload.")
            self.out = self.target.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            self.field_bytes += len(chunk)
            if self.field_bytes > MAX_FIELD_BYTES:
                raise UploadRefused(
                    "too_large", f"Form fields besides the file are limited to {MAX_FIELD_BYTES} B."
                )
            return
        assert self.out is not None
        if self.sniffed is None and len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self._decide()
        self.size += len(chunk)
        cap = self.cap_for(self.sniffed.kind if self.sniffed else None)
        if self.size > cap:
            kind = (
                f" for {'an image' if self.sniffed.kind == 'image' else 'audio'}"
                if (self.sniffed)
                else ""
            )
            raise UploadRefused("too_large", f"The file is larger than the {mib(cap)} limit{kind}.")
        self.out.write(chunk)  # page-cache writes of ≤64 KiB: cheaper than a thread hop

    def on_part_end(self) -> None:
        if self.out is not None and not self.out.closed:
            if self.sniffed is None:
                self._decide()
            self.out.close()

    def _decide(self) -> None:
        if not self.head:
            raise UploadRefused("malformed", "The file is empty (0 bytes).")
        self.sniffed = sniff(self.head)
        if self.sniffed is None:
            raise UploadRefused(
                "unsupported_type", f"This file is not of a type we take: send {ACCEPTED}."
            )

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


async def receive_file(
    body: AsyncIterator[bytes],
    content_type: str,
    target: Path,
    cap_for: Callable[[Kind | None], int],
) -> Received:
    """Stream the single file of a multipart ``body`` to ``target``.

    ``cap_for(kind)`` is the byte limit for a file of that kind (``None`` before the
    kind is known). Raises :class:`UploadRefused`; ``target`` is removed on any failure.
    """
    media_type, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise UploadRefused("no_file", "Send the file as multipart/form-data with one file field.")
    part = _FilePart(target, cap_for)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part.on_part_begin,
            "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value,
            "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )
    try:
        async for chunk in body:
            try:
                parser.write(chunk)
            except UploadRefused:
                raise
            except Exception as exc:  # the parser's own errors: a broken body
                raise UploadRefused("malformed", f"The multipart body is malformed: {exc}") from exc
        parser.finalize()
        if part.files == 0 or part.sniffed is None:
            if part.files and part.sniffed is None:
                raise UploadRefused("malformed", "The file is empty (0 bytes).")
            raise UploadRefused("no_file", "The form has no file in it.")
        if part.out is not None and not part.out.closed:
            raise UploadRefused("malformed", "The multipart body ended in the middle of the file.")
        return Received(target, part.size, part.sniffed)
    except BaseException:
        part.close()
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise
