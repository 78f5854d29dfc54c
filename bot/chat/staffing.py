"""Who can answer: agent presence (online/away, across replicas) and business hours.
No web framework.

Each open agent socket keeps a presence row fresh with a heartbeat; an agent is online
while one of their sockets says ``online`` and was seen within :data:`PRESENCE_TTL`.
A replica that dies stops refreshing its rows, so they go stale on their own.

When a conversation is handed to a person, :meth:`Staffing.availability` decides what
the customer is told: someone will reply here (``open``), the team is back at a given
time (``after_hours``), or nobody is online (``nobody_online``); in the last two the
customer may leave an email for a follow-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.core.conversation import utcnow
from bot.core.hours import BusinessHours
from bot.errors import InvalidInput
from bot.store.sql import SqlStore

PRESENCE_TTL = timedelta(seconds=90)
HEARTBEAT_SECONDS = 30.0
STATUSES = ("online", "away")
# Deliberately loose (one @, a dot in the domain, no spaces): the address is for a
# person to write to, and a stricter pattern refuses real addresses.
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MAX_EMAIL = 254


@dataclass(frozen=True)
class Availability:
    status: Literal["open", "after_hours", "nobody_online"]
    next_open: datetime | None = None
    next_open_text: str | None = None

    @property
    def open(self) -> bool:
        return self.status == "open"

    def to_wire(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "next_open": self.next_open.isoformat() if self.next_open else None,
        }

    def message(self) -> str:
        """What the customer is told after the hand-over notice when nobody can answer."""
        if self.status == "after_hours":
            back = f" We're back {self.next_open_text}." if self.next_open_text else ""
            return (
                f"Our support team is away right now.{back} Leave your email address and "
                "we'll write to you there, or keep this chat open: the reply will also "
                "appear here."
            )
        return (
            "Nobody from our support team is online right now. Leave your email address "
            "and we'll write to you as soon as someone is back; the reply will also "
            "appear here."
        )


def check_email(email: str) -> str:
    value = email.strip()
    if len(value) > MAX_EMAIL:
        raise InvalidInput(f"An email address has at most {MAX_EMAIL} characters.")
    if not _EMAIL.match(value):
        raise InvalidInput("That does not look like an email address (name@example.com).")
    return value


class Staffing:
    def __init__(
        self,
        store: SqlStore,
        hours: BusinessHours | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.hours = hours
        self.clock = clock

    async def availability(self) -> Availability:
        now = self.clock()
        if self.hours is not None and not self.hours.is_open(now):
            return Availability(
                "after_hours", self.hours.next_open(now), self.hours.describe_next(now)
            )
        if any(a["status"] == "online" for a in await self.team()):
            return Availability("open")
        return Availability("nobody_online")

    async def team(self) -> list[dict[str, str]]:
        return await self.store.team(self.clock() - PRESENCE_TTL)

    async def seen(self, connection_id: str, agent_id: str, status: str) -> None:
        if status not in STATUSES:
            raise InvalidInput("A status is online or away.")
        now = self.clock()
        await self.store.set_presence(
            connection_id, agent_id, status, stale_before=now - PRESENCE_TTL, now=now
        )

    async def left(self, connection_id: str) -> None:
        await self.store.drop_presence(connection_id)

    def hours_wire(self) -> dict[str, Any] | None:
        """The schedule for the console: what it is and whether it is open now."""
        if self.hours is None:
            return None
        now = self.clock()
        return {
            "spec": self.hours.spec,
            "timezone": self.hours.zone.key,
            "open": self.hours.is_open(now),
            "next_open": self.hours.describe_next(now),
        }
