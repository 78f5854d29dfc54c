"""The model budgets: tokens per conversation, USD per day for everyone (denial of wallet).

Both are counted from the ``turns`` table, so every replica sees the same spend. A
conversation past its budget, or everyone once the last 24 hours' cost reached the
daily budget, gets no generative tier: the extractive answerer (which costs nothing)
still answers when it is on the ladder; otherwise the question goes to a person, who
is told why (:data:`~bot.core.turn.MESSAGES`).

The spend is checked before a turn, so one turn can overshoot by at most one answer
(``SUPPORTBOT_MAX_ANSWER_TOKENS`` plus its prompt).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from bot.core.conversation import utcnow
from bot.core.turn import CONVERSATION_BUDGET, DAILY_BUDGET
from bot.store.sql import SqlStore

DAILY_REFRESH = 5.0  # seconds a daily total is reused: one SUM per replica, not per turn


class Budget:
    def __init__(
        self,
        store: SqlStore,
        *,
        conversation_tokens: int = 0,
        daily_usd: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.conversation_tokens = conversation_tokens
        self.daily_usd = daily_usd
        self.clock = clock
        self._daily: tuple[float, float] | None = None  # (checked at, spent)

    async def paused(self, conversation_id: str) -> str | None:
        """Why generative tiers are off for this conversation's next turn, or None."""
        if self.conversation_tokens:
            spent = await self.store.conversation_tokens(conversation_id)
            if spent >= self.conversation_tokens:
                return CONVERSATION_BUDGET
        if self.daily_usd and await self.spent_today() >= self.daily_usd:
            return DAILY_BUDGET
        return None

    async def spent_today(self) -> float:
        now = self.clock()
        if self._daily is None or now - self._daily[0] >= DAILY_REFRESH:
            spent = await self.store.cost_since(utcnow() - timedelta(days=1))
            self._daily = (now, spent)
        return self._daily[1]
