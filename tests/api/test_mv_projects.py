"""MV projects and flavor sweeps through the API: refused inputs (on the never-launching ``quiet_api``), a
project and a two-flavor sweep rendered end to end by Dagster on the real stack, and the launcher launching
music-video jobs as ``mv_video_job`` (never as ad jobs)."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.stack import StackConfig
from badapple_dagster.store.jobs import JobRecord, JobStore
from badapple_dagster.store.mv import MV_STAGES, mv_job_id
from tests.api.api_support import image_bytes, read_until_closed
from tests.api.conftest import stack_settings

CONCEPT = "Robot exploring Austin, Texas"
CHARACTER = "Silver metallic humanoid robot with a red scarf"
FAST_LAUNCH = {"launch_lease_seconds": 1.0, "launch_sweep_seconds": 0.3, "launch_backoff_initial_seconds": 0.2,
               "launch_backoff_max_seconds": 1.0}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def assert_error(resp: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "message", "details"} and body["error"] == error, body
    return body


def wav_bytes(path: Path, seconds: float = 3.0) -> bytes:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}",
                    str(path)], check=True, timeout=60)
    return path.read_bytes()


def download(url: str, dest: Path) -> Path:
    with httpx.stream("GET", url, timeout=120, follow_redirects=True) as r:
        assert r.status_code == 200, r.read()
        with dest.open("wb") as f:
            for chunk in r.iter_bytes():
                f.write(chunk)
    return dest


def dagster_run(stack: StackConfig, run_id: str) -> dict[str, Any]:
    query = """query($id: ID!) { runOrError(runId: $id) { ... on Run { jobName status tags { key value } } } }"""
    resp = httpx.post(f"{stack.dagster_url}/graphql", json={"query": query, "variables": {"id": run_id}}, timeout=30)
    return resp.json()["data"]["runOrError"]


# ---- refused input (nothing is launched: quiet_api has no Dagster) --------------------------------------


@pytest.mark.parametrize(
    ("data", "files", "error"),
    [
        ({"character_description": CHARACTER}, None, "ValidationError"),
        ({"concept": " ", "character_description": CHARACTER}, None, "ValidationError"),
        ({"concept": CONCEPT}, None, "ValidationError"),
        ({"concept": "x" * 2001, "character_description": CHARACTER}, None, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "config_flavor": "nope"}, None, "InvalidFlavor"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "num_scenes": "13"}, None, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "num_scenes": "two"}, None, "ValidationError"),
        # str.isdigit() accepts these; int() rejects '²' (was a 500) and reads '٣' as 3
        ({"concept": CONCEPT, "character_description": CHARACTER, "seed": "²"}, None, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "num_scenes": "٣"}, None, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "video_duration": "31"}, None, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "mode": "music-video"}, None, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER},
         {"audio": ("song.mp3", b"not a song at all, just text" * 10, "audio/mpeg")}, "InvalidAudio"),
        ({"concept": CONCEPT, "character_description": CHARACTER},
         {"reference_image": ("me.png", b"%PDF-1.7 not an image at all", "image/png")}, "InvalidFileType"),
    ],
)
def test_project_refuses_bad_input(quiet_api: Any, data: dict[str, str], files: dict[str, Any] | None,
                                   error: str) -> None:
    resp = httpx.post(f"{quiet_api.url}/api/mv/projects", data=data, files=files, timeout=30)
    assert_error(resp, 400, error)


def test_project_with_song_and_image_is_stored_and_pending(quiet_api: Any, tmp_path: Path) -> None:
    files = {"audio": ("song.wav", wav_bytes(tmp_path / "song.wav"), "audio/wav"),
             "reference_image": ("me.jpg", image_bytes("JPEG", (300, 400)), "image/jpeg")}
    data = {"concept": CONCEPT, "character_description": CHARACTER, "num_scenes": "2"}
    resp = httpx.post(f"{quiet_api.url}/api/mv/projects?config_flavor=example", data=data, files=files, timeout=30)
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    project_id = accepted["project_id"]
    assert accepted["status"] == "pending"
    assert accepted["variants"] == [{"variant": "example", "flavor": "example",
                                     "job_id": mv_job_id(project_id, "example")}]

    project = httpx.get(f"{quiet_api.url}/api/mv/projects/{project_id}", timeout=30).json()
    assert project["status"] == "pending" and project["concept"] == CONCEPT and project["sweep_id"] is None
    variant = project["variants"][0]
    assert variant["status"] == "pending" and variant["video_url"] is None
    assert [s["stage_name"] for s in variant["stages"]] == list(MV_STAGES)
    song = download(project["audio_url"], tmp_path / "stored.wav")
    assert probe(str(song)).audio_codec is not None
    assert httpx.get(project["reference_image_url"], timeout=30).headers["content-type"] == "image/png"


def test_unknown_project_and_sweep_are_404_envelopes(client: httpx.Client) -> None:
    body = assert_error(client.get(f"/api/mv/projects/{uuid.uuid4()}"), 404, "ProjectNotFound")
    assert "not found" in body["message"]
    assert_error(client.get("/api/mv/projects/" + "x" * 500), 404, "ProjectNotFound")
    assert_error(client.get(f"/api/mv/sweeps/{uuid.uuid4()}"), 404, "SweepNotFound")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default", "nope"]}, "InvalidFlavor"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": []}, "ValidationError"),
        ({"concept": "", "character_description": CHARACTER, "flavors": ["default"]}, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default"],
          "set": {"model": ["x"]}}, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default"],
          "set": {"video_duration": [99]}}, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default"],
          "set": {"number_of_scenes": ["many"]}}, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default", "example", "concert"],
          "set": {"number_of_scenes": [1, 2, 3, 4, 5]}}, "ValidationError"),
        ({"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default"], "grid": {}},
         "ValidationError"),
    ],
)
def test_sweep_refuses_bad_input(quiet_api: Any, body: dict[str, Any], error: str) -> None:
    assert_error(httpx.post(f"{quiet_api.url}/api/mv/sweeps", json=body, timeout=30), 400, error)


# ---- end to end on the stack ----------------------------------------------------------------------------


@pytest.mark.slow
def test_project_renders_to_a_music_video(client: httpx.Client, ws_url: str, tmp_path: Path) -> None:
    data = {"concept": CONCEPT, "character_description": CHARACTER, "num_scenes": "1", "video_duration": "2"}
    resp = client.post("/api/mv/projects", data=data)
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    (variant,) = accepted["variants"]
    assert variant["flavor"] == "default" and variant["variant"] == "default--video_duration-2"

    async def follow() -> tuple[list[dict[str, Any]], int | None]:
        async with connect(f"{ws_url}/ws/jobs/{variant['job_id']}") as ws:
            return await read_until_closed(ws, timeout=300)

    messages, code = asyncio.run(follow())
    assert code == 1000 and messages[0]["type"] == "connected"
    assert messages[-1]["type"] == "status" and messages[-1]["status"] == "completed", messages[-1]
    assert {m.get("stage") for m in messages} >= set(MV_STAGES)

    project = client.get(f"/api/mv/projects/{accepted['project_id']}").json()
    assert project["status"] == "completed" and project["progress"] == 100
    (done,) = project["variants"]
    assert done["job_id"] == variant["job_id"] and done["error_message"] is None
    assert all(s["status"] == "completed" for s in done["stages"])
    info = probe(str(download(done["video_url"], tmp_path / "mv.mp4")))
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (1920, 1080) and 1.5 <= info.duration <= 4.0


@pytest.mark.slow
def test_two_flavor_sweep_renders_and_reports(client: httpx.Client, tmp_path: Path) -> None:
    body = {"concept": CONCEPT, "character_description": CHARACTER, "flavors": ["default", "example"],
            "set": {"number_of_scenes": [1], "video_duration": [2]}}
    resp = client.post("/api/mv/sweeps", json=body)
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    assert accepted["sweep_id"] == accepted["project_id"]
    assert sorted(v["flavor"] for v in accepted["variants"]) == ["default", "example"]

    running = client.get(f"/api/mv/sweeps/{accepted['sweep_id']}").json()
    assert running["status"] == "running" and running["report_html_url"] is None

    def finished() -> dict[str, Any] | None:
        report = client.get(f"/api/mv/sweeps/{accepted['sweep_id']}").json()
        return report if report["status"] != "running" else None

    report = wait_for(finished, 300, "the sweep to finish", interval=1.0)
    assert report["status"] == "completed", report
    assert report["progress"] == 100 and len(report["variants"]) == 2
    example = next(v for v in report["variants"] if v["flavor"] == "example")
    assert example["scene_count"] == 1 and example["render_seconds"] > 0
    assert "parameters.camera_angle" in example["config_diff_vs_default"]
    for v in report["variants"]:
        assert v["status"] == "completed" and v["video_url"] and v["contact_sheet_url"]

    html = httpx.get(report["report_html_url"], timeout=30, follow_redirects=True)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert all(v["variant"] in html.text for v in report["variants"])
    stored = httpx.get(report["report_json_url"], timeout=30, follow_redirects=True).json()
    assert {v["variant"] for v in stored["variants"]} == {v["variant"] for v in report["variants"]}

    # Written once: polling again serves the same files, unchanged.
    again = client.get(f"/api/mv/sweeps/{accepted['sweep_id']}").json()
    assert again["report_html_url"] == report["report_html_url"]
    assert httpx.get(report["report_json_url"], timeout=30).json() == stored
    info = probe(str(download(example["video_url"], tmp_path / "example.mp4")))
    assert (info.width, info.height) == (1920, 1080) and info.duration >= 1.0  # cut on a beat: may be shorter


# ---- launching: the kind decides the pipeline -----------------------------------------------------------


def test_swept_music_video_job_launches_as_mv_video_job(stack: StackConfig, api_instance: Any,
                                                        job_store: JobStore) -> None:
    """A stored MV job nobody launched (its replica died) is taken over by the sweep and launched on its
    project × variant partition, never as an ad. Its project row is missing, so the run fails in its first
    step: the launch is checked without rendering anything."""
    project_id = str(uuid.uuid4())
    job_id = mv_job_id(project_id, "default")
    job_store.create_job(job_id, product_name=CONCEPT, style="default", cta_text="", kind="mv",
                         stage_names=MV_STAGES, options={"project_id": project_id, "variant": "default",
                                                         "flavor": "default", "overrides": {}})
    odd = job_store.create_job(str(uuid.uuid4()), product_name="x", style="modern", cta_text="x", kind="podcast")
    def job(jid: str) -> JobRecord:
        record = job_store.get_job(jid)
        assert record is not None
        return record

    with api_instance(stack_settings(stack), **FAST_LAUNCH):
        run_id = wait_for(lambda: job(job_id).dagster_run_id, 30, "the MV launch")
        wait_for(lambda: job(odd.id).status == "failed", 30, "the unknown kind to fail")
    run = dagster_run(stack, run_id)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["jobName"] == "mv_video_job"
    assert tags["dagster/partition"] == f"default|{project_id}"
    assert tags["dagster/partition/project"] == project_id and tags["dagster/partition/flavor"] == "default"
    assert tags["badapple/job_id"] == job_id
    wait_for(lambda: job(job_id).status == "failed", 120, "the run to fail")
    assert "No music-video project" in (job(job_id).error_message or "")
    assert job(odd.id).dagster_run_id is None and "kind 'podcast'" in (job(odd.id).error_message or "")
