"""Debian's nginx with deploy/nginx.conf in front of local replicas (the scale-out tests).

The deployment's own file is used, with only its upstream (the compose service
``server``) replaced by the replicas' local ports and the listen port chosen here: what
is tested is the configuration a deployment runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.e2e.server import wait_until_ok
from tests.stubs.openai_stub import free_port

ROOT = Path(__file__).resolve().parents[2]


class Nginx:
    def __init__(self, workdir: Path, upstream_ports: list[int]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/chat"
        self.log = workdir / "error.log"
        self.upstream_ports = upstream_ports
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        conf = (ROOT / "deploy" / "nginx.conf").read_text()
        servers = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in self.upstream_ports
        )
        conf, found = re.subn(r"    server server:8000[^\n]*", servers, conf)
        assert found == 1, "deploy/nginx.conf no longer names the upstream `server:8000`"
        conf = conf.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        conf = conf.replace("worker_processes auto;", "worker_processes 1;")
        return conf

    def __enter__(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "nginx.conf").write_text(self.config())
        self.process = subprocess.Popen(
            [
                binary,
                "-p",
                str(self.workdir),
                "-c",
                str(self.workdir / "nginx.conf"),
                "-g",
                f"daemon off; pid {self.workdir / 'nginx.pid'}; error_log {self.log};",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        wait_until_ok(f"{self.url}/healthz", self.process, self.log, timeout)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
