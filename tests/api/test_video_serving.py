"""GET /api/jobs/{id}/video: the finished MP4 with HTTP Range support (Starlette's FileResponse behind our
own Range classification), and 404s for jobs or videos that do not exist.

The API serves files itself only from the local artifact store, so these tests use an API instance with a
local store on the stack's job store (the stack itself may run on S3 in production test mode); the S3 path
(presigned URLs, redirects) has its own test at the end."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.config import ApiConfig
from badapple_dagster.artifacts import LocalArtifactStore, ad_key
from badapple_dagster.stack import StackConfig, free_port
from badapple_dagster.store.jobs import JobStore, StageEvent
from tests.api.api_support import complete_job, make_mp4, new_job
from tests.api.conftest import InProcessApi, stack_settings


@pytest.fixture(scope="module")
def local_api(stack: StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApi]:
    port = free_port()
    settings = stack_settings(stack, artifact_backend="local", artifacts_dir=tmp_path_factory.mktemp("artifacts"),
                              public_base_url=f"http://127.0.0.1:{port}")
    api = InProcessApi(ApiConfig(settings=settings), port).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="module")
def client(local_api: InProcessApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_api.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def video_job(local_api: InProcessApi, job_store: JobStore,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A completed job whose final video (a real MP4 from ffmpeg's testsrc) is in the artifact store."""
    data = make_mp4(tmp_path_factory.mktemp("video") / "final.mp4")
    job_id = str(uuid.uuid4())
    key = ad_key(job_id, "compositing", "final.mp4")
    LocalArtifactStore(local_api.config.settings.artifacts_dir).put_bytes(key, data, "video/mp4")
    new_job(job_store, job_id)
    complete_job(job_store, job_id, key)
    return {"id": job_id, "data": data, "url": f"/api/jobs/{job_id}/video"}


def test_status_links_to_the_video(client: httpx.Client, local_api: InProcessApi,
                                   video_job: dict[str, Any]) -> None:
    body = client.get(f"/api/jobs/{video_job['id']}").json()
    assert body["status"] == "completed" and body["progress"] == 100
    assert body["video_url"] == f"{local_api.url}{video_job['url']}"


def test_whole_file(client: httpx.Client, video_job: dict[str, Any]) -> None:
    resp = client.get(video_job["url"])
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "video/mp4"
    assert resp.headers["accept-ranges"] == "bytes"
    assert int(resp.headers["content-length"]) == len(video_job["data"])
    assert resp.headers["content-disposition"].startswith("inline")
    assert resp.content == video_job["data"]


def test_head(client: httpx.Client, video_job: dict[str, Any]) -> None:
    resp = client.head(video_job["url"])
    assert resp.status_code == 200
    assert int(resp.headers["content-length"]) == len(video_job["data"])
    assert resp.content == b""


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", -50, None), ("bytes=10-10", 10, 10),
     ("bytes=0-999999999", 0, None)],
)
def test_single_range(client: httpx.Client, video_job: dict[str, Any], header: str, start: int,
                      end: int | None) -> None:
    data: bytes = video_job["data"]
    size = len(data)
    first = start if start >= 0 else size + start
    last = (end if end is not None else size - 1)
    resp = client.get(video_job["url"], headers={"Range": header})
    assert resp.status_code == 206, resp.text
    assert resp.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert int(resp.headers["content-length"]) == last - first + 1
    assert resp.content == data[first: last + 1]


def test_multiple_ranges(client: httpx.Client, video_job: dict[str, Any]) -> None:
    data: bytes = video_job["data"]
    resp = client.get(video_job["url"], headers={"Range": "bytes=0-9,20-29"})
    assert resp.status_code == 206
    assert resp.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert data[0:10] in resp.content and data[20:30] in resp.content
    assert re.findall(rb"Content-Range: bytes (\d+-\d+)/", resp.content, re.I) == [b"0-9", b"20-29"]


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{size2}", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: httpx.Client, video_job: dict[str, Any], header: str) -> None:
    size = len(video_job["data"])
    resp = client.get(video_job["url"], headers={"Range": header.format(size=size, size2=size + 10)})
    assert resp.status_code == 416
    assert resp.headers["content-range"] == f"bytes */{size}"
    assert resp.json()["error"] == "RangeNotSatisfiable"


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-5", "bytes=50-10", "0-5", "bytes="])
def test_unusable_range_headers_are_ignored(client: httpx.Client, video_job: dict[str, Any], header: str) -> None:
    # RFC 9110 §14.2: a Range header the server cannot use is ignored and the whole file is sent.
    resp = client.get(video_job["url"], headers={"Range": header})
    assert resp.status_code == 200
    assert resp.content == video_job["data"]


def test_if_range(client: httpx.Client, video_job: dict[str, Any]) -> None:
    etag = client.head(video_job["url"]).headers["etag"]
    fresh = client.get(video_job["url"], headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.content == video_job["data"][:10]
    stale = client.get(video_job["url"], headers={"Range": "bytes=0-9", "If-Range": '"stale-etag"'})
    assert stale.status_code == 200 and stale.content == video_job["data"]


def test_unknown_job(client: httpx.Client) -> None:
    resp = client.get(f"/api/jobs/{uuid.uuid4()}/video")
    assert resp.status_code == 404 and resp.json()["error"] == "JobNotFound"


def test_job_without_video_yet(client: httpx.Client, job_store: JobStore) -> None:
    job_id = str(uuid.uuid4())
    new_job(job_store, job_id)
    try:
        job_store.apply_event(StageEvent(job_id, "script_gen", "started"))
        resp = client.get(f"/api/jobs/{job_id}/video")
        assert resp.status_code == 404
        assert resp.json()["error"] == "VideoNotFound"
        assert client.get(f"/api/jobs/{job_id}").json()["video_url"] is None
    finally:
        job_store.fail_job(job_id, "test done")  # finished, so the stack's launcher leaves it alone


def test_completed_job_whose_file_is_gone(client: httpx.Client, job_store: JobStore) -> None:
    job_id = str(uuid.uuid4())
    new_job(job_store, job_id)
    complete_job(job_store, job_id, ad_key(job_id, "compositing", "final.mp4"))
    resp = client.get(f"/api/jobs/{job_id}/video")
    assert resp.status_code == 404
    body = resp.json()
    assert body["error"] == "VideoNotFound" and set(body) == {"error", "message", "details"}


def test_s3_store_serves_presigned_urls(stack: StackConfig, api_instance: Any, job_store: JobStore,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the S3 artifact store, video_url is a presigned URL and /video redirects to a fresh one.
    moto's S3 server stands in for S3 (any S3-compatible endpoint works the same way)."""
    import boto3
    from moto.server import ThreadedMotoServer

    from badapple_dagster.artifacts import artifact_store_from_settings

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="ads")
        settings = stack_settings(stack, artifact_backend="s3", s3_bucket="ads", s3_prefix="v1",
                                  s3_endpoint_url=endpoint, s3_region="us-east-1")
        data = make_mp4(tmp_path / "final.mp4")
        job_id = str(uuid.uuid4())
        key = ad_key(job_id, "compositing", "final.mp4")
        artifact_store_from_settings(settings).put_bytes(key, data, "video/mp4")
        new_job(job_store, job_id)
        complete_job(job_store, job_id, key)
        with api_instance(settings) as api:
            body = httpx.get(f"{api.url}/api/jobs/{job_id}", timeout=30).json()
            redirect = httpx.get(f"{api.url}/api/jobs/{job_id}/video", timeout=30)
            followed = httpx.get(f"{api.url}/api/jobs/{job_id}/video", timeout=30, follow_redirects=True)
        prefix = f"{endpoint}/ads/v1/{key}?"
        assert body["video_url"].startswith(prefix) and "Signature" in body["video_url"]
        assert redirect.status_code == 307 and redirect.headers["location"].startswith(prefix)
        assert followed.status_code == 200 and followed.content == data
        assert httpx.get(body["video_url"], timeout=30).content == data
    finally:
        server.stop()
