"""The perception seams: one method each, blocking (callers run them in a thread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image


@dataclass(frozen=True)
class Transcript:
    text: str  # empty when nothing was said (silence, noise)
    confidence: float  # 0..1
    speech_s: float  # seconds of speech found by voice-activity detection
    dropped: int = 0  # segments dropped as likely hallucinations


@dataclass(frozen=True)
class ImageText:
    text: str  # lines in reading order, one per line; empty when none was found
    confidence: float  # 0..1
    lines: int


class Transcriber(Protocol):
    def transcribe(self, samples: npt.NDArray[np.float32]) -> Transcript:
        """Transcribe 16 kHz mono samples (-1..1)."""
        ...


class ImageReader(Protocol):
    def read(self, image: Image.Image) -> ImageText:
        """The text on an image (a screenshot of an app or a web page)."""
        ...
