"""The exception tree of supportbot.

Every error the package raises on purpose derives from :class:`SupportBotError`,
so a caller (the CLI, the server) can catch one type and show ``str(exc)``,
which is always written for the person who will read it.

::

    SupportBotError
    ├── ConfigurationError        a setting is missing, contradictory or points nowhere
    ├── ModelUnavailableError     a local model could not be loaded (missing package, bad path)
    ├── ModelError                a chat model failed to answer (HTTP error, timeout, bad reply)
    ├── KnowledgeError            the knowledge base failed
    │   ├── KnowledgeBaseUnavailable   the Chroma store/server cannot be reached or opened
    │   └── DocumentError              one document cannot be ingested (the batch goes on)
    │       ├── UnsupportedDocument        unknown type, binary content
    │       ├── EmptyDocument              no text after extraction
    │       └── CorruptDocument            the parser failed (broken PDF, bad CSV)
    ├── StoreUnavailable          the conversation database cannot be opened or reached
    ├── BusUnavailable            the event bus (Redis) cannot be reached
    ├── InvalidInput              a customer's input is refused (empty, too long); names the limit
    │   └── UploadRefused             an uploaded file is refused (size, type, decode, duration)
    └── EvaluationError           an evaluation file is malformed
"""

from __future__ import annotations


class SupportBotError(Exception):
    """Base class: ``str(exc)`` is a message fit for the end user or operator."""


class ConfigurationError(SupportBotError):
    """A setting is missing, contradictory, or names something that does not exist."""


class ModelUnavailableError(SupportBotError):
    """A local model could not be loaded (missing package, wrong path, corrupt weights)."""


class ModelError(SupportBotError):
    """A chat model failed to answer after its retries (the ladder moves to the next tier)."""


class KnowledgeError(SupportBotError):
    """The knowledge base (ingestion or retrieval) failed."""


class KnowledgeBaseUnavailable(KnowledgeError):
    """The Chroma store or server cannot be opened or reached."""


class DocumentError(KnowledgeError):
    """One document cannot be ingested. Ingestion reports it by name and goes on."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnsupportedDocument(DocumentError):
    """The file type is not one we ingest, or the content is binary."""


class EmptyDocument(DocumentError):
    """The document has no text once extracted."""


class CorruptDocument(DocumentError):
    """The parser failed on the document (broken PDF, malformed CSV, bad encoding)."""


class StoreUnavailable(SupportBotError):
    """The conversation database (SQLite file or PostgreSQL server) cannot be used."""


class BusUnavailable(SupportBotError):
    """The event bus (Redis pub/sub) cannot be reached."""


class InvalidInput(SupportBotError):
    """A customer's input is refused. The message names the limit that was hit."""


class UploadRefused(InvalidInput):
    """An uploaded file is refused; ``code`` is stable for clients, the message names
    the limit (``too_large``, ``unsupported_type``, ``malformed``, ``too_long``,
    ``too_many_pixels``, ``no_file``, ``busy``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class EvaluationError(SupportBotError):
    """An evaluation questions file is malformed."""
