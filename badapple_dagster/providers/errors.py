"""The one error type every remote provider raises, with a classified code the stage and job can surface."""

from __future__ import annotations

import re

CONTENT_POLICY_VIOLATION = "CONTENT_POLICY_VIOLATION"
RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
AUTHENTICATION_ERROR = "AUTHENTICATION_ERROR"
TIMEOUT = "TIMEOUT"
PROVIDER_ERROR = "PROVIDER_ERROR"
VALIDATION_ERROR = "VALIDATION_ERROR"
ERROR_CODES = (CONTENT_POLICY_VIOLATION, RATE_LIMIT_EXCEEDED, AUTHENTICATION_ERROR, TIMEOUT, PROVIDER_ERROR,
               VALIDATION_ERROR)

# Words providers use when they refuse a prompt on safety grounds (OpenAI "content_policy_violation",
# Replicate's "NSFW content detected", Google's "safety filter"...). Such refusals are never retried: the same
# prompt is refused again, and some providers bill each attempt.
_POLICY_WORDS = re.compile(r"content[_ ]policy|content[_ ]filter|safety|nsfw|moderation|flagged|sensitive content",
                           re.I)
_SECRET_PATTERNS = (
    (re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?)[^\n,}\"']+", re.I), r"\1[REDACTED]"),
    (re.compile(r"\b(bearer|token)\s+[A-Za-z0-9._\-]{6,}", re.I), r"\1 [REDACTED]"),
    (re.compile(r"(xi-api-key[\"']?\s*[:=]\s*[\"']?)[^\s,}\"']+", re.I), r"\1[REDACTED]"),
    (re.compile(r"\b(?:sk-|r8_)[A-Za-z0-9_\-]{12,}"), "[REDACTED]"),  # OpenAI / Replicate key shapes
)


def looks_like_policy_refusal(text: str) -> bool:
    return bool(_POLICY_WORDS.search(text or ""))


def redact(text: str, *secrets: str | None) -> str:
    """Remove API keys from text that may end up in logs, exceptions, stage errors or the ledger."""
    out = text or ""
    for s in secrets:
        if s and len(s) >= 4:
            out = out.replace(s, "[REDACTED]")
    for pat, repl in _SECRET_PATTERNS:
        out = pat.sub(repl, out)
    return out


class ProviderError(Exception):
    """A classified provider failure. ``retryable`` says whether the same request may succeed later;
    the HTTP client has already spent its retries by the time a caller sees a retryable error."""

    def __init__(self, code: str, provider: str, message: str, *, status: int | None = None,
                 retryable: bool = False, request_id: str | None = None, attempts: int = 1) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown provider error code {code!r}")
        self.code = code
        self.provider = provider
        self.status = status
        self.message = redact(message)[:2000]
        self.retryable = retryable
        self.request_id = request_id
        self.attempts = attempts
        self.cost_usd = 0.0  # set when the provider billed a call whose output we then rejected
        super().__init__(self.summary())

    def __str__(self) -> str:  # computed, so attempts/message updated after construction show up
        return self.summary()

    def summary(self) -> str:
        status = f" HTTP {self.status}" if self.status else ""
        rid = f" (request {self.request_id})" if self.request_id else ""
        return f"[{self.code}] {self.provider}{status}: {self.message}{rid}"

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "provider": self.provider, "status": self.status, "message": self.message,
                "retryable": self.retryable, "request_id": self.request_id, "attempts": self.attempts}
