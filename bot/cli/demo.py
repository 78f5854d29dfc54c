"""``supportbot demo``: the demo knowledge base, ingested once, in a terminal chat.

The web server, widget and console arrive with the next issues; until then the
demo is a chat in the terminal over the same answer path.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from bot.cli import app, load_settings


def demo_knowledge_dir() -> Path:
    """``./knowledge`` when run from a checkout, else the one beside the package."""
    for candidate in (Path.cwd() / "knowledge", Path(__file__).resolve().parents[2] / "knowledge"):
        if candidate.is_dir():
            return candidate
    raise typer.BadParameter(
        "the demo knowledge base (knowledge/) was not found; run from the project checkout"
    )


@app.command()
def demo(ctx: typer.Context) -> None:
    """Ingest the demo knowledge base if the index is empty, then chat in the terminal."""
    from bot.errors import InvalidInput
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    runtime = Runtime(settings)
    if runtime.store.count() == 0:
        source = demo_knowledge_dir()
        typer.echo(f"Loading the demo help center from {source} (first run only)…")
        typer.echo(runtime.ingestor.run([source]).summary())
        runtime.knowledge.refresh()
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
            # Say plainly what is missing: nobody is behind this escalation yet.
            typer.echo(
                f"     (escalated: {outcome.reason}. The staff queue and console are "
                "not built yet, so in this terminal demo nobody will pick this up.)"
            )
        typer.echo("")
