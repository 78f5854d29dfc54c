"""Where a caller's turn starts and ends: voice-activity detection on the phone line.

Pure and synchronous (no I/O, no clock): :class:`TurnDetector` is fed the caller's
8 kHz samples as they arrive and answers with events, timed in milliseconds of audio
since the call began. The call adapter acts on them: :class:`SpeechStarted` stops the
bot talking (barge-in), :class:`TurnEnded` carries the utterance to Whisper.

Energy against an adaptive noise floor is enough to find the edges of speech on a
phone line and costs microseconds per frame; whether an utterance holds words is
Whisper's call (its own Silero VAD drops noise, and an empty transcript is ignored).
The floor is the quietest frame of the last few seconds (minimum statistics): speech
always has quiet moments between words, so it never lifts the floor, while a line that
gets steadily louder (a car, a fan) becomes the new floor within ``FLOOR_WINDOW_MS``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bot.telephony.mulaw import PHONE_RATE

FRAME = PHONE_RATE // 50  # 20 ms, Twilio's frame
FRAME_MS = 20
SPEECH_OVER_FLOOR_DB = 12.0  # a frame this far above the noise floor is voiced…
MIN_SPEECH_DB = -50.0  # …and never quieter than this (dBFS)
FLOOR_START_DB = -60.0  # until the first FLOOR_SETTLE_MS of the call are in
FLOOR_SETTLE_MS = 200
FLOOR_WINDOW_MS = 3000


@dataclass(frozen=True)
class SpeechStarted:
    at_ms: int  # where the first voiced frame of the onset began


@dataclass(frozen=True)
class TurnEnded:
    audio: NDArray[np.int16]  # the utterance at 8 kHz, with a little audio either side
    speech_end_ms: int  # where the last voiced frame ended
    ended_ms: int  # where the silence that ended the turn was long enough


Event = SpeechStarted | TurnEnded


def level_db(frame: NDArray[np.int16]) -> float:
    """Loudness of a frame in dBFS (digital silence: -120)."""
    x = frame.astype(np.float64) / 32768.0
    return float(10 * np.log10(np.mean(x * x) + 1e-12))


class TurnDetector:
    """Speech onset after ``onset_ms`` of mostly voiced frames; the turn ends after
    ``end_silence_ms`` without voice. An utterance with less than ``min_speech_ms``
    of voice (a click, a cough) is dropped; one longer than ``max_turn_ms`` is cut."""

    def __init__(
        self,
        *,
        end_silence_ms: int = 700,
        onset_ms: int = 100,
        min_speech_ms: int = 200,
        max_turn_ms: int = 30_000,
        pad_ms: int = 200,
    ) -> None:
        self.end_frames = max(1, end_silence_ms // FRAME_MS)
        self.onset_frames = max(1, onset_ms // FRAME_MS)
        self.min_voiced = max(1, min_speech_ms // FRAME_MS)
        self.max_frames = max_turn_ms // FRAME_MS
        self.pad_frames = pad_ms // FRAME_MS
        self._levels: deque[float] = deque(maxlen=FLOOR_WINDOW_MS // FRAME_MS)
        self._pending = np.zeros(0, dtype=np.int16)
        self._frames = 0  # frames seen since the call began
        self._recent: list[tuple[NDArray[np.int16], bool]] = []  # before an onset
        self._turn: list[NDArray[np.int16]] | None = None  # frames of the current turn
        self._voiced = 0
        self._silent_run = 0
        self._last_voiced_end = 0

    @property
    def in_speech(self) -> bool:
        return self._turn is not None

    def feed(self, pcm: NDArray[np.int16]) -> list[Event]:
        """Samples in (any length); the events they complete, in order."""
        data = np.concatenate([self._pending, pcm]) if len(self._pending) else pcm
        whole = len(data) // FRAME * FRAME
        self._pending = data[whole:].copy()
        events: list[Event] = []
        for start in range(0, whole, FRAME):
            event = self._frame(data[start : start + FRAME])
            if event is not None:
                events.append(event)
        return events

    @property
    def floor(self) -> float:
        """The noise floor in dBFS."""
        if len(self._levels) < FLOOR_SETTLE_MS // FRAME_MS:
            return min(FLOOR_START_DB, *self._levels)
        return min(self._levels)

    def _is_voiced(self, frame: NDArray[np.int16]) -> bool:
        db = level_db(frame)
        self._levels.append(db)
        return db > max(self.floor + SPEECH_OVER_FLOOR_DB, MIN_SPEECH_DB)

    def _frame(self, frame: NDArray[np.int16]) -> Event | None:
        self._frames += 1
        now = self._frames * FRAME_MS
        voiced = self._is_voiced(frame)
        if self._turn is None:
            self._recent.append((frame, voiced))
            del self._recent[: -(self.onset_frames + self.pad_frames + 1)]
            window = [v for _, v in self._recent[-(self.onset_frames + 1) :]]
            # Onset: the last onset_frames (+1 of slack for a dip) are almost all voiced.
            if voiced and sum(window) >= self.onset_frames:
                self._turn = [f for f, _ in self._recent]
                self._voiced = sum(window)
                self._silent_run = 0
                self._last_voiced_end = now
                self._recent = []
                return SpeechStarted(now - FRAME_MS * (len(window) - window.index(True)))
            return None
        self._turn.append(frame)
        if voiced:
            self._voiced += 1
            self._silent_run = 0
            self._last_voiced_end = now
        else:
            self._silent_run += 1
        if self._silent_run >= self.end_frames or len(self._turn) >= self.max_frames:
            return self._end(now)
        return None

    def _end(self, now: int) -> TurnEnded | None:
        assert self._turn is not None
        frames, voiced = self._turn, self._voiced
        self._turn = None
        # Keep a little of the silence after the last word: Whisper likes a soft ending.
        keep = len(frames) - max(0, self._silent_run - self.pad_frames)
        if voiced < self.min_voiced:
            return None
        return TurnEnded(np.concatenate(frames[:keep]), self._last_voiced_end, now)
