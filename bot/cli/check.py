"""``supportbot check-models``: load every bundled model offline and run it once.

For the engineers who deploy: a container build runs it, so an image whose wheels lack
a model (or that would reach for the network) fails when it is built, not when the
first customer writes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import typer

from bot.cli import app, load_settings


@app.command("check-models")
def check_models(ctx: typer.Context) -> None:
    """Load the embedding model, Whisper, the OCR models and the phone voice offline."""
    from bot.runtime import Runtime

    # Nothing may be downloaded: a model missing from the image is an error here.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runtime = Runtime(load_settings(ctx))
    checks: list[tuple[str, Callable[[], object]]] = [
        ("embeddings", lambda: runtime.embedder.embed(["check"])),
        *runtime.perception_probes(voice=True),
    ]
    failed = False
    for name, check in checks:
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # report every model, then fail
            failed = True
            typer.echo(f"{name}: FAILED ({type(exc).__name__}: {exc})", err=True)
            continue
        typer.echo(f"{name}: ok ({time.perf_counter() - started:.1f} s)")
    if failed:
        raise typer.Exit(1)
