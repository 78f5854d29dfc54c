"""Voice notes are decoded for real to 16 kHz mono, within a duration cap."""

import wave

import numpy as np
import pytest

from bot.errors import UploadRefused
from bot.media.audio import clean_audio
from bot.media.sniff import sniff
from tests.mediagen import encode, speak, wav_bytes


@pytest.fixture(scope="module")
def speech():
    return speak("My notes stopped syncing and the app shows error E 2041.")


def _clean(tmp_path, data, max_seconds=120.0):
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    sniffed = sniff(data[:32])
    assert sniffed is not None and sniffed.kind == "audio"
    return clean_audio(src, sniffed.format, tmp_path / "out", max_seconds=max_seconds)


@pytest.mark.parametrize("fmt", ["webm", "ogg", "mp3", "m4a", "wav8k-mulaw"])
def test_every_accepted_format_becomes_16k_mono_wav(tmp_path, speech, fmt):
    samples, rate = speech
    cleaned = _clean(tmp_path, encode(samples, rate, fmt))
    assert cleaned.mime == "audio/wav"
    assert abs(cleaned.duration_s - len(samples) / rate) < 0.15
    with wave.open(str(cleaned.path)) as kept:
        assert (kept.getframerate(), kept.getnchannels(), kept.getsampwidth()) == (16000, 1, 2)
        assert abs(kept.getnframes() - len(cleaned.samples)) == 0
    assert np.abs(cleaned.samples).max() > 0.05  # real sound, not silence


def test_a_wav_longer_than_the_cap_is_refused_naming_the_limit(tmp_path):
    data = wav_bytes(np.zeros(16_000 * 5, dtype=np.float32), 16_000)
    with pytest.raises(UploadRefused) as refused:
        _clean(tmp_path, data, max_seconds=2)
    assert refused.value.code == "too_long" and "2 seconds" in str(refused.value)
    assert not list(tmp_path.glob("out*"))


def test_a_long_low_bitrate_file_is_refused_by_duration_not_bytes(tmp_path):
    # Ten minutes of Opus at 6 kb/s is ~0.5 MB: far under the byte cap, over 120 s.
    long = np.zeros(16_000 * 600, dtype=np.float32)
    data = encode(long, 16_000, "ogg", bitrate=6_000)
    assert len(data) < 1024 * 1024
    with pytest.raises(UploadRefused) as refused:
        _clean(tmp_path, data)
    assert refused.value.code == "too_long" and "120 seconds" in str(refused.value)


def test_a_header_that_lies_about_the_length_is_caught_while_decoding(tmp_path):
    data = bytearray(wav_bytes(np.zeros(16_000 * 5, dtype=np.float32), 16_000))
    # RIFF and data sizes claim 0xFFFFFFFF: FFmpeg cannot trust the header's duration.
    data[4:8] = b"\xff\xff\xff\xff"
    data[40:44] = b"\xff\xff\xff\xff"
    with pytest.raises(UploadRefused) as refused:
        _clean(tmp_path, bytes(data), max_seconds=2)
    assert refused.value.code == "too_long"


def test_an_mp3_with_garbage_frames_keeps_what_decodes(tmp_path, speech):
    samples, rate = speech
    data = bytearray(encode(samples, rate, "mp3"))
    rng = np.random.default_rng(7)
    middle = len(data) // 2
    data[middle : middle + 1500] = rng.integers(0, 256, 1500, dtype=np.uint8).tobytes()
    cleaned = _clean(tmp_path, bytes(data))
    assert 1.0 < cleaned.duration_s <= len(samples) / rate + 0.2


def test_an_mp3_that_is_all_garbage_is_refused(tmp_path):
    rng = np.random.default_rng(3)
    data = (
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    )
    with pytest.raises(UploadRefused) as refused:
        _clean(tmp_path, data)
    assert refused.value.code == "malformed"
    assert not list(tmp_path.glob("out*"))
