"""Choosing providers per job through the API: validation, the dry-run estimate over HTTP, the stored choice,
the run's provider tag, and a job on the real stack that uses a (fake) OpenAI for its script and asks for
Replicate clips with no key configured, so it falls back to the local renderer and says so."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from api.launch_targets import launch_target
from badapple_dagster.store.jobs import JobStore

BRIEF = {"product_name": "Volt Energy Drink", "style": "energetic", "cta_text": "Grab yours today"}




def envelope(resp: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "message", "details"} and body["error"] == error, body
    return body


def test_dry_run_over_http_prices_each_stage_and_stores_nothing(quiet: httpx.Client, quiet_store: JobStore) -> None:
    before = quiet_store.count_jobs()
    local = quiet.post("/api/generate", data=BRIEF | {"dry_run": "true"})
    assert local.status_code == 200, local.text
    body = local.json()
    assert body["dry_run"] is True and body["total_cost_usd"] == 0.0
    assert list(body["stages"]) == ["script_gen", "voice_gen", "video_gen", "compositing"]

    remote = quiet.post("/api/generate", data=BRIEF | {
        "dry_run": "true", "script_provider": "openai:gpt-4o-mini", "voice_provider": "elevenlabs",
        "video_provider": "replicate:bytedance/seedance-1-pro,local"})
    assert remote.status_code == 200, remote.text
    est = remote.json()
    assert est["stages"]["video_gen"]["provider"] == "replicate:bytedance/seedance-1-pro"
    assert all(est["stages"][s]["cost_usd"] > 0 for s in ("script_gen", "voice_gen", "video_gen"))
    assert est["total_cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in est["stages"].values()), abs=1e-3)
    assert est["total_seconds"] > body["total_seconds"]
    # this server has no keys for them: the estimate still comes, and says they could not run here yet
    assert set(est["unavailable_providers"]) >= {"voice_provider: elevenlabs:eleven_multilingual_v2",
                                                 "video_provider: replicate:bytedance/seedance-1-pro"}
    assert body["unavailable_providers"] == []
    assert quiet_store.count_jobs() == before, "a dry run stores nothing"


@pytest.mark.parametrize("fields, error, needle", [
    ({"video_provider": "runway:gen-3"}, "ValidationError", "unknown video provider"),
    ({"voice_provider": "replicate"}, "ValidationError", "unknown voice provider"),
    ({"script_provider": "openai:" + "x" * 400}, "ValidationError", "too long"),
    ({"tts_voice": "nova; rm -rf /"}, "ValidationError", "tts_voice"),
    ({"dry_run": "maybe"}, "ValidationError", "dry_run"),
    # every provider remote and none has a key on this server: the job could only fail
    ({"video_provider": "replicate:minimax/video-01"}, "ProviderUnavailable", "video_provider"),
])
def test_bad_provider_choices_are_400(quiet: httpx.Client, fields: dict[str, str], error: str, needle: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REPLICATE_API_TOKEN", "OPENAI_API_KEY", "ELEVENLABS_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    body = envelope(quiet.post("/api/generate", data=BRIEF | fields), 400, error)
    assert needle in (body["message"] + " " + str(body["details"])).lower()
    if "dry_run" in fields:
        return
    dry = quiet.post("/api/generate", data=BRIEF | fields | {"dry_run": "true"})
    if error == "ProviderUnavailable":  # an estimate is still useful before the keys are configured
        assert dry.status_code == 200 and dry.json()["unavailable_providers"], dry.text
    else:
        assert dry.status_code == 400, "a dry run validates like a real submission"


def test_choice_is_stored_normalised_and_tags_the_run(quiet: httpx.Client, quiet_store: JobStore) -> None:
    resp = quiet.post("/api/generate", data=BRIEF | {"video_provider": " replicate , local",
                                                     "voice_provider": "local", "tts_voice": "nova"})
    assert resp.status_code == 202, resp.text
    job = quiet_store.get_job(resp.json()["job_id"])
    assert job.options["video_provider"] == "replicate:minimax/video-01,local"
    assert job.options["voice_provider"] == "local" and job.options["tts_voice"] == "nova"
    assert launch_target(job).tags["badapple/provider"] == "replicate"

    plain = quiet_store.get_job(quiet.post("/api/generate", data=BRIEF).json()["job_id"])
    assert "badapple/provider" not in launch_target(plain).tags, "local-only runs are not provider-limited"


def _run_tags(dagster_url: str, job_id: str) -> dict[str, str]:
    query = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
        ... on Runs { results { runId tags { key value } } } } }"""
    data = httpx.post(f"{dagster_url}/graphql", json={"query": query, "variables": {
        "tags": [{"key": "badapple/job_id", "value": job_id}]}}, timeout=30).json()
    runs = data["data"]["runsOrError"]["results"]
    assert runs, f"no Dagster run for {job_id}"
    return {t["key"]: t["value"] for t in runs[0]["tags"]}


@pytest.mark.slow
def test_job_with_remote_providers_runs_end_to_end_and_shows_its_fallback(client: httpx.Client, stack: Any) -> None:
    resp = client.post("/api/generate", data=BRIEF | {"script_provider": "openai:gpt-4o-mini",
                                                      "video_provider": "replicate,local"})
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    deadline = time.monotonic() + 600
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert job["status"] == "completed", job
    assert job["degraded"] is True
    assert job["cost_usd"] > 0, "the (fake) OpenAI script was priced from its token usage"
    stages = {s["stage_name"]: s for s in job["stages"]}
    video = stages["video_gen"]
    assert video["provider"] == "local" and video["requested_provider"] == "replicate:minimax/video-01"
    assert [f["code"] for f in video["fallbacks"]] == ["AUTHENTICATION_ERROR"]
    script = stages["script_gen"]
    assert script["provider"] == "openai:gpt-4o-mini" and script["requested_provider"] == script["provider"]
    assert script["cost_usd"] > 0 and not script["fallbacks"]
    assert _run_tags(stack.dagster_url, job_id)["badapple/provider"] == "replicate"
