"""The facts behind the support report (:mod:`bot.core.report`), for ``SqlStore``.

Four grouped queries over the conversations started in the period, whatever their
number; the adding up is done by :func:`bot.core.report.summarize`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.conversation import Role, State, as_utc
from bot.core.report import Facts
from bot.core.turn import HUMAN_TIER
from bot.store import tables as t


class ReportRows:
    """Mixed into ``SqlStore``."""

    engine: AsyncEngine

    async def report_facts(self, since: datetime, until: datetime) -> list[Facts]:
        c, m, e, tu = t.conversations.c, t.messages.c, t.events.c, t.turns.c
        started = select(c.id).where(c.created_at >= since, c.created_at < until)
        facts: dict[str, Facts] = {}
        async with self.engine.connect() as conn:
            for cid, channel, created in await conn.execute(
                select(c.id, c.channel, c.created_at).where(
                    c.created_at >= since, c.created_at < until
                )
            ):
                facts[cid] = Facts(cid, channel, as_utc(created))
            for cid, role, tier, count, first in await conn.execute(
                select(m.conversation_id, m.role, m.tier, func.count(), func.min(m.created_at))
                .where(m.conversation_id.in_(started))
                .group_by(m.conversation_id, m.role, m.tier)
            ):
                f = facts.get(cid)
                if f is None:
                    continue
                if role == str(Role.CUSTOMER):
                    f.customer_messages += count
                elif role == str(Role.BOT) and tier not in (None, HUMAN_TIER):
                    f.bot_answers += count  # an answer, not a hand-over notice
                elif role == str(Role.AGENT):
                    reply = as_utc(first)
                    if f.first_agent_reply is None or reply < f.first_agent_reply:
                        f.first_agent_reply = reply
            for cid, payload, created in await conn.execute(
                select(e.conversation_id, e.payload, e.created_at)
                .where(e.conversation_id.in_(started), e.type == "state")
                .order_by(e.conversation_id, e.seq)
            ):
                f = facts.get(cid)
                state = payload.get("state") if isinstance(payload, dict) else None
                if f is None:
                    continue
                if state == str(State.QUEUED) and f.escalated_at is None:
                    f.escalated_at = as_utc(created)
                    f.reason = payload.get("reason")
                elif state == str(State.CLOSED):
                    f.closed = True
            for cid, tier, count, cost in await conn.execute(
                select(tu.conversation_id, tu.tier, func.count(), func.sum(tu.cost_usd))
                .where(tu.conversation_id.in_(started))
                .group_by(tu.conversation_id, tu.tier)
            ):
                f = facts.get(cid)
                if f is not None:
                    f.cost_usd += float(cost or 0)
                    f.tiers[tier] += count
        return list(facts.values())
