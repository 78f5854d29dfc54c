from bot.core.text import content_terms, normalize_whitespace, slugify, split_sentences, words


def test_sentences_split_on_end_punctuation_but_not_abbreviations():
    text = "Open Settings, e.g. from the menu. Then click Sync! Did it work? Yes."
    assert split_sentences(text) == [
        "Open Settings, e.g. from the menu.",
        "Then click Sync!",
        "Did it work?",
        "Yes.",
    ]


def test_newlines_inside_a_paragraph_end_sentences():
    assert split_sentences("Step one\nStep two") == ["Step one", "Step two"]


def test_words_keep_error_codes_and_file_names_whole():
    assert words("Error E-2041 in sync.log, v2.3") == ["error", "e-2041", "in", "sync.log", "v2.3"]


def test_content_terms_stem_and_drop_stopwords():
    assert content_terms("How do I get my refunds?") == ["refund"]


def test_slugify_matches_github_style():
    assert slugify("Why is it called Python?") == "why-is-it-called-python"
    assert slugify("Résumé & CV: tips") == "resume-cv-tips"


def test_normalize_whitespace_keeps_one_blank_line_between_paragraphs():
    assert normalize_whitespace("a  b\r\n\r\n\r\n c\t d ") == "a b\n\nc d"


def test_identifiers_are_codes_not_words():
    from bot.core.text import is_identifier

    for term in ("e-2041", "0x80070005", "v2.3", "429", "sha256"):
        assert is_identifier(term), term
    for term in ("refund", "2", "42", "e-mail", "sign-in"):
        assert not is_identifier(term), term
