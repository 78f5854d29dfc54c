"""What the routes share, built in the app's lifespan (never at import time)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.chat.agents import AgentService
from bot.chat.privacy import Privacy
from bot.chat.service import ChatService
from bot.chat.uploads import UploadService
from bot.core.protocols import Bus
from bot.runtime import Runtime
from bot.server.abuse import SocketLimits
from bot.server.metrics import Metrics
from bot.settings import Settings
from bot.store.sql import SqlStore
from bot.telephony.calls import CallService
from bot.telephony.session import Voice


@dataclass
class Services:
    settings: Settings
    runtime: Runtime
    store: SqlStore
    bus: Bus
    chat: ChatService
    uploads: UploadService
    agents: AgentService
    metrics: Metrics
    calls: CallService
    voice: Voice
    limits: SocketLimits
    privacy: Privacy
    warmed: asyncio.Event = field(default_factory=asyncio.Event)
    warm_error: str | None = None
    perception: str = "loading"  # Whisper and OCR: loading | ok | error: …
