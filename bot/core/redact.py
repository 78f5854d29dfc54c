"""PII redaction for text that leaves the server for an external model. No I/O.

Three kinds, each replaced by a placeholder the model can still reason about
("my card [card] was charged twice"):

* email addresses → ``[email]``;
* payment card numbers (13-19 digits, spaces or dashes allowed) that pass the Luhn
  check → ``[card]``; a digit run that fails it (an order number) is left alone;
* phone numbers → ``[phone]``: 7-15 digits with a leading ``+``/``00``, or with the
  separators people type in phone numbers, or a bare run of 10 or 11 digits. Shapes that are
  something else are left: dates (2026-11-29), dotted versions and addresses
  (3.13.0, 192.168.1.20), error codes (E-2041), short numbers.

It errs on the side of keeping text the answer needs; it is a net for what
customers paste, not a guarantee (names and street addresses are not found).
"""

from __future__ import annotations

import re

EMAIL = "[email]"
CARD = "[card]"
PHONE = "[phone]"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE = re.compile(r"(?<![\w+.-])(?:\+|00)?\(?\d[\d ().-]{5,}\d(?![\w-])")
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
_US_DOTTED = re.compile(r"\d{3}\.\d{3}\.\d{4}")


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # No card number starts with 0 (that is a phone's trunk or international prefix).
    if 13 <= len(digits) <= 19 and digits[0] != "0" and luhn(digits):
        return CARD
    return match.group(0)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return text
    if _US_DOTTED.fullmatch(text):
        return PHONE
    if _DATE.fullmatch(text) or _DOTTED.fullmatch(text):
        return text
    if text.startswith(("+", "00")):
        return PHONE
    if re.search(r"[ ()-]", text):
        # Grouped as phone numbers are written: the last group has 2 digits or more
        # (not a build or ticket suffix such as 20261129-1).
        return PHONE if len(re.split(r"\D+", text)[-1]) >= 2 else text
    # A bare digit run is a phone number only at the length of a national number with
    # its area code; longer or shorter runs are more often order or account numbers.
    return PHONE if len(digits) in (10, 11) else text


def redact(text: str) -> str:
    """``text`` with emails, card numbers and phone numbers replaced by placeholders."""
    text = _EMAIL.sub(EMAIL, text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)
