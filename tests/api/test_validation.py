"""Every input rule of the seed contract and every upload check, plus the error envelope.

Requests that must be refused go to the real stack's API. Requests that must be *accepted* go to
``quiet_api`` (same code, its own database, Dagster unreachable) so they do not each start a real render.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from badapple_dagster.media.styles import valid_styles
from badapple_dagster.store.jobs import JobStore
from tests.api.api_support import bomb_png, complete_job, corrupt_png, gif_bytes, image_bytes, new_job

BRIEF = {"product_name": "EcoWater Bottle", "style": "modern", "cta_text": "Buy Now!"}
TEN_MB = 10 * 1024 * 1024


def assert_envelope(resp: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "message", "details"}, body
    assert body["error"] == error, body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in resp.text
    return body




def post(client: httpx.Client, data: dict[str, str] | None = None, files: Any = None) -> httpx.Response:
    return client.post("/api/generate", data=data if data is not None else BRIEF, files=files)


# ---- text fields -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["product_name", "style", "cta_text"])
@pytest.mark.parametrize("value", ["", "   ", "\t\n "])
def test_required_fields_reject_empty_and_whitespace(client: httpx.Client, field: str, value: str) -> None:
    body = assert_envelope(post(client, BRIEF | {field: value}), 400, "ValidationError")
    assert "required" in body["message"].lower()


@pytest.mark.parametrize("field", ["product_name", "style", "cta_text"])
def test_required_fields_reject_missing(client: httpx.Client, field: str) -> None:
    data = {k: v for k, v in BRIEF.items() if k != field}
    assert_envelope(post(client, data), 400, "ValidationError")


@pytest.mark.parametrize(("field", "limit"), [("product_name", 100), ("cta_text", 50)])
def test_length_limits(client: httpx.Client, quiet: httpx.Client, field: str, limit: int) -> None:
    body = assert_envelope(post(client, BRIEF | {field: "x" * (limit + 1)}), 400, "ValidationError")
    assert str(limit) in body["message"]
    # Exactly at the limit is fine, and the limit counts characters, not bytes.
    assert post(quiet, BRIEF | {field: "x" * limit}).status_code == 202
    assert post(quiet, BRIEF | {field: "é" * limit}).status_code == 202


def test_unknown_style_lists_valid_ones(client: httpx.Client) -> None:
    body = assert_envelope(post(client, BRIEF | {"style": "vaporwave"}), 400, "ValidationError")
    for style in ("luxury", "energetic", "minimal", "minimalist", "bold", "modern"):
        assert style in body["message"] + body["details"]


@pytest.mark.parametrize("style", ["modern", "minimalist", "luxury", "energetic", "minimal", "bold", "LUXURY"])
def test_styles_and_aliases_accepted(quiet: httpx.Client, quiet_store: JobStore, style: str) -> None:
    resp = post(quiet, BRIEF | {"style": style})
    assert resp.status_code == 202, resp.text
    job = quiet_store.get_job(resp.json()["job_id"])
    assert job is not None and job.style in valid_styles()


def test_unknown_form_field_rejected(client: httpx.Client) -> None:
    body = assert_envelope(post(client, BRIEF | {"video_model": "sora"}), 400, "ValidationError")
    assert "video_model" in body["message"]
    # Also inside a multipart body, and as an unexpected file part.
    resp = post(client, BRIEF, files={"attachment": ("a.png", image_bytes(), "image/png")})
    assert_envelope(resp, 400, "ValidationError")


def test_repeated_field_rejected(client: httpx.Client) -> None:
    resp = client.post("/api/generate", content="product_name=a&product_name=b&style=modern&cta_text=Go",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert_envelope(resp, 400, "ValidationError")


def test_non_form_body_rejected(client: httpx.Client) -> None:
    body = assert_envelope(client.post("/api/generate", json=BRIEF), 400, "ValidationError")
    assert "multipart/form-data" in body["message"]


def test_accepted_response_shape(quiet: httpx.Client) -> None:
    resp = post(quiet)
    assert resp.status_code == 202
    body = resp.json()
    assert set(body) == {"job_id", "status", "estimated_completion_time", "message"}
    assert body["status"] == "pending"
    uuid.UUID(body["job_id"])
    assert isinstance(body["estimated_completion_time"], int) and body["estimated_completion_time"] >= 20
    assert body["message"] == "Video generation job created successfully"


def test_estimate_grows_with_the_queue(quiet: httpx.Client) -> None:
    first = post(quiet).json()["estimated_completion_time"]
    for _ in range(3):
        post(quiet)
    assert post(quiet).json()["estimated_completion_time"] > first


# ---- optional extras -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "value"),
    [("aspect_ratio", "4:3"), ("aspect_ratio", "9x16"), ("seed", "-1"), ("seed", "abc"), ("seed", "1.5"),
     ("seed", str(2**40)), ("voice", "klingon"), ("voice", "en-us+nobody"), ("voice", "en us; rm -rf /")],
)
def test_bad_extras_rejected(client: httpx.Client, extra: str, value: str) -> None:
    assert_envelope(post(client, BRIEF | {extra: value}), 400, "ValidationError")


def test_extras_stored_with_the_job(quiet: httpx.Client, quiet_store: JobStore) -> None:
    resp = post(quiet, BRIEF | {"aspect_ratio": "1:1", "seed": "42", "voice": "en-us+f3"})
    assert resp.status_code == 202, resp.text
    job = quiet_store.get_job(resp.json()["job_id"])
    assert job is not None
    assert job.options == {"aspect_ratio": "1:1", "seed": 42, "voice": "en-us+f3"}


# ---- uploads ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_images_accepted_and_stored_under_our_key(quiet: httpx.Client, quiet_store: JobStore, fmt: str) -> None:
    # The filename tries to climb out of the store and the content type lies: neither matters.
    files = {"product_image": ("../../../etc/passwd", image_bytes(fmt), "text/plain")}
    resp = post(quiet, files=files)
    assert resp.status_code == 202, resp.text
    job = quiet_store.get_job(resp.json()["job_id"])
    assert job is not None
    assert job.product_image_path == f"ads/{job.id}/input/product.png"


def test_empty_file_part_means_no_image(quiet: httpx.Client, quiet_store: JobStore) -> None:
    resp = post(quiet, files={"product_image": ("", b"", "application/octet-stream")})
    assert resp.status_code == 202, resp.text
    job = quiet_store.get_job(resp.json()["job_id"])
    assert job is not None and job.product_image_path is None


def test_wrong_magic_bytes_with_image_content_type(client: httpx.Client) -> None:
    files = {"product_image": ("photo.png", b"this is certainly not a PNG file", "image/png")}
    body = assert_envelope(post(client, files=files), 400, "InvalidFileType")
    assert "text" in body["details"]


def test_gif_rejected(client: httpx.Client) -> None:
    files = {"product_image": ("anim.gif", gif_bytes(), "image/png")}
    body = assert_envelope(post(client, files=files), 400, "InvalidFileType")
    assert "GIF" in body["details"]


def test_corrupt_png_rejected(client: httpx.Client) -> None:
    files = {"product_image": ("broken.png", corrupt_png(), "image/png")}
    assert_envelope(post(client, files=files), 400, "InvalidImage")


def test_decompression_bomb_rejected(client: httpx.Client) -> None:
    data = bomb_png(20000)
    assert len(data) < 200_000  # tiny upload, 400 megapixels decoded
    files = {"product_image": ("bomb.png", data, "image/png")}
    body = assert_envelope(post(client, files=files), 400, "InvalidImage")
    assert "too large" in body["message"].lower()


def test_oversized_upload_refused_by_content_length(client: httpx.Client) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * (TEN_MB + 1)
    resp = post(client, files={"product_image": ("big.png", data, "image/png")})
    assert_envelope(resp, 400, "FileTooLarge")


def _chunked_multipart(boundary: str, image_size: int) -> Iterator[bytes]:
    for name, value in BRIEF.items():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="product_image"; filename="big.png"\r\n'
           f"Content-Type: image/png\r\n\r\n").encode()
    yield b"\x89PNG\r\n\x1a\n"
    sent = 8
    chunk = b"\0" * 65536
    while sent < image_size:
        piece = chunk[: image_size - sent]
        sent += len(piece)
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


def test_oversized_upload_refused_while_streaming(client: httpx.Client) -> None:
    # No Content-Length (chunked transfer): the limit must hold while the body streams in.
    boundary = uuid.uuid4().hex
    resp = client.post(
        "/api/generate",
        content=_chunked_multipart(boundary, TEN_MB + 1),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_envelope(resp, 400, "FileTooLarge")


def test_exactly_ten_megabytes_streamed_is_not_too_large(client: httpx.Client) -> None:
    # 10 MB of "PNG" passes the size limit and is then refused as a broken image, not as too large.
    boundary = uuid.uuid4().hex
    resp = client.post(
        "/api/generate",
        content=_chunked_multipart(boundary, TEN_MB),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_envelope(resp, 400, "InvalidImage")


def test_malformed_multipart_rejected(client: httpx.Client) -> None:
    resp = client.post("/api/generate", content=b"--xyz\r\nno headers here",
                       headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert_envelope(resp, 400, "ValidationError")


# ---- jobs: not found, listing ----------------------------------------------------------------------------


def test_unknown_job_is_404_with_the_seeds_wording(client: httpx.Client) -> None:
    job_id = str(uuid.uuid4())
    body = assert_envelope(client.get(f"/api/jobs/{job_id}"), 404, "JobNotFound")
    assert body == {
        "error": "JobNotFound",
        "message": f"Job with ID '{job_id}' not found",
        "details": "The specified job ID does not exist in the system",
    }
    assert_envelope(client.get(f"/api/jobs/{'x' * 500}"), 404, "JobNotFound")


def test_websocket_for_unknown_job_closes_1008(ws_url: str) -> None:
    async def attempt() -> tuple[list[str], int | None]:
        async with connect(f"{ws_url}/ws/jobs/{uuid.uuid4()}") as ws:
            received = []
            try:
                async for raw in ws:
                    received.append(raw)
            except ConnectionClosed:
                pass
            return received, ws.close_code

    received, code = asyncio.run(attempt())
    assert code == 1008
    assert received == []


@pytest.fixture(scope="module")
def listed_jobs(job_store: JobStore, stack: Any) -> dict[str, list[str]]:
    """Six finished jobs in the stack's store (finished, so the stack's launcher leaves them alone)."""
    ids: dict[str, list[str]] = {"completed": [], "failed": []}
    for i in range(6):
        job_id = str(uuid.uuid4())
        new_job(job_store, job_id, product_name=f"Listed {i}")
        if i % 2:
            complete_job(job_store, job_id, f"ads/{job_id}/compositing/final.mp4")
            ids["completed"].append(job_id)
        else:
            job_store.fail_job(job_id, "made to fail by the test")
            ids["failed"].append(job_id)
    return ids


def test_list_newest_first_with_pagination(client: httpx.Client, job_store: JobStore,
                                           listed_jobs: dict[str, list[str]]) -> None:
    first = client.get("/api/jobs", params={"limit": 3})
    second = client.get("/api/jobs", params={"limit": 3, "offset": 3})
    assert first.status_code == second.status_code == 200
    expected = [j.id for j in job_store.list_jobs(limit=6)]
    assert [j["job_id"] for j in first.json() + second.json()] == expected
    created = [j["created_at"] for j in first.json() + second.json()]
    assert created == sorted(created, reverse=True)
    assert int(first.headers["x-total-count"]) == job_store.count_jobs()


def test_list_filters_by_status(client: httpx.Client, job_store: JobStore,
                                listed_jobs: dict[str, list[str]]) -> None:
    for status in ("completed", "failed"):
        resp = client.get("/api/jobs", params={"status": status, "limit": 1000})
        assert resp.status_code == 200
        jobs = resp.json()
        assert jobs and all(j["status"] == status for j in jobs)
        assert set(listed_jobs[status]) <= {j["job_id"] for j in jobs}
        assert int(resp.headers["x-total-count"]) == job_store.count_jobs(status)
    done = client.get("/api/jobs", params={"status": "completed", "limit": 1000}).json()
    assert all(j["video_url"] for j in done)


def test_list_default_limit_and_fields(client: httpx.Client, listed_jobs: dict[str, list[str]]) -> None:
    jobs = client.get("/api/jobs").json()
    assert 1 <= len(jobs) <= 100
    assert set(jobs[0]) == {"job_id", "status", "progress", "created_at", "updated_at", "product_name", "style",
                            "cta_text", "video_url", "error_message", "cost_usd", "stages", "degraded", "error_code"}


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"limit": -5}, {"limit": "ten"}, {"offset": -1}, {"offset": "x"},
     {"status": "done"}, {"status": ""}, {"limit": 2**70}],
)
def test_list_bounds(client: httpx.Client, params: dict[str, Any]) -> None:
    body = assert_envelope(client.get("/api/jobs", params=params), 400, "ValidationError")
    assert next(iter(params)) in body["message"]


def test_list_accepts_the_bounds(client: httpx.Client) -> None:
    assert client.get("/api/jobs", params={"limit": 1}).status_code == 200
    assert client.get("/api/jobs", params={"limit": 1000, "offset": 10**6}).json() == []


# ---- envelope on framework errors ------------------------------------------------------------------------


def test_unknown_route_is_enveloped_404(client: httpx.Client) -> None:
    assert_envelope(client.get("/api/nothing-here"), 404, "NotFound")


def test_wrong_method_is_enveloped_405(client: httpx.Client) -> None:
    resp = client.get("/api/generate")
    assert_envelope(resp, 405, "MethodNotAllowed")
    assert "POST" in resp.headers["allow"]
    assert_envelope(client.delete("/api/jobs/abc"), 405, "MethodNotAllowed")


def test_openapi_documents_the_endpoints(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/generate", "/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/video", "/health"):
        assert path in spec["paths"], path
    form = spec["paths"]["/api/generate"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert {"product_name", "style", "cta_text", "product_image"} <= set(form["properties"])
    assert client.get("/docs").status_code == 200
