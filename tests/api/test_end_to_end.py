"""The whole product through the public API: submit a brief with a product image, follow it over the
WebSocket to completion, download the video (and a byte range of it), and check it with ffprobe."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.api.api_support import image_bytes, read_until_closed

pytestmark = pytest.mark.slow

STAGES = ["script_gen", "voice_gen", "video_gen", "compositing"]


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height:format=duration",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    return json.loads(out)


def test_brief_to_finished_video(client: httpx.Client, ws_url: str, tmp_path: Path) -> None:
    brief = {"product_name": "Aurora Desk Lamp", "style": "luxury", "cta_text": "Order today"}
    files = {"product_image": ("lamp.jpg", image_bytes("JPEG", (900, 700)), "image/jpeg")}
    resp = client.post("/api/generate", data=brief, files=files)
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]

    async def follow() -> tuple[list[dict[str, Any]], int | None]:
        async with connect(f"{ws_url}/ws/jobs/{job_id}") as ws:
            return await read_until_closed(ws, timeout=600)

    messages, code = asyncio.run(follow())
    assert code == 1000
    assert messages[0]["type"] == "connected"
    updates = [m for m in messages[1:] if m["type"] in ("progress", "status")]
    assert updates, "no live updates arrived"
    seqs = [(m["seq"], m["type"] == "status") for m in updates]
    assert seqs == sorted(set(seqs)), "updates arrive in order, once"
    progress = [m["progress"] for m in messages if "progress" in m]
    assert progress == sorted(progress), "progress never goes backwards"
    assert {m["stage"] for m in updates} >= set(STAGES)
    final = messages[-1]
    assert final["type"] == "status" and final["status"] == "completed", final
    assert final["progress"] == 100 and final["video_url"]

    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["error_message"] is None
    assert [s["stage_name"] for s in job["stages"]] == STAGES
    assert all(s["status"] == "completed" and s["started_at"] and s["completed_at"] for s in job["stages"])
    assert job["video_url"] == final["video_url"]

    video = tmp_path / "ad.mp4"
    with httpx.stream("GET", job["video_url"], timeout=120, follow_redirects=True) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("video/mp4")
        with video.open("wb") as f:
            for chunk in r.iter_bytes():
                f.write(chunk)
    part = httpx.get(job["video_url"], headers={"Range": "bytes=0-1023"}, timeout=60, follow_redirects=True)
    assert part.status_code == 206 and part.content == video.read_bytes()[:1024]

    info = ffprobe(video)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert (streams["video"]["width"], streams["video"]["height"]) == (1080, 1920)  # the default 9:16
    assert streams["audio"]["codec_name"] == "aac"
    assert float(info["format"]["duration"]) >= 10
