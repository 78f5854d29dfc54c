"""The schema, as SQLAlchemy Core tables. Alembic migrations create and change it;
``tests/store`` checks that the migrations and these tables agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    # Uploads name their conversation by token alone, so the hash is looked up.
    Column("token_hash", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("visitor", JSON, nullable=False),
    Column("reason", String(64)),
    Column("summary", Text),
    Column("agent", String(128)),
    # The seq of the latest event; incremented in the transaction that adds an event.
    Column("last_seq", Integer, nullable=False, default=0),
    Column("state_since", DateTime(timezone=True)),  # when it entered its state (queue wait)
    Column("contact_email", String(254)),  # left by the customer for a follow-up
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("citations", JSON, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("tier", String(32)),
    Column("client_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Idempotency: a client id is stored once per conversation.
    UniqueConstraint("conversation_id", "client_id", name="uq_messages_client_id"),
    Index("ix_messages_conversation_seq", "conversation_id", "seq"),
)

events = Table(
    "events",
    metadata,
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("message_id", String(36), index=True),
    Column("reply_id", String(36)),
    Column("tier", String(32), nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("reason", String(64)),
    Column("confidence", Float),
    Column("decision", JSON, nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("rating", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(8), nullable=False),  # image | audio
    Column("mime", String(32), nullable=False),  # of the cleaned file that is kept
    Column("bytes", Integer, nullable=False),  # as uploaded
    Column("path", String(255), nullable=False),  # relative to the uploads directory
    Column("meta", JSON, nullable=False),  # width/height or duration
    Column("status", String(16), nullable=False),  # processing | ready | failed
    Column("result", JSON, nullable=False),  # transcript or text, confidence, error
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # When a customer message first attached it; an upload never attached is swept.
    Column("attached_at", DateTime(timezone=True)),
    # When the sweep deleted its file and cleared its result (a late attach: "expired").
    Column("swept_at", DateTime(timezone=True)),
    Index("ix_uploads_unattached", "attached_at", "swept_at", "created_at"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # agent | admin
    Column("created_at", DateTime(timezone=True), nullable=False),
)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("agent_id", String(36), ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Internal notes: a table of their own, so no path that serves customers can read them.
notes = Table(
    "notes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("agent", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("client_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("conversation_id", "client_id", name="uq_notes_client_id"),
)

# One row per open agent socket, refreshed by a heartbeat: an agent is online while a
# fresh row says so. A replica that dies leaves rows that go stale on their own.
agent_presence = Table(
    "agent_presence",
    metadata,
    Column("connection_id", String(36), primary_key=True),
    Column("agent_id", String(36), ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(8), nullable=False),  # online | away
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

# Which process answers a conversation's questions now (bot.chat.recovery): renewed while
# its turns are queued or running; once it lapses (the process died), any replica may
# answer the question left without a turn.
turn_leases = Table(
    "turn_leases",
    metadata,
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("holder", String(36), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
)

# The customer's rating of a conversation an agent closed (the latest one counts).
csat = Table(
    "csat",
    metadata,
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("score", Integer, nullable=False),  # 1..5
    Column("comment", Text, nullable=False),
    Column("agent", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# One row per phone call (Twilio's CallSid): its conversation, the caller's number, the
# hash of the token its media stream must present, and how the call left the bot.
calls = Table(
    "calls",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("conversation_id", String(36), ForeignKey("conversations.id", ondelete="CASCADE")),
    Column("caller", String(64), nullable=False),
    Column("stream_token_hash", String(64), nullable=False),
    Column("outcome", String(16)),  # transfer | callback | None (the bot finished)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_calls_conversation_id", "conversation_id"),
)
