"""``supportbot agent add NAME --password-stdin [--admin]``"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from bot.cli import app, load_settings

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
