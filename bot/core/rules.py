"""Escalation rules that fire before any retrieval or model: words, not scores."""

from __future__ import annotations

import re

# "Can I talk to a person", "real human please", "get me an agent", "customer service rep".
_HUMAN = re.compile(
    r"""
    \b(?:talk|speak|chat|connect|transfer|put)\w*\s+(?:me\s+)?(?:to|with|through\s+to)\s+
        (?:a|an|the|some|your)?\s*(?:real\s+|live\s+|actual\s+)?
        (?:human|person|people|someone|somebody|agent|representative|rep|staff|operator|support)\b
    | \b(?:real|live|actual)\s+(?:human|person|agent|people)\b
    | \b(?:human|live)\s+(?:agent|support|help|being)\b
    | \bcustomer\s+(?:service|support)\s+(?:rep|representative|agent|person)\b
    | \b(?:get|give|want|need)\s+(?:me\s+)?(?:a|an)\s+(?:human|person|agent|representative)\b
    | ^\s*(?:human|agent|operator|representative)\s*(?:please|pls|now)?\s*[.!?]*\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)


def asks_for_human(text: str) -> bool:
    """True when the customer asks, in words, to be put through to a person."""
    return bool(_HUMAN.search(text))
