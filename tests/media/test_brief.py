"""Brief validation: text fields, style names and untrusted product images (all generated here)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from badapple_dagster.media.brief import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    BriefError,
    ImageInfo,
    build_brief,
    normalize_image,
    sniff_image_type,
    validate_fields,
    validate_image_bytes,
    validate_image_file,
)
from badapple_dagster.media.styles import ALIASES, STYLES, valid_styles


def _encode(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    im = Image.new(mode, size, (200, 40, 40) if mode == "RGB" else (200, 40, 40, 255))
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def _noisy_jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    # Noise makes the entropy-coded data long, so cutting the file really removes pixel data.
    im = Image.effect_noise(size, 64).convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of all-zero rows: hundreds of megapixels in a few dozen kilobytes.
    Built by hand, row by row, so the test itself never holds the decoded image in memory."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


# ------------------------------------------------------------------------------------------- text fields


def test_valid_fields_are_stripped_and_style_canonical() -> None:
    assert validate_fields("  Aurora Glass ", " Luxury ", " Shop now ") == ("Aurora Glass", "luxury", "Shop now")


@pytest.mark.parametrize("alias, canonical", sorted(ALIASES.items()))
def test_aliases_resolve_to_canonical_style(alias: str, canonical: str) -> None:
    assert validate_fields("Aurora", alias.upper(), "Buy")[1] == canonical


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_is_accepted(style: str) -> None:
    assert validate_fields("Aurora", style, "Buy")[1] == style


@pytest.mark.parametrize(
    "name, cta, field, message",
    [
        ("", "Buy", "product_name", "Product name is required"),
        ("   \u3000 ", "Buy", "product_name", "Product name is required"),
        ("\u200b\u200d", "Buy", "product_name", "Product name is required"),
        ("Aurora", "", "cta_text", "CTA text is required"),
        ("Aurora", " \t ", "cta_text", "CTA text is required"),
    ],
)
def test_empty_or_whitespace_fields_are_required(name: str, cta: str, field: str, message: str) -> None:
    with pytest.raises(BriefError) as info:
        validate_fields(name, "modern", cta)
    assert info.value.message == message
    assert info.value.field == field
    assert info.value.error == "ValidationError"


def test_length_limits_are_inclusive() -> None:
    name, _style, cta = validate_fields("n" * 100, "bold", "c" * 50)
    assert len(name) == 100 and len(cta) == 50


def test_product_name_over_100_chars_is_refused() -> None:
    with pytest.raises(BriefError) as info:
        validate_fields("n" * 101, "bold", "Buy")
    assert info.value.field == "product_name"
    assert "at most 100 characters" in info.value.message
    assert "101" in info.value.details


def test_cta_over_50_chars_is_refused() -> None:
    with pytest.raises(BriefError) as info:
        validate_fields("Aurora", "bold", "c" * 51)
    assert info.value.field == "cta_text"
    assert "at most 50 characters" in info.value.message


def test_combining_characters_count_as_one() -> None:
    # "é" typed as e + U+0301 is 2 code points but one character once NFC-normalised.
    name = ("e\u0301" * 100)[:200]
    assert validate_fields(name, "bold", "Buy")[0] == "é" * 100


@pytest.mark.parametrize("bad", ["Aur\nora", "Aur\x00ora", "Tab\there", "evil\u202etxt.exe", "bell\x07"])
def test_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(BriefError) as info:
        validate_fields(bad, "bold", "Buy")
    assert info.value.field == "product_name"
    assert "control characters" in info.value.message


def test_unicode_punctuation_and_emoji_are_fine() -> None:
    name = 'Café "Crème" — L\'Été ✨ 100%'
    assert validate_fields(name, "minimal", "Jetzt kaufen!")[0] == name


def test_unknown_style_message_lists_valid_styles() -> None:
    with pytest.raises(BriefError) as info:
        validate_fields("Aurora", "retro", "Buy")
    err = info.value
    assert err.field == "style" and err.error == "ValidationError"
    assert "retro" in err.message
    for style in valid_styles():
        assert style in err.message


def test_missing_style_is_required() -> None:
    with pytest.raises(BriefError) as info:
        validate_fields("Aurora", "  ", "Buy")
    assert info.value.message == "Style is required"
    assert "luxury" in info.value.details


def test_error_serialises_for_the_api() -> None:
    with pytest.raises(BriefError) as info:
        validate_fields("", "bold", "Buy")
    assert info.value.to_dict() == {
        "error": "ValidationError",
        "message": "Product name is required",
        "details": "Product name must not be empty",
        "field": "product_name",
    }
    assert isinstance(info.value, ValueError)


# ------------------------------------------------------------------------------------------------ images


def test_sniff_uses_magic_bytes_only() -> None:
    assert sniff_image_type(_encode("JPEG")[:16]) == "jpeg"
    assert sniff_image_type(_encode("PNG")[:16]) == "png"
    assert sniff_image_type(_encode("WEBP")[:16]) == "webp"
    assert sniff_image_type(_encode("GIF")[:16]) is None
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_image_type(b"") is None


@pytest.mark.parametrize(
    "fmt, kind, mime, ext",
    [("JPEG", "jpeg", "image/jpeg", "jpg"), ("PNG", "png", "image/png", "png"), ("WEBP", "webp", "image/webp", "webp")],
)
def test_valid_images_are_accepted(fmt: str, kind: str, mime: str, ext: str) -> None:
    info = validate_image_bytes(_encode(fmt, (64, 48)))
    assert info == ImageInfo(format=kind, width=64, height=48, mime=mime, ext=ext)


def test_png_with_alpha_and_palette_modes_are_accepted() -> None:
    assert validate_image_bytes(_encode("PNG", mode="RGBA")).format == "png"
    buf = io.BytesIO()
    Image.new("P", (10, 10)).save(buf, "PNG")
    assert validate_image_bytes(buf.getvalue()).format == "png"


def test_gif_is_refused_as_wrong_type() -> None:
    with pytest.raises(BriefError) as info:
        validate_image_bytes(_encode("GIF"))
    assert info.value.error == "InvalidFileType"
    assert "GIF" in info.value.details
    assert info.value.field == "image"


def test_text_file_is_refused_even_when_named_like_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "photo.png"
    fake.write_text("definitely not a picture\n")
    with pytest.raises(BriefError) as info:
        validate_image_file(fake)
    assert info.value.error == "InvalidFileType"
    assert "text" in info.value.details


def test_corrupt_bytes_behind_valid_magic_are_refused() -> None:
    with pytest.raises(BriefError) as info:
        validate_image_bytes(b"\x89PNG\r\n\x1a\n" + b"\x13\x37" * 500)
    assert info.value.error == "InvalidImage"


def test_png_with_bad_checksum_is_refused() -> None:
    data = bytearray(_encode("PNG", (32, 32)))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip a byte of the compressed pixels: the chunk CRC no longer matches
    with pytest.raises(BriefError) as info:
        validate_image_bytes(bytes(data))
    assert info.value.error == "InvalidImage"


def test_truncated_jpeg_is_refused() -> None:
    data = _noisy_jpeg()
    validate_image_bytes(data)  # the intact file is fine
    with pytest.raises(BriefError) as info:
        validate_image_bytes(data[: len(data) * 2 // 3])
    assert info.value.error == "InvalidImage"
    assert "truncated" in info.value.message


def test_empty_file_is_refused() -> None:
    with pytest.raises(BriefError) as info:
        validate_image_bytes(b"")
    assert info.value.error == "InvalidImage"


def test_oversized_file_is_refused_before_decoding() -> None:
    data = _encode("PNG") + b"\x00" * MAX_IMAGE_BYTES
    with pytest.raises(BriefError) as info:
        validate_image_bytes(data)
    assert info.value.error == "FileTooLarge"


def test_oversized_file_on_disk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    with path.open("wb") as fh:
        fh.write(_encode("JPEG"))
        fh.truncate(MAX_IMAGE_BYTES + 1)  # sparse: no 10 MB written to the shared disk
    with pytest.raises(BriefError) as info:
        validate_image_file(path)
    assert info.value.error == "FileTooLarge"


def test_decompression_bomb_is_refused() -> None:
    data = _bomb_png(20_000, 20_000)  # 400 megapixels
    assert len(data) < 200_000  # tiny on the wire ...
    with pytest.raises(BriefError) as info:
        validate_image_bytes(data)
    assert info.value.error == "InvalidImage"
    assert "too large" in info.value.message


def test_image_just_over_the_pixel_limit_is_refused_from_its_header() -> None:
    # 42 MP: below Pillow's own bomb threshold, so only our header check stops it.
    width, height = 7_000, 6_000
    assert width * height > MAX_IMAGE_PIXELS
    with pytest.raises(BriefError) as info:
        validate_image_bytes(_bomb_png(width, height))
    assert f"{width}x{height}" in info.value.details


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(BriefError) as info:
        validate_image_file(tmp_path / "nope.png")
    assert info.value.error == "FileNotFound"


# ------------------------------------------------------------------------------------------ normalising


def test_normalize_applies_exif_orientation_and_drops_metadata(tmp_path: Path) -> None:
    im = Image.new("RGB", (80, 40), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    exif[0x010F] = "Secret Camera Co"
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes())

    out = tmp_path / "nested" / "product.png"
    info = normalize_image(buf.getvalue(), str(out))

    assert info == ImageInfo(format="png", width=40, height=80, mime="image/png", ext="png")
    with Image.open(out) as result:
        assert result.format == "PNG" and result.mode == "RGBA" and result.size == (40, 80)
        assert "exif" not in result.info and "icc_profile" not in result.info
        assert not result.getexif()
    assert b"Secret Camera" not in out.read_bytes()


def test_normalize_limits_the_longest_side_and_keeps_alpha(tmp_path: Path) -> None:
    im = Image.new("RGBA", (3000, 1000), (0, 0, 0, 0))
    im.paste((250, 30, 30, 255), (1000, 250, 2000, 750))
    src = tmp_path / "wide.png"
    im.save(src, pnginfo=_text_chunk("Author", "someone@example.com"))

    out = tmp_path / "product.png"
    info = normalize_image(str(src), str(out))

    assert (info.width, info.height) == (2048, 683)
    with Image.open(out) as result:
        assert result.size == (2048, 683)
        assert result.getpixel((0, 0))[3] == 0  # transparency survives
        assert result.getpixel((1024, 341)) == (250, 30, 30, 255)
        assert "Author" not in result.info


def test_normalize_converts_webp_and_palette_images(tmp_path: Path) -> None:
    out = tmp_path / "a.png"
    assert normalize_image(_encode("WEBP", (30, 20)), str(out)).format == "png"
    with Image.open(out) as result:
        assert result.mode == "RGBA" and result.size == (30, 20)


def test_normalize_refuses_bad_input_without_writing(tmp_path: Path) -> None:
    out = tmp_path / "product.png"
    with pytest.raises(BriefError):
        normalize_image(_encode("GIF"), str(out))
    assert not out.exists()


def _text_chunk(key: str, value: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


# ------------------------------------------------------------------------------------------------ brief


def test_build_brief_with_image(tmp_path: Path) -> None:
    path = tmp_path / "product.webp"
    path.write_bytes(_encode("WEBP"))
    brief = build_brief(" Aurora ", "minimalist", " Shop now ", str(path))
    assert brief.product_name == "Aurora"
    assert brief.style == "minimal"
    assert brief.cta_text == "Shop now"
    assert brief.image_path == str(path)


def test_build_brief_without_image() -> None:
    brief = build_brief("Aurora", "premium", "Buy", None)
    assert brief.image_path is None and brief.style == "luxury"


def test_build_brief_rejects_a_bad_image(tmp_path: Path) -> None:
    path = tmp_path / "product.jpg"
    path.write_bytes(_noisy_jpeg()[:3000])
    with pytest.raises(BriefError) as info:
        build_brief("Aurora", "bold", "Buy", str(path))
    assert info.value.field == "image"
