"""Rate limits as token buckets, keyed (per connection, per client address). No I/O.

A bucket holds up to ``burst`` tokens and refills at ``per_minute / 60`` a second;
each action takes one. When it is empty the action is refused with the time until
the next token, so a client can be told exactly when to try again.

:class:`KeyedLimiter` keeps one bucket per key (a client address) and forgets a key
once its bucket is full again (it would behave exactly like a new one), so an attack
from many addresses cannot grow memory without bound for longer than a refill.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rate:
    """``per_minute`` actions a minute on average, ``burst`` at once."""

    per_minute: float
    burst: int

    def describe(self) -> str:
        """The limit as a customer or operator reads it ("20 a minute")."""
        return f"{self.per_minute:g} a minute"


@dataclass
class TokenBucket:
    rate: Rate
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.rate.burst)
        self.updated = self.clock()

    def _refill(self, now: float) -> None:
        per_second = self.rate.per_minute / 60
        self.tokens = min(float(self.rate.burst), self.tokens + (now - self.updated) * per_second)
        self.updated = now

    def take(self) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        per_second = self.rate.per_minute / 60
        return (1 - self.tokens) / per_second if per_second > 0 else float("inf")

    def full(self) -> bool:
        self._refill(self.clock())
        return self.tokens >= self.rate.burst


class KeyedLimiter:
    """One :class:`TokenBucket` per key; full buckets are dropped on a sweep."""

    def __init__(
        self, rate: Rate, clock: Callable[[], float] = time.monotonic, sweep_every: int = 1024
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.sweep_every = sweep_every
        self._buckets: dict[str, TokenBucket] = {}
        self._since_sweep = 0

    def take(self, key: str) -> float:
        """Like :meth:`TokenBucket.take` for ``key``'s bucket."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.clock)
        self._since_sweep += 1
        if self._since_sweep >= self.sweep_every:
            self._since_sweep = 0
            self.sweep()
        return bucket.take()

    def sweep(self) -> None:
        for key in [k for k, b in self._buckets.items() if b.full()]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class Counter:
    """How many of something (open sockets) each key has now, with a ceiling."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        """Count one more for ``key``; False (and nothing counted) at the limit."""
        count = self._counts.get(key, 0)
        if count >= self.limit:
            return False
        self._counts[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._counts.get(key, 0) - 1
        if count > 0:
            self._counts[key] = count
        else:
            self._counts.pop(key, None)

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)
