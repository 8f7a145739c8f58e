"""The ad pipeline: script_gen -> voice_gen -> video_gen -> compositing, each partitioned by job id.

Each stage writes its media to the artifact store under ``ads/{job_id}/{stage}/`` plus a small
``manifest.json`` that the next stage reads, so re-materializing one stage reuses the stored upstream
outputs and nothing is ever pickled. Media modules are imported inside the assets: the code location loads
fast and every run worker pays only for what its step uses.
"""

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import dagster as dg

from ..config import AdConfig, resolve_options
from ..partitions import ad_jobs_partitions
from ..resources import ArtifactStoreResource, JobStoreResource, ProgressResource
from .stage import (
    LOCAL_MEDIA_POOL,
    RETRY_POLICY,
    contact_sheet,
    now_iso,
    permanent_failure,
    preview_markdown,
    stage_run,
)

GROUP = "ad_pipeline"
COMMON: dict[str, Any] = {
    "partitions_def": ad_jobs_partitions,
    "retry_policy": RETRY_POLICY,
    "pool": LOCAL_MEDIA_POOL,
    "group_name": GROUP,
}

@dg.asset(description="Ad copy: four scenes (hook, benefit, proof, CTA) with voiceover, on-screen text and "
          "timing, written in the brief's style.", kinds={"python"}, **COMMON)
def script_gen(
    context: dg.AssetExecutionContext,
    config: AdConfig,
    jobs: JobStoreResource,
    artifacts: ArtifactStoreResource,
    progress: ProgressResource,
) -> dg.MaterializeResult:
    from ..media.brief import BriefError, build_brief
    from ..media.palette import palette_for
    from ..media.styles import resolve_style
    from ..providers.stages import finish_stage, run_providers

    store, art = jobs.get(), artifacts.get()
    with stage_run(context, "script_gen", store, art, progress.reporter(store)) as run:
        stored = run.brief()
        image_path = run.local(stored.image_key) if stored.image_key else None
        try:
            brief = build_brief(stored.product_name, stored.style, stored.cta_text, image_path)
            opts = resolve_options(run.job_id, stored.options, config)
        except (BriefError, ValueError) as exc:
            raise permanent_failure(f"Invalid brief for job {run.job_id}: {exc}") from exc
        style = resolve_style(brief.style)
        palette = palette_for(style, image_path)
        outcome = run_providers(run, config, "script",
                                lambda writer: writer.write(brief, seed=opts["seed"], palette=palette))
        script = outcome.value
        manifest = {
            "job_id": run.job_id,
            "stage": "script_gen",
            "created_at": now_iso(),
            "options": opts,
            "image_key": stored.image_key,
            "script": script.to_dict(),
        }
        uri, provider_meta = finish_stage(run, manifest, outcome)
        return dg.MaterializeResult(
            metadata={
                "model": script.model,
                "seed": opts["seed"],
                "style": style.key,
                "aspect_ratio": opts["aspect_ratio"],
                "palette_source": palette.source,
                "palette": dg.MetadataValue.json(palette.to_dict()),
                "scenes": len(script.scenes),
                "planned_duration_s": script.planned_duration,
                "script": dg.MetadataValue.md(script.to_markdown()),
                "manifest_uri": dg.MetadataValue.url(uri) if uri.startswith("s3") else dg.MetadataValue.path(uri),
                "duration_s": run.elapsed(),
                **provider_meta,
            }
        )

@dg.asset(deps=[script_gen], description="Voiceover: real speech (espeak-ng) with per-word timings for "
          "captions and scene windows cut on sentence boundaries.", kinds={"python"}, **COMMON)
def voice_gen(
    context: dg.AssetExecutionContext,
    config: AdConfig,
    jobs: JobStoreResource,
    artifacts: ArtifactStoreResource,
    progress: ProgressResource,
) -> dg.MaterializeResult:
    from ..media.models import Script
    from ..providers.stages import finish_stage, run_providers

    store, art = jobs.get(), artifacts.get()
    with stage_run(context, "voice_gen", store, art, progress.reporter(store)) as run:
        script_m = run.manifest("script_gen")
        script = Script.from_dict(script_m["script"])
        opts = script_m["options"]
        voice_name = config.voice or opts.get("voice")
        rate = config.speech_rate or opts.get("speech_rate")
        wav = os.path.join(run.work_dir, "voice.wav")
        run.progress(0.1, "Synthesising speech...")
        try:
            # The espeak voice/rate options apply to the local voice only; remote voices use tts_voice.
            outcome = run_providers(run, config, "voice", lambda provider: provider.synthesize(
                script, wav, voice=voice_name if provider.name.startswith("espeak") else None,
                rate=rate if provider.name.startswith("espeak") else None))
            track = outcome.value
        except ValueError as exc:  # unknown voice, script that cannot fit the duration bounds
            raise permanent_failure(f"voice_gen cannot voice this script: {exc}") from exc
        stored = run.put("voice.wav", wav, "audio/wav")
        manifest = {"job_id": run.job_id, "stage": "voice_gen", "created_at": now_iso(),
                    "voice": {**track.to_dict(), "wav_path": None}, "wav": stored}
        _, provider_meta = finish_stage(run, manifest, outcome, wav=stored["uri"])
        return dg.MaterializeResult(
            metadata={
                "engine": track.provider,
                "model": track.voice,
                "seed": opts["seed"],
                "speech_rate_wpm": track.rate,
                "audio_duration_s": round(track.duration, 3),
                "words": len(track.words),
                "scene_windows": dg.MetadataValue.json([w.to_dict() for w in track.windows]),
                "bytes": stored["bytes"],
                "sha256": stored["sha256"],
                "wav_uri": stored["uri"],
                "duration_s": run.elapsed(),
                **provider_meta,
            }
        )

@dg.asset(deps=[voice_gen], description="Scene clips: one locally rendered clip per scene (product hero in "
          "motion, style background and palette, animated on-screen text).", kinds={"ffmpeg"}, **COMMON)
def video_gen(
    context: dg.AssetExecutionContext,
    config: AdConfig,
    jobs: JobStoreResource,
    artifacts: ArtifactStoreResource,
    progress: ProgressResource,
) -> dg.MaterializeResult:
    from ..media.compositor import extract_frame
    from ..media.live_scene import LiveScene, rest_preview
    from ..media.live_scene import to_manifest as live_to_manifest
    from ..media.models import Script, VoiceTrack, size_for_aspect
    from ..providers.stages import finish_stage, run_providers

    store, art = jobs.get(), artifacts.get()
    with stage_run(context, "video_gen", store, art, progress.reporter(store)) as run:
        script_m = run.manifest("script_gen")
        voice_m = run.manifest("voice_gen")
        script = Script.from_dict(script_m["script"])
        voice = VoiceTrack.from_dict({**voice_m["voice"], "wav_path": ""})
        opts = script_m["options"]
        aspect = config.aspect_ratio or opts["aspect_ratio"]
        try:
            size = size_for_aspect(aspect)
        except ValueError as exc:
            raise permanent_failure(str(exc)) from exc
        image = run.local(script_m["image_key"]) if script_m.get("image_key") else None
        # Live stages from the local renderer (animated in compositing's single encode), clips from remote
        # ones: both are stored and composited alike.
        outcome = run_providers(run, config, "video", lambda renderer: renderer.scenes(
            script, voice, product_image=image, size=size, out_dir=run.work_dir, seed=opts["seed"],
            progress=run.progress))
        stored_clips, frames = [], []
        for scene in outcome.value:
            frame = os.path.join(run.work_dir, f"frame_{scene.index}.jpg")
            if isinstance(scene, LiveScene):
                stored_clips.append(live_to_manifest(scene, run.put))
                frames.append(rest_preview(scene, size, frame))
                continue
            info = run.put(f"scene_{scene.index + 1:02d}.mp4", scene.path, "video/mp4")
            stored_clips.append({**scene.to_dict(), "kind": "clip", "path": None, **info})
            frames.append(extract_frame(scene.path, min(scene.duration * 0.6, scene.duration - 0.1), frame,
                                        width=360))
        live = any(c["kind"] == "live" for c in stored_clips)
        sheet = contact_sheet(frames, os.path.join(run.work_dir, "contact.jpg"))
        preview = run.put("contact_sheet.jpg", sheet, "image/jpeg")
        manifest = {"job_id": run.job_id, "stage": "video_gen", "created_at": now_iso(), "aspect_ratio": aspect,
                    "width": size[0], "height": size[1], "clips": stored_clips, "contact_sheet": preview}
        _, provider_meta = finish_stage(run, manifest, outcome, scenes=len(stored_clips))
        return dg.MaterializeResult(
            metadata={
                "model": outcome.used.model or "pillow-layers+ffmpeg",
                "seed": opts["seed"],
                "aspect_ratio": aspect,
                "resolution": f"{size[0]}x{size[1]}",
                "clips": len(stored_clips),
                "scene_kind": "live stage (stills + motion)" if live else "clip",
                "clip_durations_s": dg.MetadataValue.json([round(c["duration"], 3) for c in stored_clips]),
                "bytes": sum(_stored_bytes(c) for c in stored_clips),
                "scene_uris": dg.MetadataValue.json([_scene_uri(c) for c in stored_clips]),
                "preview": preview_markdown(sheet, "scene contact sheet"),
                "duration_s": run.elapsed(),
                **provider_meta,
            }
        )

@dg.asset(deps=[video_gen], description="Final ad: scenes joined with transitions, word-synced captions, "
          "CTA end card, voice over a ducked music bed at -14 LUFS; H.264/AAC MP4 validated by ffprobe.",
          kinds={"ffmpeg"}, **COMMON)
def compositing(
    context: dg.AssetExecutionContext,
    config: AdConfig,
    jobs: JobStoreResource,
    artifacts: ArtifactStoreResource,
    progress: ProgressResource,
) -> dg.MaterializeResult:
    from ..media.audio_mix import mix_ad_audio
    from ..media.compositor import compose_ad, extract_frame
    from ..media.live_scene import from_manifest as live_from_manifest
    from ..media.models import END_CARD_SECONDS, Clip, Script, VoiceTrack
    from ..media.music import render_music_bed
    from ..media.styles import resolve_style
    from ..providers.stages import costs

    store, art = jobs.get(), artifacts.get()
    with stage_run(context, "compositing", store, art, progress.reporter(store)) as run:
        script_m = run.manifest("script_gen")
        voice_m = run.manifest("voice_gen")
        video_m = run.manifest("video_gen")
        script = Script.from_dict(script_m["script"])
        voice_wav = run.local(voice_m["wav"]["key"])
        voice = VoiceTrack.from_dict({**voice_m["voice"], "wav_path": voice_wav})
        opts = script_m["options"]
        clips = [
            live_from_manifest(c, run.local) if c.get("kind") == "live" else
            Clip(index=c["index"], path=run.local(c["key"]), duration=c["duration"], width=c["width"],
                 height=c["height"])
            for c in video_m["clips"]
        ]
        if len(clips) != len(voice.windows):
            raise permanent_failure(
                f"video_gen has {len(clips)} clips but voice_gen has {len(voice.windows)} scenes; "
                "re-materialize video_gen after voice_gen."
            )
        size = (video_m["width"], video_m["height"])
        total = voice.duration + END_CARD_SECONDS
        image = run.local(script_m["image_key"]) if script_m.get("image_key") else None
        music_on = bool(config.music and opts.get("music", True))

        def soundtrack() -> Any:
            music = os.path.join(run.work_dir, "music.wav")
            render_music_bed(resolve_style(script.style), total, opts["seed"], music)
            return mix_ad_audio(voice_wav, music, os.path.join(run.work_dir, "mix.wav"), total_duration=total,
                                music_gain_db=-12.0 if music_on else -90.0)

        run.progress(0.05, "Rendering the final cut (scoring and mixing the soundtrack alongside)...")
        out = os.path.join(run.work_dir, "ad.mp4")
        # The mix runs beside the picture encode, which never quite fills both cores; compose_ad waits for it
        # only when it muxes the soundtrack in.
        with ThreadPoolExecutor(1) as pool:
            mixing = pool.submit(soundtrack)
            mix_path: Future[str] = pool.submit(lambda: mixing.result().path)
            result = compose_ad(clips, script, voice, audio_wav=mix_path, size=size, out_path=out,
                                product_image=image, work_dir=run.work_dir)
            mix = mixing.result()
        run.progress(0.95, "Storing the video...")
        video = run.put("ad.mp4", result.path, "video/mp4")
        poster = extract_frame(result.path, min(2.0, result.duration / 3), os.path.join(run.work_dir, "p.jpg"),
                               width=480)
        poster_info = run.put("poster.jpg", poster, "image/jpeg")
        manifest = {"job_id": run.job_id, "stage": "compositing", "created_at": now_iso(), "video": video,
                    "poster": poster_info, "duration": result.duration, "width": result.width,
                    "height": result.height, "loudness_lufs": mix.integrated_lufs}
        uri = art.put_json(run.key("manifest.json"), manifest)
        _, job_cost = costs(run)  # compositing is local; the job's cost is what the earlier stages paid
        run.complete({"manifest": uri, "video": video["uri"]}, video_key=video["key"], cost_usd=job_cost)
        return dg.MaterializeResult(
            metadata={
                "provider": "local-ffmpeg",
                "model": "libx264-veryfast+aac",
                "seed": opts["seed"],
                "video_duration_s": round(result.duration, 3),
                "resolution": f"{result.width}x{result.height}",
                "video_codec": result.video_codec,
                "audio_codec": result.audio_codec,
                "fps": result.fps,
                "loudness_lufs": round(mix.integrated_lufs, 2),
                "true_peak_dbtp": round(mix.true_peak_db, 2),
                "bytes": video["bytes"],
                "sha256": video["sha256"],
                "video_uri": video["uri"],
                "video_key": video["key"],
                "poster": preview_markdown(poster, "poster frame"),
                "duration_s": run.elapsed(),
                "cost_usd": 0.0,
                "job_cost_usd": job_cost,
            }
        )

def _stored_bytes(entry: dict[str, Any]) -> int:
    if entry.get("kind") == "live":
        return entry["background"]["bytes"] + sum(layer["still"]["bytes"] for layer in entry["layers"])
    return int(entry["bytes"])


def _scene_uri(entry: dict[str, Any]) -> str:
    return entry["background"]["uri"] if entry.get("kind") == "live" else entry["uri"]


AD_ASSETS = [script_gen, voice_gen, video_gen, compositing]
