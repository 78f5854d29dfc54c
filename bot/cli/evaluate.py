"""``supportbot eval QUESTIONS.jsonl``"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import app, load_settings

if TYPE_CHECKING:
    from bot.evaluation import Question
    from bot.evaluation.answers import WrittenAnswer
    from bot.evaluation.followups import FollowUp
    from bot.runtime import Runtime
    from bot.settings import Settings


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
    followups: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Also two-message conversations (JSON lines: id, first, then, target, "
            "kind followup|switch): the reply to `then` must answer from the target.",
        ),
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Also written model answers (JSON lines: id, faithful, unsupported, kind), "
            "served through the OpenAI stub as the mini tier: faithful ones should reach "
            "the customer, unsupported ones should be stopped by the grounding gate.",
        ),
    ] = None,
) -> None:
    """Score the answer path on a questions file (ingests nothing itself).

    Prints hit@1 and hit@3 of the retrieved passages, the share of in-scope questions
    answered and of out-of-scope questions declined, the share of correct answers whose
    text holds the section's gold phrase, and latency p50/p95, with the shipped settings.
    """
    from bot.evaluation import QuestionResult, by_id, evaluate, load_questions
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    runtime = Runtime(settings)
    items = load_questions(questions)
    # Check every file before the first (slow) turn: a typo fails at once.
    conversations = _load_followups(followups, by_id(items))
    written = _load_answers(answers, by_id(items))

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
    metrics: dict[str, Any] = report.metrics()
    metrics["threshold"] = settings.answer_threshold
    if conversations:
        metrics["followups"] = _run_followups(runtime, conversations, verbose)
    if written:
        metrics["answers"] = _run_answers(settings, written, verbose)
    table = report.sweep([0.2 + 0.05 * i for i in range(13)]) if sweep else None
    if as_json:
        typer.echo(json.dumps({**metrics, "sweep": table} if table else metrics))
        return
    for key, value in metrics.items():
        if isinstance(value, dict):
            typer.echo(f"\n{key}:")
            for inner, figure in value.items():
                typer.echo(f"  {inner:<26} {figure}")
        else:
            typer.echo(f"{key:<28} {value}")
    if table:
        typer.echo("\nthreshold  in-scope wrongly escalated  out-of-scope declined")
        for row in table:
            typer.echo(
                f"{row['threshold']:>9.2f}  {row['in_scope_wrongly_escalated']:>26.3f}"
                f"  {row['out_of_scope_declined']:>21.3f}"
            )


def _load_followups(path: Path | None, questions: dict[str, Question]) -> list[FollowUp]:
    from bot.evaluation.followups import load_followups

    return load_followups(path, questions) if path else []


def _load_answers(path: Path | None, questions: dict[str, Question]) -> list[WrittenAnswer]:
    from bot.evaluation.answers import load_answers

    return load_answers(path, questions) if path else []


def _run_followups(runtime: Runtime, items: list[FollowUp], verbose: bool) -> dict[str, Any]:
    from bot.evaluation.followups import FollowUpResult, History, evaluate_followups

    def show(result: FollowUpResult) -> None:
        if verbose:
            mark = "ok" if result.hit3 else "!!"
            verdict = f"escalated:{result.reason}" if result.escalated else "answered"
            typer.echo(f"{result.followup.id:>10} {result.followup.kind:<9} {mark} {verdict}")

    async def turn(text: str, history: History) -> Any:
        return await runtime.answer(text, history=history)

    return asyncio.run(evaluate_followups(items, turn, show)).metrics()


def _run_answers(settings: Settings, items: list[WrittenAnswer], verbose: bool) -> dict[str, Any]:
    """The written answers through the OpenAI stub as the only tier (``mini``)."""
    from bot.evaluation.answers import AnswerResult, evaluate_answers
    from bot.models.openai_stub import StubServer
    from bot.runtime import Runtime

    def show(result: AnswerResult) -> None:
        if verbose:
            kind = "faithful" if result.answer.faithful else result.answer.kind
            gate = f" ({result.gate})" if result.gate else ""
            typer.echo(f"{result.answer.question.id:>10} {kind:<13} {result.verdict}{gate}")

    with StubServer() as stub:
        scripted = settings.model_copy(
            update={
                "mini": "openai:scripted",
                "mini_base_url": stub.base_url,
                "large": "none",
                "openai_api_key": settings.openai_api_key or "eval",
            }
        )
        runtime = Runtime(scripted)

        def script(text: str, locate: str) -> None:
            stub.script("scripted", replies=[{"text": text, "locate": locate}])

        report = asyncio.run(evaluate_answers(items, runtime.answer, script, show))
    return report.metrics()
