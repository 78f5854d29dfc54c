import pytest

from bot.errors import CorruptDocument, EmptyDocument, UnsupportedDocument
from bot.knowledge.loaders import load_document
from tests.knowledge.pdf_factory import make_pdf


def test_markdown_sections_carry_heading_path_and_github_slug():
    doc = load_document(
        "billing/refunds.md",
        b"""# Refunds

Intro text.

## Yearly plans

Refunded within 30 days.

### Edge cases?

Ask support.

## Yearly plans

Second section with the same heading.
""",
    )
    assert doc.title == "Refunds"
    assert [(s.title, s.anchor) for s in doc.sections] == [
        ("Refunds", "refunds"),
        ("Refunds › Yearly plans", "yearly-plans"),
        ("Refunds › Yearly plans › Edge cases?", "edge-cases"),
        ("Refunds › Yearly plans", "yearly-plans-1"),
    ]
    assert doc.sections[1].text == "Refunded within 30 days."


def test_markdown_front_matter_title_is_used_and_not_indexed():
    doc = load_document("a.md", b"---\ntitle: Billing basics\n---\nPlain text first.\n")
    assert doc.title == "Billing basics"
    assert doc.sections[0].heading_path == ("Billing basics",)
    assert "title:" not in doc.sections[0].text


def test_markdown_raw_html_is_not_rendered_as_markup():
    doc = load_document("x.md", b"# T\n\n<script>alert(1)</script> visible words\n")
    assert "visible words" in doc.sections[0].text


def test_html_sections_use_section_ids_and_drop_page_furniture():
    html = b"""<html><head><title>Help</title></head><body>
    <nav>Home | Pricing | Login</nav>
    <main><h1>Account</h1>
    <section id="pw"><h2>Passwords<a class="headerlink" href="#pw">\xc2\xb6</a></h2>
    <p>Reset it from the
       sign-in page.</p><script>var x = 1;</script></section>
    <h2><a id="mfa"></a>Two-step</h2><p>Use an app.</p>
    <h3>Without id</h3><ul><li>one</li><li>two</li></ul>
    <p>Then:</p><ol start="3"><li>three</li><li>four</li></ol><pre>
$ lsb_release -a
</pre>
    </main><footer>Copyright</footer></body></html>"""
    doc = load_document("account.html", html)
    assert [(s.title, s.anchor) for s in doc.sections] == [
        ("Account › Passwords", "pw"),
        ("Account › Two-step", "mfa"),
        ("Account › Two-step › Without id", None),
    ]
    # Source line breaks inside a paragraph are just spaces.
    assert doc.sections[0].text == "Reset it from the sign-in page."
    text = " ".join(s.text for s in doc.sections)
    assert "Home" not in text and "Copyright" not in text and "var x" not in text
    # List items keep their markers, a <pre> block its lines inside a fence: an answer
    # can quote a step or a command whole.
    assert doc.sections[2].text.split("\n") == [
        "- one",
        "- two",
        "",
        "Then:",
        "",
        "3. three",
        "4. four",
        "",
        "```",
        "$ lsb_release -a",
        "```",
    ]


def test_pdf_bookmarks_become_sections_with_page_anchors():
    data = make_pdf(
        [("Single sign-on", "Upload the metadata XML."), ("Audit log", "Kept for 2 years.")],
        title="Admin Guide",
    )
    doc = load_document("guide.pdf", data)
    assert doc.title == "Admin Guide"
    assert [(s.title, s.anchor) for s in doc.sections] == [
        ("Admin Guide › Single sign-on", "page=1"),
        ("Admin Guide › Audit log", "page=2"),
    ]
    assert doc.sections[1].text == "Kept for 2 years."


def test_pdf_without_bookmarks_is_split_by_page():
    data = make_pdf([("Intro", "Hello."), ("More", "World.")], title="Notes", bookmarks=False)
    doc = load_document("notes.pdf", data)
    assert [s.anchor for s in doc.sections] == ["page=1", "page=2"]
    assert doc.sections[0].heading_path == ("Notes", "Page 1")


def test_corrupt_pdf_is_reported_not_raised_as_a_crash():
    with pytest.raises(CorruptDocument) as info:
        load_document("broken.pdf", b"%PDF-1.7\nthis is not really a pdf")
    assert info.value.source == "broken.pdf"


def test_faq_csv_rows_become_sections():
    data = (
        b"question,answer,category\n"
        b'Do you take PayPal?,"Yes, and cards.",Billing\n'
        b"Empty answer row,,Billing\n"
        b"Is there a free plan?,Yes.,\n"
    )
    doc = load_document("faq.csv", data)
    assert [(s.title, s.anchor, s.text) for s in doc.sections] == [
        ("Faq › Billing › Do you take PayPal?", "do-you-take-paypal", "Yes, and cards."),
        ("Faq › Is there a free plan?", "is-there-a-free-plan", "Yes."),
    ]


def test_csv_without_question_answer_columns_names_what_is_missing():
    with pytest.raises(CorruptDocument, match="'question' and 'answer'"):
        load_document("data.csv", b"name,email\nann,a@example.com\n")


def test_plain_text_uses_a_short_first_line_as_title():
    doc = load_document(
        "notes.txt", b"Shipping times\n\nOrders ship in 2 days.\n\nTracking by email."
    )
    assert doc.title == "Shipping times"
    assert doc.sections[0].text == "Orders ship in 2 days.\n\nTracking by email."


def test_binary_empty_and_unknown_files_are_refused_by_name():
    with pytest.raises(UnsupportedDocument):
        load_document("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(EmptyDocument):
        load_document("empty.md", b"  \n ")
    with pytest.raises(EmptyDocument):
        load_document("only-tags.html", b"<html><body><script>x</script></body></html>")
    with pytest.raises(UnsupportedDocument, match="unsupported file type"):
        load_document("slides.pptx", b"PK\x03\x04")


def test_html_nested_thousands_deep_is_read_not_a_crash():
    html = b"<html><body><h1>T</h1>" + b"<div>" * 5000 + b"deep text" + b"</div>" * 5000
    doc = load_document("deep.html", html + b"</body></html>")
    assert doc.sections[0].title == "T" and doc.sections[0].text == "deep text"


def test_front_matter_title_does_not_rename_real_headings():
    doc = load_document("a.md", b"---\ntitle: Guide\n---\nIntro.\n\n# Guide\n\nBody.\n")
    assert [(s.heading_path, s.anchor, s.text) for s in doc.sections] == [
        (("Guide",), None, "Intro."),
        (("Guide",), "guide", "Body."),
    ]


FAQ_AS_LIST = b"""<html><body><h2 id="config">Configuration</h2>
<div class="dlist" id="user-name"><dl>
<dt>What should I put in <code>user.name</code>?</dt>
<dd><p>Your personal name, as in "Junio C Hamano".</p></dd>
<dt>What does <code>http.postBuffer</code> really do?</dt>
<dd><p id="post-buffer">It sets the size of the buffer used when pushing over HTTP.</p></dd>
</dl></div>
<h2 id="glossary">Glossary</h2>
<dl><dt>blob</dt><dd>Untyped object, e.g. the contents of a file.</dd></dl>
</body></html>"""

FAQ_AS_BOLD = b"""<html><body><h1>Frequently Asked Questions</h1>
<ol><li><a href="#q1">How do I create an AUTOINCREMENT field?</a></li>
<li><a href="#q2">What datatypes does SQLite support?</a></li>
<li><a href="#q3">SQLite lets me insert a string into an integer column!</a></li></ol>
<a name="q1"></a><p><b>(1) How do I create an AUTOINCREMENT field?</b></p>
<blockquote><p>Short answer: a column declared INTEGER PRIMARY KEY will autoincrement.</p>
<pre>CREATE TABLE t1(a INTEGER PRIMARY KEY);</pre></blockquote>
<a name="q3"></a><p><b>(3) SQLite lets me insert a string into an integer column!</b></p>
<blockquote><p>This is a feature, not a bug.</p></blockquote>
<p><b>Note:</b> a bold lead-in is not a question.</p>
</body></html>"""


def test_questions_in_a_definition_list_are_sections_of_their_own():
    doc = load_document("gitfaq.html", FAQ_AS_LIST)
    found = {(s.heading_path, s.anchor): s.text for s in doc.sections}
    name = ("Configuration", "What should I put in user.name ?")
    assert found[(name, "user-name")] == 'Your personal name, as in "Junio C Hamano".'
    buffer = ("Configuration", "What does http.postBuffer really do?")
    assert "size of the buffer" in found[(buffer, "post-buffer")]
    # Terms that are not questions (a glossary) stay in their section.
    assert "Untyped object" in found[(("Glossary",), "glossary")]


def test_bold_question_paragraphs_after_a_link_target_are_sections():
    doc = load_document("faq.html", FAQ_AS_BOLD)
    by_anchor = {s.anchor: s for s in doc.sections}
    first = by_anchor["q1"]
    assert first.heading_path[-1] == "(1) How do I create an AUTOINCREMENT field?"
    assert "INTEGER PRIMARY KEY will autoincrement" in first.text
    assert "CREATE TABLE t1" in first.text  # the code stays with its answer
    # A statement as the title counts when it is a link target; a bold lead-in does not.
    assert by_anchor["q3"].text.startswith("This is a feature, not a bug.")
    assert "a bold lead-in is not a question" in by_anchor["q3"].text
    # The in-page table of contents is furniture: no section repeats every question.
    assert not any("What datatypes" in s.text for s in doc.sections)
