"""Validate a product brief before any media work starts.

Shared by the CLI and the HTTP API so both refuse the same inputs with the same messages. Everything here is
cheap (no ffmpeg, no rendering); the only real work is one guarded decode of the uploaded product image, so
a broken or hostile file fails here instead of half-way through a Dagster run.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from .models import Brief
from .styles import resolve_style, valid_styles

MAX_PRODUCT_NAME_CHARS = 100
MAX_CTA_CHARS = 50
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
# Longest side of the normalised product image: plenty for a 1920 px frame, small enough to keep every
# renderer's per-frame compositing cheap.
NORMALIZED_MAX_SIDE = 2048

# Bidi embedding/override/isolate controls can make a name display differently from what was typed (the
# "Trojan Source" trick); line/paragraph separators would break the single-line headline layouts.
_FORBIDDEN_FORMAT_CHARS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_SPACE_RUN = re.compile(r" {2,}")


class BriefError(ValueError):
    """A brief the pipeline refuses. ``error`` is a stable machine-readable type for API clients."""

    def __init__(
        self,
        message: str,
        *,
        error: str = "ValidationError",
        details: str = "",
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.details = details
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, "details": self.details, "field": self.field}


# --------------------------------------------------------------------------------------------- text fields


def _clean_text(value: object, *, label: str, field: str, max_chars: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BriefError(f"{label} must be text", details=f"Got {type(value).__name__}", field=field)
    # NFC first so "é" typed as e + combining accent counts as one character, like the user sees it.
    text = unicodedata.normalize("NFC", value).strip()
    # Zero-width and combining-only input is as empty as whitespace: nothing would show on screen.
    if not any(unicodedata.category(ch)[0] in "LNPS" for ch in text):
        raise BriefError(f"{label} is required", details=f"{label} must not be empty", field=field)
    bad = [ch for ch in text if _is_forbidden_char(ch)]
    if bad:
        codes = ", ".join(sorted({f"U+{ord(ch):04X}" for ch in bad}))
        raise BriefError(
            f"{label} contains control characters",
            details=f"Remove the invisible characters {codes}",
            field=field,
        )
    text = _SPACE_RUN.sub(" ", text)
    if len(text) > max_chars:
        raise BriefError(
            f"{label} must be at most {max_chars} characters",
            details=f"Got {len(text)} characters",
            field=field,
        )
    return text


def _is_forbidden_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cc: C0/C1 controls incl. tab and newline; Cs: lone surrogates (cannot even be encoded as UTF-8).
    return category in ("Cc", "Cs") or ch in _FORBIDDEN_FORMAT_CHARS


def _validate_style(style: object) -> str:
    valid = ", ".join(valid_styles())
    if style is None or (isinstance(style, str) and not style.strip()):
        raise BriefError("Style is required", details=f"Valid styles: {valid}", field="style")
    if not isinstance(style, str):
        raise BriefError("Style must be text", details=f"Valid styles: {valid}", field="style")
    try:
        return resolve_style(style).key
    except ValueError:
        shown = style.strip()[:40]
        raise BriefError(
            f"Unknown style {shown!r}. Valid styles: {valid}", details=f"Valid styles: {valid}", field="style"
        ) from None


def validate_fields(product_name: str, style: str, cta_text: str) -> tuple[str, str, str]:
    """Return ``(product_name, canonical style key, cta_text)`` cleaned, or raise :class:`BriefError`."""
    name = _clean_text(product_name, label="Product name", field="product_name", max_chars=MAX_PRODUCT_NAME_CHARS)
    style_key = _validate_style(style)
    cta = _clean_text(cta_text, label="CTA text", field="cta_text", max_chars=MAX_CTA_CHARS)
    return name, style_key, cta


# -------------------------------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg" | "png" | "webp"
    width: int
    height: int
    mime: str
    ext: str  # file extension without the dot: "jpg" | "png" | "webp"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# kind -> (Pillow format name, MIME type, extension)
_FORMATS: dict[str, tuple[str, str, str]] = {
    "jpeg": ("JPEG", "image/jpeg", "jpg"),
    "png": ("PNG", "image/png", "png"),
    "webp": ("WEBP", "image/webp", "webp"),
}
_ACCEPTED = "JPEG, PNG or WebP"


def sniff_image_type(head: bytes) -> str | None:
    """Identify an accepted image by its magic bytes. Filenames and client content types are never trusted:
    both are chosen by whoever uploads the file."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _describe_unaccepted(head: bytes) -> str:
    """Best-effort name of what was uploaded instead, so the error tells the user what went wrong."""
    signatures = (
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
    )
    for magic, label in signatures:
        if head.startswith(magic):
            return label
    if head[4:8] == b"ftyp":
        return "a HEIC/AVIF/MP4 file"
    stripped = head.lstrip()
    if stripped.startswith((b"<svg", b"<?xml")):
        return "an SVG/XML document"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "a text file"


def _bomb_error(width: int, height: int) -> BriefError:
    return BriefError(
        "Image dimensions are too large",
        error="InvalidImage",
        details=f"{width}x{height} = {width * height:,} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels",
        field="image",
    )


@contextmanager
def _guarded_open(data: bytes, kind: str) -> Iterator[Image.Image]:
    """Open ``data`` as exactly ``kind`` with decompression bombs turned into errors.

    Restricting Pillow to the sniffed format means a file whose magic bytes say PNG is never handed to some
    other, less hardened decoder. Pillow only *warns* between its own limit and twice that; the warning is
    promoted to an error so such files fail the same way instead of decoding hundreds of megapixels.
    """
    pil_format = _FORMATS[kind][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[pil_format]) as im:
                # Image.open only parsed the header: refuse huge canvases before any pixel is decoded.
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    raise _bomb_error(im.width, im.height)
                yield im
        except BriefError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise BriefError(
                "Image dimensions are too large", error="InvalidImage", details=str(exc), field="image"
            ) from None
        except Exception as exc:
            # Pillow's decoders report malformed input through many exception types (OSError, SyntaxError,
            # ValueError, EOFError, struct.error, ...). For an untrusted upload each means the same thing.
            raise BriefError(
                "The image file is corrupt or truncated",
                error="InvalidImage",
                details=f"{type(exc).__name__}: {exc}",
                field="image",
            ) from None


def _full_decode(im: Image.Image) -> None:
    """Decode every byte of pixel data: ``verify`` alone misses truncated JPEG/WebP streams."""
    if im.format == "JPEG":
        # DCT scaling still walks the whole entropy-coded stream (so truncation is caught) at 1/8 the memory.
        im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
    im.load()


def validate_image_bytes(data: bytes) -> ImageInfo:
    """Check an uploaded product image: size, magic bytes, structure, pixel count and a full decode."""
    data = bytes(data)
    if not data:
        raise BriefError("The image file is empty", error="InvalidImage", field="image")
    if len(data) > MAX_IMAGE_BYTES:
        raise BriefError(
            "The image file is too large",
            error="FileTooLarge",
            details=f"{len(data):,} bytes; the limit is {MAX_IMAGE_BYTES:,} bytes (10 MB)",
            field="image",
        )
    kind = sniff_image_type(data[:16])
    if kind is None:
        raise BriefError(
            f"Unsupported file type; upload a {_ACCEPTED} image",
            error="InvalidFileType",
            details=f"The file looks like {_describe_unaccepted(data[:64])}",
            field="image",
        )
    with _guarded_open(data, kind) as im:
        width, height = im.size
        im.verify()  # structure and checksums (PNG CRCs); leaves the image unusable, hence the reopen
    with _guarded_open(data, kind) as im:
        _full_decode(im)
    _pil, mime, ext = _FORMATS[kind]
    return ImageInfo(format=kind, width=width, height=height, mime=mime, ext=ext)


def _read_limited(path: str | os.PathLike[str]) -> bytes:
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        raise BriefError("Product image not found", error="FileNotFound", details=str(path), field="image") from None
    if not p.is_file():
        raise BriefError("Product image is not a file", error="InvalidImage", details=str(path), field="image")
    # Check the size on disk first so an oversized file is never read into memory.
    if size > MAX_IMAGE_BYTES:
        raise BriefError(
            "The image file is too large",
            error="FileTooLarge",
            details=f"{size:,} bytes; the limit is {MAX_IMAGE_BYTES:,} bytes (10 MB)",
            field="image",
        )
    return p.read_bytes()


def validate_image_file(path: str | os.PathLike[str]) -> ImageInfo:
    return validate_image_bytes(_read_limited(path))


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _icc_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image | None:
    """Convert embedded-profile colours (Display P3 phone shots, CMYK print files) to sRGB, because the
    profile itself is dropped with the rest of the metadata. ``None`` when there is nothing to convert or
    LittleCMS cannot handle the profile; the caller then falls back to a plain mode conversion."""
    if not icc:
        return None
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
    except Exception:
        # Broken or mismatched profiles are common in the wild; colours then stay as encoded.
        return None


def _to_srgb_rgba(im: Image.Image) -> Image.Image:
    alpha = im.convert("RGBA").getchannel("A") if _has_alpha(im) else None
    colour = im if im.mode in ("RGB", "CMYK", "L") else im.convert("RGB")
    converted = _icc_to_srgb(colour, im.info.get("icc_profile"))
    rgb = converted if converted is not None else colour.convert("RGB")
    out = rgb.convert("RGBA")
    if alpha is not None:
        out.putalpha(alpha)
    return out


def normalize_image(src: str | os.PathLike[str] | bytes, dest_png: str | os.PathLike[str]) -> ImageInfo:
    """Validate ``src`` and write it as a clean RGBA PNG: EXIF orientation applied, colours in sRGB, all
    metadata (EXIF, GPS, ICC, text chunks) dropped, longest side at most 2048 px. Renderers then only ever
    see one format. Returns the info of the written PNG."""
    data = bytes(src) if isinstance(src, bytes | bytearray | memoryview) else _read_limited(src)
    kind = validate_image_bytes(data).format
    with _guarded_open(data, kind) as im:
        if im.format == "JPEG":
            # Decode at the smallest DCT scale still >= the target size: much faster for phone photos.
            im.draft(im.mode, (NORMALIZED_MAX_SIDE, NORMALIZED_MAX_SIDE))
        upright = ImageOps.exif_transpose(im)
        out = _to_srgb_rgba(upright)
    out.thumbnail((NORMALIZED_MAX_SIDE, NORMALIZED_MAX_SIDE), Image.Resampling.LANCZOS)
    out.info.clear()  # convert() copies info; an empty dict means no exif/icc/text chunks get written

    dest = Path(dest_png)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename so a concurrent reader (or a retried Dagster step) never sees half a PNG.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        out.save(tmp, format="PNG", compress_level=6)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return ImageInfo(format="png", width=out.width, height=out.height, mime="image/png", ext="png")


# --------------------------------------------------------------------------------------------------- brief


def build_brief(
    product_name: str,
    style: str,
    cta_text: str,
    image_path: str | os.PathLike[str] | None = None,
) -> Brief:
    """Validate every field (and the image, if given) and return the :class:`Brief` the pipeline runs on."""
    name, style_key, cta = validate_fields(product_name, style, cta_text)
    path: str | None = None
    if image_path is not None and str(image_path) != "":
        validate_image_file(image_path)
        path = str(image_path)
    return Brief(product_name=name, style=style_key, cta_text=cta, image_path=path)


# models.Brief's docstring refers to this name.
validate_brief = build_brief
