"""The OpenAI-compatible stub lives in :mod:`bot.models.openai_stub` (``supportbot eval
--answers`` serves model-style answers through it); tests import it from here."""

from bot.models.openai_stub import StubServer, create_stub, free_port, main

__all__ = ["StubServer", "create_stub", "free_port", "main"]

if __name__ == "__main__":
    main()
