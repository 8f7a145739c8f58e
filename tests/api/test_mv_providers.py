"""Provider chains for MV projects and sweeps over HTTP (on the never-launching ``quiet_api``): the dry-run
estimate per stage and variant with nothing stored, refused chains in the error envelope, the choice stored with
the project, and the project view's ``degraded`` and ``cost_usd``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from badapple_dagster.store.jobs import JobStore
from badapple_dagster.store.mv import MvStore
from tests.api.api_support import image_bytes

PROJECT = {"concept": "Robot exploring Austin, Texas",
           "character_description": "Silver metallic humanoid robot with a red scarf"}
STAGES = ["mv_scenes", "character_reference", "mv_clips", "music_video"]




@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # The in-process API reads keys from this process's environment: a developer's real ones must not count.
    for var in ("REPLICATE_API_TOKEN", "OPENAI_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(var, raising=False)


def envelope(resp: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "message", "details"} and body["error"] == error, body
    return body


def test_project_dry_run_prices_each_stage_and_stores_nothing(quiet: httpx.Client, quiet_store: JobStore,
                                                              no_keys: None) -> None:
    before = quiet_store.count_jobs()
    local = quiet.post("/api/mv/projects", data=PROJECT | {"num_scenes": "2", "dry_run": "true"})
    assert local.status_code == 200, local.text
    (variant,) = local.json()["variants"]
    assert list(variant["stages"]) == STAGES and variant["scenes"] == 2 and variant["total_cost_usd"] == 0.0
    assert all(s["provider"] == "local" for s in variant["stages"].values())

    remote = quiet.post("/api/mv/projects", data=PROJECT | {
        "num_scenes": "2", "video_duration": "8", "dry_run": "true", "scene_provider": "openai:gpt-4o-mini",
        "image_provider": "replicate,local", "clip_provider": "replicate,local"})
    assert remote.status_code == 200, remote.text
    body = remote.json()
    (est,) = body["variants"]
    stages = est["stages"]
    # No model named: each stage takes the flavor's (default: imagen-4 and veo-3.1).
    assert stages["character_reference"] == {"provider": "replicate:google/imagen-4", "model": "google/imagen-4",
                                             "cost_usd": 0.04, "seconds": 10.0}
    assert stages["mv_clips"]["provider"] == "replicate:google/veo-3.1"
    assert stages["mv_clips"]["cost_usd"] == pytest.approx(2 * 8 * 0.2)  # 2 clips x 8 s x $0.20/s
    assert stages["mv_scenes"]["cost_usd"] > 0 and stages["music_video"]["cost_usd"] == 0
    assert body["total_cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in stages.values()), abs=1e-3)
    assert est["total_seconds"] > variant["total_seconds"]
    # no keys on this server: the estimate still comes, and says so
    assert set(body["unavailable_providers"]) == {"scene_provider: openai", "image_provider: replicate",
                                                  "clip_provider: replicate"}

    upload = quiet.post("/api/mv/projects", data=PROJECT | {"dry_run": "1", "image_provider": "replicate"},
                        files={"reference_image": ("me.png", image_bytes("PNG", (300, 400)), "image/png")})
    assert upload.status_code == 200, upload.text
    assert upload.json()["variants"][0]["stages"]["character_reference"]["provider"] == "upload"  # never paid
    assert quiet_store.count_jobs() == before, "a dry run stores nothing"


def test_sweep_dry_run_prices_every_grid_point(quiet: httpx.Client, quiet_store: JobStore, no_keys: None) -> None:
    before = quiet_store.count_jobs()
    resp = quiet.post("/api/mv/sweeps", json=PROJECT | {
        "flavors": ["default", "concert"], "set": {"video_duration": [4, 8]},
        "clip_provider": "replicate:google/veo-3.1", "dry_run": True})
    assert resp.status_code == 200, resp.text
    variants = {v["variant"]: v for v in resp.json()["variants"]}
    assert set(variants) == {"default--video_duration-4", "default--video_duration-8",
                             "concert--video_duration-4", "concert--video_duration-8"}
    short, long = variants["default--video_duration-4"], variants["default--video_duration-8"]
    assert long["stages"]["mv_clips"]["cost_usd"] == pytest.approx(2 * short["stages"]["mv_clips"]["cost_usd"])
    assert short["planned_video_seconds"] == 4 * short["scenes"]
    assert quiet_store.count_jobs() == before


@pytest.mark.parametrize("fields, error, needle", [
    ({"clip_provider": "runway:gen-3"}, "ValidationError", "unknown clip provider"),
    ({"scene_provider": "elevenlabs"}, "ValidationError", "unknown scene provider"),
    ({"image_provider": "replicate:" + "x" * 400}, "ValidationError", "too long"),
    ({"dry_run": "maybe"}, "ValidationError", "dry_run"),
    # every provider remote and none has a key on this server: the project could only fail
    ({"clip_provider": "replicate"}, "ProviderUnavailable", "clip_provider"),
])
def test_bad_provider_choices_are_400(quiet: httpx.Client, fields: dict[str, str], error: str, needle: str,
                                      no_keys: None) -> None:
    body = envelope(quiet.post("/api/mv/projects", data=PROJECT | fields), 400, error)
    assert needle in (body["message"] + " " + body["details"]).lower()
    if "dry_run" in fields:
        return
    sweep = quiet.post("/api/mv/sweeps", json=PROJECT | {"flavors": ["default"], **fields})
    envelope(sweep, 400, error)
    dry = quiet.post("/api/mv/projects", data=PROJECT | fields | {"dry_run": "true"})
    if error == "ProviderUnavailable":  # an estimate is still useful before the keys are configured
        assert dry.status_code == 200 and dry.json()["unavailable_providers"], dry.text
    else:
        envelope(dry, 400, error)  # a dry run validates like a real submission


def test_choice_is_stored_with_the_project_and_degraded_shows(quiet: httpx.Client, quiet_store: JobStore,
                                                              no_keys: None) -> None:
    resp = quiet.post("/api/mv/projects", data=PROJECT | {"clip_provider": " Replicate , local",
                                                         "scene_provider": "local"})
    assert resp.status_code == 202, resp.text
    project_id = resp.json()["project_id"]
    options = MvStore(quiet_store).get_project(project_id).options
    # Kept without a model: each variant's flavor supplies its own video_model at run time.
    assert options["clip_provider"] == "replicate,local" and options["scene_provider"] == "local"
    assert "image_provider" not in options

    view = quiet.get(f"/api/mv/projects/{project_id}").json()
    assert view["degraded"] is False and view["cost_usd"] == 0.0 and view["variants"][0]["degraded"] is False
    # The variant's run is tagged by provider, like an ad's.
    from api.launch_targets import launch_target
    job = quiet_store.get_job(view["variants"][0]["job_id"])
    assert launch_target(job).tags["badapple/provider"] == "replicate"
    quiet_store.mark_degraded(view["variants"][0]["job_id"])  # what a fallback in a run does
    view = quiet.get(f"/api/mv/projects/{project_id}").json()
    assert view["degraded"] is True and view["variants"][0]["degraded"] is True

    sweep = quiet.post("/api/mv/sweeps", json=PROJECT | {"flavors": ["default"], "image_provider": "replicate,local"})
    assert sweep.status_code == 202, sweep.text
    assert MvStore(quiet_store).get_project(sweep.json()["project_id"]).options == {
        "image_provider": "replicate,local"}
