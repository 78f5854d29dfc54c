"""Schemathesis against the server's own OpenAPI schema: generated requests for every
HTTP route (valid and invalid by the schema, its coverage and fuzzing phases),
anonymous and with an admin's token; no answer may be a 5xx. A real server process
with phone calls on (otherwise the telephony routes answer 503 by design)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import ServerProcess

EXAMPLES = 30  # per route and phase
# About two minutes with its own server: in `make test-all`, out of the default suite.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    env = {"SUPPORTBOT_TWILIO_AUTH_TOKEN": "fuzz-auth-token"}
    process = ServerProcess(tmp_path_factory.mktemp("fuzz"), env)
    process.env["SUPPORTBOT_PUBLIC_URL"] = process.url  # telephony on needs it
    with process:
        process.add_agent("Admin", "fuzz-password", admin=True)
        yield process


def schemathesis(url: str, report: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    """``st run`` as an operator runs it: only the server-error check."""
    args = [str(Path(sys.executable).parent / "st"), "run", f"{url}/openapi.json"]
    args += ["--checks", "not_a_server_error", "--max-examples", str(EXAMPLES)]
    args += ["--report", "junit", "--report-junit-path", str(report), "--seed", "8"]
    for header in headers:
        args += ["--header", header]
    run = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    print(run.stdout[-1200:])  # schemathesis's summary: operations, test cases, failures
    return run


def _operations(report: Path) -> int:
    return len(ElementTree.parse(report).getroot().findall(".//testcase"))


def test_the_schema_describes_every_http_route(fuzzed):
    paths = httpx.get(f"{fuzzed.url}/openapi.json").json()["paths"]
    expected = {
        "/api/uploads",
        "/api/uploads/{upload_id}",
        "/api/conversations/{conversation_id}",
        "/api/agent/report",
        "/telephony/twilio/voice",
    }
    assert expected <= set(paths)
    upload = paths["/api/uploads"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_no_generated_request_makes_the_server_fail(fuzzed, tmp_path):
    report = tmp_path / "anonymous.xml"
    run = schemathesis(fuzzed.url, report)
    assert run.returncode == 0, run.stdout[-4000:]
    assert _operations(report) >= 17  # every route was exercised


def test_no_generated_request_of_an_admin_makes_the_server_fail(fuzzed, tmp_path):
    answer = httpx.post(
        f"{fuzzed.url}/api/agent/login", json={"name": "Admin", "password": "fuzz-password"}
    )
    assert answer.status_code == 200, answer.text
    report = tmp_path / "admin.xml"
    run = schemathesis(fuzzed.url, report, f"Authorization: Bearer {answer.json()['token']}")
    assert run.returncode == 0, run.stdout[-4000:]
    assert _operations(report) >= 17
