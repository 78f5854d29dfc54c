from bot.knowledge.batching import QueryBatcher
from bot.knowledge.relevance import SentenceRelevance


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder):
        self.inner, self.texts = embedder, []

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)


def test_a_paraphrase_scores_above_unrelated_sentences_and_vectors_are_cached(embedder):
    counting = Counting(embedder)
    relevance = SentenceRelevance(counting, QueryBatcher(embedder), cache=3)
    sentences = [
        "Keyboard shortcuts make editing faster.",
        "Refunds are paid back to the card you used within 30 days.",
        "Notes sync between your devices.",
    ]
    scores = relevance("how do I get my money back?", sentences)
    assert max(range(3), key=scores.__getitem__) == 1
    assert counting.texts == sentences
    again = relevance("how do I get my money back?", sentences)
    assert again == scores and counting.texts == sentences  # nothing embedded twice
    relevance("anything", ["A fourth sentence."])  # the oldest vector leaves the cache
    relevance("anything", sentences[:1])
    assert counting.texts[-1] == sentences[0]
