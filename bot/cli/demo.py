"""``supportbot demo`` (the server on the demo help center) and ``supportbot chat``
(a terminal chat over the same answer path, no server)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import app, load_settings

if TYPE_CHECKING:
    from bot.runtime import Runtime


def demo_knowledge_dir() -> Path:
    """``./knowledge`` when run from a checkout, else the one beside the package."""
    for candidate in (Path.cwd() / "knowledge", Path(__file__).resolve().parents[2] / "knowledge"):
        if candidate.is_dir():
            return candidate
    raise typer.BadParameter(
        "the demo knowledge base (knowledge/) was not found; run from the project checkout"
    )


def ensure_demo_knowledge(runtime: Runtime) -> None:
    """Ingest ``knowledge/`` when the index is empty (the first run)."""
    if runtime.store.count() == 0:
        source = demo_knowledge_dir()
        typer.echo(f"Loading the demo help center from {source} (first run only)…")
        typer.echo(runtime.ingestor.run([source]).summary())
        runtime.knowledge.refresh()


@app.command()
def demo(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Ingest the demo help center if the index is empty, then serve the demo page."""
    from bot.cli.serve import run_server
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    runtime = Runtime(settings)
    ensure_demo_knowledge(runtime)
    run_server(settings, runtime, host, port)


@app.command()
def chat(ctx: typer.Context) -> None:
    """Chat with the bot in the terminal (no server; the demo help center if empty)."""
    from bot.errors import InvalidInput
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    runtime = Runtime(settings)
    ensure_demo_knowledge(runtime)
    typer.echo(
        "Ask a question about Nimbus Notes (the demo product). "
        "Try: 'how do I get a refund?', 'error E-2041 when syncing', "
        "'can I talk to a person?'. Empty line or Ctrl-D quits.\n"
    )
    interactive = sys.stdin.isatty()
    while True:
        try:
            question = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        try:
            outcome = asyncio.run(runtime.answer(question))
        except InvalidInput as exc:
            typer.echo(f"bot> {exc}\n")
            continue
        typer.echo(f"bot> {outcome.answer}")
        for c in outcome.citations:
            typer.echo(
                f"     [{c.n}] {c.title} — {c.source}" + (f"#{c.anchor}" if c.anchor else "")
            )
        if outcome.escalated:
            # Say plainly what is missing: the terminal chat has no staff queue.
            typer.echo(
                f"     (escalated: {outcome.reason}. This terminal chat has no staff queue "
                "behind it: nobody will pick this up here.)"
            )
        typer.echo("")
