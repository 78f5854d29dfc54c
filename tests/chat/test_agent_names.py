"""Agent names are unique as people read them: no case twins, no look-alikes (issue 19,
item 14), on real SQLite and PostgreSQL stores."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import insert

from bot.chat.agents import create_agent, reset_password
from bot.core.conversation import new_id, utcnow
from bot.core.names import check_name, confusable, name_key, skeleton
from bot.errors import InvalidInput
from bot.store import tables as t
from bot.store.sql import SqlStore

PASSWORD = "correct horse battery"


@pytest.fixture
async def store(database_url):
    s = SqlStore(database_url)
    await s.start()
    yield s
    await s.close()


def _suffix() -> str:
    """The PostgreSQL database is shared by a session's tests: names get a number apart
    (digits belong to no script, so a Cyrillic name with it is not mixed)."""
    return str(uuid.uuid4().int)[:8]


def _unique(name: str) -> str:
    return f"{name} {_suffix()}"


async def test_a_name_differing_only_in_case_or_width_is_refused(store):
    carol = _unique("carol")
    await create_agent(store, carol, PASSWORD)
    for twin in (carol.upper(), carol.title(), carol.replace("c", "\uff43", 1), f"  {carol} "):
        with pytest.raises(ValueError, match="exists already"):
            await create_agent(store, twin, PASSWORD)


async def test_a_name_mixing_scripts_is_refused_with_the_reason(store):
    # "Аlice" with a Cyrillic А: refused even when no Latin Alice exists yet.
    with pytest.raises(InvalidInput, match=r"mixes scripts \(cyrillic, latin\)"):
        await create_agent(store, "\u0410lice", PASSWORD)
    with pytest.raises(InvalidInput, match="invisible"):
        await create_agent(store, "Ali\u200bce", PASSWORD)


async def test_a_name_that_looks_like_an_existing_one_is_refused(store):
    suffix = _suffix()
    await create_agent(store, f"coco {suffix}", PASSWORD)
    await create_agent(store, f"carmen {suffix}", PASSWORD)
    await create_agent(store, f"Ian {suffix}", PASSWORD)
    # All-Cyrillic "СОСО" (one script, so not mixed) reads as "COCO"; "rn" as "m"; "l" as "I".
    for lookalike in ("\u0421\u041e\u0421\u041e", "carrnen", "lan"):
        with pytest.raises(ValueError, match="looks like the existing agent"):
            await create_agent(store, f"{lookalike} {suffix}", PASSWORD)
    # Different names are still different.
    await create_agent(store, f"Lan {suffix}", PASSWORD)
    await create_agent(store, f"Alicia {suffix}", PASSWORD)


async def test_sign_in_and_password_reset_match_the_normalised_name(store):
    carol = _unique("Carol")
    agent = await create_agent(store, carol, PASSWORD)
    found = await store.agent_by_name(carol.upper())
    assert found is not None and found.id == agent.id
    await reset_password(store, carol.lower(), "a new long password")
    assert (await store.agent_by_name(carol)).password_hash != found.password_hash
    with pytest.raises(ValueError, match="no agent named"):
        await reset_password(store, _unique("nobody"), "a new long password")


async def test_rows_stored_before_the_rule_are_compared_by_their_key(store):
    # Two rows written straight to the table, as an older version could have stored them.
    carol = _unique("carol")
    async with store.engine.begin() as conn:
        for name in (carol, carol.capitalize()):
            await conn.execute(
                insert(t.agents).values(
                    id=new_id(), name=name, password_hash="h", role="agent", created_at=utcnow()
                )
            )
    with pytest.raises(ValueError, match="exists already"):
        await create_agent(store, carol.upper(), PASSWORD)
    # The exact name still signs in; an ambiguous spelling matches neither.
    assert (await store.agent_by_name(carol)).name == carol
    assert await store.agent_by_name(carol.upper()) is None


async def test_concurrent_creations_of_case_twins_leave_one_account(store):
    carol = _unique("carol")
    results = await asyncio.gather(
        *(create_agent(store, n, PASSWORD) for n in (carol, carol.upper(), carol.title())),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, ValueError) for r in results if isinstance(r, BaseException))


def test_name_rules_keep_real_names():
    for name in (
        "José Álvarez",
        "Zoë O'Brien",
        "田中さん",
        "김민준",
        "Ólafur",
        "Дмитрий",
        "Αλέξης",
    ):
        assert check_name(name) == name
    assert name_key("  CAROL   Smith ") == "carol smith"
    assert skeleton("\u0410lice") == "Alice"
    assert not confusable("Dana", "Diana") and not confusable("Lan", "Ian")


def test_a_name_with_a_character_drawn_as_nothing_is_refused():
    # Each renders as "Alice": a grapheme joiner, a variation selector, a Braille blank,
    # a loose combining accent (one that NFKC cannot fold into its letter), a surrogate.
    for name in ("Al\u034fice", "Alice\ufe0f", "Alice\u2800", "Al\u0336ice", "Alice\ud800"):
        with pytest.raises(InvalidInput, match="invisible"):
            check_name(name)
