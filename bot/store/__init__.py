"""Persistence: conversations, messages, events, turns and feedback (SQLAlchemy 2)."""
