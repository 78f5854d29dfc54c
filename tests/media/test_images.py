"""Images are decoded for real, turned upright, and kept as bare pixels."""

import io

import pytest
from PIL import Image

from bot.errors import UploadRefused
from bot.media.images import READ_PIXELS, clean_image, read_image
from tests.mediagen import error_dialog, jpeg_bytes, png_bytes

MAX_PIXELS = 40_000_000


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_png_is_kept_as_png_with_its_pixels(tmp_path):
    img = error_dialog("Sync failed", ["Error E-2041: Sync conflict"])
    src = _write(tmp_path, "in.png", png_bytes(img))
    cleaned = clean_image(src, tmp_path / "out", max_pixels=MAX_PIXELS)
    assert cleaned.mime == "image/png" and cleaned.path.suffix == ".png"
    assert (cleaned.width, cleaned.height) == img.size
    with Image.open(cleaned.path) as kept:
        assert kept.tobytes() == img.tobytes()
    assert not list(tmp_path.glob("*.part"))


def test_exif_with_gps_is_gone_and_the_orientation_applied(tmp_path):
    img = Image.new("RGB", (200, 100), "white")
    img.paste((255, 0, 0), (0, 0, 20, 20))  # a red corner, to see the rotation
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    exif[0x8825] = gps
    data = jpeg_bytes(img, exif=exif.tobytes(), quality=95)
    with Image.open(io.BytesIO(data)) as check:  # the fixture really carries GPS
        assert check.getexif().get_ifd(0x8825)
    cleaned = clean_image(_write(tmp_path, "in.jpg", data), tmp_path / "out", max_pixels=MAX_PIXELS)
    assert cleaned.mime == "image/jpeg"
    assert (cleaned.width, cleaned.height) == (100, 200)  # turned upright
    with Image.open(cleaned.path) as kept:
        assert not kept.getexif()  # no orientation, maker or GPS left
        assert "exif" not in kept.info and "icc_profile" not in kept.info
        r, g, b = kept.convert("RGB").getpixel((95, 5))  # the red corner is now top right
        assert r > 200 and g < 80 and b < 80
    assert b"PhoneMaker" not in cleaned.path.read_bytes()


def test_png_text_chunks_do_not_survive(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-location-52.5200N")
    data = png_bytes(Image.new("RGB", (50, 50), "white"), pnginfo=info)
    cleaned = clean_image(_write(tmp_path, "in.png", data), tmp_path / "out", max_pixels=MAX_PIXELS)
    assert b"secret-location" not in cleaned.path.read_bytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_icc_profiles_xmp_and_comments_do_not_survive(tmp_path, fmt):
    # The pixels are kept in place (no copy), so what rode along with them must be
    # emptied there: a profile, XMP and (JPEG) a comment.
    from PIL import PngImagePlugin

    xmp = "<x:xmpmeta>marker-xmp</x:xmpmeta>"
    if fmt == "JPEG":
        extra = {"xmp": xmp.encode(), "comment": b"marker-comment"}
    else:
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp)
        extra = {"pnginfo": info}
    out = io.BytesIO()
    profile = b"marker-icc" + bytes(200)
    Image.new("RGB", (60, 40), "white").save(out, format=fmt, icc_profile=profile, **extra)
    with Image.open(out) as carried:  # the fixture carries them
        assert carried.info.get("icc_profile") == profile and "marker-xmp" in str(carried.info)
    cleaned = clean_image(
        _write(tmp_path, "in", out.getvalue()), tmp_path / "out", max_pixels=MAX_PIXELS
    )
    assert b"marker" not in cleaned.path.read_bytes()
    with Image.open(cleaned.path) as kept:
        assert not kept.info.get("icc_profile") and "marker" not in str(kept.info)


def test_the_reader_gets_a_screen_as_it_is_and_a_huge_image_at_a_screens_size(tmp_path):
    sizes = {}
    for name, size in {"screen": (1920, 1080), "huge": (6000, 6000)}.items():
        data = png_bytes(Image.new("RGB", size, "white"))
        cleaned = clean_image(
            _write(tmp_path, name, data), tmp_path / f"{name}-out", max_pixels=MAX_PIXELS
        )
        assert (cleaned.width, cleaned.height) == size  # the stored image keeps its size
        sizes[name] = read_image(cleaned.path, lambda img: img.size)
    assert sizes["screen"] == (1920, 1080)
    width, height = sizes["huge"]
    assert width == height and width * height <= READ_PIXELS and width > 1400


def test_webp_is_kept_as_png(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), "navy").save(buffer, format="WEBP")
    cleaned = clean_image(
        _write(tmp_path, "in.webp", buffer.getvalue()), tmp_path / "out", max_pixels=MAX_PIXELS
    )
    assert cleaned.mime == "image/png" and (cleaned.width, cleaned.height) == (80, 40)


# 7000² is just over our 40 MP cap; 20 000² is over Pillow's own bomb limit (2 × 89 MP).
@pytest.mark.parametrize("side", [7_000, 20_000])
def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    # A one-colour PNG compresses to almost nothing: 400 megapixels in well under 1 MB.
    bomb = Image.new("1", (side, side), 0)
    src = tmp_path / "bomb.png"
    bomb.save(src, format="PNG", optimize=True)
    assert src.stat().st_size < 10 * 1024 * 1024
    with pytest.raises(UploadRefused) as refused:
        clean_image(src, tmp_path / "out", max_pixels=MAX_PIXELS)
    assert refused.value.code == "too_many_pixels"
    assert "40 megapixels" in str(refused.value)
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_a_truncated_image_is_refused_as_malformed(tmp_path, kind):
    img = error_dialog("Payment failed", ["Error E-3020: Card declined"])
    data = png_bytes(img) if kind == "png" else jpeg_bytes(img)
    src = _write(tmp_path, f"cut.{kind}", data[: len(data) // 2])
    with pytest.raises(UploadRefused) as refused:
        clean_image(src, tmp_path / "out", max_pixels=MAX_PIXELS)
    assert refused.value.code == "malformed"
    assert "could not be decoded" in str(refused.value)
    assert not list(tmp_path.glob("out*"))


def test_an_image_of_another_format_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    with pytest.raises(UploadRefused) as refused:
        clean_image(_write(tmp_path, "x.gif", buffer.getvalue()), tmp_path / "o", max_pixels=10**6)
    assert refused.value.code == "unsupported_type" and "PNG, JPEG, WebP" in str(refused.value)
