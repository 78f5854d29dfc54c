from __future__ import annotations

import pytest

from tests.e2e.server import ServerProcess
from tests.stubs.openai_stub import StubServer, free_port


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


@pytest.fixture(autouse=True)
def _fresh_stub(request):
    if {"stub", "server"} & set(request.fixturenames):
        request.getfixturevalue("stub").reset()
