"""Alembic migrations, run programmatically on a connection the store already holds.

``supportbot serve`` upgrades the schema at start-up (``SqlStore.start``); replicas
starting together are safe on PostgreSQL because Alembic's version table update and
the DDL share one transaction, and a second upgrade to the same head does nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(config(connection), revision)


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()
