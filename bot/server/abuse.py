"""Abuse limits of the customer socket: frame rates per connection and per client
address, open sockets per address, idle sockets.

Built once per app from :class:`~bot.settings.Settings`; a :class:`SocketGuard` is made
for each connection. Limits hold per replica (behind a load balancer an address is
usually pinned to one replica for the socket's life, and N replicas at most multiply
the allowance by N). The buckets themselves are :mod:`bot.core.limits`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from bot.core import frames
from bot.core.limits import Counter, KeyedLimiter, Rate, TokenBucket
from bot.core.names import name_key
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
# Agent sign-in attempts. Per account *and* address, so that a stranger guessing an
# agent's password (or claiming the agent's address) cannot lock the agent out; per
# address alone, more loosely, so that one address spraying many names is still slowed.
LOGINS = Rate(per_minute=10, burst=5)
LOGIN_ADDRESSES = Rate(per_minute=30, burst=15)
# Frames of one agent socket: a console sends a typing frame per keystroke, so this is
# well above a fast typist (and above a customer's frame budget), yet a stolen or broken
# console cannot flood the server with frames it must answer.
AGENT_FRAMES = Rate(per_minute=1200, burst=200)


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


def client_key(conn: HTTPConnection) -> str:
    """What a client's per-address limits count under: its IPv4 address, or the /64 of
    its IPv6 address (one host is usually given a whole /64 and can rotate through it)."""
    host = conn.client.host if conn.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def _rate(per_minute: float, share: int) -> Rate:
    """``per_minute``, with a burst of ``1/share`` of it (at least 5)."""
    return Rate(per_minute, max(5, int(per_minute / share)))


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
        self.login_addresses = KeyedLimiter(LOGIN_ADDRESSES)
        self.conversations = KeyedLimiter(_rate(settings.ip_conversations_per_minute, 2))
        self.uploads = KeyedLimiter(_rate(settings.uploads_per_minute, 2))
        self.upload_addresses = KeyedLimiter(_rate(settings.ip_uploads_per_minute, 2))

    def guard(self, address: str) -> SocketGuard:
        return SocketGuard(self, address)

    def agent_guard(self, address: str) -> SocketGuard:
        """An agent socket's: its own frame budget (no customer message limits apply)."""
        return SocketGuard(self, address, AGENT_FRAMES)

    def new_conversation(self, address: str) -> Refusal | None:
        """None when ``address`` may start another conversation now."""
        checks = [(self.conversations, address, "new conversations from your network")]
        return _first_empty(checks, "Try again in {} s.")

    def upload(self, conversation_id: str, address: str) -> Refusal | None:
        """None when ``conversation_id`` (from ``address``) may upload another file now."""
        checks = [
            (self.uploads, conversation_id, "uploads in this conversation"),
            (self.upload_addresses, address, "uploads from your network"),
        ]
        return _first_empty(checks, "Attach the file again in {} s.")

    def login(self, name: str, address: str) -> Refusal | None:
        """None when a sign-in attempt as ``name`` from ``address`` may be checked."""
        account = name_key(name)  # what sign-in matches names by
        checks = [
            (self.logins, f"{account}\0{address}", "sign-in attempts"),
            (self.login_addresses, address, "sign-in attempts"),
        ]
        return _first_empty(checks, "Try again in {} s.")


def _first_empty(checks: list[tuple[KeyedLimiter, str, str]], then: str) -> Refusal | None:
    """Take a token from each (limiter, key, what) in turn; the first that has none is
    the refusal ("Too many <what>: the limit is …", then ``then`` with the seconds), and
    the limiters after it are not charged."""
    for limiter, key, what in checks:
        if wait := limiter.take(key):
            return Refusal(
                "rate_limited",
                f"Too many {what}: the limit is {limiter.rate.describe()}. "
                + then.format(max(1, round(wait))),
                wait,
            )
    return None


class SocketGuard:
    """One connection's buckets, checked for every frame it sends after hello:
    :meth:`admit` before the frame is even parsed, :meth:`check` once it is."""

    def __init__(self, limits: SocketLimits, address: str, frames: Rate | None = None) -> None:
        self.limits = limits
        self.address = address
        self.frame_rate = frames or limits.frames
        self.messages = TokenBucket(limits.messages)
        self.frames = TokenBucket(self.frame_rate)
        self.strikes = TokenBucket(STRIKES)

    def admit(self) -> Refusal | None:
        """Every frame received spends one of the frame budget, parsed or not, binary
        included: answering garbage must not be cheaper for a flood than sending it."""
        return self._strike(self._frame_budget())

    def check(self, frame: object) -> Refusal | None:
        """After :meth:`admit`: None when ``frame`` may be handled; else why not and for
        how long (the message budgets of actions)."""
        return self._strike(self._actions(frame))

    def _strike(self, refusal: Refusal | None) -> Refusal | None:
        if refusal is not None and self.strikes.take() > 0:
            return Refusal(
                "too_many_requests",
                "This connection kept sending after being asked to wait, so it is closed. "
                "Your conversation is saved; reconnect in a minute.",
                60.0,
                close=True,
            )
        return refusal

    def _frame_budget(self) -> Refusal | None:
        if wait := self.frames.take():
            return Refusal(
                "rate_limited",
                f"Too many frames: the limit is {self.frame_rate.describe()} per connection. "
                f"Try again in {max(1, round(wait))} s.",
                wait,
            )
        return None

    def _actions(self, frame: object) -> Refusal | None:
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
