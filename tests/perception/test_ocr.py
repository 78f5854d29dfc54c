"""Real RapidOCR (bundled PP-OCRv6 models) on rendered screenshots."""

import pytest
from PIL import Image

from bot.perception.ocr import RapidOcrReader
from tests.mediagen import error_dialog


@pytest.fixture(scope="module")
def reader():
    return RapidOcrReader(threads=1)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_an_error_dialog_is_read_line_by_line(reader, dark):
    shot = error_dialog(
        "Sync failed",
        ["Error E-2041: Your notes could not be synced", "Try again later."],
        dark=dark,
    )
    seen = reader.read(shot)
    lines = seen.text.splitlines()
    assert "Sync failed" in lines
    assert any("E-2041" in line for line in lines)
    assert lines.index("Sync failed") < next(i for i, s in enumerate(lines) if "E-2041" in s)
    assert seen.confidence > 0.8 and seen.lines == len(lines)


def test_an_image_without_text_reads_as_empty(reader):
    seen = reader.read(Image.new("RGB", (640, 480), "#3a7bd5"))
    assert seen.text == "" and seen.lines == 0 and seen.confidence == 0.0
