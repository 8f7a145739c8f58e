"""HTTP Range handling for video downloads, on top of Starlette's FileResponse.

Starlette (1.x) serves single and multiple byte ranges itself (206, Content-Range, Accept-Ranges, If-Range),
but answers a malformed Range header with a plain-text 400 and an unsatisfiable one with a plain-text 416.
RFC 9110 says a server should *ignore* a Range header it cannot parse (and serve the whole file), and our
416 must carry the error envelope. So the header is classified here first, with the same rules Starlette
applies, and only well-formed, satisfiable ranges reach FileResponse.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Any

from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

MAX_RANGES = 100  # Starlette's FileResponse.max_ranges: more than this and it serves the whole file


class RangeKind(Enum):
    NONE = "none"  # no usable Range header: serve the whole file (200)
    PARTIAL = "partial"  # serve 206 through FileResponse
    UNSATISFIABLE = "unsatisfiable"  # 416


def _parse_specs(spec: str, size: int) -> list[tuple[int, int]]:
    """``start-end``, ``start-`` and ``-suffix`` specs as half-open intervals; unparsable specs skipped."""
    ranges = []
    for part in spec.split(","):
        part = part.strip()
        if not part or part == "-" or "-" not in part:
            continue
        first, last = (p.strip() for p in part.split("-", 1))
        try:
            if first:
                start = int(first)
                end = int(last) + 1 if last and int(last) < size else size
            else:
                start, end = max(size - int(last), 0), size
        except ValueError:
            continue
        ranges.append((start, end))
    return ranges


def classify_range(header: str | None, size: int) -> RangeKind:
    if header is None:
        return RangeKind.NONE
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes" or spec.count(",") + 1 > MAX_RANGES:
        return RangeKind.NONE
    ranges = _parse_specs(spec, size)
    if not ranges:
        return RangeKind.NONE
    if any(not 0 <= start < size for start, _ in ranges):
        return RangeKind.UNSATISFIABLE
    if any(start >= end for start, end in ranges):
        return RangeKind.NONE  # e.g. "bytes=500-100": syntactically invalid, so ignored
    return RangeKind.PARTIAL


class WholeFileResponse(FileResponse):
    """A FileResponse that ignores the request's Range header (it was classified as unusable)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in (b"range", b"if-range")]
        await super().__call__({**scope, "headers": headers}, receive, send)


def range_file_response(
    range_header: str | None, path: str, stat: os.stat_result, *, noun: str, **response_kwargs: Any
) -> FileResponse:
    """Serve ``path`` honouring an HTTP Range header: 206 for a satisfiable range, 416 (in the error
    envelope) for one outside the file, the whole file otherwise. One place for the video and MV files."""
    from .errors import ApiError

    rng = classify_range(range_header, stat.st_size)
    if rng is RangeKind.UNSATISFIABLE:
        raise ApiError(
            416,
            "RangeNotSatisfiable",
            f"The requested byte range is outside the {noun}",
            f"The {noun} is {stat.st_size} bytes",
            headers={"Content-Range": f"bytes */{stat.st_size}", "Accept-Ranges": "bytes"},
        )
    cls = WholeFileResponse if rng is RangeKind.NONE else FileResponse
    return cls(path, stat_result=stat, **response_kwargs)
