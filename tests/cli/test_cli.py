"""The ``supportbot`` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWLEDGE
from tests.mediagen import error_dialog


def run(
    args: list[str],
    data_dir: Path,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPORTBOT_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-data")
    result = run(["ingest", str(KNOWLEDGE)], path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Ingested 27 added, 0 updated, 0 unchanged")
    return path


def test_help_lists_commands_and_settings(tmp_path):
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for word in (
        "ingest",
        "ask",
        "eval",
        "demo",
        "serve",
        "chat",
        "migrate",
        "SUPPORTBOT_DATA_DIR",
        "SUPPORTBOT_DATABASE_URL",
        "OPENAI_API_KEY",
        "SUPPORTBOT_CHROMA_URL",
        "SUPPORTBOT_ANSWER_THRESHOLD",
    ):
        assert word in result.stdout
    ingest_help = run(["ingest", "--help"], tmp_path).stdout
    assert "--prune" in ingest_help and "--collection" in ingest_help


def test_reingesting_unchanged_files_changes_nothing(data_dir):
    result = run(["ingest", str(KNOWLEDGE)], data_dir)
    assert "0 added, 0 updated, 27 unchanged, 0 removed, 0 failed; 0 chunks" in result.stdout


def test_ask_json_prints_a_cited_answer(data_dir):
    result = run(["ask", "my sync icon is red and says E-2041", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"answer", "citations", "escalated", "reason", "tier"}
    assert payload["escalated"] is False and payload["reason"] is None
    assert payload["tier"] == "mini"
    first = payload["citations"][0]
    assert first["n"] == 1
    assert first["source"] == "troubleshooting/sync-errors.md"
    assert first["anchor"] == "e-2041-sync-conflict"
    assert first["title"] == "Sync errors › E-2041: Sync conflict"
    assert 0 <= first["score"] <= 1
    assert "conflicted copy" in payload["answer"]


def test_ask_json_escalates_an_off_topic_question(data_dir):
    result = run(
        ["ask", "what's the weather going to be like in Berlin tomorrow", "--json"], data_dir
    )
    payload = json.loads(result.stdout)
    assert payload["escalated"] is True
    assert payload["reason"] == "low_confidence"
    assert payload["tier"] == "human"
    assert payload["citations"] == []


def test_ask_refuses_an_oversized_question_naming_the_limit(data_dir):
    result = run(["ask", "x" * 5000], data_dir)
    assert result.returncode == 1
    assert "limit is 4000 characters" in result.stderr


def test_ask_reads_an_attached_screenshot_and_refuses_other_files(data_dir, tmp_path):
    shot = tmp_path / "error.png"
    error_dialog("Payment failed", ["Error E-4010: The card on file has expired."]).save(shot)
    result = run(["ask", "--attach", str(shot), "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert "E-4010" in out["attachments"][0]["text"]
    assert out["citations"][0]["anchor"] == "e-4010-card-expired"
    refused = run(["ask", "--attach", str(KNOWLEDGE / "billing" / "refunds.md")], data_dir)
    assert refused.returncode == 2 and "not a type we take" in refused.stderr


def test_eval_prints_the_quality_meter(data_dir, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {
                    "id": "a",
                    "question": "I forgot my password",
                    "kind": "in_scope",
                    "source": "account/reset-password.md",
                    "anchor": "reset-your-password",
                    "gold": "expires after 60 minutes",
                },
                {
                    "id": "b",
                    "question": "recommend me a pizza place in Rome",
                    "kind": "out_of_scope",
                },
            ]
        )
    )
    result = run(["eval", str(questions), "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["hit@1"] == 1.0 and metrics["hit@3"] == 1.0
    assert metrics["out_of_scope_declined"] == 1.0
    assert metrics["in_scope_wrongly_escalated"] == 0.0
    assert metrics["latency_p95_ms"] >= metrics["latency_p50_ms"] > 0
    assert metrics["in_scope_answered"] == 1.0 and metrics["gold_in_answer"] == 1.0

    followups = tmp_path / "f.jsonl"
    followups.write_text(
        json.dumps(
            {
                "id": "f",
                "first": "I can't sign in, I forgot my password",
                "then": "how long does that link work?",
                "target": "a",
                "kind": "followup",
            }
        )
    )
    answers = tmp_path / "a.jsonl"
    answers.write_text(
        json.dumps(
            {
                "id": "a",
                "faithful": "Use the reset link we email you; it expires after 60 minutes [G].",
                "unsupported": "Use the reset link we email you; it expires after 24 hours [G].",
                "kind": "number",
            }
        )
    )
    args = ["eval", str(questions), "--followups", str(followups), "--answers", str(answers)]
    result = run([*args, "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["followups"]["followup"]["hit@3"] == 1.0
    assert metrics["answers"]["judged"] == 2
    assert metrics["answers"]["number_stopped"] == 1.0
    assert metrics["answers"]["faithful_delivered"] == 1.0
    # A target that names no question is refused before any turn runs.
    followups.write_text(
        json.dumps({"id": "f", "first": "x", "then": "y", "target": "zz", "kind": "followup"})
    )
    refused = run(args, data_dir)
    assert refused.returncode == 1 and "f.jsonl:1" in refused.stderr


def test_chat_talks_over_the_demo_knowledge_base_in_the_terminal(data_dir):
    result = run(["chat"], data_dir, stdin="how do I get a refund?\ncan I talk to a person?\n\n")
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout
    assert "escalated: asked_for_human" in result.stdout
    assert "nobody will pick this up" in result.stdout  # honest: no staff queue here


def test_invalid_configuration_is_reported_clearly(tmp_path):
    env = {**os.environ, "SUPPORTBOT_DATA_DIR": str(tmp_path), "SUPPORTBOT_TOP_K": "many"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid configuration" in result.stderr
    assert "SUPPORTBOT_TOP_K: Input should be a valid integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_option_is_reported_without_a_traceback(tmp_path):
    result = run(["ingest", str(KNOWLEDGE / "billing"), "--collection", "x"], tmp_path)
    assert result.returncode == 2
    assert "collection: a collection name has 3-512 characters" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_shows_a_progress_bar_on_a_terminal(tmp_path):
    import pty

    primary, secondary = pty.openpty()
    env = {**os.environ, "SUPPORTBOT_DATA_DIR": str(tmp_path), "COLUMNS": "120"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ingest", str(KNOWLEDGE / "billing")],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=env,
        text=True,
    )
    os.close(secondary)
    screen = b""
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process exits
            break
        if not data:
            break
        screen += data
    stdout = process.communicate(timeout=300)[0]
    os.close(primary)
    assert process.returncode == 0
    assert b"Ingesting" in screen and b"/5" in screen  # the bar, counting files
    assert stdout.startswith("Ingested 5 added")  # the summary still goes to stdout


def test_erase_removes_named_conversations_and_reports_unknown_ones(tmp_path):
    import asyncio

    from bot.core.conversation import Role
    from bot.store.sql import SqlStore

    async def two_conversations() -> tuple[str, str]:
        store = SqlStore(f"sqlite:///{(tmp_path / 'supportbot.db').resolve()}")
        await store.start()
        ids = []
        for token in "ab":
            conv = await store.create_conversation(channel="web", token_hash=token * 64, visitor={})
            await store.add_message(conv.id, Role.CUSTOMER, "my card is 4111 1111 1111 1111")
            ids.append(conv.id)
        await store.close()
        return ids[0], ids[1]

    async def exists(conversation_id: str) -> bool:
        store = SqlStore(f"sqlite:///{(tmp_path / 'supportbot.db').resolve()}")
        await store.start()
        found = await store.get_conversation(conversation_id)
        await store.close()
        return found is not None

    erased, kept = asyncio.run(two_conversations())
    result = run(["erase", erased], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "erased 1 conversation"
    assert not asyncio.run(exists(erased)) and asyncio.run(exists(kept))
    again = run(["erase", erased], tmp_path)
    assert again.returncode == 1 and f"no such conversation: {erased}" in again.stderr
    nothing = run(["erase"], tmp_path)
    assert nothing.returncode == 2 and "--inactive-days" in nothing.stderr
    recent = run(["erase", "--inactive-days", "30"], tmp_path)
    assert recent.stdout.strip() == "erased 0 conversations" and asyncio.run(exists(kept))


def test_check_models_loads_every_bundled_model_offline(tmp_path):
    result = run(["check-models"], tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("embeddings", "whisper", "ocr", "phone voice"):
        assert f"{name}: ok" in result.stdout


def test_check_models_names_the_model_that_is_missing(tmp_path):
    env_path = tmp_path / "no-such-whisper-model"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-models"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "SUPPORTBOT_DATA_DIR": str(tmp_path),
            "SUPPORTBOT_WHISPER_MODEL": str(env_path),
        },
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "whisper: FAILED" in result.stderr and "embeddings: ok" in result.stdout
