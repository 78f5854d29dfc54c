"""Business hours: parsing, open or not, when the team is back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.hours import BusinessHours
from bot.errors import ConfigurationError
from bot.settings import Settings

BERLIN = "Europe/Berlin"


def at(text: str, zone: str = BERLIN) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_no_schedule_means_always_reachable():
    assert BusinessHours.parse("") is None
    assert BusinessHours.parse("   ") is None


def test_weekdays_and_a_saturday():
    hours = BusinessHours.parse("mon-fri 09:00-17:30, sat 10:00-14:00", BERLIN)
    assert hours is not None
    # 2026-11-23 is a Monday.
    assert not hours.is_open(at("2026-11-23T08:59"))
    assert hours.is_open(at("2026-11-23T09:00"))
    assert hours.is_open(at("2026-11-23T17:29"))
    assert not hours.is_open(at("2026-11-23T17:30"))
    assert hours.is_open(at("2026-11-28T11:00"))  # Saturday
    assert not hours.is_open(at("2026-11-29T11:00"))  # Sunday
    # The same instant in UTC (10:00 UTC is 11:00 in Berlin in November).
    assert hours.is_open(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))


def test_next_opening_and_how_it_is_said():
    hours = BusinessHours.parse("mon-fri 09:00-17:00", BERLIN)
    assert hours is not None
    friday_evening = at("2026-11-27T18:00")
    assert hours.next_open(friday_evening) == at("2026-11-30T09:00")
    assert hours.describe_next(friday_evening) == "Monday at 09:00 (Europe/Berlin)"
    assert hours.describe_next(at("2026-11-24T07:00")) == "today at 09:00 (Europe/Berlin)"
    assert hours.describe_next(at("2026-11-24T20:00")) == "tomorrow at 09:00 (Europe/Berlin)"
    assert hours.next_open(at("2026-11-24T10:00")) == at("2026-11-24T10:00")  # open now


def test_split_days_wrapping_ranges_and_windows_past_midnight():
    hours = BusinessHours.parse("mon-thu 08:00-12:00 13:00-17:00; fri-mon 22:00-06:00", "UTC")
    assert hours is not None
    assert not hours.is_open(at("2026-11-24T12:30", "UTC"))  # Tuesday lunch
    assert hours.is_open(at("2026-11-24T13:00", "UTC"))
    assert hours.is_open(at("2026-11-28T03:00", "UTC"))  # Saturday night, from Friday
    assert hours.is_open(at("2026-11-24T05:00", "UTC"))  # Tuesday 05:00, from Monday night
    assert not hours.is_open(at("2026-11-25T05:00", "UTC"))  # Tuesday night is not listed


def test_a_whole_day_and_daylight_saving():
    hours = BusinessHours.parse("sun 00:00-24:00", BERLIN)
    assert hours is not None
    # 2026-10-25 is the Sunday the clocks go back in Berlin: 25 wall-clock hours.
    assert hours.is_open(at("2026-10-25T23:59"))
    assert not hours.is_open(at("2026-10-26T00:00"))


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("weekdays 09:00-17:00", "start with a day"),
        ("mon-fry 09:00-17:00", "'fry' is not a day"),
        ("mon 9-17", "not a time window"),
        ("mon 09:00-25:00", "does not exist"),
        ("mon 09:00-09:00", "is empty"),
    ],
)
def test_a_malformed_schedule_says_what_is_wrong(spec, words):
    with pytest.raises(ConfigurationError, match=words):
        BusinessHours.parse(spec, "UTC")


def test_settings_refuse_a_bad_schedule_or_zone_at_start():
    with pytest.raises(ValueError, match="BUSINESS_HOURS"):
        Settings(business_hours="sometimes")
    with pytest.raises(ValueError, match="not a time zone"):
        Settings(business_hours="mon 09:00-17:00", timezone="Mars/Olympus")
    assert Settings(business_hours="mon-fri 09:00-17:00", timezone=BERLIN).hours is not None
