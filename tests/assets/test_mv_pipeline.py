"""The music-video pipeline across two flavor partitions of one project, with real media, then probed."""

import os

import dagster as dg
import pytest

from badapple_dagster.artifacts import artifact_store_from_settings
from badapple_dagster.assets.mv import MV_ASSETS, mv_clips
from badapple_dagster.definitions import build_definitions
from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.mv_submission import add_mv_partitions, create_mv_project
from badapple_dagster.settings import get_settings
from badapple_dagster.store.jobs import JobStore
from badapple_dagster.store.mv import MvStore
from badapple_dagster.sweep_report import write_report

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("BADAPPLE_DATA_DIR", str(tmp_path))
    for var in ("DATABASE_URL", "REDIS_URL", "BADAPPLE_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)
    with dg.instance_for_test() as instance:
        yield instance


def materialize(instance, project_id, variant, assets=MV_ASSETS):
    key = dg.MultiPartitionKey({"project": project_id, "flavor": variant})
    return dg.materialize(assets, partition_key=key, instance=instance, resources=build_definitions().resources)


def test_two_flavors_render_apart_and_one_can_be_redone_alone(env):
    store = MvStore(JobStore(get_settings().database_url))
    arts = artifact_store_from_settings()
    # Short variants keep the suite fast: 2 scenes of 2 s each.
    project = create_mv_project(store, arts, concept="Robot exploring Austin, Texas",
                                character_description="Silver metallic humanoid robot with a red scarf",
                                flavors=["default", "concert"],
                                grid={"number_of_scenes": ["2"], "video_duration": ["2"]}, sweep=True)
    add_mv_partitions(env, project)
    variants = [v.variant for v in project.variants]
    assert len(variants) == 2 and variants[0].startswith("concert") and variants[1].startswith("default")
    for v in variants:
        assert materialize(env, project.id, v).success

    for v in variants:
        base = f"mv/projects/{project.id}/{v}"
        info = probe(arts.local_path(f"{base}/music_video/music_video.mp4"))
        assert (info.video_codec, info.audio_codec, info.pix_fmt) == ("h264", "aac", "yuv420p")
        assert (info.width, info.height) == (1920, 1080) and 3.0 <= info.duration <= 5.0
        clips = arts.get_json(f"{base}/mv_clips/manifest.json")["clips"]
        assert [c["key"].rsplit("/", 1)[1] for c in clips] == ["scene_001.mp4", "scene_002.mp4"]
    job = JobStore(get_settings().database_url).get_job(project.variants[0].job.id)
    assert job.status == "completed" and job.kind == "mv" and job.video_key.endswith("music_video.mp4")
    # No provider chosen: every stage is local, says so, and costs nothing.
    assert job.degraded is False and job.cost_usd == 0.0
    for stage in ("mv_scenes", "character_reference", "mv_clips"):
        data = job.stage(stage).stage_data
        assert (data["provider"], data["degraded"], data["cost_usd"]) == ("local", False, 0.0), stage

    # Re-materialize only the concert flavor's clips: the default flavor's outputs are untouched.
    other = f"mv/projects/{project.id}/{variants[1]}/mv_clips/manifest.json"
    before = arts.get_bytes(other)
    before_mtime = os.path.getmtime(arts.local_path(other))
    assert materialize(env, project.id, variants[0], assets=[mv_clips]).success
    assert arts.get_bytes(other) == before and os.path.getmtime(arts.local_path(other)) == before_mtime

    report = write_report(store.get_project(project.id), arts, project.id)
    assert report["status"] == "completed"
    by_variant = {v["variant"]: v for v in report["variants"]}
    concert = by_variant[variants[0]]
    assert concert["scene_count"] == 2 and concert["duration_s"] > 3 and concert["render_seconds"] > 0
    assert "parameters.camera_angle" in concert["config_diff_vs_default"]
    html = arts.get_bytes(report["report_html_key"]).decode()
    assert html.count("data:image/jpeg;base64") == 2 and variants[0] in html


def test_unknown_flavor_is_refused_listing_valid_ones(env):
    from badapple_dagster.media.brief import BriefError

    store = MvStore(JobStore(get_settings().database_url))
    with pytest.raises(BriefError) as err:
        create_mv_project(store, artifact_store_from_settings(), concept="x", character_description="y",
                          flavors=["nope"])
    assert "default" in err.value.message and "concert" in err.value.message
