"""Streaming parser for the ``POST /api/generate`` body.

The body is parsed as it arrives (python-multipart's push parser over ``request.stream()``) instead of
through Starlette's ``request.form()``, for three reasons:

* the size limit is enforced while streaming: an 11 MB upload is refused at 10 MB + 1 byte, it is never
  buffered whole, and nothing is spooled to a temporary file (Starlette spools parts over 1 MB to /tmp);
* the file type is decided by magic bytes as soon as the first bytes of the file arrive, so a 10 MB PDF is
  refused after 16 bytes;
* unknown or repeated fields are refused while the request is still being read.

The image bytes stay in memory (at most ``MAX_IMAGE_BYTES``) and go to the artifact store via accept_brief.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from badapple_dagster.media.brief import MAX_IMAGE_BYTES, BriefError, sniff_image_type, validate_image_bytes

from .errors import ApiError

IMAGE_FIELD = "product_image"
TEXT_FIELDS = ("product_name", "style", "cta_text", "aspect_ratio", "seed", "voice",
               "dry_run", "script_provider", "voice_provider", "video_provider")  # the last four: api/dry_run.py
ALLOWED_FIELDS = frozenset((*TEXT_FIELDS, IMAGE_FIELD))
# Text values are short (the longest legal one is 100 characters); 4 KiB leaves room for 4-byte UTF-8.
MAX_TEXT_FIELD_BYTES = 4096
# Multipart framing (boundaries, part headers) and the text fields on top of the image.
BODY_OVERHEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = MAX_IMAGE_BYTES + BODY_OVERHEAD_BYTES
# After refusing a body mid-stream we keep reading (and discarding) up to this much more, so a client
# that is still uploading gets the 400 instead of a connection reset; past it the connection is dropped.
DRAIN_LIMIT_BYTES = 16 * 1024 * 1024
SNIFF_BYTES = 16


@dataclass
class GenerateForm:
    fields: dict[str, str] = field(default_factory=dict)
    image: bytes | None = None  # None: no file part, or an empty one (a browser form with no file chosen)


def _too_large(received: str) -> ApiError:
    return ApiError(
        400,
        "FileTooLarge",
        "The image file is too large",
        f"{received}; the limit is {MAX_IMAGE_BYTES:,} bytes (10 MB)",
    )


def _bad_body(message: str, details: str = "") -> ApiError:
    return ApiError(400, "ValidationError", message, details)


def _unknown_field(name: str) -> ApiError:
    return ApiError(
        400,
        "ValidationError",
        f"Unknown form field '{name[:50]}'",
        f"Accepted fields: {', '.join(sorted(ALLOWED_FIELDS))}",
    )


def _check_field_name(name: str, seen: set[str]) -> None:
    if name not in ALLOWED_FIELDS:
        raise _unknown_field(name)
    if name in seen:
        raise _bad_body(f"Form field '{name}' was given more than once")
    seen.add(name)


def _decode_text(name: str, raw: bytes | bytearray) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_body(f"Form field '{name}' is not valid UTF-8 text") from None


class _MultipartCollector:
    """Callbacks for python-multipart: collects text fields and the image, enforcing limits per byte."""

    def __init__(self) -> None:
        self.form = GenerateForm()
        self.finished = False
        self._seen: set[str] = set()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._name: str | None = None
        self._data = bytearray()
        self._sniffed = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers.clear()
        self._name = None
        self._data = bytearray()
        self._sniffed = False

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).decode("latin-1").strip().lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get("content-disposition", b""))
        raw_name = params.get(b"name")
        if disposition != b"form-data" or raw_name is None:
            raise _bad_body("Malformed multipart body", "Every part needs 'Content-Disposition: form-data; name=...'")
        name = raw_name.decode("utf-8", "replace")
        # Filenames and part Content-Types are deliberately ignored: both are chosen by the client, so the
        # file is stored under our own key and typed by its magic bytes only.
        _check_field_name(name, self._seen)
        self._name = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data.extend(data[start:end])
        if self._name == IMAGE_FIELD:
            if len(self._data) > MAX_IMAGE_BYTES:
                raise _too_large(f"more than {MAX_IMAGE_BYTES:,} bytes received")
            if not self._sniffed and len(self._data) >= SNIFF_BYTES:
                self._sniff()
        elif len(self._data) > MAX_TEXT_FIELD_BYTES:
            raise _bad_body(f"Form field '{self._name}' is too long", f"Limit: {MAX_TEXT_FIELD_BYTES} bytes")

    def _sniff(self) -> None:
        self._sniffed = True
        head = bytes(self._data[:SNIFF_BYTES])
        if sniff_image_type(head) is None:
            # brief.validate_image_bytes refuses unknown magic bytes before decoding anything, with the
            # project's wording ("The file looks like a GIF image"); feeding it the first bytes is enough.
            try:
                validate_image_bytes(bytes(self._data[:64]))
            except BriefError as exc:
                raise ApiError(400, exc.error, exc.message, exc.details or "") from None
            raise ApiError(400, "InvalidFileType", "Unsupported file type; upload a JPEG, PNG or WebP image")

    def _part_end(self) -> None:
        assert self._name is not None
        if self._name == IMAGE_FIELD:
            if self._data:
                if not self._sniffed:
                    self._sniff()
                self.form.image = bytes(self._data)
        else:
            self.form.fields[self._name] = _decode_text(self._name, self._data)
        self._data = bytearray()

    def _end(self) -> None:
        self.finished = True


async def _drain(chunks: AsyncIterator[bytes], limit: int) -> None:
    drained = 0
    try:
        async for chunk in chunks:
            drained += len(chunk)
            if drained > limit:
                return
    except ClientDisconnect:
        return


async def _parse_multipart(request: Request, boundary: bytes) -> GenerateForm:
    collector = _MultipartCollector()
    try:
        parser = MultipartParser(boundary, collector.callbacks(), max_size=MAX_BODY_BYTES + 1)
    except Exception:  # python-multipart refuses absurd boundaries
        raise _bad_body("Malformed multipart body", "Invalid boundary") from None
    chunks = request.stream()
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > MAX_BODY_BYTES:
                raise _too_large(f"request body over {MAX_BODY_BYTES:,} bytes")
            parser.write(chunk)
    except ApiError:
        await _drain(chunks, DRAIN_LIMIT_BYTES)
        raise
    except MultipartParseError as exc:
        await _drain(chunks, DRAIN_LIMIT_BYTES)
        raise _bad_body("Malformed multipart body", str(exc)[:200]) from None
    except ClientDisconnect:
        raise _bad_body("The request body ended early (client disconnected)") from None
    if not collector.finished:
        raise _bad_body("Malformed multipart body", "The closing boundary is missing")
    return collector.form


async def _parse_urlencoded(request: Request) -> GenerateForm:
    # HTML forms and httpx without files send this; there is no image in such a body.
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > BODY_OVERHEAD_BYTES:
                raise _bad_body("Form body too large", f"Limit: {BODY_OVERHEAD_BYTES} bytes without an image")
    except ClientDisconnect:
        raise _bad_body("The request body ended early (client disconnected)") from None
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=len(ALLOWED_FIELDS))
    except UnicodeDecodeError:
        raise _bad_body("The form body is not valid UTF-8") from None
    except ValueError:
        raise _bad_body("Too many form fields", f"Accepted fields: {', '.join(sorted(ALLOWED_FIELDS))}") from None
    form = GenerateForm()
    seen: set[str] = set()
    for name, value in pairs:
        _check_field_name(name, seen)
        if name == IMAGE_FIELD:
            raise _bad_body("product_image must be sent as a file in a multipart/form-data body")
        if len(value.encode("utf-8")) > MAX_TEXT_FIELD_BYTES:
            raise _bad_body(f"Form field '{name}' is too long", f"Limit: {MAX_TEXT_FIELD_BYTES} bytes")
        form.fields[name] = value
    return form


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _bad_body("Invalid Content-Length header") from None


async def parse_generate_form(request: Request) -> GenerateForm:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    length = _declared_length(request)
    # An honest client announcing an oversized body is refused before a single byte is read.
    if length is not None and length > MAX_BODY_BYTES:
        raise _too_large(f"Content-Length is {length:,} bytes")
    if content_type == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            raise _bad_body("Malformed multipart body", "The Content-Type header has no boundary")
        return await _parse_multipart(request, boundary)
    if content_type == b"application/x-www-form-urlencoded":
        return await _parse_urlencoded(request)
    raise ApiError(
        400,
        "ValidationError",
        "The request body must be multipart/form-data",
        f"Got Content-Type '{content_type.decode('latin-1')[:100] or 'none'}'",
    )
