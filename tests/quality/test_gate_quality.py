"""The grounding gate measured on its own, with SmolLM2-135M as the ``mini`` tier.

Run with ``make eval-gate`` (installs the ``local-llm`` extra: llama-cpp-python
compiles for about 5 minutes the first time). Over the Python FAQ eval set, for
every question: retrieve the top 3 passages, let SmolLM2 answer from them (the
production prompt, greedy decoding, so the answers repeat run to run), and judge
the answer with the gate. Each answer was labelled by hand, in
``tests/eval/python-faq-gate-labels.jsonl``, as *supported* (every claim is stated
in the passages) or *unsupported* (anything invented, contradicted or off the
question's passages), independently of the gate's verdict; the rule is in that
file's first record. Declines (``NO_ANSWER``) are neither.

Reported: the share of unsupported answers the gate stops (target ≥ 0.95), the share
of supported ones it passes (target ≥ 0.8), and how often each tier answers on the
offline ladder ``mini = SmolLM2 → large = extractive → human``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from bot.core import gate
from bot.core.turn import answer_question
from bot.evaluation import load_questions
from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from bot.models.base import AnswerRequest, Usage
from bot.models.extractive import ExtractiveModel
from bot.models.prompt import NO_ANSWER
from tests.benchmarks.conftest import RESULTS, report
from tests.conftest import ROOT

EVAL = Path(os.environ.get("SUPPORTBOT_EVAL_DIR", ROOT.parent / "shared" / "eval")) / "python-faq"
LABELS = ROOT / "tests" / "eval" / "python-faq-gate-labels.jsonl"
THRESHOLD = 0.45


def answer_key(question_id: str, answer: str) -> str:
    return hashlib.sha256(f"{question_id}\n{answer}".encode()).hexdigest()[:16]


async def generate(model, request: AnswerRequest) -> str:
    pieces = [p async for p in model.stream(request)]
    return "".join(p for p in pieces if not isinstance(p, Usage)).strip()


class Replay:
    """The ladder pass sees the same question and passages as the first pass, and greedy
    decoding gives the same reply: replay it instead of generating it again."""

    accepts_images = False
    generative = True

    def __init__(self, model, replies: dict[tuple[str, tuple[str, ...]], str]) -> None:
        self.model = model
        self.name = model.name
        self.replies = replies

    async def stream(self, request: AnswerRequest):
        key = (request.question, tuple(p.text for p in request.passages))
        if key not in self.replies:
            self.replies[key] = await generate(self.model, request)
        yield self.replies[key]


@pytest.mark.quality
def test_gate_against_hand_labelled_smollm2_answers(tmp_path, embedder):
    if not (EVAL / "questions.jsonl").exists():
        pytest.skip(f"the Python FAQ eval set is not at {EVAL} (set SUPPORTBOT_EVAL_DIR)")
    pytest.importorskip("llama_cpp", reason="`make eval-gate` installs the local-llm extra")
    from bot.models.llama_cpp import LlamaCppModel, resolve_gguf

    store = ChromaStore("pyfaq", path=tmp_path / "chroma")
    Ingestor(store, embedder).run([EVAL / "kb"])
    kb = HybridKnowledgeBase(store, embedder, refresh_seconds=0)
    mini = LlamaCppModel(resolve_gguf("smollm2"), max_tokens=200)
    questions = load_questions(EVAL / "questions.jsonl")

    answers = []
    replies: dict[tuple[str, tuple[str, ...]], str] = {}
    for q in questions:
        passages = kb.search(q.question, 3)
        text = asyncio.run(generate(mini, AnswerRequest(q.question, passages)))
        replies[(q.question, tuple(p.text for p in passages))] = text
        verdict = gate.check(text, passages)
        answers.append(
            {
                "id": q.id,
                "key": answer_key(q.id, text),
                "question": q.question,
                "answer": text,
                "declined": text.startswith(NO_ANSWER),
                "gate": "pass" if verdict.passed else verdict.reason,
                "passages": [{"title": p.title, "text": p.text} for p in passages],
            }
        )
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "gate_answers.jsonl").open("w") as out:
        for row in answers:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")

    labels = {}
    for line in LABELS.read_text().splitlines():
        row = json.loads(line)
        if "key" in row:
            labels[row["key"]] = row["label"]
    judged = [a for a in answers if not a["declined"]]
    labelled = [a for a in judged if a["key"] in labels]
    unsupported = [a for a in labelled if labels[a["key"]] == "unsupported"]
    supported = [a for a in labelled if labels[a["key"]] == "supported"]
    stopped = sum(a["gate"] != "pass" for a in unsupported)
    passed = sum(a["gate"] == "pass" for a in supported)

    # The offline ladder as it runs in production: threshold first, then the tiers.
    ladder = [("mini", Replay(mini, replies)), ("large", ExtractiveModel())]
    tiers: Counter[str] = Counter()
    for q in questions:
        outcome = asyncio.run(answer_question(q.question, kb, ladder, threshold=THRESHOLD))
        tiers[outcome.tier] += 1

    figures: dict[str, float | int | str] = {
        "answers": len(answers),
        "declined (NO_ANSWER)": len(answers) - len(judged),
        "labelled": len(labelled),
        "unlabelled (answer changed since labelling)": len(judged) - len(labelled),
        "unsupported": len(unsupported),
        "unsupported stopped by the gate (target >= 0.95)": round(stopped / len(unsupported), 3)
        if unsupported
        else "n/a",
        "supported": len(supported),
        "supported passed by the gate (target >= 0.8)": round(passed / len(supported), 3)
        if supported
        else "n/a",
        **{f"ladder tier {tier}": n for tier, n in sorted(tiers.items())},
    }
    report("gate_smollm2", figures)
    # Stale labels would make the figures meaningless: regenerate and relabel then.
    assert len(labelled) >= 0.9 * len(judged), "relabel: see results/gate_answers.jsonl"
