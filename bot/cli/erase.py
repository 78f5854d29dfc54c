"""``supportbot erase ID...`` and ``supportbot erase --inactive-days N``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.cli import app, load_settings


@app.command()
def erase(
    ctx: typer.Context,
    conversation_ids: Annotated[
        list[str] | None, typer.Argument(help="Conversations to erase.", show_default=False)
    ] = None,
    inactive_days: Annotated[
        float | None,
        typer.Option(
            "--inactive-days",
            min=0,
            help="Also erase every conversation with no message for this many days.",
        ),
    ] = None,
) -> None:
    """Erase conversations: messages, transcripts, uploads, notes, ratings, call rows.

    With SUPPORTBOT_REDIS_URL set, open sockets of the conversation on every replica are
    told and closed; uploads kept on another replica's disk go at its hourly sweep.
    """
    from bot.bus.memory import MemoryBus
    from bot.bus.redis import RedisBus
    from bot.chat.privacy import Privacy
    from bot.store.sql import SqlStore

    if not conversation_ids and inactive_days is None:
        raise typer.BadParameter("name conversations to erase, or --inactive-days N")
    settings = load_settings(ctx)

    async def run() -> tuple[int, list[str]]:
        store = SqlStore(settings.database)
        bus: MemoryBus = RedisBus(settings.redis_url) if settings.redis_url else MemoryBus()
        try:
            await store.start()
            if isinstance(bus, RedisBus):
                await bus.start()
            privacy = Privacy(store, bus, settings.uploads_path)
            missing = [
                cid for cid in conversation_ids or [] if not await privacy.erase(cid, "the CLI")
            ]
            erased = len(conversation_ids or []) - len(missing)
            if inactive_days is not None:
                erased += await privacy.expire(inactive_days)
            return erased, missing
        finally:
            await bus.close()
            await store.close()

    erased, missing = asyncio.run(run())
    typer.echo(f"erased {erased} conversation{'s' if erased != 1 else ''}")
    if missing:
        typer.echo(f"supportbot: no such conversation: {', '.join(missing)}", err=True)
        raise typer.Exit(1)
