"""Phone calls: one row per Twilio CallSid.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_sid", sa.String(64), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        ),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("stream_token_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_calls_conversation_id", "calls", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_calls_conversation_id", "calls")
    op.drop_table("calls")
