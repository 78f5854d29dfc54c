import pytest
from pydantic import ValidationError

from bot.errors import ConfigurationError, ModelUnavailableError
from bot.models.extractive import ExtractiveModel
from bot.models.ladder import build_ladder
from bot.models.openai_compat import OpenAIChatModel
from bot.settings import Settings


def tiers(**env):
    return [(tier, type(m).__name__, m.name) for tier, m in build_ladder(Settings(**env))]


def test_offline_default_is_the_extractive_answerer_alone(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert tiers() == [("mini", "ExtractiveModel", "extractive")]


def test_an_openai_key_alone_gives_mini_then_large(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert tiers() == [
        ("mini", "OpenAIChatModel", "gpt-4.1-mini"),
        ("large", "OpenAIChatModel", "gpt-4.1"),
    ]
    ladder = build_ladder(Settings())
    assert all(m.accepts_images for _, m in ladder)


def test_tiers_are_configurable_and_any_base_url_works(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ladder = build_ladder(
        Settings(
            mini="openai:llama-3", mini_base_url="http://127.0.0.1:8080/v1", large="extractive"
        )
    )
    assert isinstance(ladder[0][1], OpenAIChatModel) and not ladder[0][1].accepts_images
    assert isinstance(ladder[1][1], ExtractiveModel)
    assert tiers(mini="none", large="none") == []


def test_openai_without_a_key_or_a_server_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="no key is set"):
        build_ladder(Settings(mini="openai:gpt-4.1-mini"))


def test_unknown_tier_forms_are_refused_when_settings_load():
    with pytest.raises(ValidationError, match="openai:MODEL"):
        Settings(mini="claude")


def test_a_missing_gguf_file_is_reported(tmp_path):
    settings = Settings(mini=f"gguf:{tmp_path / 'missing.gguf'}")
    with pytest.raises(ModelUnavailableError):
        build_ladder(settings)
