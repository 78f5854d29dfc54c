"""G.711 μ-law at 8 kHz, the telephone's audio, to and from the 16 kHz float samples that
Whisper reads and piper writes. Pure numpy; no I/O.

μ-law is the ITU-T G.711 table (the one Twilio Media Streams carry: ``audio/x-mulaw``,
8000 Hz, mono). Rate changes go through a windowed-sinc low-pass, so 16 kHz speech is
band-limited before it is decimated (no aliasing into the 4 kHz telephone band) and
8 kHz speech is interpolated without mirror images.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32]
PHONE_RATE = 8000
MODEL_RATE = 16000
_BIAS = 0x84
_CLIP = 32635


def _decode_table() -> NDArray[np.int16]:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa << 3) + _BIAS) << exponent
    return np.where(sign, _BIAS - magnitude, magnitude - _BIAS).astype(np.int16)


_DECODE = _decode_table()


def decode(data: bytes) -> NDArray[np.int16]:
    """μ-law bytes → 16-bit PCM samples."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def encode(pcm: NDArray[np.int16]) -> bytes:
    """16-bit PCM samples → μ-law bytes."""
    samples = pcm.astype(np.int32)
    sign = np.where(samples < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(samples), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes: NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes.tobytes()


def _lowpass(cutoff: float, taps: int = 127) -> Float:
    """A windowed-sinc FIR with ``cutoff`` as a fraction of the sample rate."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    out: Float = (kernel / kernel.sum()).astype(np.float32)
    return out


_HALF_BAND = _lowpass(0.23)  # just under the 8 kHz signal's 4 kHz Nyquist, at 16 kHz


def phone_to_model(data: bytes) -> Float:
    """μ-law 8 kHz → float32 16 kHz in [-1, 1] (what the Transcriber takes)."""
    return upsample(decode(data))


def upsample(samples: NDArray[np.int16]) -> Float:
    """16-bit PCM at 8 kHz → float32 16 kHz in [-1, 1]."""
    pcm = samples.astype(np.float32) / 32768.0
    up = np.zeros(pcm.size * 2, dtype=np.float32)
    up[::2] = pcm * 2  # zero-stuffing halves the level; the filter's gain puts it back
    return np.convolve(up, _HALF_BAND, mode="same").astype(np.float32)


def model_to_phone(samples: Float, rate: int = MODEL_RATE) -> bytes:
    """float samples at ``rate`` (16 kHz, or piper's 22.05 kHz) → μ-law 8 kHz."""
    x = np.asarray(samples, dtype=np.float32)
    if rate != PHONE_RATE:
        x = np.convolve(x, _lowpass(0.46 * PHONE_RATE / rate), mode="same")
        positions = np.arange(0, x.size, rate / PHONE_RATE)
        x = np.interp(positions, np.arange(x.size), x).astype(np.float32)
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)
    return encode(pcm)
