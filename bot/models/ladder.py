"""The model ladder from settings: ``[(tier, ChatModel), …]``, tried in order, then a human."""

from __future__ import annotations

from bot.errors import ConfigurationError
from bot.models.base import ChatModel
from bot.models.extractive import ExtractiveModel, Relevance
from bot.models.openai_compat import OpenAIChatModel
from bot.settings import Settings

# Model families that take images as input; SUPPORTBOT_VISION_MODELS adds more.
_VISION_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-5", "o3", "o4")


def build_model(
    spec: str, settings: Settings, base_url: str | None, relevance: Relevance | None = None
) -> ChatModel | None:
    """``extractive`` | ``openai:MODEL`` | ``gguf:PATH`` (or ``gguf:smollm2``) | ``none``
    → a model (or None for no tier). ``relevance`` scores sentences for the extractive
    answerer (the embedder's cosine)."""
    if spec == "none":
        return None
    if spec == "extractive":
        return ExtractiveModel(relevance)
    kind, _, name = spec.partition(":")
    if kind == "openai" and name:
        url = base_url or settings.openai_base_url
        if not settings.openai_api_key and url is None:
            raise ConfigurationError(
                f"tier {spec!r} calls api.openai.com but no key is set: set OPENAI_API_KEY, "
                "or SUPPORTBOT_OPENAI_BASE_URL for a local OpenAI-compatible server"
            )
        return OpenAIChatModel(
            name,
            api_key=settings.openai_api_key,
            base_url=url,
            timeout=settings.model_timeout,
            max_retries=settings.model_retries,
            max_tokens=settings.max_answer_tokens,
            accepts_images=name.startswith(_VISION_PREFIXES) or name in settings.vision,
            prices=settings.prices,
            redact_pii=settings.redact_pii,
        )
    if kind == "gguf" and name:
        from bot.models.llama_cpp import LlamaCppModel, resolve_gguf

        return LlamaCppModel(resolve_gguf(name), max_tokens=settings.max_answer_tokens)
    raise ConfigurationError(
        f"unknown model tier {spec!r}: use extractive, none, openai:MODEL or gguf:PATH"
    )


def build_ladder(
    settings: Settings, relevance: Relevance | None = None
) -> list[tuple[str, ChatModel]]:
    ladder: list[tuple[str, ChatModel]] = []
    for tier, spec, url in (
        ("mini", settings.mini_tier, settings.mini_base_url),
        ("large", settings.large_tier, settings.large_base_url),
    ):
        model = build_model(spec, settings, url, relevance)
        if model is not None:
            ladder.append((tier, model))
    return ladder
