"""One resilient JSON HTTP client for every remote provider.

Retries (exponential backoff with full jitter, honouring ``Retry-After``) only where a retry can help: 429,
5xx, timeouts and connection failures. 400/401/403/404/422 and content-policy refusals fail at once, each
classified as a ``ProviderError``. API keys live only in request headers and are redacted from every message.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import (
    AUTHENTICATION_ERROR,
    CONTENT_POLICY_VIOLATION,
    PROVIDER_ERROR,
    RATE_LIMIT_EXCEEDED,
    TIMEOUT,
    VALIDATION_ERROR,
    ProviderError,
    looks_like_policy_refusal,
    redact,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_RETRY_AFTER = 120.0  # never sleep longer than this on a server's say-so; a longer wait should fall back
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 4  # total tries, the first one included
    base_delay: float = 0.5
    max_delay: float = 20.0


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    content: bytes
    request_id: str | None
    attempts: int
    elapsed: float
    _json: Any = field(default=None, repr=False)

    def json(self) -> Any:
        import json

        if self._json is None:
            self._json = json.loads(self.content)
        return self._json


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, settings: RetrySettings, retry_after: float | None) -> float:
    """Full jitter spreads a burst of clients apart; a server's Retry-After is a floor, not a suggestion."""
    jittered = random.uniform(0, min(settings.max_delay, settings.base_delay * 2 ** (attempt - 1)))
    if retry_after is not None:
        return min(MAX_RETRY_AFTER, max(retry_after, jittered))
    return jittered


def classify(provider: str, status: int, body: str, request_id: str | None) -> ProviderError:
    text = body[:1500]
    if looks_like_policy_refusal(text) and status in (400, 403, 422, 451):
        return ProviderError(CONTENT_POLICY_VIOLATION, provider, text, status=status, request_id=request_id)
    if status == 429:
        return ProviderError(RATE_LIMIT_EXCEEDED, provider, text, status=status, retryable=True,
                             request_id=request_id)
    if status in (401, 403):
        return ProviderError(AUTHENTICATION_ERROR, provider, text, status=status, request_id=request_id)
    if status in (408, 504, 524):
        return ProviderError(TIMEOUT, provider, text, status=status, retryable=True, request_id=request_id)
    if status in RETRY_STATUSES or status >= 500:
        return ProviderError(PROVIDER_ERROR, provider, text, status=status, retryable=True, request_id=request_id)
    return ProviderError(VALIDATION_ERROR, provider, text, status=status, request_id=request_id)


class JsonHttpClient:
    """A small synchronous client: the stages run in worker processes and call providers one request at a time
    per thread, so an async client would buy nothing but complexity."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        secret: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retry: RetrySettings | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self.retry = retry or RetrySettings()
        self._client = httpx.Client(
            headers=headers or {}, timeout=httpx.Timeout(timeout, connect=connect_timeout), follow_redirects=True
        )

    def close(self) -> None:
        self._client.close()

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> HttpResult:
        """Send with retries; return the 2xx response or raise a classified ``ProviderError``.

        ``auth=False`` strips the client's default headers (e.g. when downloading a signed output URL that
        must not receive our API key)."""
        url = self._url(path)
        started = time.perf_counter()
        last: ProviderError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            retry_after: float | None = None
            try:
                if auth:
                    resp = self._client.request(method, url, json=json, params=params, headers=headers)
                else:
                    resp = httpx.request(method, url, params=params, headers=headers or {},
                                         timeout=self._client.timeout, follow_redirects=True)
            except httpx.TimeoutException as exc:
                last = ProviderError(TIMEOUT, self.provider, f"{method} {url} timed out ({type(exc).__name__})",
                                     retryable=True, attempts=attempt)
            except httpx.TransportError as exc:  # connection refused/reset, DNS, TLS
                last = ProviderError(PROVIDER_ERROR, self.provider,
                                     f"{method} {url} failed: {type(exc).__name__}: {exc}",
                                     retryable=True, attempts=attempt)
            else:
                rid = next((resp.headers[h] for h in _REQUEST_ID_HEADERS if h in resp.headers), None)
                if resp.is_success:
                    return HttpResult(resp.status_code, dict(resp.headers), resp.content, rid, attempt,
                                      time.perf_counter() - started)
                last = classify(self.provider, resp.status_code, redact(resp.text, self._secret), rid)
                last.attempts = attempt
                retry_after = retry_after_seconds(resp.headers.get("retry-after"))
            if not last.retryable or attempt == self.retry.attempts:
                break
            delay = backoff_delay(attempt, self.retry, retry_after)
            log.warning("%s: %s; retry %d/%d in %.2fs", self.provider, redact(str(last), self._secret),
                        attempt, self.retry.attempts - 1, delay)
            time.sleep(delay)
        assert last is not None
        last.message = redact(last.message, self._secret)
        raise last

    def post_json(self, path: str, body: Any, **kw: Any) -> HttpResult:
        return self.request("POST", path, json=body, **kw)

    def get(self, path: str, **kw: Any) -> HttpResult:
        return self.request("GET", path, **kw)
