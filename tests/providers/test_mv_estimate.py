"""MV provider selection (run config > project option > local, flavor models for unnamed remote parts) and the
MV dry-run estimate from the price table."""

import dataclasses

import pytest

from badapple_dagster.assets.mv import MvConfig, with_project_providers
from badapple_dagster.mv.flavors import load_flavor
from badapple_dagster.providers.mv_estimate import estimate_mv
from badapple_dagster.providers.pricing import Usage, cost_usd
from badapple_dagster.providers.registry import ProviderSpec, parse_chain, provider_run_tags

CONCEPT, CHARACTER = "Robot exploring Austin, Texas", "Silver metallic humanoid robot with a red scarf"


def test_chains_for_the_mv_stages():
    assert parse_chain("replicate, local", "clip", "minimax/video-01") == [
        ProviderSpec("replicate", "minimax/video-01"), ProviderSpec("local")]
    assert parse_chain("replicate:google/veo-3.1", "clip", "minimax/video-01")[0].model == "google/veo-3.1"
    assert parse_chain("replicate", "image")[0].model == "google/imagen-4"  # no flavor at hand: default's
    assert parse_chain("ollama", "scene")[0] == ProviderSpec("ollama", "llama3.1")
    with pytest.raises(ValueError, match="unknown image provider"):
        parse_chain("openai:dall-e-3", "image")
    assert provider_run_tags({"clip_provider": "replicate,local"}) == {"badapple/provider": "replicate"}
    assert provider_run_tags({"scene_provider": "openai"}) == {"badapple/provider": "openai"}


def test_run_config_then_project_option_then_local_with_the_flavor_models():
    flavor = load_flavor("default")
    options = {"image_provider": "replicate,local", "clip_provider": "replicate:minimax/video-01"}
    resolved = with_project_providers(MvConfig(), options, flavor)
    assert resolved.scene_provider == "local"
    assert resolved.image_provider == "replicate:google/imagen-4,local"  # the flavor's image_params model
    assert resolved.clip_provider == "replicate:minimax/video-01"
    flux = dataclasses.replace(flavor, image_params={**flavor.image_params,
                                                     "model": "black-forest-labs/flux-schnell"})
    overridden = with_project_providers(MvConfig(image_provider="replicate", scene_provider="openai"), options, flux)
    assert overridden.image_provider == "replicate:black-forest-labs/flux-schnell"
    assert overridden.scene_provider == "openai:gpt-4o-mini"
    assert with_project_providers(MvConfig(clip_provider="runway"), {}, flavor).clip_provider == "runway"


def test_estimate_is_free_offline_and_priced_remotely():
    flavor = load_flavor("default")  # 4 scenes of 8 s, imagen-4, veo-3.1
    local = estimate_mv(flavor, concept=CONCEPT, character_description=CHARACTER)
    assert local["total_cost_usd"] == 0.0 and list(local["stages"]) == ["mv_scenes", "character_reference",
                                                                         "mv_clips", "music_video"]
    assert local["scenes"] == 4 and local["planned_video_seconds"] == 32.0
    remote = estimate_mv(flavor, concept=CONCEPT, character_description=CHARACTER, num_scenes=3,
                         providers={"scene_provider": "openai", "image_provider": "replicate",
                                    "clip_provider": "replicate:minimax/video-01,local"})
    stages = remote["stages"]
    assert stages["character_reference"]["cost_usd"] == cost_usd("replicate", "google/imagen-4", Usage(predictions=1))
    assert stages["mv_clips"]["cost_usd"] == pytest.approx(3 * 0.5)  # minimax is priced per prediction
    assert stages["mv_clips"]["seconds"] > 180  # one wave of predictions, then conforming
    assert 0 < stages["mv_scenes"]["cost_usd"] < 0.01
    short = dataclasses.replace(flavor, image_params={**flavor.image_params, "video_duration": 3})
    veo = estimate_mv(short, concept=CONCEPT, character_description=CHARACTER, num_scenes=2,
                      providers={"clip_provider": "replicate"})
    assert veo["stages"]["mv_clips"]["cost_usd"] == pytest.approx(2 * 4 * 0.2)  # veo is asked for 4 s, not 3
    uploaded = estimate_mv(flavor, concept=CONCEPT, character_description=CHARACTER, has_reference_image=True,
                           providers={"image_provider": "replicate"})
    assert uploaded["stages"]["character_reference"] == {"provider": "upload", "model": "upload", "cost_usd": 0.0,
                                                         "seconds": 0.0}
    with pytest.raises(ValueError, match="unknown clip provider"):
        estimate_mv(flavor, concept=CONCEPT, character_description=CHARACTER, providers={"clip_provider": "runway"})
