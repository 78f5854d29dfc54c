"""Reading screenshots with RapidOCR (PP-OCRv6 ONNX models bundled in the package).

Nothing is downloaded: ``rapidocr`` 3.x carries its detection and recognition
models. Lines come back top to bottom; a line below the score threshold is left
out rather than guessed at.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PIL import Image

from bot.errors import ModelUnavailableError
from bot.perception.base import ImageText

MIN_SCORE = 0.5


class RapidOcrReader:
    """Loaded once; one image at a time."""

    def __init__(self, *, threads: int = 1) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelUnavailableError("the package rapidocr is not installed") from exc
        self.engine: Any = RapidOCR(
            params={
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        self._lock = threading.Lock()

    def read(self, image: Image.Image) -> ImageText:
        pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]  # RapidOCR reads BGR arrays
        with self._lock:
            result = self.engine(np.ascontiguousarray(pixels))
        texts = list(result.txts or ())
        scores = [float(s) for s in (result.scores or ())]
        pairs = [(t.strip(), s) for t, s in zip(texts, scores, strict=False) if t.strip()]
        pairs = [(t, s) for t, s in pairs if s >= MIN_SCORE]
        if not pairs:
            return ImageText("", 0.0, 0)
        chars = sum(len(t) for t, _ in pairs)
        confidence = sum(len(t) * s for t, s in pairs) / chars
        return ImageText("\n".join(t for t, _ in pairs), round(confidence, 3), len(pairs))
