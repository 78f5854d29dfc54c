"""PII redaction: what is replaced, and what a support answer needs that is kept."""

from __future__ import annotations

import pytest

from bot.core.redact import luhn, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+shop@mail.example.co.uk please", "write to [email] please"),
        ("JOHN_SMITH@EXAMPLE.COM can't log in", "[email] can't log in"),
        ("card 4111 1111 1111 1111 was charged twice", "card [card] was charged twice"),
        ("5500-0000-0000-0004", "[card]"),
        ("amex 378282246310005 declined", "amex [card] declined"),
        ("call me on +49 30 1234567", "call me on [phone]"),
        ("0049 171 2345678", "[phone]"),
        ("(555) 123-4567 or 555.123.4567", "[phone] or [phone]"),
        ("my number is 5551234567", "my number is [phone]"),
        ("030 12 34 56 78", "[phone]"),
    ],
)
def test_personal_data_is_replaced(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "error E-2041 since 2026-11-29 on version 3.13.0",
        "the server at 192.168.1.20 answers 404",
        "order 1234567890123 has not arrived",  # 13 digits, not a valid card number
        "ticket 12345678",
        "build 20261129-1 fixed it",
        "it costs 1,000,000 credits at 12:30",
        "4111 1111 1111 1112",  # fails the Luhn check
    ],
)
def test_what_is_not_personal_data_is_kept(text):
    assert redact(text) == text


def test_luhn():
    assert luhn("4111111111111111") and luhn("79927398713")
    assert not luhn("4111111111111112") and not luhn("79927398710")


def test_several_kinds_in_one_message():
    text = "I'm a@b.io, card 4242424242424242, phone +1 (555) 010-9999: error E-4012"
    assert redact(text) == "I'm [email], card [card], phone [phone]: error E-4012"
