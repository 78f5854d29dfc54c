"""Seams the core depends on (implementations live outside the core)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.core.types import Passage


@runtime_checkable
class KnowledgeBase(Protocol):
    """Where answers come from."""

    def search(self, query: str, k: int) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first, each with a 0..1 score."""
        ...
