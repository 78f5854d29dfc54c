"""Agent presence, the customer's email for a follow-up, and conversation ratings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("contact_email", sa.String(254)))
    op.create_table(
        "agent_presence",
        sa.Column("connection_id", sa.String(36), primary_key=True),
        sa.Column(
            "agent_id",
            sa.String(36),
            sa.ForeignKey("agents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_agent_presence_seen_at", "agent_presence", ["seen_at"])
    op.create_table(
        "csat",
        sa.Column(
            "conversation_id",
            sa.String(36),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(128)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_csat_created_at", "csat", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_csat_created_at", "csat")
    op.drop_table("csat")
    op.drop_index("ix_agent_presence_seen_at", "agent_presence")
    op.drop_table("agent_presence")
    op.drop_column("conversations", "contact_email")
