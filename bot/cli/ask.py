"""``supportbot ask "QUESTION"``"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli import app, load_settings
from bot.core.attachments import build_query, nothing_to_go_on_reply

if TYPE_CHECKING:
    from bot.runtime import Runtime


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The customer's question.")] = "",
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            "--attach",
            help="A screenshot (PNG, JPEG, WebP) or voice note (WebM, Ogg, WAV, MP3, M4A) "
            "read as an upload would be; repeatable.",
        ),
    ] = None,
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
    attachments = [_read(runtime, path) for path in attach or []]
    if not question.strip() and not attachments:
        raise typer.BadParameter("give a question, or --attach a file", param_hint="QUESTION")
    query = build_query(question, attachments)
    if not query:
        typer.echo(nothing_to_go_on_reply(attachments))
        return
    if attachments:  # a long transcript is cut to fit; a long typed question is refused
        query = query[: max(settings.max_question_chars, len(question))]
    outcome = asyncio.run(runtime.answer(query))
    if as_json:
        payload = outcome.to_dict()
        if attachments:
            payload["attachments"] = attachments
        if explain:
            payload["decision"] = [
                {"stage": s.stage, "ms": s.ms, **s.detail} for s in outcome.decision
            ]
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    for a in attachments:
        said = a.get("transcript", a.get("text", ""))
        label = "Heard" if a["kind"] == "audio" else "Read"
        typer.echo(f"{label} ({a['confidence']:.2f}): {' / '.join(said.splitlines())}\n")
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


def _read(runtime: Runtime, path: Path) -> dict[str, Any]:
    """Check, clean and read one file as an upload is; exit 2 with the reason if refused."""
    import tempfile

    from bot.chat.uploads import clean, perceive
    from bot.errors import UploadRefused
    from bot.media.sniff import ACCEPTED, SNIFF_BYTES, sniff

    limits = runtime.upload_limits
    try:
        with path.open("rb") as f:
            sniffed = sniff(f.read(SNIFF_BYTES))
        if sniffed is None:
            raise UploadRefused("unsupported_type", f"not a type we take: send {ACCEPTED}")
        if path.stat().st_size > limits.bytes_for(sniffed.kind):
            raise UploadRefused("too_large", "larger than the upload limit of its kind")
        with tempfile.TemporaryDirectory() as tmp:
            cleaned = clean(path, sniffed, Path(tmp) / "upload", limits)
            result = perceive(cleaned, lambda: runtime.transcriber, lambda: runtime.image_reader)
    except (UploadRefused, OSError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    return {"kind": sniffed.kind, **result}
