"""Voice notes and screenshots through the real server: upload, read, answer, refuse."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.e2e.client import Customer, bot_message
from tests.mediagen import encode, error_dialog, jpeg_bytes, png_bytes, speak, wav_bytes

REFUND_SPOKEN = "How long do I have to ask for a refund on a yearly plan?"


def customer_message(frame):
    return frame["type"] == "message" and frame["message"]["role"] == "customer"


def uploads_dir(server) -> Path:
    return Path(server.env["SUPPORTBOT_DATA_DIR"]) / "uploads"


def leftovers(server) -> list[Path]:
    """Temporary or half-written files anywhere under the uploads directory."""
    root = uploads_dir(server)
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and (p.suffix == ".part" or ".incoming" in p.parts)
    ]


async def connected(server) -> Customer:
    customer = Customer(server.ws_url)
    await customer.connect()
    return customer


@pytest.fixture(scope="module")
def spoken_refund():
    return speak(REFUND_SPOKEN)


@pytest.mark.parametrize("fmt", ["wav", "webm"])
async def test_a_voice_note_is_transcribed_and_answered_with_citations(server, spoken_refund, fmt):
    samples, rate = spoken_refund
    data = wav_bytes(samples, rate) if fmt == "wav" else encode(samples, rate, "webm")
    customer = await connected(server)
    response = await customer.upload(server.url, f"note.{fmt}", data, f"audio/{fmt}")
    assert response.status_code == 200, response.text
    upload = response.json()
    assert upload["kind"] == "audio" and upload["bytes"] == len(data)
    assert abs(upload["duration_s"] - len(samples) / rate) < 0.2
    await customer.send_with([upload["upload_id"]])
    got = await customer.until(bot_message, timeout=60)
    mine = next(f for f in got if customer_message(f))["message"]
    attachment = mine["attachments"][0]
    assert attachment["upload_id"] == upload["upload_id"] and attachment["status"] == "ready"
    assert "refund" in attachment["transcript"].lower() and attachment["confidence"] > 0.5
    answer = got[-1]["message"]
    assert answer["tier"] == "mini" and answer["citations"]
    assert any("refund" in c["source"] for c in answer["citations"])
    await customer.close()


async def test_a_screenshot_is_read_and_its_error_code_finds_the_article(server, stub):
    shot = error_dialog(
        "Sync failed", ["Error E-2041: Your notes could not be synced.", "Try again later."]
    )
    customer = await connected(server)
    response = await customer.upload(server.url, "screen.png", png_bytes(shot), "image/png")
    assert response.status_code == 200, response.text
    upload = response.json()
    assert upload["kind"] == "image" and (upload["width"], upload["height"]) == shot.size
    await customer.send_with([upload["upload_id"]], text="what does this mean?")
    got = await customer.until(bot_message, timeout=60)
    attachment = next(f for f in got if customer_message(f))["message"]["attachments"][0]
    assert "E-2041" in attachment["text"] and attachment["confidence"] > 0.8
    answer = got[-1]["message"]
    top = answer["citations"][0]
    assert top["source"].endswith("sync-errors.md") and "E-2041" in top["title"]
    # The mini tier is configured as taking images: the screenshot itself reached it.
    parts = stub.history()[-1]["messages"][-1]["content"]
    assert parts[0]["type"] == "text" and "E-2041" in parts[0]["text"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    # The cleaned file can be fetched back by its conversation, and only by it.
    async with httpx.AsyncClient() as http:
        own = await http.get(
            f"{server.url}/api/uploads/{upload['upload_id']}",
            headers={"Authorization": f"Bearer {customer.token}"},
        )
        other = await connected(server)
        foreign = await http.get(
            f"{server.url}/api/uploads/{upload['upload_id']}",
            headers={"Authorization": f"Bearer {other.token}"},
        )
    assert own.status_code == 200 and own.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(own.content)).size == shot.size
    assert foreign.status_code == 404
    await customer.close()
    await other.close()


async def test_silence_and_a_blank_screenshot_get_a_helpful_reply_not_an_error(server):
    customer = await connected(server)
    silent = await customer.upload(
        server.url, "quiet.wav", wav_bytes(np.zeros(16_000 * 3, dtype=np.float32), 16_000)
    )
    await customer.send_with([silent.json()["upload_id"]])
    reply = (await customer.until(bot_message, timeout=60))[-1]["message"]
    assert "couldn't make out any words" in reply["text"]
    blank = await customer.upload(server.url, "blank.png", png_bytes(Image.new("RGB", (300, 200))))
    await customer.send_with([blank.json()["upload_id"]])
    reply = (await customer.until(bot_message, timeout=60))[-1]["message"]
    assert "couldn't read any text" in reply["text"]
    welcome = await customer.connect()
    assert welcome["state"] == "bot"  # nobody was called for this
    await customer.close()


def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000), 0).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    exif[0x010F] = "PhoneMaker"
    return jpeg_bytes(error_dialog("Payment failed", ["Error E-3020"]), exif=exif.tobytes())


def _garbage_mp3() -> bytes:
    rng = np.random.default_rng(5)
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + rng.integers(0, 256, 40_000, np.uint8).tobytes()


BAD = {
    "bomb": ("bomb.png", _bomb, 422, "too_many_pixels", "40 megapixels"),
    "truncated_png": (
        "cut.png",
        lambda: png_bytes(error_dialog("x", ["y"]))[:3000],
        422,
        "malformed",
        "could not be decoded",
    ),
    "truncated_jpeg": (
        "cut.jpg",
        lambda: jpeg_bytes(error_dialog("x", ["y"]))[:3000],
        422,
        "malformed",
        "could not be decoded",
    ),
    "zero_bytes": ("empty.wav", lambda: b"", 422, "malformed", "empty"),
    "garbage_mp3": ("noise.mp3", _garbage_mp3, 422, "malformed", "could not be decoded"),
    "pdf": ("doc.pdf", lambda: b"%PDF-1.7\n" + b"x" * 1000, 415, "unsupported_type", "PNG"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_files_are_refused_naming_the_limit_and_the_conversation_goes_on(server, case):
    name, make, status, code, words = BAD[case]
    customer = await connected(server)
    response = await customer.upload(server.url, name, make())
    assert response.status_code == status, response.text
    refusal = response.json()
    assert refusal["code"] == code and words in refusal["message"]
    assert "/tmp" not in refusal["message"] and "incoming" not in refusal["message"]  # no paths
    await customer.say("how long do I have to ask for a refund on a yearly plan?")
    answer = (await customer.until(bot_message))[-1]["message"]
    assert answer["citations"]
    assert leftovers(server) == []
    await customer.close()


async def test_a_png_named_mp3_is_taken_as_the_image_it_is(server):
    customer = await connected(server)
    shot = png_bytes(error_dialog("Sync failed", ["Error E-2041"]))
    response = await customer.upload(server.url, "song.mp3", shot, "audio/mpeg")
    assert response.status_code == 200 and response.json()["kind"] == "image"
    await customer.close()


async def test_gps_and_camera_data_are_gone_from_the_stored_image(server):
    customer = await connected(server)
    response = await customer.upload(server.url, "photo.jpg", _gps_jpeg(), "image/jpeg")
    assert response.status_code == 200
    async with httpx.AsyncClient() as http:
        kept = await http.get(
            f"{server.url}/api/uploads/{response.json()['upload_id']}",
            headers={"Authorization": f"Bearer {customer.token}"},
        )
    assert kept.status_code == 200 and b"PhoneMaker" not in kept.content
    assert not Image.open(io.BytesIO(kept.content)).getexif()
    await customer.close()


async def test_an_upload_without_a_valid_token_is_refused(server):
    async with httpx.AsyncClient() as http:
        missing = await http.post(f"{server.url}/api/uploads", files={"file": ("a.png", b"x")})
        wrong = await http.post(
            f"{server.url}/api/uploads",
            files={"file": ("a.png", b"x")},
            headers={"Authorization": "Bearer not-a-token"},
        )
    assert missing.status_code == wrong.status_code == 401
    assert "Bearer" in missing.json()["message"]


async def test_another_conversations_upload_cannot_be_attached(server):
    owner = await connected(server)
    shot = png_bytes(error_dialog("Sync failed", ["Error E-2041"]))
    upload_id = (await owner.upload(server.url, "s.png", shot)).json()["upload_id"]
    thief = await connected(server)
    client_id = await thief.send_with([upload_id], text="whose is this?")
    error = await thief.recv()
    assert error["type"] == "error" and error["code"] == "invalid_input"
    assert error["client_id"] == client_id
    await owner.close()
    await thief.close()


async def test_a_declared_oversized_body_is_refused_before_it_is_read(server):
    customer = await connected(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        f"POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode()
        + f"Authorization: Bearer {customer.token}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=b\r\n"
        + b"Content-Length: 115200000\r\n\r\n"
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    assert b" 413 " in status
    writer.close()
    await customer.close()


async def test_an_hour_long_wav_streamed_without_a_length_stops_at_the_cap(server):
    """A chunked 115 MB body: the server answers 413 after about 10 MiB and reads no more."""
    customer = await connected(server)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head = wav_bytes(np.zeros(16, dtype=np.float32), 16_000)[:44]
    part = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="hour.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + head
    )
    writer.write(
        f"POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode()
        + f"Authorization: Bearer {customer.token}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    writer.write(chunk(part))
    sent = len(part)
    response = asyncio.create_task(reader.readline())
    silence = bytes(256 * 1024)
    hour = 16_000 * 2 * 3600
    try:
        while sent < hour and not response.done():
            writer.write(chunk(silence))
            await asyncio.wait_for(writer.drain(), 10)
            sent += len(silence)
    except (ConnectionError, TimeoutError):
        pass
    status = await asyncio.wait_for(response, 10)
    assert b" 413 " in status
    assert sent < 40 * 1024 * 1024  # the server stopped reading long before the hour's 115 MB
    writer.close()
    assert leftovers(server) == []
    await customer.close()
