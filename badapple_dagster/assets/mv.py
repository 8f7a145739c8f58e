"""The music-video pipeline: mv_scenes -> character_reference -> mv_clips -> music_video.

Partitioned by project × flavor variant (a multi-partition of the dynamic ``music_jobs`` and ``mv_flavors``
dimensions), so two flavors of one project never overwrite each other: outputs live under
``mv/projects/{project}/{variant}/{stage}/``. A project's inputs are stored with the project and read by
partition key, so a UI re-materialization regenerates that project.
"""

import os
from typing import Any

import dagster as dg
from pydantic import Field

from ..mv.flavors import apply_overrides
from ..names import MUSIC_JOBS, MV_FLAVORS, MV_PROVIDER_OPTIONS
from ..resources import ArtifactStoreResource, JobStoreResource, ProgressResource
from ..store.mv import MvStore, mv_job_id
from .stage import (
    LOCAL_MEDIA_POOL,
    RETRY_POLICY,
    contact_sheet,
    now_iso,
    permanent_failure,
    preview_markdown,
    stage_run,
)

music_jobs_partitions = dg.DynamicPartitionsDefinition(name=MUSIC_JOBS)
mv_flavor_partitions = dg.DynamicPartitionsDefinition(name=MV_FLAVORS)
mv_partitions = dg.MultiPartitionsDefinition({"project": music_jobs_partitions, "flavor": mv_flavor_partitions})

COMMON: dict[str, Any] = {
    "partitions_def": mv_partitions,
    "retry_policy": RETRY_POLICY,
    "pool": LOCAL_MEDIA_POOL,
    "group_name": "mv_pipeline",
}


class MvConfig(dg.Config):
    seed: int = Field(default=-1, description="Creative seed; -1 uses the project's own seed.")
    # Provider chains per stage (docs/PROVIDERS.md), like the ad ones. A remote part without a model uses the
    # flavor's (image_params ``model`` / ``video_model``). Empty uses the project's choice (made when it was
    # submitted), else local, so a UI re-materialization renders with what the project asked for.
    scene_provider: str = Field(default="", description="Scene writer chain, e.g. 'openai:gpt-4o-mini,local'; "
                                "empty: the project's choice, else local.")
    image_provider: str = Field(default="", description="Character reference chain, e.g. 'replicate,local' (the "
                                "flavor's image model); empty: the project's choice, else local.")
    clip_provider: str = Field(default="", description="Clip chain, e.g. 'replicate:minimax/video-01,local'; empty: "
                               "the project's choice, else local.")
    llm_base_url: str = Field(default="", description="OpenAI-compatible base URL (vLLM, Ollama); empty: default.")


# Stored in a project's options by the API / CLI and filled into blank run-config fields at run time.


def with_project_providers(config: MvConfig, options: dict[str, Any], flavor: Any) -> MvConfig:
    """Run config > the project's stored choice > local, with the flavor's model names filled into remote parts
    that name none. Returns a copy. A chain that does not parse is left as it is, so the stage reports it."""
    from ..providers.registry import parse_chain

    models = {"image": str(flavor.image_params["model"]), "clip": str(flavor.image_params["video_model"])}
    update: dict[str, str] = {}
    for name, stage in MV_PROVIDER_OPTIONS.items():
        spec = getattr(config, name) or str(options.get(name) or "") or "local"
        try:
            update[name] = ",".join(p.label for p in parse_chain(spec, stage, models.get(stage)))
        except ValueError:
            update[name] = spec
    return config.model_copy(update=update)


class _Ctx:
    """Everything a MV stage needs about its partition."""

    def __init__(self, context: dg.AssetExecutionContext, jobs: JobStoreResource, config: MvConfig) -> None:
        from ..config import job_seed
        from ..mv.flavors import FlavorError, load_flavor

        keys = context.partition_key.keys_by_dimension
        self.project_id, self.variant = keys["project"], keys["flavor"]
        self.job_id = mv_job_id(self.project_id, self.variant)
        self.store = jobs.get()
        project = MvStore(self.store).get_project(self.project_id)
        if project is None or project.variant(self.variant) is None:
            raise permanent_failure(
                f"No music-video project {self.project_id!r} with variant {self.variant!r} is stored. Create it "
                "with POST /api/mv/projects or `badapple sweep`."
            )
        self.project = project
        v = project.variant(self.variant)
        try:
            self.flavor = apply_overrides(load_flavor(v.flavor), v.overrides)
        except (FlavorError, ValueError) as exc:
            raise permanent_failure(f"flavor {v.flavor!r}: {exc}") from exc
        self.overrides = v.overrides
        self.seed = config.seed if config.seed >= 0 else int(project.options.get("seed", job_seed(self.project_id)))
        self.prefix = f"mv/projects/{self.project_id}/{self.variant}"
        self.config = with_project_providers(config, project.options, self.flavor)



@dg.asset(description="Scene prompts for the project's concept, written from the flavor's templates and "
          "parameters (offline writer, or an LLM sent the flavor's scene_generation_prompt).", kinds={"python"},
          **COMMON)
def mv_scenes(context: dg.AssetExecutionContext, config: MvConfig, jobs: JobStoreResource,
              artifacts: ArtifactStoreResource, progress: ProgressResource) -> dg.MaterializeResult:
    from ..providers.stages import finish_stage, run_providers

    c = _Ctx(context, jobs, config)
    art = artifacts.get()
    with stage_run(context, "mv_scenes", c.store, art, progress.reporter(c.store), job_id=c.job_id,
                   key_prefix=c.prefix) as run:
        num_scenes = c.project.options.get("num_scenes") if "number_of_scenes" not in c.overrides else None
        try:
            outcome = run_providers(run, c.config, "scene", lambda writer: writer.write(
                c.project.concept, c.project.character_description, c.flavor, num_scenes=num_scenes, seed=c.seed))
        except ValueError as exc:
            raise permanent_failure(f"mv_scenes: {exc}") from exc
        scenes = outcome.value
        resolved = c.flavor.to_dict()
        manifest = {"project_id": c.project_id, "variant": c.variant, "flavor": c.flavor.name, "seed": c.seed,
                    "overrides": c.overrides, "created_at": now_iso(), "scenes": [s.to_dict() for s in scenes],
                    "provider": outcome.used.label, "resolved_config": resolved,
                    "scene_request": c.flavor.scene_request(c.project.concept, c.project.character_description,
                                                            len(scenes))}
        uri, provider_meta = finish_stage(run, manifest, outcome)
        table = "\n".join(f"| {s.sequence} | {s.shot} | {s.prompt[:140]} |" for s in scenes)
        return dg.MaterializeResult(metadata={
            "model": outcome.used.model or "template-v1", "seed": c.seed, "flavor": c.flavor.name,
            "variant": c.variant, "scenes": len(scenes),
            "scene_prompts": dg.MetadataValue.md("| # | shot | prompt |\n|---|---|---|\n" + table),
            "resolved_config": dg.MetadataValue.json(resolved), "manifest_uri": uri,
            "duration_s": run.elapsed(), **provider_meta,
        })


@dg.asset(deps=[mv_scenes], description="Character reference: the uploaded image, else the flavor's "
          "character_reference_prompt on an image model, or a stylised full-body character card rendered offline "
          "in the flavor's look.", kinds={"python"}, **COMMON)
def character_reference(context: dg.AssetExecutionContext, config: MvConfig, jobs: JobStoreResource,
                        artifacts: ArtifactStoreResource, progress: ProgressResource) -> dg.MaterializeResult:
    from ..providers.stages import finish_stage, run_providers

    c = _Ctx(context, jobs, config)
    art = artifacts.get()
    with stage_run(context, "character_reference", c.store, art, progress.reporter(c.store), job_id=c.job_id,
                   key_prefix=c.prefix) as run:
        if c.project.reference_image_key:  # the user's own image always wins: nothing is generated or paid
            path = run.local(c.project.reference_image_key)
            outcome, model = None, "upload"
        else:
            out = os.path.join(run.work_dir, "character_reference.png")
            outcome = run_providers(run, c.config, "image", lambda artist: artist.render(
                c.project.character_description, c.flavor, out, seed=c.seed))
            path = outcome.value
            model = outcome.used.model or "pillow-character-card"
        stored = run.put("character_reference" + os.path.splitext(path)[1], path)
        thumb = os.path.join(run.work_dir, "thumb.jpg")
        from PIL import Image

        with Image.open(path) as im:
            im.convert("RGB").resize((256, round(256 * im.height / im.width))).save(thumb, "JPEG", quality=80)
        source = "upload" if outcome is None else ("local-render" if not outcome.used.remote else outcome.used.label)
        manifest = {"project_id": c.project_id, "variant": c.variant, "created_at": now_iso(), "image": stored,
                    "source": source, "model": model}
        _, provider = finish_stage(run, manifest, outcome, image=stored["uri"])
        return dg.MaterializeResult(metadata={
            "model": model, "seed": c.seed, "bytes": stored["bytes"], "sha256": stored["sha256"],
            "image_uri": stored["uri"], "preview": preview_markdown(thumb, "character reference"),
            "duration_s": run.elapsed(), **provider,
        })


@dg.asset(deps=[character_reference], description="One clip per scene from the scene prompt and the character "
          "reference: a video model (prompt + the flavor's video rules), or the offline renderer (motion, palette "
          "and framing from the flavor).", kinds={"ffmpeg"}, **COMMON)
def mv_clips(context: dg.AssetExecutionContext, config: MvConfig, jobs: JobStoreResource,
             artifacts: ArtifactStoreResource, progress: ProgressResource) -> dg.MaterializeResult:
    from ..media.compositor import extract_frame
    from ..providers.stages import finish_stage, run_providers

    c = _Ctx(context, jobs, config)
    art = artifacts.get()
    with stage_run(context, "mv_clips", c.store, art, progress.reporter(c.store), job_id=c.job_id,
                   key_prefix=c.prefix) as run:
        scenes = run.manifest("mv_scenes")["scenes"]
        ref = run.local(run.manifest("character_reference")["image"]["key"])
        outcome = run_providers(run, c.config, "clip", lambda renderer: renderer.render(
            scenes, ref, c.flavor, run.work_dir, seed=c.seed, progress=run.progress))
        clips, frames = [], []
        for i, (scene, info) in enumerate(zip(scenes, outcome.value, strict=True)):
            stored = run.put(f"scenes/scene_{scene['sequence']:03d}.mp4", info.path, "video/mp4")
            clips.append({**info.to_dict(), "path": None, **stored, "sequence": scene["sequence"]})
            frames.append(extract_frame(info.path, info.duration / 2, os.path.join(run.work_dir, f"f{i}.jpg"),
                                        width=320))
        sheet = contact_sheet(frames, os.path.join(run.work_dir, "contact.jpg"), thumb_height=180)
        sheet_info = run.put("contact_sheet.jpg", sheet, "image/jpeg")
        manifest = {"project_id": c.project_id, "variant": c.variant, "created_at": now_iso(), "clips": clips,
                    "contact_sheet": sheet_info, "provider": outcome.used.label}
        _, provider_meta = finish_stage(run, manifest, outcome)
        return dg.MaterializeResult(metadata={
            "model": outcome.used.model or "pillow-layers+ffmpeg", "seed": c.seed, "clips": len(clips),
            "clip_uris": dg.MetadataValue.json([x["uri"] for x in clips]),
            "bytes": sum(x["bytes"] for x in clips),
            "render_seconds": round(sum(x["render_seconds"] for x in clips), 2),
            "preview": preview_markdown(sheet, "scene clips"), "duration_s": run.elapsed(),
            **provider_meta,
        })


@dg.asset(deps=[mv_clips], description="The music video: clips joined on the song's beats (uploaded track or a "
          "generated one), song fitted to the video, loudness-normalised.", kinds={"ffmpeg"}, **COMMON)
def music_video(context: dg.AssetExecutionContext, config: MvConfig, jobs: JobStoreResource,
                artifacts: ArtifactStoreResource, progress: ProgressResource) -> dg.MaterializeResult:
    from ..media.compositor import extract_frame
    from ..mv.beats import detect_beats
    from ..mv.look import look_of
    from ..mv.music_video import assemble_music_video
    from ..mv.song import SongError, generate_song, load_song
    from ..providers.stages import costs

    c = _Ctx(context, jobs, config)
    art = artifacts.get()
    with stage_run(context, "music_video", c.store, art, progress.reporter(c.store), job_id=c.job_id,
                   key_prefix=c.prefix) as run:
        clips_m = run.manifest("mv_clips")
        clips = [run.local(x["key"]) for x in clips_m["clips"]]
        total = sum(x["duration"] for x in clips_m["clips"])
        run.progress(0.1, "Preparing the song...")
        if c.project.audio_key:
            try:
                song = load_song(run.local(c.project.audio_key)).path
            except SongError as exc:
                raise permanent_failure(f"the project's song cannot be used: {exc}") from exc
            song_source = "upload"
        else:
            song = generate_song(total + 2.0, look_of(c.flavor).groove_bpm, c.seed,
                                 os.path.join(run.work_dir, "song.wav"))
            song_source = "generated"
        run.progress(0.25, "Finding the beats...")
        beats = detect_beats(song)
        run.progress(0.35, "Cutting on the beat...")
        result = assemble_music_video(clips, song, os.path.join(run.work_dir, "music_video.mp4"), beats=beats,
                                      flavor=c.flavor)
        video = run.put("music_video.mp4", result.path, "video/mp4")
        poster = extract_frame(result.path, min(2.0, result.duration / 3), os.path.join(run.work_dir, "p.jpg"),
                               width=480)
        poster_info = run.put("poster.jpg", poster, "image/jpeg")
        manifest = {"project_id": c.project_id, "variant": c.variant, "created_at": now_iso(), "video": video,
                    "poster": poster_info, "song_source": song_source, "bpm": beats.bpm,
                    "result": {**result.to_dict(), "path": None, "segments": None}}
        uri = art.put_json(run.key("manifest.json"), manifest)
        _, job_cost = costs(run)  # the assembly is local; the job's cost is what the earlier stages paid
        run.complete({"manifest": uri, "video": video["uri"]}, video_key=video["key"], cost_usd=job_cost)
        return dg.MaterializeResult(metadata={
            "provider": "local-ffmpeg", "model": "beat-cut-assembler", "seed": c.seed, "song": song_source,
            "bpm": round(beats.bpm, 2), "video_duration_s": round(result.duration, 3),
            "resolution": f"{result.width}x{result.height}", "cuts": len(result.cut_times),
            "beat_error_max_s": round(result.beat_error_max, 4), "loudness_lufs": round(result.loudness_lufs, 2),
            "bytes": video["bytes"], "sha256": video["sha256"], "video_uri": video["uri"], "video_key": video["key"],
            "poster": preview_markdown(poster, "poster frame"), "duration_s": run.elapsed(), "cost_usd": 0.0,
            "job_cost_usd": job_cost,
        })


MV_ASSETS = [mv_scenes, character_reference, mv_clips, music_video]
