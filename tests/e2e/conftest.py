from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.browser import launch
from tests.e2e.server import ServerProcess
from tests.mediagen import resample, speak, wav_bytes
from tests.stubs.openai_stub import StubServer, free_port

SPOKEN_Q = "I forgot my password. How do I reset it?"  # what the fake microphone says


@pytest.fixture(scope="session")
def host_port():
    """The port of a stand-in customer website on another origin (tests/e2e/test_widget.py)."""
    return free_port()


@pytest.fixture(scope="session")
def stub():
    with StubServer() as server:
        yield server


@pytest.fixture(scope="session")
def server(tmp_path_factory, stub, host_port):
    """The demo server with the stub as its ``mini`` tier and no ``large`` tier."""
    env = {
        "SUPPORTBOT_MINI": "openai:stub-mini",
        "SUPPORTBOT_MINI_BASE_URL": stub.base_url,
        "SUPPORTBOT_LARGE": "none",
        "SUPPORTBOT_MODEL_RETRIES": "0",
        "SUPPORTBOT_ALLOWED_ORIGINS": f"https://shop.example.com,http://127.0.0.1:{host_port}",
        # The stub stands in for a vision model: screenshots reach it as image parts.
        "SUPPORTBOT_VISION_MODELS": "stub-mini",
    }
    with ServerProcess(tmp_path_factory.mktemp("server"), env) as process:
        yield process


@pytest.fixture(scope="session")
def after_hours_server(tmp_path_factory):
    """The demo server outside its business hours (open one hour, two days from now)."""
    from datetime import UTC, datetime, timedelta

    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
        (datetime.now(UTC) + timedelta(days=2)).weekday()
    ]
    env = {"SUPPORTBOT_BUSINESS_HOURS": f"{day} 09:00-10:00", "SUPPORTBOT_TIMEZONE": "UTC"}
    with ServerProcess(tmp_path_factory.mktemp("after-hours"), env) as process:
        yield process


@pytest.fixture(autouse=True)
def _fresh_stub(request):
    if {"stub", "server"} & set(request.fixturenames):
        request.getfixturevalue("stub").reset()


@pytest.fixture(scope="session")
def fake_microphone(tmp_path_factory):
    """What Chromium's fake microphone plays: a second of silence, then a spoken question."""
    samples = resample(*speak(SPOKEN_Q), 48_000)
    silence = np.zeros(48_000, dtype=np.float32)
    path = tmp_path_factory.mktemp("mic") / "question.wav"
    path.write_bytes(wav_bytes(np.concatenate([silence, samples, silence, silence]), 48_000))
    return path


# Module scope: Playwright's sync API keeps an event loop running in this thread while it
# lives, and the async tests of other modules need the thread's loop to themselves.
@pytest.fixture(scope="module")
def browser(fake_microphone):
    with sync_playwright() as playwright:
        browser = launch(playwright, fake_microphone)
        yield browser
        browser.close()


TWILIO_TOKEN = "test-auth-token-0123456789abcdef"
TRANSFER_TO = "+15550100200"


@pytest.fixture(scope="session")
def phone_server(tmp_path_factory):
    """The demo server (embedded extractive answerer) taking Twilio calls."""
    env = {
        "SUPPORTBOT_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "SUPPORTBOT_PHONE_TRANSFER": TRANSFER_TO,
        # Every host name answered (a deployment may allow them all): the telephony
        # routes must still not trust Host (test_phone's forged-Host test).
        "SUPPORTBOT_ALLOWED_HOSTS": "*",
    }
    process = ServerProcess(tmp_path_factory.mktemp("phone"), env)
    # Telephony needs the URL Twilio calls; the fake Twilio calls the server directly.
    process.env["SUPPORTBOT_PUBLIC_URL"] = process.url
    with process:
        yield process
