"""Decode an uploaded voice note for real: 16 kHz mono, within a duration cap.

PyAV (FFmpeg) demuxes the container that the magic bytes claimed, decodes its first
audio stream and resamples to 16 kHz mono, the rate Whisper reads. The duration cap
is checked twice: against the container's header before decoding, and against the
samples actually decoded (headers lie), so decoding stops at the cap. Packets that
do not decode (garbage frames in an MP3) are skipped and counted; a file in which
nothing decodes is refused. What is kept is a 16-bit PCM WAV of the decoded audio.
Blocking: call it in a worker thread.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt

from bot.errors import UploadRefused
from bot.media.sniff import AUDIO_FORMATS

RATE = 16_000
MIN_SECONDS = 0.1
# FFmpeg's demuxer names for what each sniffed format may really be.
_DEMUXERS = {
    "wav": {"wav"},
    "ogg": {"ogg"},
    "webm": {"matroska", "webm"},
    "mp3": {"mp3"},
    "m4a": {"mov", "mp4", "m4a"},
}
_CODECS = {"opus", "vorbis", "mp3", "mp3float", "aac", "alac", "flac"}  # plus pcm_*


@dataclass(frozen=True)
class CleanAudio:
    path: Path
    mime: str
    duration_s: float
    samples: npt.NDArray[np.float32]  # 16 kHz mono, -1..1
    skipped_packets: int


def clean_audio(source: Path, fmt: str, target_stem: Path, *, max_seconds: float) -> CleanAudio:
    """Decode ``source`` (sniffed as ``fmt``) and write a 16 kHz mono WAV."""
    try:
        samples, skipped = _decode(source, fmt, max_seconds)
    except UploadRefused:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        # FFmpeg's message names the file; the customer gets the reason, not our paths.
        reason = getattr(exc, "strerror", None) or str(exc).replace(str(source), "the file")
        raise UploadRefused(
            "malformed", f"The audio could not be decoded ({reason[:120] or 'no detail'})."
        ) from exc
    duration = len(samples) / RATE
    if duration < MIN_SECONDS:
        raise UploadRefused("malformed", "No audio could be decoded from this file.")
    path = target_stem.with_suffix(".wav")
    partial = path.with_name(path.name + ".part")
    try:
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes((samples * 32768.0).astype("<i2").tobytes())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return CleanAudio(path, "audio/wav", round(duration, 2), samples, skipped)


def _decode(source: Path, fmt: str, max_seconds: float) -> tuple[npt.NDArray[np.float32], int]:
    limit = int(max_seconds * RATE)
    pieces: list[npt.NDArray[Any]] = []
    count = skipped = 0
    with av.open(str(source), mode="r", metadata_errors="ignore") as container:
        names = set(container.format.name.split(","))
        if not names & _DEMUXERS[fmt]:
            raise UploadRefused(
                "unsupported_type",
                f"Voice notes must be {', '.join(AUDIO_FORMATS)}; this file is "
                f"{container.format.long_name or container.format.name}.",
            )
        if not container.streams.audio:
            raise UploadRefused("malformed", "The file has no audio in it.")
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        if codec not in _CODECS and not codec.startswith("pcm_"):
            raise UploadRefused(
                "unsupported_type",
                f"The audio codec {codec} is not one we take (Opus, MP3, AAC, PCM).",
            )
        if container.duration is not None and container.duration / 1e6 > max_seconds + 1:
            raise UploadRefused("too_long", _too_long(container.duration / 1e6, max_seconds))
        # 16-bit samples, as faster-whisper's own decoder makes them: the transcript of an
        # upload is the one Whisper gives for the file itself, and the WAV kept is lossless.
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                skipped += 1
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    piece = out.to_ndarray().reshape(-1)
                    pieces.append(piece)
                    count += len(piece)
            if count > limit:
                raise UploadRefused("too_long", _too_long(None, max_seconds))
        for out in resampler.resample(None):  # flush
            pieces.append(out.to_ndarray().reshape(-1))
    pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    samples = pcm.astype(np.float32) / 32768.0
    if len(samples) > limit:
        raise UploadRefused("too_long", _too_long(len(samples) / RATE, max_seconds))
    return samples, skipped


def _too_long(seconds: float | None, limit: float) -> str:
    actual = f" is {seconds:.0f} s long;" if seconds is not None else " is longer than that;"
    return (
        f"Voice notes are limited to {limit:g} seconds; this one{actual} please send a shorter one."
    )
