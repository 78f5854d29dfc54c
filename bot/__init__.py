"""supportbot: a self-hostable, multimodal customer-support assistant."""

__version__ = "0.1.0"
