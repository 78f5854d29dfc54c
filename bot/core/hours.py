"""Business hours: when people answer (``SUPPORTBOT_BUSINESS_HOURS``). No I/O.

The format is a list of day ranges with time windows, in the team's time zone
(``SUPPORTBOT_TIMEZONE``)::

    mon-fri 09:00-17:30, sat 10:00-14:00
    mon-thu 08:00-12:00 13:00-17:00; fri 08:00-15:00
    sun-sat 22:00-06:00          (a window may run past midnight)

Days are ``mon tue wed thu fri sat sun``; a range wraps (``fri-mon``). ``24:00`` ends a
day. An empty setting means "no hours": the team is reachable whenever an agent is
online.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigurationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_GROUP = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+?)\s*$")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Window:
    """Open from ``start`` minutes after midnight for ``minutes`` minutes on ``weekday``."""

    weekday: int  # 0 = Monday
    start: int
    minutes: int


@dataclass(frozen=True)
class BusinessHours:
    windows: tuple[Window, ...]
    zone: ZoneInfo
    spec: str

    @classmethod
    def parse(cls, spec: str, timezone: str = "UTC") -> BusinessHours | None:
        """None for an empty spec (always reachable); :class:`ConfigurationError` when malformed."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(
                f"SUPPORTBOT_TIMEZONE={timezone!r} is not a time zone name "
                "(such as Europe/Berlin or America/New_York)."
            ) from exc
        text = spec.strip().lower()
        if not text:
            return None
        windows: list[Window] = []
        for group in re.split(r"[,;]", text):
            if not group.strip():
                continue
            match = _GROUP.match(group)
            if match is None or match.group(1) not in DAYS:
                raise _bad(spec, f"{group.strip()!r} does not start with a day such as mon-fri")
            first = DAYS.index(match.group(1))
            last = DAYS.index(match.group(2)) if match.group(2) in DAYS else None
            if match.group(2) and last is None:
                raise _bad(spec, f"{match.group(2)!r} is not a day")
            span = ((last if last is not None else first) - first) % 7 + 1
            for piece in match.group(3).split():
                start, end = _window(spec, piece)
                minutes = (end - start) % (24 * 60) or 24 * 60
                for offset in range(span):
                    windows.append(Window((first + offset) % 7, start, minutes))
        return cls(tuple(windows), zone, spec.strip())

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return any(start <= local < end for start, end in self._around(local.date()))

    def next_open(self, now: datetime) -> datetime | None:
        """When the team is next reachable (``now`` itself when open); None if never."""
        local = now.astimezone(self.zone)
        if self.is_open(now):
            return local
        starts = [s for s, _ in self._around(local.date(), days=8) if s > local]
        return min(starts) if starts else None

    def describe_next(self, now: datetime) -> str | None:
        """``"Monday 09:00 (Europe/Berlin)"``, said to a customer after hours."""
        when = self.next_open(now)
        if when is None:
            return None
        local = now.astimezone(self.zone)
        if when.date() == local.date():
            day = "today"
        elif when.date() == local.date() + timedelta(days=1):
            day = "tomorrow"
        else:
            day = _DAY_NAMES[when.weekday()]
        return f"{day} at {when:%H:%M} ({self.zone.key})"

    def _around(self, day: date, days: int = 2) -> list[tuple[datetime, datetime]]:
        """Open intervals starting from the day before ``day`` (windows past midnight)."""
        out = []
        for offset in range(-1, days):
            current = day + timedelta(days=offset)
            for w in self.windows:
                if w.weekday != current.weekday():
                    continue
                # Wall-clock time in the zone (a DST day is as long as it is).
                start = datetime.combine(current, time(), self.zone) + timedelta(minutes=w.start)
                out.append((start, start + timedelta(minutes=w.minutes)))
        return out


def _window(spec: str, piece: str) -> tuple[int, int]:
    match = _WINDOW.match(piece)
    if match is None:
        raise _bad(spec, f"{piece!r} is not a time window such as 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise _bad(spec, f"{piece!r} has a time that does not exist")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise _bad(spec, f"{piece!r} is empty")
    return start, end


def _bad(spec: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"SUPPORTBOT_BUSINESS_HOURS={spec!r}: {why} "
        "(format: 'mon-fri 09:00-17:00, sat 10:00-14:00')."
    )
