"""Decode an uploaded image for real, then keep only its pixels.

Pillow reads the header first, so the pixel cap is checked before anything is
decompressed (a 1 kB PNG can claim 100 000 × 100 000 pixels). Then the whole image
is decoded (a truncated file fails here, not later in OCR), turned upright by its
EXIF orientation, and re-encoded from bare pixels: EXIF (GPS included), XMP, ICC
profiles and text chunks do not survive. Blocking: call it in a worker thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.errors import UploadRefused
from bot.media.sniff import IMAGE_FORMATS

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
    image: Image.Image  # the cleaned pixels (RGB or L), for the image reader


def clean_image(source: Path, target_stem: Path, *, max_pixels: int) -> CleanImage:
    """Decode ``source`` and write the cleaned image next to ``target_stem`` (the
    suffix is chosen here). Raises :class:`UploadRefused`."""
    try:
        with Image.open(source) as img:
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
            img.seek(0)  # an animated PNG or WebP: the first frame
            img.load()
            upright = ImageOps.exif_transpose(img)
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
    mode = (
        "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
    )
    if upright.mode == "L":
        mode = "L"
    pixels = upright.convert(mode)
    fmt, mime, suffix = keep
    if fmt == "JPEG" and pixels.mode == "RGBA":
        pixels = pixels.convert("RGB")
    # Bare pixels: a new image has no info dict, so no metadata can ride along.
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    path = target_stem.with_suffix(suffix)
    partial = path.with_name(path.name + ".part")
    try:
        if fmt == "JPEG":
            bare.save(partial, format="JPEG", quality=90)
        else:
            bare.save(partial, format="PNG", optimize=False)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    rgb = bare if bare.mode in ("RGB", "L") else bare.convert("RGB")
    return CleanImage(path, mime, bare.width, bare.height, rgb)


def _reason(exc: BaseException, source: Path) -> str:
    if isinstance(exc, UnidentifiedImageError):  # its message names our temporary file
        return "not a readable image"
    text = str(exc).replace(str(source), "the file").strip() or type(exc).__name__
    return text[:120]
