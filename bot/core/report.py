"""The support report: resolution, escalations by reason, time to the first agent reply,
cost per conversation, ratings. Pure: the store gathers :class:`Facts`, this adds up.

Definitions (also in docs/protocol.md, Report):

- a conversation counts when the customer wrote in it or asked for a person (opening
  the widget alone does not count);
- *resolved by the bot*: answered by the bot (a non-human tier) and never handed to
  a person; *resolved by an agent*: closed by an agent; the resolution rate is both
  over all conversations;
- *escalation rate*: conversations handed to a person at least once, by the reason of
  their first hand-over;
- *time to first agent reply*: from the first hand-over to the first agent message;
- *cost*: what the model tiers cost (tokens × price table), over all conversations.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Facts:
    """One conversation, as the report needs it."""

    conversation_id: str
    channel: str
    created_at: datetime
    customer_messages: int = 0
    bot_answers: int = 0  # answers by a model tier (not hand-over notices)
    escalated_at: datetime | None = None
    reason: str | None = None  # of the first hand-over
    closed: bool = False
    first_agent_reply: datetime | None = None
    cost_usd: float = 0.0
    tiers: Counter[str] = field(default_factory=Counter)


def summarize(
    facts: list[Facts], scores: list[int], since: datetime, until: datetime
) -> dict[str, Any]:
    counted = [f for f in facts if f.customer_messages or f.escalated_at is not None]
    total = len(counted)
    by_bot = sum(1 for f in counted if f.bot_answers and f.escalated_at is None)
    by_agent = sum(1 for f in counted if f.closed and f.escalated_at is not None)
    escalated = [f for f in counted if f.escalated_at is not None]
    reasons = Counter(f.reason or "unknown" for f in escalated)
    waits = [
        (reply - queued).total_seconds()
        for f in escalated
        if (reply := f.first_agent_reply) is not None
        and (queued := f.escalated_at) is not None
        and reply >= queued
    ]
    cost = sum(f.cost_usd for f in counted)
    tiers: Counter[str] = Counter()
    for f in counted:
        tiers.update(f.tiers)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "conversations": total,
        "by_channel": dict(Counter(f.channel for f in counted)),
        "resolved_by_bot": by_bot,
        "resolved_by_agent": by_agent,
        "resolution_rate": _rate(by_bot + by_agent, total),
        "bot_resolution_rate": _rate(by_bot, total),
        "escalated": len(escalated),
        "escalation_rate": _rate(len(escalated), total),
        "escalations_by_reason": [
            {"reason": r, "count": n, "rate": _rate(n, total)} for r, n in reasons.most_common()
        ],
        "first_agent_reply": {
            "answered": len(waits),
            "median_seconds": round(statistics.median(waits), 1) if waits else None,
            "waiting": sum(1 for f in escalated if f.first_agent_reply is None),
        },
        "cost": {
            "total_usd": round(cost, 6),
            "per_conversation_usd": round(cost / total, 6) if total else None,
            "turns_by_tier": dict(tiers),
        },
        "csat": {
            "ratings": len(scores),
            "average": round(statistics.fmean(scores), 2) if scores else None,
            "distribution": {str(s): scores.count(s) for s in range(1, 6)},
            # Share of 4s and 5s, the usual CSAT figure.
            "satisfied_rate": _rate(sum(1 for s in scores if s >= 4), len(scores)),
        },
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
