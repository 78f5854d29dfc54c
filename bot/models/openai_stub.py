"""An OpenAI-compatible stub server: the paid LLM in tests and benchmarks, and the model
that ``supportbot eval --answers`` serves written answers through.

Speaks ``POST /v1/chat/completions`` (plain and SSE streaming, usage in the last
chunk when ``stream_options.include_usage``) over real HTTP. Behaviour is scripted
per model name through ``POST /_script``:

* ``replies``: a queue of actions, each ``{"text": …}``, ``{"error": 500}`` (with
  optional ``"retry_after_ms"``) or ``{"text": …, "cut_after": n}`` (the stream
  breaks after n tokens) or ``{"text": …, "locate": PHRASE}`` (``[G]`` in the text
  becomes the number of the first passage in the prompt that contains PHRASE; with no
  such passage the reply is ``NO_ANSWER``: a model would not have written that answer);
* ``default``: what to do when the queue is empty: ``"quote"`` (the first
  sentence of passage 1, cited ``[1]``: a grounded answer), ``"no_answer"``,
  or ``"error"``;
* ``ttft`` (seconds before the first token) and ``tokens_per_second``.

``GET /_history`` lists the requests received. Run it in-process with
:class:`StubServer` (a real uvicorn server on a free port in a thread) or as
``python -m bot.models.openai_stub --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

_PASSAGE = re.compile(r'<passage n="1"[^>]*>\n(.*?)\n</passage>', re.DOTALL)
_PASSAGES = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)
_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)", re.DOTALL)


@dataclass
class Script:
    replies: deque[dict[str, Any]] = field(default_factory=deque)
    default: str = "quote"
    ttft: float = 0.0
    tokens_per_second: float = 0.0  # 0: as fast as possible


def _prompt(messages: list[dict[str, Any]]) -> str:
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if isinstance(user, list):  # content parts (text and images), as vision models get them
        user = "\n".join(p.get("text", "") for p in user if p.get("type") == "text")
    return str(user)


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def locate(text: str, phrase: str, messages: list[dict[str, Any]]) -> str:
    """``text`` with ``[G]`` made the number of the passage that contains ``phrase``."""
    for number, passage in _PASSAGES.findall(_prompt(messages)):
        if _squash(phrase) in _squash(passage):
            return text.replace("[G]", f"[{number}]")
    return "NO_ANSWER"


def quote_first_passage(messages: list[dict[str, Any]]) -> str:
    match = _PASSAGE.search(_prompt(messages))
    if not match:
        return "NO_ANSWER"
    text = " ".join(match.group(1).split())
    sentence = _SENTENCE.match(text)
    return f"{(sentence.group(1) if sentence else text).strip()} [1]"


def create_stub() -> FastAPI:
    app = FastAPI()
    scripts: dict[str, Script] = {}
    history: list[dict[str, Any]] = []

    def script_for(model: str) -> Script:
        return scripts.get(model) or scripts.setdefault("*", Script())

    @app.post("/_script")
    async def set_script(request: Request) -> dict[str, str]:
        body = await request.json()
        model = body.get("model", "*")
        scripts[model] = Script(
            replies=deque(body.get("replies", [])),
            default=body.get("default", "quote"),
            ttft=float(body.get("ttft", 0.0)),
            tokens_per_second=float(body.get("tokens_per_second", 0.0)),
        )
        return {"status": "ok"}

    @app.post("/_reset")
    async def reset() -> dict[str, str]:
        scripts.clear()
        history.clear()
        return {"status": "ok"}

    @app.get("/_history")
    async def get_history() -> list[dict[str, Any]]:
        return history

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        history.append(body)
        model = str(body.get("model", ""))
        script = scripts.get(model) or script_for("*")
        action = script.replies.popleft() if script.replies else {"default": script.default}
        if "error" in action or action.get("default") == "error":
            status = int(action.get("error", 500))
            headers = {}
            if "retry_after_ms" in action:
                headers["retry-after-ms"] = str(action["retry_after_ms"])
            return JSONResponse(
                {"error": {"message": f"scripted {status}", "type": "stub", "code": status}},
                status_code=status,
                headers=headers,
            )
        if "text" in action and "locate" in action:
            text = locate(str(action["text"]), str(action["locate"]), body.get("messages", []))
        elif "text" in action:
            text = str(action["text"])
        elif action.get("default") == "no_answer":
            text = "NO_ANSWER"
        else:
            text = quote_first_passage(body.get("messages", []))
        words = text.split(" ")
        tokens = [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)]
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        }
        if not body.get("stream"):
            await asyncio.sleep(script.ttft)
            return JSONResponse(_completion(model, text, usage))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        cut_after = int(action["cut_after"]) if "cut_after" in action else None
        if action.get("garbage"):  # a broken server or proxy: not server-sent JSON events
            return StreamingResponse(_garbage(model, tokens), media_type="text/event-stream")
        return StreamingResponse(
            _stream(model, tokens, usage if include_usage else None, script, cut_after),
            media_type="text/event-stream",
        )

    return app


def _completion(model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    payload = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n"


async def _stream(
    model: str,
    tokens: list[str],
    usage: dict[str, int] | None,
    script: Script,
    cut_after: int | None,
) -> AsyncIterator[str]:
    await asyncio.sleep(script.ttft)
    yield _chunk(model, {"role": "assistant", "content": ""})
    gap = 1.0 / script.tokens_per_second if script.tokens_per_second else 0.0
    for i, token in enumerate(tokens):
        if cut_after is not None and i >= cut_after:
            raise ConnectionResetError("scripted cut")  # the server drops the stream
        if i and gap:
            await asyncio.sleep(gap)
        yield _chunk(model, {"content": token})
    yield _chunk(model, {}, "stop")
    if usage is not None:
        payload = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": usage,
        }
        yield f"data: {json.dumps(payload)}\n\n"
    yield "data: [DONE]\n\n"


async def _garbage(model: str, tokens: list[str]) -> AsyncIterator[str]:
    yield _chunk(model, {"content": tokens[0]})
    yield 'data: {"choices": [{"delta": <html>502 Bad Gateway</html>\n\n'
    yield "data: [DONE]\n\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StubServer:
    """The stub on a real port, served by uvicorn in a background thread."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.url}/v1"
        config = uvicorn.Config(create_stub(), host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenAI stub did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)

    def script(self, model: str = "*", **script: Any) -> None:
        httpx.post(f"{self.url}/_script", json={"model": model, **script}).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_reset").raise_for_status()

    def history(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_history")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(create_stub(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
