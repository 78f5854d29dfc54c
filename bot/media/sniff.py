"""What a file is, from its first bytes (never from its name or a header). No I/O.

The answer is a claim to be confirmed by a real decode (:mod:`bot.media.images`,
:mod:`bot.media.audio`): magic bytes only decide which decoder gets to try.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.attachments import Kind

SNIFF_BYTES = 32  # enough for every signature below


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    format: str  # png | jpeg | webp | wav | ogg | webm | mp3 | m4a


IMAGE_FORMATS = ("PNG", "JPEG", "WebP")
AUDIO_FORMATS = ("WebM/Opus", "Ogg/Opus", "WAV", "MP3", "M4A")
ACCEPTED = "images (PNG, JPEG, WebP) and voice notes (WebM/Opus, Ogg/Opus, WAV, MP3, M4A)"


def sniff(head: bytes) -> Sniffed | None:
    """The type of a file whose first bytes are ``head``; None when it is none we take."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "jpeg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "webp")
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return Sniffed("audio", "wav")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "ogg")
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM (Matroska)
        return Sniffed("audio", "webm")
    if head[4:8] == b"ftyp":  # ISO BMFF: M4A (and MP4 with an audio track)
        return Sniffed("audio", "m4a")
    if head.startswith(b"ID3"):
        return Sniffed("audio", "mp3")
    # An MPEG audio frame: 11 sync bits, then a version and layer that exist.
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        version, layer = (head[1] >> 3) & 0x03, (head[1] >> 1) & 0x03
        if version != 0x01 and layer != 0x00:
            return Sniffed("audio", "mp3")
    return None
