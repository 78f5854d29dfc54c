"""Debian's Chromium driven by Playwright (never ``playwright install``).

The flags keep Chromium off the network it cannot reach here, and give it a fake
microphone that plays a WAV file, so a voice note can be recorded for real.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def launch(playwright, fake_audio: Path | None = None):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"the widget tests need Debian's Chromium at {CHROMIUM}: `make browser` installs it"
        )
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*FLAGS]
        + ([f"--use-file-for-fake-audio-capture={fake_audio}%noloop"] if fake_audio else []),
    )
