"""Files served from ``bot/server/static`` (the demo site, the widget and console bundles)."""

from __future__ import annotations

from importlib import resources


def read_static(name: str) -> str:
    return resources.files("bot.server").joinpath(f"static/{name}").read_text("utf-8")
