"""``supportbot agent add|list|remove|revoke|passwd`` as an operator runs them (issue 19,
items 9 and 14): a real process on a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from bot.chat.agents import AgentService
from bot.store.sql import SqlStore
from tests.cli.test_cli import run

_NO_CHAT = SimpleNamespace(bus=None)  # sign-in and sessions use the store only


def _store(data_dir: Path) -> SqlStore:
    return SqlStore(f"sqlite:///{(data_dir / 'supportbot.db').resolve()}")


def _login(data_dir: Path, name: str, password: str) -> str | None:
    """A session token, as ``POST /api/agent/login`` gets one (None: refused)."""

    async def go() -> str | None:
        store = _store(data_dir)
        await store.start()
        try:
            return await AgentService(store, _NO_CHAT).login(name, password)  # type: ignore[arg-type]
        finally:
            await store.close()

    return asyncio.run(go())


def _signed_in(data_dir: Path, token: str) -> bool:
    async def go() -> bool:
        store = _store(data_dir)
        await store.start()
        try:
            return await AgentService(store, _NO_CHAT).authenticate(token) is not None  # type: ignore[arg-type]
        finally:
            await store.close()

    return asyncio.run(go())


def test_list_revoke_passwd_and_remove(tmp_path):
    assert (
        run(["agent", "add", "Carol", "--password-stdin"], tmp_path, "first password\n").returncode
        == 0
    )
    added = run(
        ["agent", "add", "dana", "--password-stdin", "--admin"], tmp_path, "dana password\n"
    )
    assert added.returncode == 0, added.stderr
    token = _login(tmp_path, "carol", "first password")  # any case signs in
    assert token is not None and _signed_in(tmp_path, token)

    listed = run(["agent", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["Carol\tagent\t1 session", "dana\tadmin\t0 sessions"]

    revoked = run(["agent", "revoke", "CAROL"], tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == "agent Carol signed out (1 session ended)"
    assert not _signed_in(tmp_path, token)

    token = _login(tmp_path, "Carol", "first password")
    changed = run(["agent", "passwd", "carol", "--password-stdin"], tmp_path, "second password\n")
    assert changed.returncode == 0, changed.stderr
    assert token is not None and not _signed_in(tmp_path, token)  # the reset ends sessions
    assert _login(tmp_path, "Carol", "first password") is None
    assert _login(tmp_path, "Carol", "second password") is not None

    short = run(["agent", "passwd", "carol", "--password-stdin"], tmp_path, "short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    no_stdin = run(["agent", "passwd", "carol"], tmp_path)
    assert no_stdin.returncode == 2 and "--password-stdin" in no_stdin.stderr

    removed = run(["agent", "remove", "Carol"], tmp_path)
    assert removed.returncode == 0 and removed.stdout.strip() == "agent Carol removed"
    assert _login(tmp_path, "Carol", "second password") is None
    assert run(["agent", "list"], tmp_path).stdout.splitlines() == ["dana\tadmin\t0 sessions"]


def test_unknown_and_look_alike_names_are_refused_by_name(tmp_path):
    for command in (["revoke", "nobody"], ["remove", "nobody"]):
        result = run(["agent", *command], tmp_path)
        assert result.returncode == 1 and "no agent named 'nobody'" in result.stderr
    assert (
        run(["agent", "add", "Alice", "--password-stdin"], tmp_path, "a password\n").returncode == 0
    )
    twin = run(["agent", "add", "alice", "--password-stdin"], tmp_path, "a password\n")
    assert twin.returncode == 1 and "an agent named 'Alice' exists already" in twin.stderr
    cyrillic = run(["agent", "add", "\u0410lice", "--password-stdin"], tmp_path, "a password\n")
    assert cyrillic.returncode == 1 and "mixes scripts" in cyrillic.stderr


def test_an_expired_session_is_not_listed_as_open(tmp_path):
    run(["agent", "add", "erin", "--password-stdin"], tmp_path, "erin password\n")

    async def expired_session() -> None:
        store = _store(tmp_path)
        await store.start()
        agent = await store.agent_by_name("erin")
        assert agent is not None
        await store.add_session(agent.id, "e" * 64, timedelta(seconds=-1))
        await store.close()

    asyncio.run(expired_session())
    assert run(["agent", "list"], tmp_path).stdout.splitlines() == ["erin\tagent\t0 sessions"]
