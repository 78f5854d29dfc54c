"""Builds small real PDFs (with or without bookmarks) for loader tests."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(
    chapters: list[tuple[str, str]],
    title: str = "Guide",
    bookmarks: bool = True,
) -> bytes:
    """One page per chapter: a heading line, then the body; bookmarks point at each page."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    for i, (heading, body) in enumerate(chapters):
        if bookmarks:
            pdf.bookmarkPage(f"p{i}")
            pdf.addOutlineEntry(heading, f"p{i}", level=0)
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(72, 770, heading)
        pdf.setFont("Helvetica", 11)
        for line_no, line in enumerate(body.split("\n")):
            pdf.drawString(72, 740 - 16 * line_no, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
