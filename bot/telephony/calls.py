"""Phone calls as conversations: which conversation a call is, who may stream its
audio, and where it goes when the bot hands it over. No web framework.

One conversation per Twilio ``CallSid``: Twilio retries a webhook that timed out, and a
replayed request must not start a second conversation. The media stream proves it
belongs to the call with a token that only the TwiML of this call carried (as a
``<Parameter>``, which Twilio sends back in the stream's ``start`` message); the store
keeps its hash.

A call has one stream: the token is spent when its stream begins (the row changes once,
in the database every replica shares) and lapses after a TTL, since it only has to last
until Twilio opens the stream. A Voice webhook repeated before that gets a new token (a
Twilio retry: the first answer never arrived); once the stream has begun, or a minute
after the first webhook, a repeat is a replay and gets none.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.chat.service import PHONE, AuthError, ChatService, hash_token
from bot.store.call_rows import CALLBACK, TRANSFER, Call
from bot.store.sql import SqlStore
from bot.telephony import twiml

CLAIM_WAIT = 5.0  # seconds a repeated webhook waits for the first one's conversation
STREAM_TOKEN_TTL = 60.0  # seconds: Twilio opens the stream right after reading the TwiML


class CallAlreadyStreamed(AuthError):
    """A Voice webhook repeated after the call's stream began (or too late to be Twilio's
    retry): a replay. It gets no stream token."""


def _stream_token(ttl: float, now: float) -> str:
    """A fresh token that carries its own expiry (the stored hash covers it, so it
    cannot be changed, and every replica reads it without another column)."""
    return f"{int(now + ttl)}.{secrets.token_urlsafe(32)}"


def _expired(token: str, now: float) -> bool:
    expires, _, _ = token.partition(".")
    return not expires.isdigit() or int(expires) < now


@dataclass(frozen=True)
class Handover:
    """What the caller is told when the bot hands the call over, and what happens."""

    outcome: str  # TRANSFER | CALLBACK
    say: str


class CallService:
    def __init__(
        self,
        store: SqlStore,
        chat: ChatService,
        transfer_to: str = "",
        clock: Callable[[], float] = time.time,  # wall time: every replica reads the expiry
    ) -> None:
        self.store = store
        self.chat = chat
        self.transfer_to = transfer_to
        self.clock = clock

    async def answer(
        self, call_sid: str, caller: str, ttl: float = STREAM_TOKEN_TTL
    ) -> tuple[str, str]:
        """The conversation of this call (created on the first webhook) and a fresh
        token for its media stream, valid ``ttl`` seconds.

        Raises :class:`CallAlreadyStreamed` for a repeat once the stream has begun.
        """
        token = _stream_token(ttl, self.clock())
        token_hash = hash_token(token)
        if await self.store.claim_call(call_sid, caller, token_hash):
            conversation, _ = await self.chat.start(PHONE, visitor={"phone": caller})
            await self.store.attach_call(call_sid, conversation.id)
            return conversation.id, token
        deadline = asyncio.get_running_loop().time() + CLAIM_WAIT
        while True:
            call = await self.store.get_call(call_sid)
            if call is not None and call.conversation_id is not None:
                break
            if asyncio.get_running_loop().time() > deadline:
                raise AuthError("The first request of this call did not finish.")
            await asyncio.sleep(0.05)
        if not hmac.compare_digest(call.stream_token_hash, token_hash):
            raise CallAlreadyStreamed("This call's stream has begun; it gets no second one.")
        return call.conversation_id, token

    async def open_stream(self, call_sid: str, token: str) -> Call:
        """The call whose stream this is; the token is spent (one stream per call)."""
        call = await self.store.get_call(call_sid)
        if (
            call is None
            or call.conversation_id is None
            or not hmac.compare_digest(call.stream_token_hash, hash_token(token))
        ):
            raise AuthError("Unknown call, or a wrong or spent stream token.")
        if _expired(token, self.clock()):
            raise AuthError("The stream token has expired.")
        if not await self.store.open_call_stream(call_sid, call.stream_token_hash):
            raise AuthError("This call's stream has already begun.")  # lost a race
        return call

    async def hand_over(self, call: Call) -> Handover:
        """The bot escalated: put the call through when someone can take it, else offer
        a call back to the caller's number (kept on the call and noted for the agents)."""
        assert call.conversation_id is not None
        staffing = self.chat.staffing
        available = await staffing.availability() if staffing is not None else None
        if self.transfer_to and (available is None or available.open):
            await self.store.set_call_outcome(call.call_sid, TRANSFER)
            return Handover(
                TRANSFER,
                "I'm putting you through to a person from our support team now. "
                "Please stay on the line.",
            )
        await self.store.set_call_outcome(call.call_sid, CALLBACK)
        await self.chat.system_note(
            call.conversation_id,
            f"The caller asked to be called back at {call.caller}.",
            client_id=f"callback:{call.call_sid}",
        )
        when = (
            f" We're back {available.next_open_text}."
            if available is not None and available.next_open_text
            else ""
        )
        return Handover(
            CALLBACK,
            "Nobody from our support team can take your call right now."
            f"{when} We'll call you back at the number you're calling from. Goodbye.",
        )

    async def after_stream(self, call_sid: str) -> str:
        """TwiML for the end of the stream: put through, or hang up."""
        call = await self.store.get_call(call_sid)
        if call is not None and call.outcome == TRANSFER and self.transfer_to:
            return twiml.transfer(self.transfer_to)
        return twiml.hang_up()
