"""``supportbot ask "QUESTION"``"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from bot.cli import app, load_settings


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The customer's question.")],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON object: answer, citations, escalated, reason, tier."
        ),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Also print the decision path (scores, gate verdict, latency per stage).",
        ),
    ] = False,
) -> None:
    """Answer one question without a server, through the same path the server uses."""
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    runtime = Runtime(settings)
    outcome = asyncio.run(runtime.answer(question))
    if as_json:
        payload = outcome.to_dict()
        if explain:
            payload["decision"] = [
                {"stage": s.stage, "ms": s.ms, **s.detail} for s in outcome.decision
            ]
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    typer.echo(outcome.answer)
    if outcome.citations:
        typer.echo("\nSources:")
        for c in outcome.citations:
            where = f"{c.source}#{c.anchor}" if c.anchor else c.source
            typer.echo(f"  [{c.n}] {c.title} ({where}, score {c.score:.2f})")
    if outcome.escalated:
        typer.echo(f"\n(escalated: {outcome.reason})")
    if explain:
        typer.echo("\nDecision path:")
        for step in outcome.decision:
            typer.echo(f"  {step.stage:<18} {step.ms:>8.1f} ms  {json.dumps(step.detail)}")
