"""The FastAPI adapter: HTTP and WebSocket routes around the conversation service."""
