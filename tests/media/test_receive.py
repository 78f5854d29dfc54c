"""One file out of a multipart body, capped while it is read."""

import pytest

from bot.errors import UploadRefused
from bot.media.receive import receive_file
from tests.mediagen import error_dialog, png_bytes

BOUNDARY = "----supportbot-test"
CT = f"multipart/form-data; boundary={BOUNDARY}"


def body(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


class Chunks:
    """An async body that counts how much of itself was read."""

    def __init__(self, data: bytes, size: int = 65536) -> None:
        self.pieces = [data[i : i + size] for i in range(0, len(data), size)]
        self.read = 0

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        for piece in self.pieces:
            self.read += len(piece)
            yield piece


def caps(image=1_000_000, audio=2_000_000):
    return lambda kind: {"image": image, "audio": audio}.get(kind, max(image, audio))


async def test_the_file_part_is_written_and_sniffed(tmp_path):
    png = png_bytes(error_dialog("Sync failed", ["E-2041"]))
    target = tmp_path / "x.part"
    got = await receive_file(
        Chunks(body(("note", None, b"hi"), ("file", "shot.mp3", png))), CT, target, caps()
    )
    assert (
        got.sniffed.kind == "image" and got.sniffed.format == "png"
    )  # the name lies; content wins
    assert got.bytes == len(png) and target.read_bytes() == png


async def test_reading_stops_at_the_cap_of_the_files_kind(tmp_path):
    wav_head = b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 20
    data = body(("file", "long.wav", wav_head + b"\x00" * 20_000_000))
    chunks = Chunks(data)
    target = tmp_path / "x.part"
    with pytest.raises(UploadRefused) as refused:
        await receive_file(chunks, CT, target, caps(audio=1_000_000))
    assert refused.value.code == "too_large" and "MiB limit for audio" in str(refused.value)
    assert chunks.read < 1_200_000  # stopped at the cap, not at the end of 20 MB
    assert not target.exists()


async def test_an_unknown_type_is_refused_from_its_first_bytes(tmp_path):
    chunks = Chunks(body(("file", "a.pdf", b"%PDF-1.7\n" + b"x" * 5_000_000)))
    with pytest.raises(UploadRefused) as refused:
        await receive_file(chunks, CT, tmp_path / "x.part", caps())
    assert refused.value.code == "unsupported_type" and "PNG, JPEG, WebP" in str(refused.value)
    assert chunks.read <= 65536
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        (body(("file", "empty.png", b"")), CT, "malformed"),
        (body(("note", None, b"just a field")), CT, "no_file"),
        (b"not multipart at all", "application/octet-stream", "no_file"),
        (
            body(("a", "a.png", png_bytes(error_dialog("a", []))), ("b", "b.png", b"\x89PNG")),
            CT,
            "too_many_files",
        ),
        (body(("file", "t.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100))[:-40], CT, "malformed"),
    ],
)
async def test_bodies_without_one_whole_file_are_refused(tmp_path, data, content_type, code):
    with pytest.raises(UploadRefused) as refused:
        await receive_file(Chunks(data), content_type, tmp_path / "x.part", caps())
    assert refused.value.code == code
    assert not list(tmp_path.iterdir())
