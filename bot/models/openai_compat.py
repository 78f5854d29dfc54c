"""A ``ChatModel`` for any OpenAI-compatible ``/v1/chat/completions`` endpoint.

OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp's server: anything the ``openai``
SDK can talk to with a ``base_url``. Streaming; the SDK retries 408/409/429/5xx
and connection errors with exponential backoff (honouring ``Retry-After``) before
the first byte; a failure after that, or after the retries, raises
:class:`~bot.errors.ModelError` so the ladder moves on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

import openai

from bot.errors import ModelError
from bot.models.base import AnswerRequest, Usage
from bot.models.prompt import build_messages, build_rewrite_messages

REWRITE_TOKENS = 80  # a standalone question, not an answer
# USD per million tokens (input, output). Configuration overrides and extends it
# (SUPPORTBOT_PRICES); a model missing from the table costs 0 and says so in /metrics.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
}


def cost(
    model: str, tokens_in: int, tokens_out: int, prices: Mapping[str, tuple[float, float]]
) -> float:
    price_in, price_out = prices.get(model, (0.0, 0.0))
    return (tokens_in * price_in + tokens_out * price_out) / 1_000_000


class OpenAIChatModel:
    """Streams answers from an OpenAI-compatible server."""

    accepts_images: bool
    generative = True

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_tokens: int = 400,
        temperature: float = 0.0,
        accepts_images: bool = False,
        prices: Mapping[str, tuple[float, float]] | None = None,
        redact_pii: bool = False,
    ) -> None:
        self.model = model
        self.name = model
        self.accepts_images = accepts_images
        self.max_tokens = max_tokens
        self.redact_pii = redact_pii
        self.temperature = temperature
        self.prices = dict(DEFAULT_PRICES) | dict(prices or {})
        self._client = openai.AsyncOpenAI(
            # Local servers (llama.cpp, vLLM, Ollama) take any key; the SDK insists on one.
            api_key=api_key or "not-needed",
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def stream(self, request: AnswerRequest) -> AsyncIterator[str | Usage]:
        usage: Usage | None = None
        try:
            # The SDK sends the request (auth, base URL, retries with backoff, errors);
            # the server-sent events are read raw: building a pydantic model per token
            # cost 40% of the event loop with 50 conversations streaming at once.
            async with self._client.chat.completions.with_streaming_response.create(
                model=self.model,
                messages=cast(Any, build_messages(request, self.accepts_images, self.redact_pii)),
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=self.max_tokens,
                temperature=self.temperature,
            ) as response:
                async for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if chunk.get("error"):
                        raise ModelError(f"{self.model}: {chunk['error']}")
                    if chunk.get("usage"):
                        usage = self._usage(chunk["usage"])
                    for choice in chunk.get("choices") or ():
                        content = (choice.get("delta") or {}).get("content")
                        if content:
                            yield content
        except openai.APIStatusError as exc:
            raise ModelError(f"{self.model}: HTTP {exc.status_code} from the model server") from exc
        except openai.APITimeoutError as exc:
            raise ModelError(f"{self.model}: the model server timed out") from exc
        except openai.APIError as exc:
            raise ModelError(f"{self.model}: {type(exc).__name__}: {exc}") from exc
        except (ValueError, AttributeError) as exc:
            raise ModelError(f"{self.model}: malformed stream from the model server") from exc
        except Exception as exc:  # the HTTP stream broke mid-answer (the SDK's httpx errors)
            if type(exc).__module__.split(".")[0] not in ("httpx", "httpx2", "httpcore", "h11"):
                raise
            if "Timeout" in type(exc).__name__:
                raise ModelError(f"{self.model}: the model server timed out") from exc
            raise ModelError(f"{self.model}: the stream broke: {type(exc).__name__}") from exc
        if usage is not None:
            yield usage

    async def rewrite(self, history: Sequence[tuple[str, str]], message: str) -> tuple[str, Usage]:
        """``message`` as a standalone question (one short, non-streamed call)."""
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                messages=cast(Any, build_rewrite_messages(history, message, self.redact_pii)),
                max_tokens=REWRITE_TOKENS,
                temperature=0.0,
            )
        except openai.APIStatusError as exc:
            raise ModelError(f"{self.model}: HTTP {exc.status_code} from the model server") from exc
        except openai.APIError as exc:
            raise ModelError(f"{self.model}: rewrite failed: {type(exc).__name__}") from exc
        text = (completion.choices[0].message.content or "") if completion.choices else ""
        raw = completion.usage.model_dump() if completion.usage else {}
        return " ".join(text.split()), self._usage(raw)

    def _usage(self, raw: dict[str, Any]) -> Usage:
        tokens_in = int(raw.get("prompt_tokens") or 0)
        tokens_out = int(raw.get("completion_tokens") or 0)
        return Usage(tokens_in, tokens_out, cost(self.model, tokens_in, tokens_out, self.prices))

    async def aclose(self) -> None:
        await self._client.close()
