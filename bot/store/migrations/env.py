"""Alembic environment. ``bot.store.migrate`` runs it on a connection it already holds
(sync, inside ``AsyncConnection.run_sync``), so no URL is read here."""

from __future__ import annotations

from alembic import context

from bot.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run migrations with `supportbot migrate` (bot.store.migrate)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
