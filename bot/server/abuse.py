"""Abuse limits of the customer socket: frame rates per connection and per client
address, open sockets per address, idle sockets.

Built once per app from :class:`~bot.settings.Settings`; a :class:`SocketGuard` is made
for each connection. Limits hold per replica (behind a load balancer an address is
usually pinned to one replica for the socket's life, and N replicas at most multiply
the allowance by N). The buckets themselves are :mod:`bot.core.limits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core import frames
from bot.core.limits import Counter, KeyedLimiter, Rate, TokenBucket
from bot.settings import Settings

# Frames that store something or start work; typing frames only count as frames.
ACTIONS = (
    frames.CustomerMessage,
    frames.Human,
    frames.Feedback,
    frames.Contact,
    frames.Rating,
)
# Refusals a connection may collect quickly before it is closed: a client that keeps
# sending after being told to wait is not a widget.
STRIKES = Rate(per_minute=10, burst=10)
# Close codes: 1009 and 1008 are standard; 4429 (an application code) tells the widget
# to slow down without discarding its conversation, which it does on 1008.
MESSAGE_TOO_BIG = 1009
TOO_MANY_REQUESTS = 4429
LOGINS = Rate(per_minute=10, burst=5)  # agent login attempts per address


@dataclass(frozen=True)
class Refusal:
    """A frame refused for now (its rate, or the database away): the ``error`` frame says
    when to send it again; ``close`` when the connection must end."""

    code: str
    message: str
    retry_after: float
    close: bool = False

    def frame(self, client_id: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "error",
            "code": self.code,
            "message": self.message,
            "retry_after": round(self.retry_after, 1),
        }
        if client_id is not None:
            out["client_id"] = client_id
        return out


class SocketLimits:
    """The app's shared limits (per address) and the recipe for per-connection ones."""

    def __init__(self, settings: Settings) -> None:
        per_minute = settings.messages_per_minute
        self.messages = Rate(per_minute, max(5, int(per_minute / 4)))
        self.frames = Rate(per_minute * 10, max(50, int(per_minute * 10 / 4)))
        ip_rate = settings.ip_messages_per_minute
        self.per_address = KeyedLimiter(Rate(ip_rate, max(10, int(ip_rate / 4))))
        self.sockets = Counter(settings.sockets_per_ip)
        self.idle_seconds = settings.idle_timeout
        self.logins = KeyedLimiter(LOGINS)

    def guard(self, address: str) -> SocketGuard:
        return SocketGuard(self, address)


class SocketGuard:
    """One connection's buckets, checked for every frame it sends after hello."""

    def __init__(self, limits: SocketLimits, address: str) -> None:
        self.limits = limits
        self.address = address
        self.messages = TokenBucket(limits.messages)
        self.frames = TokenBucket(limits.frames)
        self.strikes = TokenBucket(STRIKES)

    def check(self, frame: object) -> Refusal | None:
        """None when ``frame`` may be handled; else why not and for how long."""
        refusal = self._check(frame)
        if refusal is not None and self.strikes.take() > 0:
            return Refusal(
                "too_many_requests",
                "This connection kept sending after being asked to wait, so it is closed. "
                "Your conversation is saved; reconnect in a minute.",
                60.0,
                close=True,
            )
        return refusal

    def _check(self, frame: object) -> Refusal | None:
        if wait := self.frames.take():
            return Refusal(
                "rate_limited",
                f"Too many frames: the limit is {self.limits.frames.describe()} per connection. "
                f"Try again in {wait:.0f} s.",
                wait,
            )
        if not isinstance(frame, ACTIONS):
            return None
        if wait := self.messages.take():
            return Refusal(
                "rate_limited",
                f"You're sending messages too fast: the limit is "
                f"{self.limits.messages.describe()}. Try again in {max(1, round(wait))} s; "
                "nothing you sent is lost.",
                wait,
            )
        if wait := self.limits.per_address.take(self.address):
            return Refusal(
                "rate_limited",
                f"Too many messages from your network: the limit is "
                f"{self.limits.per_address.rate.describe()}. Try again in "
                f"{max(1, round(wait))} s; nothing you sent is lost.",
                wait,
            )
        return None
