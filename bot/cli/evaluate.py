"""``supportbot eval QUESTIONS.jsonl``"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import app, load_settings


@app.command("eval")
def evaluate_command(
    ctx: typer.Context,
    questions: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="JSON lines: id, question, kind, source, anchor, gold.",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep",
            help="Also show both escalation rates at thresholds "
            "0.20-0.80, to choose SUPPORTBOT_ANSWER_THRESHOLD for your knowledge "
            "base.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="One line per question.")
    ] = False,
) -> None:
    """Score the answer path on a questions file (ingests nothing itself).

    Prints hit@1 and hit@3 of the retrieved passages, the share of out-of-scope
    questions declined, the share of in-scope questions wrongly escalated, and
    latency p50/p95, with the shipped threshold.
    """
    from bot.evaluation import QuestionResult, evaluate, load_questions
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    runtime = Runtime(settings)
    items = load_questions(questions)

    def show(result: QuestionResult) -> None:
        if verbose:
            mark = {1: "H1", 2: "h2", 3: "h3"}.get(result.hit_rank or 0, "--")
            if result.question.kind == "out_of_scope":
                mark = "OK" if result.escalated else "!!"
            conf = f"{result.confidence:.3f}" if result.confidence is not None else "  -  "
            verdict = f"escalated:{result.reason}" if result.escalated else "answered"
            typer.echo(
                f"{result.question.id:>10} {result.question.kind:<12} {mark} conf {conf} {verdict}"
            )

    runtime.knowledge.search("warm up", 1)  # load the model before timing anything
    report = asyncio.run(evaluate(items, runtime.answer, show))
    metrics = report.metrics()
    metrics["threshold"] = settings.answer_threshold
    table = report.sweep([0.2 + 0.05 * i for i in range(13)]) if sweep else None
    if as_json:
        typer.echo(json.dumps({**metrics, "sweep": table} if table else metrics))
        return
    for key, value in metrics.items():
        typer.echo(f"{key:<28} {value}")
    if table:
        typer.echo("\nthreshold  in-scope wrongly escalated  out-of-scope declined")
        for row in table:
            typer.echo(
                f"{row['threshold']:>9.2f}  {row['in_scope_wrongly_escalated']:>26.3f}"
                f"  {row['out_of_scope_declined']:>21.3f}"
            )
