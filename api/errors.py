"""One error envelope for every failure: ``{"error", "message", "details"}``.

Clients (the seed's frontend, the CLI) read ``error`` and ``message`` at the top level, so FastAPI's own
errors (request validation, unknown routes, wrong methods) and unexpected exceptions are reshaped into the
same envelope. Validation is a 400 (the seed's status), never FastAPI's 422, and a 500 never carries a
stack trace or exception text: those go to the log, tagged with an id the client can quote.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from badapple_dagster.media.brief import BriefError

log = logging.getLogger("badapple.api")

# Error types for statuses Starlette raises itself (routing).
_HTTP_ERROR_TYPES = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


class ApiError(Exception):
    """An error the API reports on purpose; rendered as the envelope with ``status_code``."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        details: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def envelope(error: str, message: str, details: str = "") -> dict[str, str]:
    return {"error": error, "message": message, "details": details}


def error_response(
    status_code: int, error: str, message: str, details: str = "", headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(envelope(error, message, details), status_code=status_code, headers=dict(headers or {}))


def job_not_found(job_id: str) -> ApiError:
    # The seed's exact wording; the id is cut so a huge path segment is not echoed back in full.
    return ApiError(
        404,
        "JobNotFound",
        f"Job with ID '{job_id[:100]}' not found",
        "The specified job ID does not exist in the system",
    )


def brief_error(exc: BriefError) -> ApiError:
    return ApiError(400, exc.error, exc.message, exc.details or "")


def _location(loc: Sequence[Any]) -> str:
    # ("query", "limit") -> "limit"; ("body", "x") -> "x": clients know fields, not FastAPI's sources.
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "header", "cookie")]
    return ".".join(parts) or "request"


def _validation_summary(exc: RequestValidationError) -> tuple[str, str]:
    errors = list(exc.errors())
    if not errors:
        return "Request validation failed", ""
    lines = [f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid value')}" for e in errors]
    first = errors[0]
    message = f"Invalid value for '{_location(first.get('loc', ()))}': {first.get('msg', 'invalid value')}"
    return message, "; ".join(lines)


async def _api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.error, exc.message, exc.details, exc.headers)


async def _brief_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BriefError)
    return error_response(400, exc.error, exc.message, exc.details or "")


async def _validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, details = _validation_summary(exc)
    return error_response(400, "ValidationError", message, details)


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    error = _HTTP_ERROR_TYPES.get(status) or HTTPStatus(status).phrase.replace(" ", "")
    if status == 404:
        message, details = f"No route for {request.method} {request.url.path}", "See /docs for the API's endpoints"
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.url.path}"
        details = f"Allowed: {(exc.headers or {}).get('Allow', '')}"
    else:
        message, details = str(exc.detail) if exc.detail else HTTPStatus(status).phrase, ""
    return error_response(status, error, message, details, exc.headers)


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.error("unhandled error %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "InternalServerError", "An unexpected error occurred", f"Quote incident {incident} when reporting this"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(BriefError, _brief_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    # Registered on Exception, Starlette runs this from its outermost middleware, so it also catches errors
    # raised by other middleware; the server still logs the traceback, the client never sees it.
    app.add_exception_handler(Exception, _unexpected_handler)
