from bot.core import facts
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
        "We also accept bitcoin for annual plans on request [1]."
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


SU = _passage(
    "Debian's su uses PAM for authentication. The nonce is not needed to read data. "
    "Settings are applied before the restart. Refunds are paid within 30 days, or 1 day "
    "if the plan is empty.",
    "su",
)


def test_contradictions_in_the_passages_own_words_are_stopped():
    for answer, cue in (
        ("Debian's current su does not use PAM for authentication [1].", "negation"),
        ("The nonce is needed to read data [1].", "negation"),
        ("Settings are applied after the restart [1].", "opposite:after/befor"),
        ("Debian's su uses PAM for authentication only when root [1].", "restriction:only when"),
    ):
        verdict = check(answer, [SU])
        assert verdict.reason == "contradiction", answer
        assert verdict.sentences[0].contradiction == cue
    # The same facts restated, negations where the passage has them, pass.
    assert check("Debian's su relies on PAM for authentication [1].", [SU]).passed
    assert check("You don't need the nonce to read data [1].", [SU]).passed


def test_a_short_number_counts_only_next_to_the_same_words():
    assert check("Refunds are paid within 30 days [1].", [SU]).passed
    verdict = check("Refunds are paid within 30 days, or 0 days if the plan is empty [1].", [SU])
    assert not verdict.passed and verdict.sentences[0].support == 0.0
    # "1" is in the passage, but next to other words: a moved number is not stated.
    seats = _passage("Refunds are paid within 30 days. A plan has 1 seat.")
    assert not check("Refunds are paid within 1 day [1].", [seats]).passed
    assert check("A plan has 1 seat [1].", [seats]).passed
    # A number inside a name is not a fact of its own; a number word is; a version is one
    # fact, its "v" included.
    assert facts.in_text("sqlite3 and SQL92 since 2020, twice") == ["2020", "twice"]
    assert facts.in_text("check out v2.6.17") == ["v2.6.17"]


def test_facts_are_read_past_typography_and_in_headings():
    floats = _passage("Floats have 15\u201316 decimal digits of accuracy.", "Floats")
    assert check("You get about 15-16 decimal digits of accuracy [1].", [floats]).passed
    assert not check("You get about 15-17 decimal digits of accuracy [1].", [floats]).passed
    quota = _passage("New notes stop syncing.", "E-2042: Storage quota exceeded")
    assert check("With E-2042 new notes stop syncing [1].", [quota]).passed


def test_synonyms_count_as_support_when_the_embedder_says_they_are_close():
    passage = _passage("Put the stress on the first syllable when you say Debian.", "Debian")
    answer = "Pronounce Debian with the emphasis on the opening syllable [1]."
    assert not check(answer, [passage]).passed  # 2 of 5 words: below the bar

    asked = []

    def related(words, vocabulary):
        asked.append((list(words), list(vocabulary)))
        return {"emphasis", "pronounce", "opening"} & set(words)

    assert check(answer, [passage], related=related).passed
    assert asked[0][0] == ["pronounce", "emphasis", "opening"] and "stress" in asked[0][1]


def test_options_and_code_must_be_the_passages_own():
    flags = _passage(
        "Add the library path on the linker command line (usually -R), e.g.\n\n"
        "$ git config credential.helper \\\n    '!f() { echo username=author; };f'",
        "Linking",
    )
    assert check("Add it on the linker command line with -R [1].", [flags]).passed
    verdict = check("Add it on the linker command line with -L [1].", [flags])
    assert not verdict.passed and verdict.sentences[0].support == 0.0
    # Code is compared as written, a shell line continuation aside.
    ok = "Run `git config credential.helper '!f() { echo username=author; };f'` [1]."
    assert check(ok, [flags]).passed
    assert not check(ok.replace("'!f", "'|f"), [flags]).passed
    # Versions: one fact with or without their "v", whatever its case.
    assert facts.stated("V2.6.17", "see V2.6.17", "check out 2.6.17")
    assert not facts.stated("V3.0", "see V3.0", "check out 2.6.17")


def test_a_repeated_code_line_is_code_and_the_last_marker_is_kept():
    passage = _passage("pick a\n#\n# Commands:\n#\nsquash b", "Rebase")
    answer = "`pick a`\n`#`\n`# Commands:`\n`#`\n`squash b`\nSquash b. Squash b [1]."
    verdict = check(answer, [passage])
    # The code keeps both of its "#" lines; the looped sentence goes, its marker stays.
    assert verdict.text == "`pick a`\n`#`\n`# Commands:`\n`#`\n`squash b`\nSquash b. [1]"
    assert verdict.cited == (1,)
    # A marker the kept text already holds is not repeated.
    assert check("Squash b [1]. Squash b [1].", [passage]).text == "Squash b [1]."


def test_a_claim_added_to_a_faithful_sentence_is_judged_on_its_own_words():
    passage = _passage(
        "Annual plans can be refunded within 30 days of purchase from the billing page of "
        "your account settings. Monthly plans can be cancelled at any time."
    )
    faithful = (
        "You can refund an annual plan from the billing page of your account settings "
        "within 30 days of purchase"
    )
    assert check(f"{faithful} [1].", [passage]).passed
    # Eleven of the sentence's fourteen words are the passage's; its last clause is new.
    added = check(f"{faithful}, and the refund is sent to your bank by transfer [1].", [passage])
    assert not added.passed and added.reason == "unsupported_sentence"


def test_a_short_numbers_context_is_its_nearest_content_words_not_any_words():
    passage = "The prune command keeps some unused data. The default value is 5%."
    assert facts.stated("5", "By default prune tolerates up to 5% of unused data.", passage)
    duration = "(note that 1w is not a recognized duration, so use 7d)"
    assert facts.stated("1", "1w isn't a recognized duration.", duration)
    # Still next to the same words: another 5 in the passage does not state this one.
    assert not facts.stated("5", "Prune runs 5 times a day.", passage)


def test_a_number_in_words_or_digits_is_one_fact():
    shell = "The DOS shell treats the percent sign specially: you need to use TWO percent signs."
    assert facts.stated("double", "On Windows you have to double the percent sign.", shell)
    assert not facts.stated("triple", "On Windows you have to triple the percent sign.", shell)
    # Digits are stated by digits only, and a number word inside a compound is no number.
    assert not facts.stated("2", "Two-factor codes expire after 2 minutes.", "Two-factor codes")
    assert not facts.stated("double", "Double the retry count.", "Double-click Retry.")


def test_a_short_numbers_context_is_on_the_same_side():
    passage = "On Pro, uploads are limited to 5 GB per file and shared links expire after 30 days."
    assert not facts.stated("5", "Shared links expire after 5 days on Pro.", passage)
    assert facts.stated("5", "Uploads are limited to 5 GB.", passage)
