"""A real ``supportbot`` server process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.stubs.openai_stub import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_until_ok(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll ``url`` until it answers 200; fail at once, with the log, if ``process`` exits."""

    def tail() -> str:
        return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited:\n{tail()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 in {timeout:g} s:\n{tail()}")


class ServerProcess:
    """``python -m bot demo`` (ingests the demo KB when empty) on a free port, or
    ``command="serve"`` as a deployment runs it."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, command: str = "demo"
    ) -> None:
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/chat"
        self.log = data_dir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "SUPPORTBOT_DATA_DIR": str(data_dir),
            "SUPPORTBOT_LOG_LEVEL": "INFO",
            # Every test client comes from 127.0.0.1, and a session's tests share one
            # server: the per-address limits would throttle the suite, not an abuser.
            # tests/e2e/test_hardening.py sets them low to test them.
            "SUPPORTBOT_IP_MESSAGES_PER_MINUTE": "100000",
            "SUPPORTBOT_MESSAGES_PER_MINUTE": "6000",
            "SUPPORTBOT_SOCKETS_PER_IP": "100000",
            "SUPPORTBOT_IP_CONVERSATIONS_PER_MINUTE": "100000",
            "SUPPORTBOT_IP_UPLOADS_PER_MINUTE": "100000",
            "SUPPORTBOT_UPLOADS_PER_MINUTE": "100000",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        self.start()
        self.wait_ready()
        return self

    def start(self) -> None:
        """Start the process (on the same port after a :meth:`crash`); not yet ready."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", self.command, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def crash(self) -> None:
        """SIGKILL: no drain, no goodbye frames, whatever was in flight is cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wait_ready(self, timeout: float = 180.0) -> None:
        assert self.process is not None
        wait_until_ok(f"{self.url}/readyz", self.process, self.log, timeout)

    def add_agent(self, name: str, password: str, *, admin: bool = False) -> None:
        """``supportbot agent add`` against this server's database, as an operator runs it."""
        args = [sys.executable, "-m", "bot", "agent", "add", name, "--password-stdin"]
        result = subprocess.run(
            [*args, "--admin"] if admin else args,
            input=password + "\n",
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
