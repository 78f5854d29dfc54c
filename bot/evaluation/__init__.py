"""``supportbot eval``: the answer path measured on files a company can write itself.

* :mod:`~bot.evaluation.questions`: single questions, in scope or not (retrieval hits,
  the answer-or-hand-over decision, gold phrases in the answer text);
* :mod:`~bot.evaluation.followups`: two-message conversations (follow-ups and topic
  switches);
* :mod:`~bot.evaluation.answers`: written model answers served through the OpenAI stub
  as the ``mini`` tier (does the grounding gate deliver the faithful ones and stop the
  unsupported ones?).
"""

from bot.evaluation.questions import (
    EvalReport,
    Question,
    QuestionResult,
    by_id,
    evaluate,
    is_hit,
    load_questions,
)

__all__ = [
    "EvalReport",
    "Question",
    "QuestionResult",
    "by_id",
    "evaluate",
    "is_hit",
    "load_questions",
]
