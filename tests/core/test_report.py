"""Adding up the support report from per-conversation facts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.core.report import Facts, summarize

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def facts(n: int, **kw) -> Facts:
    return Facts(f"c{n}", kw.pop("channel", "web"), T0, **kw)


def test_rates_median_wait_cost_and_ratings():
    rows = [
        facts(1, customer_messages=2, bot_answers=2, cost_usd=0.002, tiers=Counter(mini=2)),
        facts(2, customer_messages=1, bot_answers=1, cost_usd=0.001, tiers=Counter(mini=1)),
        facts(  # answered, then handed over and closed by an agent 60 s later
            3,
            customer_messages=3,
            bot_answers=1,
            escalated_at=T0,
            reason="low_confidence",
            closed=True,
            first_agent_reply=T0 + timedelta(seconds=60),
            cost_usd=0.003,
            tiers=Counter(mini=1, large=1),
        ),
        facts(
            4,
            channel="phone",
            customer_messages=1,
            escalated_at=T0,
            reason="asked_for_human",
            first_agent_reply=T0 + timedelta(seconds=300),
        ),
        facts(5, customer_messages=1, escalated_at=T0, reason="asked_for_human"),  # waiting
        facts(6),  # opened the widget, never wrote: not counted
    ]
    report = summarize(rows, [5, 4, 2], T0, T0 + timedelta(days=1))
    assert report["conversations"] == 5
    assert report["by_channel"] == {"web": 4, "phone": 1}
    assert report["resolved_by_bot"] == 2 and report["resolved_by_agent"] == 1
    assert report["resolution_rate"] == 0.6 and report["bot_resolution_rate"] == 0.4
    assert report["escalation_rate"] == 0.6
    assert report["escalations_by_reason"] == [
        {"reason": "asked_for_human", "count": 2, "rate": 0.4},
        {"reason": "low_confidence", "count": 1, "rate": 0.2},
    ]
    assert report["first_agent_reply"] == {"answered": 2, "median_seconds": 180.0, "waiting": 1}
    assert report["cost"]["total_usd"] == 0.006
    assert report["cost"]["per_conversation_usd"] == 0.0012
    assert report["cost"]["turns_by_tier"] == {"mini": 4, "large": 1}
    assert report["csat"]["average"] == 3.67
    assert report["csat"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert report["csat"]["satisfied_rate"] == 0.6667


def test_an_empty_period_has_no_rates_rather_than_zeros():
    report = summarize([], [], T0, T0)
    assert report["conversations"] == 0
    assert report["resolution_rate"] is None and report["escalation_rate"] is None
    assert report["first_agent_reply"]["median_seconds"] is None
    assert report["cost"]["per_conversation_usd"] is None
    assert report["csat"]["average"] is None
