"""MV artifact keys as clients see them: validation of client-supplied keys, download URLs, and serving.

Clients name artifacts by key (``s3_key``), e.g. a character card they pass back as a reference image. A
client key is accepted only if it is a valid artifact key (``artifacts.validate_key``: relative, no ``.``
or ``..`` segments, a safe alphabet) and lies under ``mv/``: the MV endpoints can never read, or hand out,
the ad pipeline's files or anything outside the store.

URLs: a presigned URL for object storage; for the local store, ``GET /api/mv/files/{key}`` on this API,
served with HTTP range support by the same code as the ad videos (``ranges.py``).
"""

from __future__ import annotations

import mimetypes
import os
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from badapple_dagster.artifacts import ArtifactKeyError, validate_key

from .errors import ApiError
from .ranges import range_file_response
from .state import AppState

MV_PREFIX = "mv/"
FILES_ROUTE = "/api/mv/files/"
_EXTRA_TYPES = {".m4a": "audio/mp4", ".webp": "image/webp", ".mp3": "audio/mpeg", ".wav": "audio/wav"}
# The sweep report is our own HTML, but it embeds user text: no scripts, no external loads, whatever slips in.
_HTML_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def invalid_key(key: str, why: str) -> ApiError:
    return ApiError(400, "InvalidKey", f"Invalid artifact key '{key[:200]}'", why)


def check_mv_key(key: str) -> str:
    """The key itself, if it is a well-formed key under ``mv/``; otherwise a 400."""
    if not isinstance(key, str):
        raise invalid_key(str(key), "Keys are strings")
    try:
        validate_key(key)
    except ArtifactKeyError:
        raise invalid_key(key, "Keys are relative paths of letters, digits, '.', '_', '-' and '/', "
                               "without '.' or '..' segments") from None
    if not key.startswith(MV_PREFIX):
        raise invalid_key(key, "Only keys under 'mv/' are accepted")
    return key


def file_url(state: AppState, key: str | None) -> str | None:
    """Where a client downloads ``key``. Blocking for S3 (presigning reads credentials): worker threads."""
    if not key:
        return None
    try:
        presigned = state.artifacts.presigned_url(key, state.config.settings.presign_expiry_seconds)
    except ArtifactKeyError:
        return None
    return presigned or f"{state.links.public_base_url}{FILES_ROUTE}{quote(key, safe='/')}"


def media_type(key: str) -> str:
    ext = os.path.splitext(key)[1].lower()
    return _EXTRA_TYPES.get(ext) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def _not_found(key: str) -> ApiError:
    return ApiError(404, "FileNotFound", f"No file under key '{key[:200]}'", "The artifact store has no such file")


def locate(state: AppState, key: str) -> tuple[str, str]:
    """("redirect", presigned URL) for object storage or ("file", local path); 400/404 otherwise. Blocking."""
    check_mv_key(key)
    try:
        presigned = state.artifacts.presigned_url(key, state.config.settings.presign_expiry_seconds)
        if presigned:
            return "redirect", presigned
        path = state.artifacts.local_path(key)
    except ArtifactKeyError:
        raise _not_found(key) from None
    if path is None:
        raise _not_found(key)
    return "file", path


async def serve(state: AppState, key: str, request: Request) -> Response:
    kind, target = await run_in_threadpool(locate, state, key)
    if kind == "redirect":
        return RedirectResponse(target, status_code=307)
    try:
        stat = await run_in_threadpool(os.stat, target)
    except FileNotFoundError:
        raise _not_found(key) from None
    mtype = media_type(key)
    headers = {"X-Content-Type-Options": "nosniff"}
    if mtype == "text/html":
        headers["Content-Security-Policy"] = _HTML_CSP
    return range_file_response(request.headers.get("range"), target, stat, noun="file", media_type=mtype,
                               filename=os.path.basename(key), content_disposition_type="inline", headers=headers)
