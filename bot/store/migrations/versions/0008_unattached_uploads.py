"""Uploads know whether a message attached them, so the ones never sent can be swept.

``attached_at``: when a customer message first attached the upload. ``swept_at``: when
the hourly sweep gave up on it (its file is deleted, its transcript or text cleared; the
row stays a while so a late attach is told the upload expired).

Uploads stored before this revision: the ones a stored message attaches are marked
attached (at that message's time); the rest were never sent, and the sweep treats them
like any other upload that was not attached within the grace period.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 1000
# The tables as this revision knows them (tables.py moves on with later revisions).
_messages = sa.table(
    "messages",
    sa.column("role", sa.String),
    sa.column("attachments", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_uploads = sa.table(
    "uploads",
    sa.column("id", sa.String),
    sa.column("attached_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.add_column("uploads", sa.Column("attached_at", sa.DateTime(timezone=True)))
    op.add_column("uploads", sa.Column("swept_at", sa.DateTime(timezone=True)))
    # The sweep's query: not attached, not swept, older than the cutoff.
    op.create_index("ix_uploads_unattached", "uploads", ["attached_at", "swept_at", "created_at"])
    _mark_attached(op.get_bind())


def _mark_attached(conn: sa.Connection) -> None:
    """Set ``attached_at`` of every upload a stored customer message attaches."""
    mark = (
        sa.update(_uploads)
        .where(_uploads.c.id == sa.bindparam("upload_id"), _uploads.c.attached_at.is_(None))
        .values(attached_at=sa.bindparam("at"))
    )
    # Only a filter to skip most messages: an empty list is stored as "[]" on both.
    query = sa.select(_messages.c.attachments, _messages.c.created_at).where(
        _messages.c.role == "customer", sa.cast(_messages.c.attachments, sa.Text) != "[]"
    )
    pending: list[dict[str, Any]] = []
    for attachments, created_at in conn.execute(query).all():
        pending.extend(_references(attachments, created_at))
        if len(pending) >= BATCH:
            conn.execute(mark, pending)
            pending = []
    if pending:
        conn.execute(mark, pending)


def _references(attachments: Any, at: datetime) -> list[dict[str, Any]]:
    if not isinstance(attachments, list):
        return []
    return [
        {"upload_id": str(a["upload_id"]), "at": at}
        for a in attachments
        if isinstance(a, dict) and a.get("upload_id")
    ]


def downgrade() -> None:
    op.drop_index("ix_uploads_unattached", table_name="uploads")
    op.drop_column("uploads", "swept_at")
    op.drop_column("uploads", "attached_at")
