"""μ-law and the 8 kHz ↔ 16 kHz path of phone audio."""

from __future__ import annotations

import numpy as np
import pytest

from bot.perception.whisper import WhisperTranscriber
from bot.telephony import mulaw
from tests.mediagen import resample, speak


def test_every_code_survives_a_round_trip_and_known_values_decode():
    codes = bytes(range(256))
    back = mulaw.encode(mulaw.decode(codes))
    # 0x7F is μ-law's "negative zero": it decodes to 0, which encodes as 0xFF.
    assert [i for i in range(256) if back[i] != codes[i]] == [0x7F]
    assert mulaw.decode(bytes([0xFF, 0x00, 0x80])).tolist() == [0, -32124, 32124]


def test_quantisation_error_stays_within_g711_steps():
    pcm = np.arange(-32000, 32000, 7, dtype=np.int16)
    err = np.abs(mulaw.decode(mulaw.encode(pcm)).astype(np.int32) - pcm)
    # The step grows with the level: relative error under 1/16 above the smallest segment.
    loud = np.abs(pcm) > 256
    assert np.max(err[loud] / np.abs(pcm[loud])) < 1 / 16
    assert np.max(err[~loud]) <= 8


def tone(freq, rate, seconds=1.0):
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def level(x):
    return float(np.sqrt(np.mean(x[200:-200] ** 2)))


@pytest.mark.parametrize("rate", [16_000, 22_050])
def test_in_band_speech_frequencies_pass_and_keep_their_level(rate):
    for freq in (300, 1000, 3000):
        phone = mulaw.model_to_phone(tone(freq, rate), rate)
        assert len(phone) == pytest.approx(8000, abs=2)  # one second at 8 kHz
        back = mulaw.phone_to_model(phone)
        assert back.size == 2 * len(phone)
        assert level(back) == pytest.approx(level(tone(freq, 16_000)), rel=0.06)


def test_what_the_phone_cannot_carry_is_filtered_not_folded_back():
    # 6 kHz at 16 kHz would alias to 2 kHz if decimated without a low-pass.
    phone = mulaw.model_to_phone(tone(6000, 16_000))
    assert level(mulaw.decode(phone).astype(np.float32) / 32768) < 0.02


def test_whisper_understands_speech_that_went_through_the_phone_path():
    samples, rate = speak("How do I reset my password?")
    phone = mulaw.model_to_phone(samples, rate)
    heard = WhisperTranscriber(threads=1).transcribe(mulaw.phone_to_model(phone))
    assert "reset" in heard.text.lower() and "password" in heard.text.lower()
    # And the same audio the test harness uses elsewhere is the reference, not a stub.
    assert resample(samples, rate).size > 16_000
