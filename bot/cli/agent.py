"""``supportbot agent add|list|remove|revoke|passwd``: staff accounts, run on the server's
database by an operator.

``revoke`` signs an agent out everywhere (a lost laptop, a leaked token); ``remove`` and
``passwd`` do too. Open console sockets of the agent stop at their next action, or within
a heartbeat (30 s) when they only listen. Names are matched as sign-in matches them
(``CAROL`` finds ``carol``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from bot.cli import app, load_settings

if TYPE_CHECKING:
    from bot.store.agent_rows import Agent
    from bot.store.sql import SqlStore

T = TypeVar("T")

agent_app = typer.Typer(help="Staff accounts for the console.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")


@agent_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's name, shown to customers.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from standard input (never from the command line).",
        ),
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="May create other agents.")] = False,
) -> None:
    """Create an agent who can log in to the console."""
    from bot.chat.agents import create_agent
    from bot.store.sql import SqlStore

    if not password_stdin:
        raise typer.BadParameter("pass the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = load_settings(ctx)

    async def run() -> None:
        store = SqlStore(settings.database)
        try:
            await store.start()
            try:
                await create_agent(store, name, password, "admin" if admin else "agent")
            except ValueError as exc:
                typer.echo(f"supportbot: {exc}", err=True)
                raise typer.Exit(1) from exc
        finally:
            await store.close()

    asyncio.run(run())
    typer.echo(f"agent {name} added ({'admin' if admin else 'agent'})")


def _read_password(password_stdin: bool) -> str:
    if not password_stdin:
        raise typer.BadParameter("pass the password on standard input with --password-stdin")
    return sys.stdin.readline().rstrip("\r\n")


def _on_store(ctx: typer.Context, work: Callable[[SqlStore], Awaitable[T]]) -> T:
    """Run ``work`` on the configured database; a ``ValueError`` or ``InvalidInput`` it
    raises is printed as ``supportbot: …`` with exit status 1."""
    from bot.errors import InvalidInput
    from bot.store.sql import SqlStore

    settings = load_settings(ctx)

    async def run() -> T:
        store = SqlStore(settings.database)
        try:
            await store.start()
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except (ValueError, InvalidInput) as exc:
        typer.echo(f"supportbot: {exc}", err=True)
        raise typer.Exit(1) from exc


async def _named(store: SqlStore, name: str) -> Agent:
    agent = await store.agent_by_name(name)
    if agent is None:
        raise ValueError(f"no agent named {name!r}")
    return agent


NameArgument = Annotated[str, typer.Argument(help="The agent's name (any case).")]


@agent_app.command("list")
def list_agents(ctx: typer.Context) -> None:
    """Every agent: name, role and open sessions."""

    async def work(store: SqlStore) -> list[tuple[Agent, int]]:
        return await store.agents()

    for agent, sessions in _on_store(ctx, work):
        typer.echo(f"{agent.name}\t{agent.role}\t{sessions} session{'s' * (sessions != 1)}")


@agent_app.command("remove")
def remove(ctx: typer.Context, name: NameArgument) -> None:
    """Delete an agent and end its sessions (its conversations keep its name)."""

    async def work(store: SqlStore) -> tuple[str, list[str]]:
        agent = await _named(store, name)
        await store.remove_agent(agent.id)
        return agent.name, await store.owned_by(agent.name)

    removed, owned = _on_store(ctx, work)
    typer.echo(f"agent {removed} removed")
    if owned:
        typer.echo(
            f"supportbot: {removed} still owned {len(owned)} conversation(s): {', '.join(owned)}",
            err=True,
        )


@agent_app.command("revoke")
def revoke(ctx: typer.Context, name: NameArgument) -> None:
    """Sign an agent out everywhere: every session ends, open consoles are closed."""

    async def work(store: SqlStore) -> tuple[str, int]:
        agent = await _named(store, name)
        return agent.name, await store.revoke_sessions(agent.id)

    revoked, count = _on_store(ctx, work)
    typer.echo(f"agent {revoked} signed out ({count} session{'s' * (count != 1)} ended)")


@agent_app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: NameArgument,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the new password from standard input (never from the command line).",
        ),
    ] = False,
) -> None:
    """Set a new password; the agent's sessions end."""
    from bot.chat.agents import reset_password

    password = _read_password(password_stdin)

    async def work(store: SqlStore) -> str:
        return (await reset_password(store, name, password)).name

    typer.echo(f"password of agent {_on_store(ctx, work)} changed; its sessions ended")
