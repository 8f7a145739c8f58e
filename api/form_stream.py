"""Shared streaming form parser: python-multipart's push parser over ``request.stream()``.

Used by uploads.py (the ad form) and mv_uploads.py (the music-video form). Limits hold per byte while the
body arrives (nothing is buffered whole or spooled to /tmp), unknown and repeated fields are refused while
reading, and a file with a sniffer has its type decided by its first bytes. Filenames and part
Content-Types are ignored: the client chooses both. A urlencoded body (no files) is accepted as well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .errors import ApiError

DRAIN_LIMIT_BYTES = 16 * 1024 * 1024  # read on after a refusal so the client sees the 400, not a reset
SNIFF_BYTES = 16
SNIFF_HEAD_BYTES = 64  # what a sniffer is given: the first bytes of the file (at least SNIFF_BYTES, or all)

# too_large(name, received): name is a file field, or "request" for the body as a whole.
TooLarge = Callable[[str, str], ApiError]
# sniffer(head): raises ApiError when the first bytes of the file are not acceptable.
Sniffer = Callable[[bytes], None]


@dataclass(frozen=True)
class FormSpec:
    text_fields: tuple[str, ...]
    file_limits: Mapping[str, int]  # file field -> byte limit
    max_text_field_bytes: int
    body_overhead_bytes: int  # also the limit of a urlencoded body
    max_body_bytes: int
    too_large: TooLarge
    urlencoded_limit_note: str  # "without an image" / "without files"
    sniffers: Mapping[str, Sniffer] = field(default_factory=dict)

    @property
    def allowed_fields(self) -> frozenset[str]:
        return frozenset((*self.text_fields, *self.file_limits))


@dataclass
class ParsedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # empty file parts (no file chosen) are left out


def bad_body(message: str, details: str = "") -> ApiError:
    return ApiError(400, "ValidationError", message, details)


def _accepted(spec: FormSpec) -> str:
    return f"Accepted fields: {', '.join(sorted(spec.allowed_fields))}"


def _check_name(spec: FormSpec, name: str, seen: set[str]) -> None:
    if name not in spec.allowed_fields:
        raise bad_body(f"Unknown form field '{name[:50]}'", _accepted(spec))
    if name in seen:
        raise bad_body(f"Form field '{name}' was given more than once")
    seen.add(name)


def _text_too_long(spec: FormSpec, name: str | None) -> ApiError:
    return bad_body(f"Form field '{name}' is too long", f"Limit: {spec.max_text_field_bytes} bytes")


class _Collector:
    """python-multipart callbacks: collect parts, enforcing names and sizes as bytes arrive."""

    def __init__(self, spec: FormSpec) -> None:
        self.spec = spec
        self.form = ParsedForm()
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
            raise bad_body("Malformed multipart body", "Every part needs 'Content-Disposition: form-data; name=...'")
        name = raw.decode("utf-8", "replace")
        _check_name(self.spec, name, self._seen)
        self._name = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data.extend(data[start:end])
        name = self._name
        limits = self.spec.file_limits
        if name in limits:
            if len(self._data) > limits[name]:
                raise self.spec.too_large(name, f"more than {limits[name]:,} bytes received")
            if name in self.spec.sniffers and not self._sniffed and len(self._data) >= SNIFF_BYTES:
                self._sniff(name)
        elif len(self._data) > self.spec.max_text_field_bytes:
            raise _text_too_long(self.spec, name)

    def _sniff(self, name: str) -> None:
        self._sniffed = True
        self.spec.sniffers[name](bytes(self._data[:SNIFF_HEAD_BYTES]))

    def _part_end(self) -> None:
        name = self._name
        assert name is not None
        if name in self.spec.file_limits:
            if self._data:
                if name in self.spec.sniffers and not self._sniffed:
                    self._sniff(name)
                self.form.files[name] = bytes(self._data)
        else:
            try:
                self.form.fields[name] = bytes(self._data).decode("utf-8")
            except UnicodeDecodeError:
                raise bad_body(f"Form field '{name}' is not valid UTF-8 text") from None
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


async def _multipart(spec: FormSpec, request: Request, boundary: bytes) -> ParsedForm:
    collector = _Collector(spec)
    try:
        parser = MultipartParser(boundary, cast(Any, collector.callbacks()), max_size=spec.max_body_bytes + 1)
    except Exception:  # python-multipart refuses absurd boundaries
        raise bad_body("Malformed multipart body", "Invalid boundary") from None
    chunks = request.stream()
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > spec.max_body_bytes:
                raise spec.too_large("request", f"request body over {spec.max_body_bytes:,} bytes")
            parser.write(chunk)
    except ApiError:
        await _drain(chunks)
        raise
    except MultipartParseError as exc:
        await _drain(chunks)
        raise bad_body("Malformed multipart body", str(exc)[:200]) from None
    except ClientDisconnect:
        raise bad_body("The request body ended early (client disconnected)") from None
    if not collector.finished:
        raise bad_body("Malformed multipart body", "The closing boundary is missing")
    return collector.form


async def _urlencoded(spec: FormSpec, request: Request) -> ParsedForm:
    # httpx and HTML forms send this when there is no file; it can carry the text fields only.
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > spec.body_overhead_bytes:
                raise bad_body("Form body too large",
                               f"Limit: {spec.body_overhead_bytes} bytes {spec.urlencoded_limit_note}")
    except ClientDisconnect:
        raise bad_body("The request body ended early (client disconnected)") from None
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=len(spec.allowed_fields))
    except UnicodeDecodeError:
        raise bad_body("The form body is not valid UTF-8") from None
    except ValueError:
        raise bad_body("Too many form fields", _accepted(spec)) from None
    form = ParsedForm()
    seen: set[str] = set()
    for name, value in pairs:
        _check_name(spec, name, seen)
        if name in spec.file_limits:
            raise bad_body(f"{name} must be sent as a file in a multipart/form-data body")
        if len(value.encode("utf-8")) > spec.max_text_field_bytes:
            raise _text_too_long(spec, name)
        form.fields[name] = value
    return form


async def parse_form(spec: FormSpec, request: Request) -> ParsedForm:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    raw_length = request.headers.get("content-length")
    try:
        length = int(raw_length) if raw_length is not None else None
    except ValueError:
        raise bad_body("Invalid Content-Length header") from None
    # An honest client announcing an oversized body is refused before a single byte is read.
    if length is not None and length > spec.max_body_bytes:
        raise spec.too_large("request", f"Content-Length is {length:,} bytes")
    if content_type == b"multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            raise bad_body("Malformed multipart body", "The Content-Type header has no boundary")
        return await _multipart(spec, request, boundary)
    if content_type == b"application/x-www-form-urlencoded":
        return await _urlencoded(spec, request)
    raise bad_body("The request body must be multipart/form-data",
                   f"Got Content-Type '{content_type.decode('latin-1')[:100] or 'none'}'")
