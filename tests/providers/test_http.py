"""Retry classification of the shared client, counted on the fake server's side."""

import time

import pytest

from badapple_dagster.providers.errors import redact
from badapple_dagster.providers.http import JsonHttpClient, RetrySettings, retry_after_seconds

from .fakes import FakeServer, Resp

SECRET = "sk-test-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def server():
    srv = FakeServer(lambda req: Resp(200, {"ok": True, "echo": req.headers.get("authorization")}))
    yield srv
    srv.stop()


def client(url, attempts=3, timeout=5.0):
    return JsonHttpClient("fake", url, headers={"Authorization": f"Bearer {SECRET}"}, secret=SECRET,
                          timeout=timeout, retry=RetrySettings(attempts=attempts, base_delay=0.01, max_delay=0.05))


def test_429_honours_retry_after_then_succeeds(server):
    server.queue("/x", Resp(429, {"error": {"message": "Rate limit reached", "type": "requests"}},
                            {"retry-after": "1"}))
    started = time.monotonic()
    res = client(server.url).post_json("/x", {"a": 1})
    assert res.json()["ok"] and res.attempts == 2
    assert server.hits("/x") == 2
    assert time.monotonic() - started >= 1.0  # waited as long as the server asked


def test_5xx_retried_until_exhausted(server):
    server.queue("/x", *[Resp(503, {"error": "overloaded"}) for _ in range(5)])
    with pytest.raises(Exception) as info:
        client(server.url, attempts=3).get("/x")
    err = info.value
    assert (err.code, err.status, err.retryable, err.attempts) == ("PROVIDER_ERROR", 503, True, 3)
    assert server.hits("/x") == 3


def test_500_then_success(server):
    server.queue("/x", Resp(500, {"error": "boom"}))
    assert client(server.url).get("/x").attempts == 2
    assert server.hits("/x") == 2


@pytest.mark.parametrize("status,body,code", [
    (401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}, "AUTHENTICATION_ERROR"),
    (403, {"detail": "You do not have permission"}, "AUTHENTICATION_ERROR"),
    (400, {"error": {"message": "Your request was rejected by our safety system", "code": "content_policy_violation"}},
     "CONTENT_POLICY_VIOLATION"),
    (422, {"detail": "input.duration: must be one of 5, 10"}, "VALIDATION_ERROR"),
    (404, {"detail": "Not found."}, "VALIDATION_ERROR"),
])
def test_no_retry_on_client_errors(server, status, body, code):
    server.queue("/x", Resp(status, body))
    with pytest.raises(Exception) as info:
        client(server.url).post_json("/x", {})
    assert info.value.code == code and not info.value.retryable and info.value.status == status
    assert server.hits("/x") == 1


def test_timeout_is_classified_and_retried(server):
    server.queue("/x", Resp(200, {"late": True}, delay=1.0), Resp(200, {"late": True}, delay=1.0))
    with pytest.raises(Exception) as info:
        client(server.url, attempts=2, timeout=0.3).get("/x")
    assert info.value.code == "TIMEOUT" and info.value.retryable
    assert server.hits("/x") == 2


def test_connection_refused_is_provider_error():
    with pytest.raises(Exception) as info:
        client("http://127.0.0.1:9", attempts=2).get("/x")
    assert info.value.code == "PROVIDER_ERROR" and info.value.attempts == 2


def test_api_key_never_in_error_text(server):
    # A server that echoes the request headers back in its error body must not leak the key into our errors.
    server.queue("/x", Resp(400, {"error": f"bad request; headers were Authorization: Bearer {SECRET}"}))
    with pytest.raises(Exception) as info:
        client(server.url).get("/x")
    assert SECRET not in str(info.value) and "[REDACTED]" in str(info.value)
    assert SECRET not in redact(f"Authorization: Bearer {SECRET}") and "xyz" not in redact("xi-api-key: xyz123")


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.001
