"""``supportbot ingest PATH...``"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import app, load_settings


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or folders: markdown, HTML, PDF, plain text, FAQ CSV "
            "(question,answer columns)."
        ),
    ],
    collection: Annotated[
        str | None,
        typer.Option("--collection", help="Collection name (default: SUPPORTBOT_COLLECTION)."),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Remove documents ingested earlier from these folders that no "
            "longer exist on disk.",
        ),
    ] = False,
) -> None:
    """Add or update documents in the knowledge base.

    Unchanged files are skipped (content hash); a changed file replaces its old
    chunks; files that cannot be read are reported by name and skipped.
    """
    from bot.runtime import Runtime

    settings = load_settings(ctx)
    if collection:
        from bot.settings import Settings

        settings = Settings.model_validate({**settings.model_dump(), "collection": collection})
    runtime = Runtime(settings)
    ingestor = runtime.ingestor
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            transient=True,
            console=Console(stderr=True),
        ) as bar:
            task = bar.add_task("Ingesting", total=None, current="")

            def progress(done: int, total: int, current: str) -> None:
                bar.update(task, completed=done, total=total, current=current)

            report = ingestor.run(paths, prune=prune, progress=progress)
    else:
        report = ingestor.run(paths, prune=prune)
    for source, reason in report.failed:
        typer.echo(f"skipped {source}: {reason}", err=True)
    for source, finding in report.withheld:
        typer.echo(f"withheld from {source} ({finding.family}): {finding.sentence}", err=True)
    typer.echo(report.summary())
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)
