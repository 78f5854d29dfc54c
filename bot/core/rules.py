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


# Strong negative sentiment: anger at the service, not a description of a problem.
# "Sync fails with E-2041" is a normal support question and must not fire; "this is
# ridiculous, worst app ever" or swearing at us should reach a person at once.
# Abuse and threats count twice; complaint words once.
_ABUSE = re.compile(
    r"""
    \b(?:f+u+c+k+\w*|sh[i1]t+(?:ty)?|bullsh\w*|screw\s+(?:you|this)|scam(?:mers?)?
       |rip[\s-]?off|idiots?|incompetent|pathetic)\b
    | \b(?:lawyer|lawsuit|sue\s+you|small\s+claims|chargeback|report\s+you)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_COMPLAINT = re.compile(
    r"""
    \b(?:worst|terrible|horrible|awful|disgusting|unacceptable|ridiculous|outrageous|useless
       |garbage|trash|crap(?:py)?|damn(?:ed)?|stupid|wtf)\b
    | \b(?:furious|livid|fed\s+up|sick\s+(?:and\s+tired\s+)?of|pissed|so\s+angry|very\s+angry)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SHOUT = re.compile(r"\b[A-Z]{3,}(?:\s+[A-Z]{2,}){2,}\b")
_CODE = re.compile(r"\b[A-Z]+-?\d+\b")


def anger(text: str) -> int:
    """Signs of strong anger in ``text``: abuse and threats count 2, complaint words,
    shouting (three capitalised words in a row) and "!!!" count 1."""
    score = 2 * len(_ABUSE.findall(text)) + len(_COMPLAINT.findall(text))
    if _SHOUT.search(_CODE.sub("", text)):
        score += 1
    if "!!!" in text or "?!?" in text:
        score += 1
    return score


def strongly_negative(text: str) -> bool:
    return anger(text) >= 2


def fired(text: str) -> str | None:
    """The reason code of the first rule that fires on the customer's words, if any."""
    if asks_for_human(text):
        return "asked_for_human"
    if strongly_negative(text):
        return "negative_sentiment"
    return None
