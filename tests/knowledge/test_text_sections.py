from bot.knowledge.loaders import load_document
from bot.knowledge.text_sections import parse_text, unwrap

FAQ = """\
 1. Philosophy
  1.1 What is cURL?
  1.2 What is curl not?

 1. Philosophy

  1.1 What is cURL?

  cURL is the name of the project. The name is a play on 'Client for URLs',
  originally with URL spelled in uppercase.

  1.2 What is curl not?

  curl is not a wget clone. To mirror a site, write a script:

     curl -O https://example.com/file

  Steps:
  1. Run the installer.
  2. Restart.
"""


def test_numbered_headings_cut_sections_under_their_parents():
    sections = parse_text(FAQ)
    assert [s.heading_path for s in sections] == [
        ("1. Philosophy", "1.1 What is cURL?"),
        ("1. Philosophy", "1.2 What is curl not?"),
    ]
    # The table of contents is furniture; wrapped prose is one line.
    assert sections[0].text == (
        "cURL is the name of the project. The name is a play on 'Client for URLs', "
        "originally with URL spelled in uppercase."
    )


def test_code_and_list_items_keep_their_lines():
    text = parse_text(FAQ)[1].text
    assert "\n\n     curl -O https://example.com/file\n\n" in text
    # "1. Run the installer." ends like a sentence: a list item, not a heading.
    assert text.endswith("  Steps:\n  1. Run the installer.\n  2. Restart.")
    assert unwrap(["  Some prose", "    indented code", "  more prose"]) == (
        "  Some prose\n    indented code\n  more prose"
    )


def test_underlined_headings_nest_in_the_order_first_seen():
    sections = parse_text(
        "Install\n=======\n\nGet it.\n\nOn Linux\n--------\n\nUse apt.\n\nUse\n===\n\nRun it."
    )
    assert [(s.heading_path, s.text) for s in sections] == [
        (("Install",), "Get it."),
        (("Install", "On Linux"), "Use apt."),
        (("Use",), "Run it."),
    ]


def test_a_plain_text_faq_loads_as_one_section_per_entry():
    doc = load_document("FAQ.txt", ("FAQ\n\n" + FAQ).encode())
    assert doc.title == "FAQ"
    assert [s.title for s in doc.sections] == [
        "FAQ › 1. Philosophy › 1.1 What is cURL?",
        "FAQ › 1. Philosophy › 1.2 What is curl not?",
    ]
    # Text without headings stays one section.
    notes = load_document("notes.txt", b"Shipping\n\nOrders ship in 2 days.\n\nTracking by email.")
    assert [s.text for s in notes.sections] == ["Orders ship in 2 days.\n\nTracking by email."]


def test_steps_prices_and_changelogs_are_text_not_headings_nor_contents():
    steps = parse_text("To install:\n\n1. Download the installer\n\n2. Run it\n\nDone.")
    assert [s.heading_path for s in steps] == [()]
    assert "1. Download the installer\n\n2. Run it" in steps[0].text
    # Numbered lines with nothing under them, at the end too, stay text; nothing is lost.
    refunds = load_document("r.txt", b"Refunds\n\n1. Within 30 days\n\n2. Not on sale items")
    assert refunds.sections[0].text == "1. Within 30 days\n\n2. Not on sale items"
    # A list whose entries are no headings below is not a table of contents.
    log = parse_text("Changelog\n1.2.0 Added export to PDF\n1.1.0 Fixed sync\n1.0.0 First")
    assert "1.1.0 Fixed sync" in log[0].text


def test_a_code_block_of_long_lines_is_not_joined_as_prose():
    text = parse_text(
        "Run:\n\n"
        '    curl --header "Authorization: Bearer xyz" https://example.com/api\n'
        '    curl --data "a=b" https://example.com/api/v2/upload/file\n'
    )[0].text
    assert text.count("\n    curl") == 2


def test_windows_line_ends_blank_lead_and_an_underlined_title():
    doc = load_document(
        "faq.txt",
        b"  \r\n\r\nMy FAQ\r\n======\r\n\r\n1. General\r\n\r\n1.1 Is it free?\r\n\r\nYes.",
    )
    assert doc.title == "My FAQ"
    assert [(s.title, s.text) for s in doc.sections] == [
        ("My FAQ › 1. General › 1.1 Is it free?", "Yes.")
    ]
