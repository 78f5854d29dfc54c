"""The ``supportbot`` command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from bot import __version__
from bot.errors import SupportBotError
from bot.settings import ENV_PREFIX, Settings, settings_help

app = typer.Typer(
    name="supportbot",
    help="Self-hostable customer-support assistant: grounded answers from your knowledge "
    "base, honest escalation to people.",
    epilog="Configuration (environment variables or a .env file):\n\n"
    + settings_help().replace("\n", "\n\n"),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def describe(error: ValidationError, env: bool = False) -> str:
    """One line per invalid setting: ``name: what is wrong`` (the variable name if ``env``)."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        if env:
            name = f"{ENV_PREFIX}{name.upper()}"
        lines.append(f"  {name}: {item['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def load_settings(ctx: typer.Context) -> Settings:
    """The settings built once by the root callback."""
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def _version(value: bool) -> None:
    if value:
        typer.echo(f"supportbot {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    try:
        ctx.obj = Settings()
    except ValidationError as exc:
        typer.echo(f"supportbot: invalid configuration:\n{describe(exc, env=True)}", err=True)
        raise typer.Exit(2) from exc


def _register() -> None:
    # Importing the command modules registers their commands on ``app``.
    from bot.cli import agent, ask, check, demo, erase, evaluate, ingest, serve  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except SupportBotError as exc:
        typer.echo(f"supportbot: {exc}", err=True)
        sys.exit(1)
    except ValidationError as exc:  # an option that overrides a setting (e.g. --collection)
        typer.echo(f"supportbot: invalid option:\n{describe(exc)}", err=True)
        sys.exit(2)
