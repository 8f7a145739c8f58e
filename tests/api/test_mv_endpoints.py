"""The synchronous MV endpoints against the real stack: config flavors, scene prompts, character references,
scene clips and the MV file endpoint, with the inputs they must refuse (bad flavors, bad numbers, unknown
fields, artifact keys that try to leave mv/)."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from api.errors import ApiError
from api.mv_runtime import RenderGate
from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.mv.flavors import load_flavor

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "mv_configs"
CONCEPT = "Robot exploring Austin, Texas"
CHARACTER = "Silver metallic humanoid robot with a red scarf"


def assert_error(resp: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "message", "details"}, body
    assert body["error"] == error, body
    return body


@pytest.fixture(scope="module")
def card(client: httpx.Client) -> dict[str, Any]:
    resp = client.post("/api/mv/character-reference", json={"character_description": CHARACTER})
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---- flavors --------------------------------------------------------------------------------------------


def test_config_flavors_lists_default_first(client: httpx.Client) -> None:
    resp = client.get("/api/mv/config-flavors")
    assert resp.status_code == 200
    body = resp.json()
    assert body["default_flavor"] == "default"
    assert body["flavors"][0] == "default" and {"example", "concert"} <= set(body["flavors"])


def test_flavor_folders_are_rescanned_on_every_call(quiet_api: Any, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # quiet_api runs in this process, so it reads the configs root this test points it at.
    root = tmp_path / "configs"
    shutil.copytree(REPO_CONFIGS / "default", root / "default")
    monkeypatch.setenv("BADAPPLE_MV_CONFIGS", str(root))
    url = f"{quiet_api.url}/api/mv/config-flavors"
    assert httpx.get(url, timeout=30).json()["flavors"] == ["default"]

    (root / "short").mkdir()
    (root / "short" / "parameters.yaml").write_text("number_of_scenes: 2\n")
    assert httpx.get(url, timeout=30).json()["flavors"] == ["default", "short"]
    resp = httpx.post(f"{quiet_api.url}/api/mv/scenes?config_flavor=short", json={"concept_prompt": CONCEPT},
                      timeout=30)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["scenes"]) == 2


# ---- scenes ---------------------------------------------------------------------------------------------


def test_scenes_follow_the_contract(client: httpx.Client) -> None:
    resp = client.post("/api/mv/scenes", json={"concept_prompt": CONCEPT, "num_scenes": 3})
    assert resp.status_code == 200, resp.text
    scenes = resp.json()["scenes"]
    assert [s["sequence"] for s in scenes] == [1, 2, 3]
    for s in scenes:
        assert s["duration"] == 8.0 and len(s["prompt"]) > 40 and s["negative_prompt"]
    assert "Austin" in " ".join(s["prompt"] for s in scenes)


def test_scenes_default_count_and_flavor_come_from_the_flavor(client: httpx.Client) -> None:
    plain = client.post("/api/mv/scenes", json={"concept_prompt": CONCEPT}).json()
    assert plain["config_flavor"] == "default" and len(plain["scenes"]) == load_flavor("default").number_of_scenes
    example = client.post("/api/mv/scenes?config_flavor=example", json={"concept_prompt": CONCEPT}).json()
    assert example["config_flavor"] == "example"
    assert len(example["scenes"]) == load_flavor("example").number_of_scenes
    assert example["scenes"][0]["prompt"] != plain["scenes"][0]["prompt"]
    # The original system's name for the concert flavor still works.
    alias = client.post("/api/mv/scenes?config_flavor=mv1", json={"concept_prompt": CONCEPT, "num_scenes": 1})
    assert alias.status_code == 200 and alias.json()["config_flavor"] == "concert"


@pytest.mark.parametrize(
    "body",
    [
        {"concept_prompt": CONCEPT, "num_scenes": 0},
        {"concept_prompt": CONCEPT, "num_scenes": 13},
        {"concept_prompt": CONCEPT, "num_scenes": "3"},
        {"concept_prompt": CONCEPT, "num_scenes": True},
        {"concept_prompt": ""},
        {"concept_prompt": "   "},
        {"concept_prompt": "x" * 2001},
        {"num_scenes": 2},
        {"concept_prompt": CONCEPT, "num_scene": 2},  # a typo must not fall back to the default count
        {"concept_prompt": CONCEPT, "config_flavor": "example"},  # the flavor is a query parameter
        ["not", "an", "object"],
    ],
)
def test_scenes_refuse_bad_input(client: httpx.Client, body: Any) -> None:
    assert_error(client.post("/api/mv/scenes", json=body), 400, "ValidationError")


def test_scenes_refuse_unknown_flavor_naming_the_valid_ones(client: httpx.Client) -> None:
    body = assert_error(client.post("/api/mv/scenes?config_flavor=nope", json={"concept_prompt": CONCEPT}),
                        400, "InvalidFlavor")
    assert "nope" in body["message"]
    assert all(name in body["details"] for name in ("default", "example", "concert"))
    assert "/" not in body["details"], "no server paths in errors"


def test_scenes_refuse_a_body_that_is_not_json(client: httpx.Client) -> None:
    resp = client.post("/api/mv/scenes", content=b"concept_prompt=x", headers={"content-type": "text/plain"})
    assert_error(resp, 400, "ValidationError")
    assert_error(client.post("/api/mv/scenes", content=b"{", headers={"content-type": "application/json"}),
                 400, "ValidationError")


# ---- character reference --------------------------------------------------------------------------------


def test_character_reference_is_a_square_png_served_by_the_api(client: httpx.Client, card: dict[str, Any]) -> None:
    assert re.fullmatch(r"mv/outputs/character_reference/[0-9a-f-]{36}\.png", card["s3_key"]), card
    resp = httpx.get(card["image_url"], timeout=30, follow_redirects=True)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(resp.content)) as im:
        assert im.format == "PNG" and im.width == im.height >= 512


def test_character_reference_refuses_bad_input(client: httpx.Client) -> None:
    url = "/api/mv/character-reference"
    assert_error(client.post(url, json={"character_description": ""}), 400, "ValidationError")
    assert_error(client.post(url, json={"character_description": "x", "n": 4}), 400, "ValidationError")
    assert_error(client.post(f"{url}?config_flavor=../default", json={"character_description": "x"}),
                 400, "InvalidFlavor")


# ---- scene clips ----------------------------------------------------------------------------------------


def test_scene_clip_with_a_reference_is_a_16_9_mp4(client: httpx.Client, card: dict[str, Any],
                                                    tmp_path: Path) -> None:
    request = {"prompt": "The robot walks through downtown at dusk", "duration": 2,
               "reference_image_s3_keys": [card["s3_key"]]}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.post, "/api/mv/video", json=request)
        # The render runs in a worker thread: the API keeps answering other requests meanwhile.
        latencies = []
        while not pending.done():
            started = time.monotonic()
            assert client.get("/api/mv/config-flavors").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.1)
        resp = pending.result()
    assert resp.status_code == 200, resp.text
    assert latencies and max(latencies) < 1.0, latencies
    body = resp.json()
    match = re.fullmatch(r"mv/projects/([0-9a-f-]{36})/scenes/scene_001\.mp4", body["s3_key"])
    assert match and body["project_id"] == match.group(1) and body["sequence"] == 1, body

    video = tmp_path / "clip.mp4"
    got = httpx.get(body["video_url"], timeout=60, follow_redirects=True)
    assert got.status_code == 200 and got.headers["content-type"] == "video/mp4"
    video.write_bytes(got.content)
    info = probe(str(video))
    assert info.video_codec == "h264" and (info.width, info.height) == (1920, 1080)
    assert abs(info.duration - 2.0) < 0.2

    part = httpx.get(body["video_url"], headers={"Range": "bytes=0-99"}, timeout=30, follow_redirects=True)
    assert part.status_code == 206 and part.content == got.content[:100]
    outside = httpx.get(body["video_url"], headers={"Range": f"bytes={len(got.content) + 10}-"}, timeout=30)
    assert_error(outside, 416, "RangeNotSatisfiable")

    # The next clip of the same project takes the next number; no reference draws from the prompt.
    again = client.post("/api/mv/video", json={"prompt": "A close-up of the robot smiling", "duration": 1,
                                               "project_id": body["project_id"]})
    assert again.status_code == 200, again.text
    assert again.json()["s3_key"] == f"mv/projects/{body['project_id']}/scenes/scene_002.mp4"
    assert again.json()["sequence"] == 2


@pytest.mark.parametrize(
    "key",
    ["../x", "ads/some-job/video_gen/clip.mp4", "mv/../ads/x", "/etc/passwd", "mv//x", "mv/./x", "mv\\..\\x",
     "mv/outputs/character_reference/does-not-exist.png", ""],
)
def test_scene_clip_refuses_keys_outside_mv_or_missing(client: httpx.Client, key: str) -> None:
    started = time.monotonic()
    resp = client.post("/api/mv/video", json={"prompt": "p", "duration": 2, "reference_image_s3_keys": [key]})
    body = resp.json()
    assert resp.status_code == 400 and body["error"] in ("InvalidKey", "InvalidReferenceImage"), body
    assert time.monotonic() - started < 5, "refused before rendering"


def test_scene_clip_refuses_a_reference_that_is_not_an_image(client: httpx.Client, card: dict[str, Any]) -> None:
    clip = client.post("/api/mv/video", json={"prompt": "p", "duration": 1}).json()
    resp = client.post("/api/mv/video", json={"prompt": "p", "duration": 1,
                                              "reference_image_s3_keys": [clip["s3_key"]]})
    assert_error(resp, 400, "InvalidReferenceImage")


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "p", "duration": 0},
        {"prompt": "p", "duration": 31},
        {"prompt": "p", "duration": "2"},
        {"prompt": "", "duration": 2},
        {"prompt": "p", "duration": 2, "project_id": "../evil"},
        {"prompt": "p", "duration": 2, "project_id": "a/b"},
        {"prompt": "p", "duration": 2, "project_id": "a|b"},
        {"prompt": "p", "duration": 2, "reference_image_s3_keys": "mv/x.png"},
        {"prompt": "p", "duration": 2, "reference_image_s3_keys": ["mv/a.png"] * 5},
        {"prompt": "p", "duration": 2, "aspect_ratio": "9:16"},
    ],
)
def test_scene_clip_refuses_bad_input(client: httpx.Client, body: dict[str, Any]) -> None:
    assert_error(client.post("/api/mv/video", json=body), 400, "ValidationError")


def test_scene_clip_refuses_unknown_flavor(client: httpx.Client) -> None:
    resp = client.post("/api/mv/video?config_flavor=nope", json={"prompt": "p", "duration": 2})
    assert_error(resp, 400, "InvalidFlavor")


# ---- files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["ads/x/compositing/final.mp4", "mv/%2e%2e/ads/x", "mv/..%2fads/x", "badapple.db"])
def test_file_endpoint_serves_only_mv_keys(client: httpx.Client, path: str) -> None:
    assert_error(client.get(f"/api/mv/files/{path}"), 400, "InvalidKey")


def test_file_endpoint_404s_a_missing_file(client: httpx.Client) -> None:
    assert_error(client.get("/api/mv/files/mv/outputs/character_reference/none.png"), 404, "FileNotFound")


# ---- the render gate ------------------------------------------------------------------------------------


def test_render_gate_refuses_a_burst_beyond_its_queue() -> None:
    async def scenario() -> None:
        gate = RenderGate("scene clip", slots=1, queue=1, retry_after_seconds=7)
        release = asyncio.Event()

        async def hold() -> None:
            async with gate.slot():
                await release.wait()

        running, waiting = asyncio.create_task(hold()), asyncio.create_task(hold())
        await asyncio.sleep(0.05)
        assert gate.admitted == 2
        with pytest.raises(ApiError) as refused:
            async with gate.slot():
                pass
        assert refused.value.status_code == 503 and refused.value.headers["Retry-After"] == "7"
        release.set()
        await asyncio.gather(running, waiting)
        assert gate.admitted == 0
        async with gate.slot():  # free again
            pass

    asyncio.run(scenario())
