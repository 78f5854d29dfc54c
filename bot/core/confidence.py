"""How sure retrieval is that a passage answers the question, on an absolute 0..1 scale.

Two signals, each meaningful on its own:

* **dense**: cosine similarity of question and passage embeddings. It catches
  paraphrase ("named after the snake" ~ "Why is it called Python?") but stays
  fairly high for on-domain questions the knowledge base does not answer.
* **coverage**: the IDF-weighted share of the question's content terms that the
  passage contains. Terms the knowledge base never uses weigh the most, so a
  question about a product or concept we have no text for ("django settings")
  loses most of its coverage even when its other words match.

A third signal only counts when the question quotes an identifier (an error code
such as ``E-2041``): the share of those identifiers the passage contains raises
the confidence, because a quoted code found verbatim is the strongest evidence a
support question can give.

The confidence is a fixed blend of the two, mapped so that the shipped threshold
(``SUPPORTBOT_ANSWER_THRESHOLD``) sits where answerable and unanswerable
questions separate on our development sets. It is not tuned per knowledge base.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

# Cosine similarities of all-MiniLM-L6-v2 between a question and a passage: below
# LOW nothing is related, above HIGH it is a near restatement. Mapped linearly to 0..1.
DENSE_LOW = 0.15
DENSE_HIGH = 0.75
DENSE_WEIGHT = 0.7
IDENTIFIER_WEIGHT = 0.25


def term_coverage(
    query_terms: Sequence[str], passage_terms: Iterable[str], idf: Callable[[str], float]
) -> float:
    """IDF-weighted share of distinct query terms found in the passage (0..1)."""
    unique = list(dict.fromkeys(query_terms))
    if not unique:
        return 0.0
    present = set(passage_terms)
    total = sum(idf(t) for t in unique)
    if total <= 0:
        return 0.0
    return sum(idf(t) for t in unique if t in present) / total


def dense_scale(similarity: float) -> float:
    scaled = (similarity - DENSE_LOW) / (DENSE_HIGH - DENSE_LOW)
    return min(1.0, max(0.0, scaled))


def confidence(dense_similarity: float, coverage: float, identifiers: float = 0.0) -> float:
    """Blend of the signals, 0..1. ``identifiers``: share of quoted codes found (0 if none)."""
    blend = DENSE_WEIGHT * dense_scale(dense_similarity) + (1 - DENSE_WEIGHT) * coverage
    return min(1.0, blend + IDENTIFIER_WEIGHT * identifiers)
