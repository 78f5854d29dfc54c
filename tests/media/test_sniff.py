import pytest

from bot.media.sniff import sniff
from tests.mediagen import error_dialog, jpeg_bytes, png_bytes


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("image", "webp")),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", ("audio", "wav")),
        (b"OggS\x00\x02", ("audio", "ogg")),
        (b"\x1a\x45\xdf\xa3\x9f", ("audio", "webm")),
        (b"\x00\x00\x00\x1cftypM4A ", ("audio", "m4a")),
        (b"ID3\x04\x00", ("audio", "mp3")),
        (b"\xff\xfb\x90\x64", ("audio", "mp3")),
    ],
)
def test_signatures(head, expected):
    found = sniff(head)
    assert found is not None and (found.kind, found.format) == expected


def test_real_images_are_recognised_by_content():
    img = error_dialog("x", ["y"])
    assert sniff(png_bytes(img)[:32]).format == "png"
    assert sniff(jpeg_bytes(img)[:32]).format == "jpeg"


@pytest.mark.parametrize(
    "head", [b"", b"GIF89a", b"%PDF-1.7", b"PK\x03\x04", b"\xff\xe1", b"hello world, text"]
)
def test_everything_else_is_none(head):
    assert sniff(head) is None
