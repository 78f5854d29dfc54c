"""``supportbot serve`` and ``supportbot migrate``."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import app, load_settings

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.settings import Settings


def run_server(
    settings: Settings, runtime: Runtime | None, host: str | None, port: int | None
) -> None:
    import uvicorn

    from bot.server.app import create_app

    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    bind_host, bind_port = host or settings.host, port or settings.port
    # The address bound is one of the names the server answers for (bot/server/hosts.py).
    settings = settings.model_copy(update={"host": bind_host})
    typer.echo(f"supportbot: serving on http://{bind_host}:{bind_port} (Ctrl-C stops)")
    uvicorn.run(
        create_app(settings, runtime),
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
        # Frames above 64 KiB are refused by the protocol layer with a clear error and
        # close 1009; this transport cap (which closes 1009 by itself) only stops a peer
        # from making the server buffer megabytes first.
        ws_max_size=256 * 1024,
        # Chat frames are small: compressing each one costs more CPU than it saves.
        ws_per_message_deflate=False,
        proxy_headers=True,
        # Per-address limits need the customer's address, not the reverse proxy's.
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (SUPPORTBOT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (SUPPORTBOT_PORT).")] = None,
) -> None:
    """Serve the chat WebSocket, health and metrics with the configured providers."""
    run_server(load_settings(ctx), None, host, port)


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the conversation database schema (the server also does this)."""
    from bot.store.migrate import head
    from bot.store.sql import SqlStore

    settings = load_settings(ctx)

    async def run() -> None:
        store = SqlStore(settings.database)
        try:
            await store.start()
        finally:
            await store.close()

    asyncio.run(run())
    typer.echo(f"database schema at revision {head()}")
