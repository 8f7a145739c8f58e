"""Provider chains, run tags, the ledger sums and the dry-run estimate (library and API helper)."""

import pytest

from badapple_dagster.config import AdConfig
from badapple_dagster.media.models import Brief
from badapple_dagster.providers.errors import ProviderError
from badapple_dagster.providers.estimate import estimate
from badapple_dagster.providers.ledger import Ledger
from badapple_dagster.providers.pricing import cost_usd, price_entry
from badapple_dagster.providers.registry import ProviderSpec, parse_chain, provider_run_tags, run_chain
from badapple_dagster.providers.stages import run_chain_for

BRIEF = Brief("Volt Energy Drink", "energetic", "Grab yours today")


def test_parse_chain():
    assert parse_chain("replicate:minimax/video-01, local", "video") == [
        ProviderSpec("replicate", "minimax/video-01"), ProviderSpec("local")]
    assert parse_chain("openai", "script") == [ProviderSpec("openai", "gpt-4o-mini")]
    assert parse_chain("", "voice") == [ProviderSpec("local")]
    with pytest.raises(ValueError, match="unknown video provider"):
        parse_chain("runway:gen3", "video")


def test_run_tags_pick_the_remote_provider():
    assert provider_run_tags({"video_provider": "replicate:google/veo-3.1,local"}) == {
        "badapple/provider": "replicate"}
    assert provider_run_tags(AdConfig(script_provider="openai")) == {"badapple/provider": "openai"}
    assert provider_run_tags(AdConfig()) == {}


def test_missing_key_falls_back_and_is_recorded(monkeypatch, meter_for):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from badapple_dagster.media.palette import palette_for
    from badapple_dagster.media.styles import resolve_style

    pal = palette_for(resolve_style("energetic"), None)
    outcome = run_chain_for(parse_chain("openai:gpt-4o-mini,local", "script"), "script", AdConfig(),
                            meter_for("script_gen"), lambda w: w.write(BRIEF, seed=1, palette=pal))
    assert outcome.degraded and outcome.used.label == "local"
    assert outcome.failures[0]["code"] == "AUTHENTICATION_ERROR"
    assert outcome.describe()["requested_provider"] == "openai:gpt-4o-mini"


def test_last_provider_error_propagates():
    def boom(_p):
        raise ProviderError("RATE_LIMIT_EXCEEDED", "x", "slow down", retryable=True)
    with pytest.raises(ProviderError):
        run_chain([ProviderSpec("local")], lambda s: s, boom)


def test_ledger_sums_per_stage_and_job(store):
    ledger = Ledger(store.engine)
    for stage, cost in [("script_gen", 0.0012), ("voice_gen", 0.05), ("video_gen", 0.5), ("video_gen", 0.5)]:
        ledger.record(job_id="job-1", stage=stage, scene=None, key=f"k{cost}{stage}", provider="p", model="m",
                      status="succeeded", cost_usd=cost)
    ledger.record(job_id="job-1", stage="video_gen", scene=1, key="kf", provider="p", model="m", status="failed",
                  error=ProviderError("PROVIDER_ERROR", "p", "boom"))
    ledger.record(job_id="other", stage="video_gen", scene=1, key="ko", provider="p", model="m",
                  status="succeeded", cost_usd=9.0)
    assert ledger.cost("job-1", "video_gen") == pytest.approx(1.0)
    assert ledger.cost("job-1") == pytest.approx(1.0512)


def test_price_table():
    assert cost_usd("local", "", __import__("badapple_dagster.providers.pricing", fromlist=["Usage"]).Usage(
        characters=1000)) == 0.0
    assert price_entry("replicate", "brand/new-model")["per_prediction"] > 0  # provider default row


def test_estimate_local_is_free_and_remote_is_priced():
    local = estimate(BRIEF, AdConfig())
    assert local["total_cost_usd"] == 0.0 and set(local["stages"]) == {"script_gen", "voice_gen", "video_gen",
                                                                       "compositing"}
    remote = estimate(BRIEF, AdConfig(script_provider="openai", voice_provider="elevenlabs",
                                      video_provider="replicate:minimax/video-01,local"))
    assert remote["stages"]["video_gen"] == {"provider": "replicate:minimax/video-01", "model": "minimax/video-01",
                                             "cost_usd": 2.0, "seconds": 180.0}  # 4 predictions x $0.50
    assert remote["stages"]["voice_gen"]["cost_usd"] > 0 and remote["stages"]["script_gen"]["cost_usd"] > 0
    assert remote["total_cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in remote["stages"].values()),
                                                     abs=1e-4)
    assert remote["total_seconds"] > local["total_seconds"]


def test_api_dry_run_helpers():
    from api.dry_run import estimate_for, wants_dry_run
    from api.errors import ApiError
    from api.uploads import GenerateForm

    form = GenerateForm({"product_name": "Volt", "style": "energetic", "cta_text": "Buy now", "dry_run": "true",
                         "video_provider": "replicate:bytedance/seedance-1-pro"})
    assert wants_dry_run(form)
    out = estimate_for(form)
    assert out["dry_run"] is True and out["stages"]["video_gen"]["cost_usd"] > 0
    assert not wants_dry_run(GenerateForm({"product_name": "V", "style": "energetic", "cta_text": "B",
                                           "video_provider": "replicate,local"}))
    with pytest.raises(ApiError):
        estimate_for(GenerateForm({"product_name": "V", "style": "energetic", "cta_text": "B",
                                   "dry_run": "1", "video_provider": "runway"}))
