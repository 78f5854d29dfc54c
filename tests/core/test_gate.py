from bot.core.gate import check
from bot.core.types import Passage


def _passage(text: str, title: str = "Refunds") -> Passage:
    return Passage(
        source="billing.md",
        title=title,
        anchor=None,
        text=text,
        score=0.9,
        section_key="billing.md#0",
    )


REFUNDS = _passage(
    "Annual plans can be refunded within 30 days of purchase. Monthly plans "
    "are not refunded, but you can cancel at any time."
)


def test_a_quoted_answer_with_a_valid_citation_passes():
    verdict = check("Annual plans can be refunded within 30 days of purchase. [1]", [REFUNDS])
    assert verdict.passed
    assert verdict.cited == (1,)
    assert verdict.min_support == 1.0


def test_citing_a_passage_that_was_not_retrieved_fails():
    verdict = check("Annual plans can be refunded within 30 days. [2]", [REFUNDS])
    assert not verdict.passed
    assert verdict.reason == "unknown_citation"


def test_an_uncited_answer_is_attributed_to_the_passage_that_supports_it():
    other = _passage("Export your notes as PDF from the File menu.", title="Export")
    verdict = check("Annual plans can be refunded within 30 days of purchase.", [other, REFUNDS])
    assert verdict.passed and verdict.cited == (2,)
    assert verdict.text == "Annual plans can be refunded within 30 days of purchase. [2]"


def test_an_uncited_invention_still_fails():
    verdict = check("Refunds are sent by carrier pigeon to your office.", [REFUNDS])
    assert not verdict.passed and verdict.reason == "unsupported_sentence"


def test_numbers_dates_and_links_must_appear_in_the_cited_passage():
    # Every word is in the passage, but the number is not: a changed fact fails.
    verdict = check("Annual plans can be refunded within 60 days of purchase. [1]", [REFUNDS])
    assert not verdict.passed and verdict.sentences[0].support == 0.0
    link = check("Annual plans are refunded at https://evil.example/refund. [1]", [REFUNDS])
    assert not link.passed


def test_repeated_sentences_are_dropped_from_the_answer_shown():
    answer = (
        "Annual plans can be refunded within 30 days of purchase. [1]\n\n"
        "Annual plans can be refunded within 30 days of purchase. [1]\n\n"
        "Monthly plans are not refunded. [1]"
    )
    verdict = check(answer, [REFUNDS])
    assert verdict.passed
    assert verdict.text.count("within 30 days") == 1 and "Monthly plans" in verdict.text


def test_an_invented_sentence_fails_even_when_cited():
    answer = (
        "Annual plans can be refunded within 30 days of purchase [1]. "
        "We also refund monthly plans in bitcoin on request [1]."
    )
    verdict = check(answer, [REFUNDS])
    assert not verdict.passed
    assert verdict.reason == "unsupported_sentence"
    assert [round(s.support, 2) < 0.7 for s in verdict.sentences] == [False, True]


def test_each_sentence_is_checked_against_the_passage_it_cites():
    other = _passage("Invoices are emailed on the first day of each month.", "Invoices")
    good = check("Invoices are emailed on the first day of each month [2].", [REFUNDS, other])
    wrong = check("Invoices are emailed on the first day of each month [1].", [REFUNDS, other])
    assert good.passed
    assert not wrong.passed


def test_an_empty_answer_fails():
    assert check("  [1] ", [REFUNDS]).reason == "empty_answer"
