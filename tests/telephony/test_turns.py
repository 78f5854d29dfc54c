"""End-of-turn detection on phone audio: piper speech over line noise, as 8 kHz PCM."""

from __future__ import annotations

import numpy as np
import pytest

from bot.telephony import mulaw
from bot.telephony.turns import SpeechStarted, TurnDetector, TurnEnded
from tests.mediagen import speak

RATE = 8000


def noise(seconds, level=0.002, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, level, int(RATE * seconds)) * 32767).astype(np.int16)


@pytest.fixture(scope="module")
def utterance():
    """'How do I reset my password?' as a phone carries it (μ-law round trip)."""
    return mulaw.decode(mulaw.model_to_phone(*speak("How do I reset my password?")))


def speech_bounds(pcm):
    """First and last loud 20 ms frame of ``pcm``, in ms (the truth to compare with)."""
    frames = pcm[: len(pcm) // 160 * 160].astype(np.float32).reshape(-1, 160) / 32768
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)
    return loud[0] * 20, (loud[-1] + 1) * 20


def run(detector, pcm, chunk=160):
    events = []
    for i in range(0, len(pcm), chunk):
        events += detector.feed(pcm[i : i + chunk])
    return events


def test_one_utterance_is_one_turn_ending_after_the_configured_silence(utterance):
    lead = noise(1.0)
    pcm = np.concatenate([lead, utterance, noise(1.5, seed=1)])
    events = run(TurnDetector(end_silence_ms=700), pcm)
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    first, last = speech_bounds(utterance)
    started, ended = events
    assert abs(started.at_ms - (1000 + first)) <= 60
    assert abs(ended.speech_end_ms - (1000 + last)) <= 100
    assert ended.ended_ms - ended.speech_end_ms == 700
    # The utterance holds the speech and a little either side, not the whole call.
    assert len(utterance) <= len(ended.audio) <= len(utterance) + RATE // 2


def test_a_pause_shorter_than_the_end_of_turn_does_not_split_the_turn(utterance):
    pcm = np.concatenate([noise(0.5), utterance, noise(0.4, seed=2), utterance, noise(1.2)])
    events = run(TurnDetector(end_silence_ms=700), pcm)
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    pcm = np.concatenate([noise(0.5), utterance, noise(1.0, seed=2), utterance, noise(1.2)])
    events = run(TurnDetector(end_silence_ms=700), pcm)
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded] * 2


def test_chunk_size_does_not_change_the_events(utterance):
    pcm = np.concatenate([noise(0.6), utterance, noise(1.2)])
    by_frame = run(TurnDetector(), pcm)
    by_odd_chunks = run(TurnDetector(), pcm, chunk=123)
    assert [(type(e), getattr(e, "at_ms", None)) for e in by_frame] == [
        (type(e), getattr(e, "at_ms", None)) for e in by_odd_chunks
    ]
    assert np.array_equal(by_frame[-1].audio, by_odd_chunks[-1].audio)


def test_clicks_start_nothing_and_a_short_blip_is_not_a_turn():
    click = (np.sin(np.arange(480) / 3) * 12000).astype(np.int16)  # 60 ms
    events = run(TurnDetector(), np.concatenate([noise(0.5), click, noise(1.5)]))
    assert events == []
    blip = (np.sin(np.arange(1200) / 3) * 12000).astype(np.int16)  # 150 ms: onset, too short
    events = run(TurnDetector(min_speech_ms=200), np.concatenate([noise(0.5), blip, noise(1.5)]))
    assert [type(e) for e in events] == [SpeechStarted]


def test_a_line_that_gets_louder_becomes_the_new_floor(utterance):
    quiet, loud = noise(1.0, 0.001), noise(6.0, 0.02, seed=3)  # hiss up by 26 dB
    detector = TurnDetector(end_silence_ms=700)
    events = run(detector, np.concatenate([quiet, loud]))
    # The step is taken for speech at first, but the turn ends within the floor window…
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    assert events[1].ended_ms < 1000 + 3000 + 700 + 100
    # …and speech over the louder line is still found.
    over_noise = utterance + noise(len(utterance) / RATE, 0.02, seed=4)
    events = run(detector, np.concatenate([over_noise, noise(1.5, 0.02, seed=5)]))
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]


def test_a_turn_is_cut_at_the_maximum_length(utterance):
    long_speech = np.concatenate([utterance] * 6)  # no pause long enough to end it
    events = run(TurnDetector(max_turn_ms=4000), np.concatenate([noise(0.3), long_speech]))
    ends = [e for e in events if isinstance(e, TurnEnded)]
    assert ends and all(len(e.audio) <= 4000 * 8 + 160 * 12 for e in ends)
