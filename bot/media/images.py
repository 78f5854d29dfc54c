"""Decode an uploaded image for real, then keep only its pixels.

Pillow reads the header first, so the pixel cap is checked before anything is
decompressed (a 1 kB PNG can claim 100 000 × 100 000 pixels). Then the whole image
is decoded (a truncated file fails here, not later in OCR), turned upright by its
EXIF orientation, emptied of its metadata and re-encoded: EXIF (GPS included), XMP,
ICC profiles, comments and text chunks do not survive. Blocking: call it in a worker
thread.

Memory: a 100 kB PNG of one colour can decode to 36 MP, 144 MB in Pillow's 4-byte
pixels, and six of them at once took a server from 0.9 to 4.5 GiB (issue 19). So a
process holds one full-size image at a time (:data:`_ONE_IMAGE`: cleaning and reading
queue for it), copies are dropped as soon as the next one exists, the reader gets the
cleaned file decoded again at no more than :data:`READ_PIXELS` (a full-HD screen)
instead of a full-size copy held while it waits its turn, and freed memory is handed
back to the system afterwards (glibc keeps it otherwise).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import UploadRefused
from bot.media.sniff import IMAGE_FORMATS

T = TypeVar("T")
# What the image reader gets at most: a full-HD screen, so the usual screenshot is read
# as it is. RapidOCR brings the longer side to 2,000 px anyway (a 4K screenshot is read at
# about 2 MP either way), and its detector's working memory grows with the pixels: about
# 400 MB at 2 MP, 800 MB at 4 MP (measured, the models loaded).
READ_PIXELS = 1920 * 1080
_ONE_IMAGE = threading.Lock()  # one full-size image in memory per process

# Pillow format → (format we keep, mime, suffix). WebP is kept as PNG: lossless and
# readable everywhere a console may show it.
_KEEP = {
    "PNG": ("PNG", "image/png", ".png"),
    "JPEG": ("JPEG", "image/jpeg", ".jpg"),
    "WEBP": ("PNG", "image/png", ".png"),
}


@dataclass(frozen=True)
class CleanImage:
    path: Path
    mime: str
    width: int
    height: int


def clean_image(source: Path, target_stem: Path, *, max_pixels: int) -> CleanImage:
    """Decode ``source`` and write the cleaned image next to ``target_stem`` (the
    suffix is chosen here). Raises :class:`UploadRefused`."""
    with _one_image():
        img, (fmt, mime, suffix) = _decode(source, max_pixels)
        pixels = _bare(img, fmt)
        try:
            path = target_stem.with_suffix(suffix)
            _save(pixels, path, fmt)
            return CleanImage(path, mime, pixels.width, pixels.height)
        finally:
            pixels.close()


def read_image(path: Path, read: Callable[[Image.Image], T]) -> T:
    """``read`` (the image reader) on the cleaned image at ``path``, decoded at no more
    than :data:`READ_PIXELS`, while no other image is in memory (blocking)."""
    with _one_image(), Image.open(path) as img:
        width, height = img.size
        if width * height > READ_PIXELS:
            scale = (READ_PIXELS / (width * height)) ** 0.5
            # draft: a JPEG decodes straight at 1/2, 1/4 or 1/8 of its size.
            img.thumbnail((max(1, int(width * scale)), max(1, int(height * scale))))
        img.load()
        return read(img)


@contextmanager
def _one_image() -> Iterator[None]:
    with _ONE_IMAGE:
        try:
            yield
        finally:
            _give_back()


def _decode(source: Path, max_pixels: int) -> tuple[Image.Image, tuple[str, str, str]]:
    """The first frame of ``source``, decoded whole and turned upright, and how to keep it."""
    try:
        img = Image.open(source)
        try:
            keep = _checked(img, max_pixels)
            img.seek(0)  # an animated PNG or WebP: the first frame
            img.load()
            ImageOps.exif_transpose(img, in_place=True)
        except BaseException:
            img.close()
            raise
        return img, keep
    except UploadRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise UploadRefused(
            "too_many_pixels",
            f"The image has more pixels than the limit of {max_pixels / 1e6:g} megapixels.",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        # Truncated data, broken chunks, bad Huffman tables: all "could not be decoded".
        raise UploadRefused(
            "malformed", f"The image could not be decoded ({_reason(exc, source)})."
        ) from exc


def _checked(img: Image.Image, max_pixels: int) -> tuple[str, str, str]:
    """How ``img`` is kept, from its header alone: nothing is decompressed yet."""
    keep = _KEEP.get(img.format or "")
    if keep is None:
        raise UploadRefused(
            "unsupported_type",
            f"Images must be {', '.join(IMAGE_FORMATS)}; this one is {img.format}.",
        )
    width, height = img.size
    if width * height > max_pixels:
        raise UploadRefused(
            "too_many_pixels",
            f"The image has {width} × {height} pixels; the limit is "
            f"{max_pixels / 1e6:g} megapixels.",
        )
    return keep


def _bare(img: Image.Image, fmt: str) -> Image.Image:
    """``img``'s pixels as L, RGB or RGBA in an image with no metadata (``img`` is closed).

    A conversion is a copy, so it happens only when the mode must change; the pixels
    are otherwise kept in place and their metadata emptied (``info`` is all a save reads
    besides what is passed to it, and :func:`_save` passes nothing)."""
    if img.mode == "L":
        mode = "L"
    elif img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        mode = "RGB" if fmt == "JPEG" else "RGBA"
    else:
        mode = "RGB"
    if img.mode == mode:
        pixels = img
    else:
        pixels = img.convert(mode)
        img.close()
    pixels.info.clear()
    return pixels


def _save(pixels: Image.Image, path: Path, fmt: str) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        if fmt == "JPEG":
            pixels.save(partial, format="JPEG", quality=90, exif=b"")
        else:
            pixels.save(partial, format="PNG", optimize=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        return None
    return trim


def _give_back() -> None:
    """Hand freed memory back to the system: glibc keeps what worker threads freed in
    their arenas, and after a few large images that stayed as gigabytes of RSS."""
    if (trim := _malloc_trim()) is not None:
        trim(0)


def _reason(exc: BaseException, source: Path) -> str:
    if isinstance(exc, UnidentifiedImageError):  # its message names our temporary file
        return "not a readable image"
    text = str(exc).replace(str(source), "the file").strip() or type(exc).__name__
    return text[:120]
