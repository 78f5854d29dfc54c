from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, settings_help


def test_settings_come_from_prefixed_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("SUPPORTBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SUPPORTBOT_ANSWER_THRESHOLD", "0.4")
    monkeypatch.setenv("SUPPORTBOT_CHROMA_URL", "")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.chroma_path == tmp_path / "chroma"
    assert settings.answer_threshold == 0.4
    assert settings.chroma_url is None


def test_a_dotenv_file_is_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("SUPPORTBOT_TOP_K=5\n")
    assert Settings().top_k == 5


def test_bad_values_are_refused_with_the_rule(monkeypatch):
    monkeypatch.setenv("SUPPORTBOT_COLLECTION", "kb")
    with pytest.raises(ValidationError, match="3-512 characters"):
        Settings()
    monkeypatch.setenv("SUPPORTBOT_COLLECTION", "knowledge")
    monkeypatch.setenv("SUPPORTBOT_ANSWER_THRESHOLD", "1.5")
    with pytest.raises(ValidationError):
        Settings()


def test_help_lists_every_setting_with_its_variable():
    text = settings_help()
    for name in Settings.model_fields:
        assert f"SUPPORTBOT_{name.upper()}" in text


@pytest.mark.parametrize(
    "target", ["+15551234567", "sip:support@pbx.example.com", "queue:support", ""]
)
def test_a_phone_transfer_target_is_a_number_a_sip_address_or_a_queue(target):
    assert Settings(phone_transfer=target).phone_transfer == target


@pytest.mark.parametrize("target", ["support desk", "sip:nohost", "queue:", "+1-555-CALL-NOW"])
def test_a_malformed_transfer_target_is_refused_with_the_forms(target):
    with pytest.raises(ValidationError, match="queue:NAME"):
        Settings(phone_transfer=target)


@pytest.mark.parametrize("public_url", [None, "", "support.example.com", "ftp://support.example"])
def test_phone_calls_need_an_absolute_public_url(public_url):
    # Twilio's signature is checked against it and the TwiML names it (never the Host).
    with pytest.raises(ValidationError, match="SUPPORTBOT_PUBLIC_URL"):
        Settings(twilio_auth_token="t", public_url=public_url)
    assert Settings(twilio_auth_token="t", public_url="https://support.example.com")
    assert Settings(twilio_auth_token=None, public_url=public_url)  # phone off: optional
