"""The ``Store`` on SQLAlchemy 2 (async): SQLite by default, PostgreSQL by URL.

Concurrency: every transaction that adds an event *starts* by incrementing
``conversations.last_seq`` (``UPDATE … RETURNING``). On PostgreSQL that locks the
conversation's row, so events of one conversation are numbered one at a time; on
SQLite it takes the write lock first, so a transaction never has to upgrade a read
lock (the usual cause of ``database is locked``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.core.conversation import (
    Conversation,
    Event,
    Message,
    OwnershipConflict,
    Role,
    State,
    as_utc,
    check_transition,
    message_payload,
    new_id,
    state_payload,
    utcnow,
)
from bot.core.protocols import TurnRecord
from bot.errors import StoreUnavailable
from bot.store import tables as t
from bot.store.agent_rows import AgentRows
from bot.store.call_rows import CallRows
from bot.store.followup_rows import FollowupRows
from bot.store.lease_rows import LeaseRows
from bot.store.migrate import upgrade
from bot.store.privacy_rows import PrivacyRows
from bot.store.report_rows import ReportRows
from bot.store.upload_rows import UploadRows

log = logging.getLogger(__name__)
T = TypeVar("T")

# What the store raises when the database is unreachable or fails a statement; a caller
# that can tell the customer "try again" catches these. (IntegrityError, a conflict the
# store resolves itself, is among them only as a SQLAlchemyError it let through.)
STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, StoreUnavailable)


# Waits between attempts of a write the bot's turn must not lose: about 8 s in all, the
# "briefly unavailable" a database restart or a fail-over takes.
RETRY_WAITS = (0.25, 0.5, 1.0, 2.0, 4.0)


async def retrying(write: Callable[[], Awaitable[T]]) -> T:
    """Run ``write`` again while the database is unreachable, for :data:`RETRY_WAITS`.

    Only for idempotent writes (a fixed message id, a client id): an attempt whose
    commit succeeded but whose answer was lost is then found, not written twice."""
    for wait in (*RETRY_WAITS, None):
        try:
            return await write()
        except IntegrityError:
            raise
        except STORE_ERRORS as exc:
            if wait is None:
                raise
            log.warning("database unavailable (%s); retrying in %g s", type(exc).__name__, wait)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def async_url(url: str) -> str:
    """Accept the URLs people write (``postgresql://``, ``sqlite:///``) and pick async drivers."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}.get(
        parsed.drivername, parsed.drivername
    )
    if driver == "sqlite":
        driver = "sqlite+aiosqlite"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _conversation(row: Any) -> Conversation:
    return Conversation(
        id=row["id"],
        state=State(row["state"]),
        channel=row["channel"],
        created_at=as_utc(row["created_at"]),
        last_seq=row["last_seq"],
        reason=row["reason"],
        summary=row["summary"],
        agent=row["agent"],
        visitor=dict(row["visitor"] or {}),
    )


def _message(row: Any) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=Role(row["role"]),
        text=row["text"],
        created_at=as_utc(row["created_at"]),
        citations=list(row["citations"] or []),
        attachments=list(row["attachments"] or []),
        tier=row["tier"],
        client_id=row["client_id"],
    )


def _event(row: Any) -> Event:
    return Event(row["conversation_id"], row["seq"], row["type"], dict(row["payload"]))


class SqlStore(UploadRows, AgentRows, FollowupRows, ReportRows, CallRows, PrivacyRows, LeaseRows):
    """Conversations, messages, events and uploads in a SQL database."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs = {"connect_args": {"timeout": 30}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        # SQLite has one writer at a time. Queueing writers here, in order, beats letting
        # them collide in SQLite's busy handler, which sleeps and retries (up to 100 ms a
        # try) and made a burst of 50 conversations take seconds.
        self._write_lock: asyncio.Lock | None = None
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            self._write_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (serialised in this process on SQLite)."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    async def start(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``)."""
        try:
            async with self._write() as conn:
                await conn.run_sync(upgrade)
        except (OperationalError, OSError) as exc:
            raise StoreUnavailable(
                f"cannot open the database {make_url(self.url).render_as_string()}: {exc}"
            ) from exc

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # -- conversations -------------------------------------------------------------

    async def create_conversation(
        self, *, channel: str, token_hash: str, visitor: dict[str, Any]
    ) -> Conversation:
        now = utcnow()
        values = {
            "id": new_id(),
            "token_hash": token_hash,
            "state": str(State.BOT),
            "channel": channel,
            "visitor": visitor,
            "last_seq": 0,
            "created_at": now,
            "updated_at": now,
            "reason": None,
            "summary": None,
            "agent": None,
        }
        async with self._write() as conn:
            await conn.execute(insert(t.conversations).values(values))
        return _conversation(values)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(t.conversations).where(t.conversations.c.id == conversation_id)
                    )
                )
                .mappings()
                .first()
            )
        return _conversation(row) if row else None

    async def token_hash(self, conversation_id: str) -> str | None:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(t.conversations.c.token_hash).where(t.conversations.c.id == conversation_id)
            )
        return str(value) if value is not None else None

    async def _next_seq(
        self, conn: AsyncConnection, conversation_id: str
    ) -> tuple[int, State, str | None]:
        """Allocate the next seq; on PostgreSQL this row is now locked until commit, so
        the state and owner returned cannot change under the transaction."""
        row = (
            await conn.execute(
                update(t.conversations)
                .where(t.conversations.c.id == conversation_id)
                .values(last_seq=t.conversations.c.last_seq + 1, updated_at=utcnow())
                .returning(
                    t.conversations.c.last_seq, t.conversations.c.state, t.conversations.c.agent
                )
            )
        ).first()
        if row is None:
            raise KeyError(conversation_id)
        return int(row[0]), State(row[1]), row[2]

    async def _add_event(
        self,
        conn: AsyncConnection,
        conversation_id: str,
        seq: int,
        kind: str,
        payload: dict[str, Any],
    ) -> Event:
        await conn.execute(
            insert(t.events).values(
                conversation_id=conversation_id,
                seq=seq,
                type=kind,
                payload=payload,
                created_at=utcnow(),
            )
        )
        return Event(conversation_id, seq, kind, payload)

    # -- messages ------------------------------------------------------------------

    async def _by_client_id(
        self, conversation_id: str, client_id: str
    ) -> tuple[Message, Event] | None:
        return await self._stored_message(
            t.messages.c.conversation_id == conversation_id, t.messages.c.client_id == client_id
        )

    async def _stored_message(self, *where: Any) -> tuple[Message, Event] | None:
        """The message matching ``where`` with its history event, if it is stored."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(t.messages).where(*where))).mappings().first()
            if row is None:
                return None
            ev = (
                (
                    await conn.execute(
                        select(t.events).where(
                            t.events.c.conversation_id == row["conversation_id"],
                            t.events.c.seq == row["seq"],
                        )
                    )
                )
                .mappings()
                .one()
            )
        return _message(row), _event(ev)

    async def add_message(
        self,
        conversation_id: str,
        role: Role,
        text: str,
        *,
        client_id: str | None = None,
        message_id: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        tier: str | None = None,
    ) -> tuple[Message, Event, bool]:
        if client_id is not None:
            seen = await self._by_client_id(conversation_id, client_id)
            if seen:
                return seen[0], seen[1], False
        message = Message(
            id=message_id or new_id(),
            conversation_id=conversation_id,
            role=role,
            text=text,
            created_at=utcnow(),
            citations=citations or [],
            attachments=attachments or [],
            tier=tier,
            client_id=client_id,
        )
        payload = message_payload(message)
        try:
            async with self._write() as conn:
                seq, _, _ = await self._next_seq(conn, conversation_id)
                await conn.execute(
                    insert(t.messages).values(
                        id=message.id,
                        conversation_id=conversation_id,
                        seq=seq,
                        role=str(role),
                        text=text,
                        citations=message.citations,
                        attachments=message.attachments,
                        tier=tier,
                        client_id=client_id,
                        created_at=message.created_at,
                    )
                )
                ev = await self._add_event(conn, conversation_id, seq, "message", payload)
        except IntegrityError:
            # The same client id raced in through another connection (or replica), or an
            # earlier attempt with this message id committed though its answer was lost.
            if client_id is not None:
                seen = await self._by_client_id(conversation_id, client_id)
            elif message_id is not None:
                seen = await self._stored_message(t.messages.c.id == message_id)
            else:
                raise
            if seen is None:
                raise
            return seen[0], seen[1], False
        return message, ev, True

    async def set_state(
        self,
        conversation_id: str,
        state: State,
        *,
        reason: str | None = None,
        summary: str | None = None,
        agent: str | None = None,
        expect: frozenset[State] | None = None,
        expect_agent: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Event:
        """Change ownership. ``expect``/``expect_agent``: the state (and owner) the caller
        saw; if another transaction changed them first, :class:`OwnershipConflict` is
        raised. The check runs under the row lock taken by the seq update, so of two
        agents taking one conversation on two replicas exactly one succeeds. ``extra``
        goes into the state event as it is (availability, a rating request)."""
        async with self._write() as conn:
            seq, current, owner = await self._next_seq(conn, conversation_id)
            if (expect is not None and current not in expect) or (
                expect_agent is not None and owner != expect_agent
            ):
                raise OwnershipConflict(  # raising rolls the seq back
                    f"the conversation is {current}" + (f" with {owner}" if owner else "")
                )
            check_transition(current, state)
            values: dict[str, Any] = {"state": str(state), "agent": agent, "state_since": utcnow()}
            if state is not State.AGENT:  # taking over keeps the reason and summary
                values |= {"reason": reason, "summary": summary}
            await conn.execute(
                update(t.conversations)
                .where(t.conversations.c.id == conversation_id)
                .values(values)
            )
            return await self._add_event(
                conn,
                conversation_id,
                seq,
                "state",
                state_payload(state, reason, agent) | (extra or {}),
            )

    async def events_after(self, conversation_id: str, seq: int) -> list[Event]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.events)
                    .where(t.events.c.conversation_id == conversation_id, t.events.c.seq > seq)
                    .order_by(t.events.c.seq)
                )
            ).mappings()
            return [_event(r) for r in rows]

    async def messages(self, conversation_id: str, limit: int = 50) -> list[Message]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.messages)
                    .where(t.messages.c.conversation_id == conversation_id)
                    .order_by(t.messages.c.seq.desc())
                    .limit(limit)
                )
            ).mappings()
            return [_message(r) for r in reversed(list(rows))]

    async def get_message(self, message_id: str) -> Message | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(t.messages).where(t.messages.c.id == message_id)))
                .mappings()
                .first()
            )
        return _message(row) if row else None

    # -- turns and feedback -----------------------------------------------------------

    async def record_turn(self, record: TurnRecord) -> None:
        async with self._write() as conn:
            # TurnRecord's fields are the table's columns.
            await conn.execute(
                insert(t.turns).values(**dataclasses.asdict(record), created_at=utcnow())
            )

    async def turns(self, conversation_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(t.turns)
                    .where(t.turns.c.conversation_id == conversation_id)
                    .order_by(t.turns.c.id)
                )
            ).mappings()
            return [dict(r) for r in rows]

    async def record_feedback(self, conversation_id: str, message_id: str, rating: str) -> None:
        # The latest rating of a message wins: delete + insert is portable across dialects.
        async with self._write() as conn:
            await conn.execute(t.feedback.delete().where(t.feedback.c.message_id == message_id))
            await conn.execute(
                insert(t.feedback).values(
                    message_id=message_id,
                    conversation_id=conversation_id,
                    rating=rating,
                    created_at=utcnow(),
                )
            )

    async def ratings(self, message_ids: list[str]) -> dict[str, str]:
        if not message_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.feedback.c.message_id, t.feedback.c.rating).where(
                    t.feedback.c.message_id.in_(message_ids)
                )
            )
            return {str(m): str(r) for m, r in rows}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (replays) run while a turn writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last
    # commits. One fsync per checkpoint instead of per message.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
