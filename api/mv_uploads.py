"""Streaming parser for the ``POST /api/mv/projects`` form: text fields, an optional song and reference image.

Same approach as uploads.py (the ad form): the body is parsed while it arrives with python-multipart's push
parser, so limits hold per byte (a 60 MB song is refused at 50 MB + 1, never buffered whole or spooled to
/tmp), unknown and repeated fields are refused while reading, and an image's type is decided by its first
bytes. The song's type is decided by its content later (ffprobe, in create_mv_project → load_song): audio
containers have too many legitimate openings (ID3 tags, bare MPEG frames, RIFF, ISO-BMFF) to sniff safely.
Filenames and part Content-Types are ignored: the client chooses both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from badapple_dagster.media.brief import MAX_IMAGE_BYTES, sniff_image_type
from badapple_dagster.mv_submission import MAX_AUDIO_BYTES

from .errors import ApiError

AUDIO_FIELD = "audio"
IMAGE_FIELD = "reference_image"
FILE_LIMITS = {AUDIO_FIELD: MAX_AUDIO_BYTES, IMAGE_FIELD: MAX_IMAGE_BYTES}
TEXT_FIELDS = ("concept", "character_description", "config_flavor", "num_scenes", "video_duration", "seed")
ALLOWED_FIELDS = frozenset((*TEXT_FIELDS, *FILE_LIMITS))
MAX_TEXT_FIELD_BYTES = 4 * 2000 + 64  # 2000 characters of 4-byte UTF-8, the longest legal value
BODY_OVERHEAD_BYTES = 128 * 1024  # boundaries, part headers and the text fields
MAX_BODY_BYTES = MAX_AUDIO_BYTES + MAX_IMAGE_BYTES + BODY_OVERHEAD_BYTES
DRAIN_LIMIT_BYTES = 16 * 1024 * 1024  # read on after a refusal so the client sees the 400, not a reset
SNIFF_BYTES = 16


@dataclass
class ProjectForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # empty file parts (no file chosen) are left out


def _bad(message: str, details: str = "") -> ApiError:
    return ApiError(400, "ValidationError", message, details)


def _too_large(name: str, received: str) -> ApiError:
    limit = FILE_LIMITS.get(name, MAX_BODY_BYTES)
    return ApiError(400, "FileTooLarge", f"The {name.replace('_', ' ')} file is too large",
                    f"{received}; the limit is {limit:,} bytes ({limit // (1024 * 1024)} MB)")


def _check_name(name: str, seen: set[str]) -> None:
    if name not in ALLOWED_FIELDS:
        raise _bad(f"Unknown form field '{name[:50]}'", f"Accepted fields: {', '.join(sorted(ALLOWED_FIELDS))}")
    if name in seen:
        raise _bad(f"Form field '{name}' was given more than once")
    seen.add(name)


def _not_an_image() -> ApiError:
    return ApiError(400, "InvalidFileType", "Unsupported reference image type; upload a JPEG, PNG or WebP image")


class _Collector:
    """python-multipart callbacks: collect parts, enforcing names and sizes as bytes arrive."""

    def __init__(self) -> None:
        self.form = ProjectForm()
        self.finished = False
        self._seen: set[str] = set()
        self._hname = bytearray()
        self._hvalue = bytearray()
        self._headers: dict[str, bytes] = {}
        self._name: str | None = None
        self._data = bytearray()
        self._sniffed = False

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda d, s, e: self._hname.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._hvalue.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._headers.clear()
        self._name, self._data, self._sniffed = None, bytearray(), False

    def _header_end(self) -> None:
        self._headers[bytes(self._hname).decode("latin-1").strip().lower()] = bytes(self._hvalue)
        self._hname.clear()
        self._hvalue.clear()

    def _headers_done(self) -> None:
        disposition, params = parse_options_header(self._headers.get("content-disposition", b""))
        raw = params.get(b"name")
        if disposition != b"form-data" or raw is None:
            raise _bad("Malformed multipart body", "Every part needs 'Content-Disposition: form-data; name=...'")
        name = raw.decode("utf-8", "replace")
        _check_name(name, self._seen)
        self._name = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data.extend(data[start:end])
        name = self._name
        if name in FILE_LIMITS:
            if len(self._data) > FILE_LIMITS[name]:
                raise _too_large(name, f"more than {FILE_LIMITS[name]:,} bytes received")
            if name == IMAGE_FIELD and not self._sniffed and len(self._data) >= SNIFF_BYTES:
                self._sniff()
        elif len(self._data) > MAX_TEXT_FIELD_BYTES:
            raise _bad(f"Form field '{name}' is too long", f"Limit: {MAX_TEXT_FIELD_BYTES} bytes")

    def _sniff(self) -> None:
        # Refuse a 10 MB PDF after 16 bytes; the full check (structure, decode, pixel limit) comes later.
        self._sniffed = True
        if sniff_image_type(bytes(self._data[:SNIFF_BYTES])) is None:
            raise _not_an_image()

    def _part_end(self) -> None:
        name = self._name
        assert name is not None
        if name in FILE_LIMITS:
            if self._data:
                if name == IMAGE_FIELD and not self._sniffed:
                    self._sniff()
                self.form.files[name] = bytes(self._data)
        else:
            try:
                self.form.fields[name] = bytes(self._data).decode("utf-8")
            except UnicodeDecodeError:
                raise _bad(f"Form field '{name}' is not valid UTF-8 text") from None
        self._data = bytearray()

    def _end(self) -> None:
        self.finished = True


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    drained = 0
    try:
        async for chunk in chunks:
            drained += len(chunk)
            if drained > DRAIN_LIMIT_BYTES:
                return
    except ClientDisconnect:
        return


async def _multipart(request: Request, boundary: bytes) -> ProjectForm:
    collector = _Collector()
    try:
        parser = MultipartParser(boundary, cast(Any, collector.callbacks()), max_size=MAX_BODY_BYTES + 1)
    except Exception:  # python-multipart refuses absurd boundaries
        raise _bad("Malformed multipart body", "Invalid boundary") from None
    chunks = request.stream()
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > MAX_BODY_BYTES:
                raise _too_large("request", f"request body over {MAX_BODY_BYTES:,} bytes")
            parser.write(chunk)
    except ApiError:
        await _drain(chunks)
        raise
    except MultipartParseError as exc:
        await _drain(chunks)
        raise _bad("Malformed multipart body", str(exc)[:200]) from None
    except ClientDisconnect:
        raise _bad("The request body ended early (client disconnected)") from None
    if not collector.finished:
        raise _bad("Malformed multipart body", "The closing boundary is missing")
    return collector.form


async def _urlencoded(request: Request) -> ProjectForm:
    # httpx and HTML forms send this when there is no file; it can carry the text fields only.
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > BODY_OVERHEAD_BYTES:
                raise _bad("Form body too large", f"Limit: {BODY_OVERHEAD_BYTES} bytes without files")
    except ClientDisconnect:
        raise _bad("The request body ended early (client disconnected)") from None
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=len(ALLOWED_FIELDS))
    except UnicodeDecodeError:
        raise _bad("The form body is not valid UTF-8") from None
    except ValueError:
        raise _bad("Too many form fields", f"Accepted fields: {', '.join(sorted(ALLOWED_FIELDS))}") from None
    form = ProjectForm()
    seen: set[str] = set()
    for name, value in pairs:
        _check_name(name, seen)
        if name in FILE_LIMITS:
            raise _bad(f"{name} must be sent as a file in a multipart/form-data body")
        if len(value.encode("utf-8")) > MAX_TEXT_FIELD_BYTES:
            raise _bad(f"Form field '{name}' is too long", f"Limit: {MAX_TEXT_FIELD_BYTES} bytes")
        form.fields[name] = value
    return form


async def parse_project_form(request: Request) -> ProjectForm:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    raw_length = request.headers.get("content-length")
    try:
        length = int(raw_length) if raw_length is not None else None
    except ValueError:
        raise _bad("Invalid Content-Length header") from None
    if length is not None and length > MAX_BODY_BYTES:
        raise _too_large("request", f"Content-Length is {length:,} bytes")
    if content_type == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            raise _bad("Malformed multipart body", "The Content-Type header has no boundary")
        return await _multipart(request, boundary)
    if content_type == b"application/x-www-form-urlencoded":
        return await _urlencoded(request)
    raise _bad("The request body must be multipart/form-data",
               f"Got Content-Type '{content_type.decode('latin-1')[:100] or 'none'}'")
