from bot.core.types import Section
from bot.knowledge.chunking import SPECIAL_TOKENS, chunk_sections


def test_short_sections_are_one_chunk_each_with_their_heading(embedder):
    sections = [
        Section("a.md", ("Billing", "Refunds"), "refunds", "Within 30 days."),
        Section("a.md", ("Billing", "Invoices"), "invoices", "Monthly."),
    ]
    chunks = chunk_sections(sections, embedder.count_tokens, embedder.max_tokens)
    assert [(c.title, c.anchor, c.text, c.part) for c in chunks] == [
        ("Billing › Refunds", "refunds", "Within 30 days.", 0),
        ("Billing › Invoices", "invoices", "Monthly.", 0),
    ]
    assert chunks[0].embedding_text() == "Billing › Refunds\nWithin 30 days."
    assert len({c.id for c in chunks}) == 2


def test_long_sections_fit_the_model_window_and_keep_the_heading_in_every_chunk(embedder):
    paragraph = " ".join(
        f"Sentence number {i} explains one more detail of the sync engine." for i in range(40)
    )
    huge_sentence = "word " * 700  # no sentence end at all: must be cut at word boundaries
    section = Section(
        "s.md",
        ("Troubleshooting", "Sync errors"),
        "sync-errors",
        f"{paragraph}\n\n{paragraph}\n\n{huge_sentence}",
    )
    chunks = chunk_sections([section], embedder.count_tokens, embedder.max_tokens)
    assert len(chunks) > 4
    for chunk in chunks:
        tokens = embedder.count_tokens(chunk.embedding_text()) + SPECIAL_TOKENS
        assert tokens <= embedder.max_tokens, tokens
        assert chunk.title == "Troubleshooting › Sync errors"
        assert chunk.anchor == "sync-errors"
    assert [c.part for c in chunks] == list(range(len(chunks)))
    # Nothing is lost: every word of the section is in some chunk, in order.
    assert " ".join(" ".join(c.text.split()) for c in chunks) == " ".join(section.text.split())


def test_a_code_block_longer_than_a_chunk_keeps_its_lines(embedder):
    code = "\n".join(f"$ git log --since='{i} weeks ago' # commits of week {i}" for i in range(60))
    section = Section("m.html", ("Quick reference",), "ref", f"Try these:\n\n```\n{code}\n```")
    chunks = chunk_sections([section], embedder.count_tokens, embedder.max_tokens)
    assert len(chunks) > 1
    lines = [line for c in chunks for line in c.text.split("\n") if line.startswith("$ git")]
    assert lines == code.split("\n")  # one command a line, none run together
