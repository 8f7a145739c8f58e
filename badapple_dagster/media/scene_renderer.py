"""Offline scene renderer: Pillow paints each scene's layers once; ffmpeg animates them.

Per scene: an oversized style background, a hero (the product image, or the product name as a typographic
badge), the headline and a per-layout extra (proof badge / CTA button) are painted as PNGs, with motion
expressions that pan the background (crop) and move/scale the small layers (eased). ``paint`` (the
pipeline's ``scenes``) hands these over as live stages that the compositor animates inside its single
encode; ``render`` encodes each as a standalone clip (an ultrafast crf-17 mezzanine) for previews and tests.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .backgrounds import render_background
from .ffmpeg import run_ffmpeg
from .layers import (
    headline_max_size,
    render_cta_button,
    render_headline,
    render_product_hero,
    render_proof_badge,
    render_type_hero,
)
from .layout import Box, SceneBoxes, layout_boxes
from .live_scene import LiveScene
from .models import FPS, LAYOUTS, Clip, Palette, Scene, Script, VoiceTrack
from .motion import Layer, Stage, bg_oversize, camera, extra_motion, hero_motion, stage_graph, stage_inputs, text_motion
from .paint import mix, save_png
from .providers import ProgressFn, no_progress
from .styles import StyleSpec, resolve_style
from .timeline import ScenePlan, scene_plan

# When the script writer leaves a layout hint the renderer doesn't know, the scene role decides.
ROLE_LAYOUTS = {"hook": "hero", "benefit": "statement", "proof": "showcase", "cta": "cta"}

MEZZANINE_ARGS = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "17", "-pix_fmt", "yuv420p", "-r", str(FPS)]
# Two scenes encode at once on a 2-core box; capping each encoder's threads avoids oversubscription overhead.
ENCODER_THREADS = ["-threads", "2"]


def scene_layout(scene: Scene) -> str:
    return scene.layout if scene.layout in LAYOUTS else ROLE_LAYOUTS.get(scene.role, "hero")


def role_palette(pal: Palette, role: str) -> Palette:
    """Nudge the secondary colour per beat (proof and CTA lean toward the accent) so scenes differ while
    text colours — contrasted against ``background`` — stay valid."""
    lean = {"proof": 0.12, "cta": 0.2}.get(role, 0.0)
    if not lean:
        return pal
    return Palette(
        pal.background, mix(pal.background_alt, pal.accent, lean), pal.text, pal.accent, pal.muted, pal.source
    )


@dataclass(frozen=True)
class SceneJob:
    scene: Scene
    plan: ScenePlan
    script: Script
    style: StyleSpec
    product_image: str | None
    size: tuple[int, int]
    out_dir: Path
    seed: int


def place(img: Image.Image, box: Box, *, ax: float = 0.5, ay: float = 0.5) -> Box:
    return box.place(img.width, img.height, ax=ax, ay=ay)


@dataclass(frozen=True)
class _Ctx:
    """What every layer painter of one scene needs."""

    job: SceneJob
    layout: str
    boxes: SceneBoxes
    pal: Palette
    work: Path
    intro: float  # when the scene's layers start moving

    @property
    def ax(self) -> float:
        return 0.0 if self.boxes.headline_align == "left" else 0.5


def _background(ctx: _Ctx) -> Stage:
    job, style = ctx.job, ctx.job.style
    bg_size = bg_oversize(style, job.size)
    still = render_background(style.background_kind, ctx.pal, bg_size, job.scene.role, job.seed * 101 + job.scene.index)
    cx, cy = camera(style, bg_size, job.size, job.plan.duration, job.scene.index)
    return Stage(save_png(still, str(ctx.work / "bg.png")), bg_size, cx, cy)


def _hero(ctx: _Ctx) -> tuple[Layer, Box]:
    job, style = ctx.job, ctx.job.style
    if job.product_image:
        img = render_product_hero(job.product_image, style, ctx.pal, ctx.boxes.hero)
    else:
        img = render_type_hero(job.script.product_name, style, ctx.pal, ctx.boxes.hero)
    box = place(img, ctx.boxes.hero)
    dx, dy, scale = hero_motion(style, job.size, job.plan.duration, job.scene.index, ctx.intro)
    # The opening frame doubles as the feed thumbnail, so scene 0's hero is there from frame 0 (it still moves).
    fade = None if job.plan.index == 0 else (ctx.intro * 0.5, 0.4)
    return Layer(save_png(img, str(ctx.work / "hero.png")), box.x, box.y, box.w, box.h, dx, dy, scale, fade), box


def _headline(ctx: _Ctx) -> tuple[Layer, Box]:
    job = ctx.job
    img = render_headline(
        job.scene.on_screen_text,
        job.style,
        ctx.pal,
        ctx.boxes.headline,
        max_size=headline_max_size(ctx.layout, job.size),
        align=ctx.boxes.headline_align,
    )
    box = place(img, ctx.boxes.headline, ax=ctx.ax)
    dx, dy, scale, fade = text_motion(job.style, job.size, ctx.intro + 0.1)
    return Layer(save_png(img, str(ctx.work / "headline.png")), box.x, box.y, box.w, box.h, dx, dy, scale, fade), box


def _extra(ctx: _Ctx) -> tuple[Layer, Box] | None:
    """showcase → proof badge, cta → the CTA button; other layouts have no extra."""
    job, target = ctx.job, ctx.boxes.extra
    if target is None or ctx.layout not in ("showcase", "cta"):
        return None
    if ctx.layout == "showcase":
        img = render_proof_badge(job.style, ctx.pal, target)
    else:
        img = render_cta_button(job.script.cta_text, job.style, ctx.pal, target)
    box = place(img, target, ax=ctx.ax)
    dx, dy, scale, fade = extra_motion(job.size, ctx.intro + 0.55, pulse=ctx.layout == "cta")
    return Layer(save_png(img, str(ctx.work / "extra.png")), box.x, box.y, box.w, box.h, dx, dy, scale, fade), box


def paint_scene_layers(job: SceneJob, work: Path) -> tuple[Stage, dict[str, Box]]:
    """Paint the PNGs of one scene and attach the style's motion; returns the stage and the resting boxes
    of each layer (tests use them to check safe zones)."""
    layout = scene_layout(job.scene)
    # Scene 0 starts the ad; later scenes start under the incoming transition, so their text waits for it.
    intro = 0.1 if job.plan.index == 0 else job.style.transition_duration * 0.6
    ctx = _Ctx(
        job, layout, layout_boxes(layout, job.size), role_palette(job.script.palette, job.scene.role), work, intro
    )
    stage = _background(ctx)
    placed: dict[str, Box] = {}
    for name, painter in (("hero", _hero), ("headline", _headline), ("extra", _extra)):
        made = painter(ctx)
        if made is not None:
            stage.layers.append(made[0])
            placed[name] = made[1]
    return stage, placed


def paint_scene(job: SceneJob) -> Stage:
    work = job.out_dir / f"scene_{job.scene.index:02d}"
    work.mkdir(parents=True, exist_ok=True)
    stage, _ = paint_scene_layers(job, work)
    return stage


def encode_scene(job: SceneJob, stage: Stage) -> Clip:
    """One ffmpeg run: animate the painted stage and write the scene's mezzanine clip."""
    graph, out = stage_graph(stage, job.size, job.plan.frames, 0, "s")
    graph_path = job.out_dir / f"scene_{job.scene.index:02d}" / "graph.txt"
    graph_path.write_text(graph)
    clip_path = job.out_dir / f"clip_{job.scene.index:02d}.mp4"
    run_ffmpeg(
        [
            *stage_inputs(stage),
            *["-filter_complex_script", str(graph_path), "-map", f"[{out}]", "-frames:v", str(job.plan.frames)],
            *MEZZANINE_ARGS,
            *ENCODER_THREADS,
            "-an",
            str(clip_path),
        ]
    )
    return Clip(job.scene.index, str(clip_path), round(job.plan.duration, 4), job.size[0], job.size[1])


class LocalSceneRenderer:
    """SceneRenderer implemented with Pillow + ffmpeg only (no network, no GPU)."""

    name = "local-ffmpeg"

    def __init__(self, workers: int | None = None) -> None:
        # Two encodes in flight keep both cores busy: a single ultrafast x264 + filtergraph tops out near one
        # and a half cores.
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))

    def paint(
        self,
        script: Script,
        voice: VoiceTrack,
        *,
        product_image: str | None,
        size: tuple[int, int],
        out_dir: str,
        seed: int,
        progress: ProgressFn = no_progress,
    ) -> list[LiveScene]:
        """The scenes as live stages (stills + motion) for the compositor to animate in its single pass: the
        fast path the ad pipeline uses. ``render`` makes standalone clips of the same scenes."""
        jobs = self._jobs(script, voice, product_image, size, out_dir, seed)
        scenes = []
        for done, job in enumerate(jobs, start=1):
            scenes.append(LiveScene(job.scene.index, paint_scene(job), round(job.plan.duration, 4)))
            progress(done / len(jobs), f"scene {done} of {len(jobs)}")
        return scenes

    def _jobs(self, script: Script, voice: VoiceTrack, product_image: str | None, size: tuple[int, int],
              out_dir: str, seed: int) -> list[SceneJob]:
        style = resolve_style(script.style)
        plans = scene_plan(voice, style.transition_duration)
        if len(plans) != len(script.scenes):
            raise ValueError(f"{len(script.scenes)} scenes but {len(plans)} voice windows")
        if product_image and not os.path.isfile(product_image):
            raise FileNotFoundError(f"product image not found: {product_image}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        return [SceneJob(s, p, script, style, product_image, size, out, seed)
                for s, p in zip(script.scenes, plans, strict=True)]

    def render(
        self,
        script: Script,
        voice: VoiceTrack,
        *,
        product_image: str | None,
        size: tuple[int, int],
        out_dir: str,
        seed: int,
        progress: ProgressFn = no_progress,
    ) -> list[Clip]:
        jobs = self._jobs(script, voice, product_image, size, out_dir, seed)
        n = len(jobs)
        clips: dict[int, Clip] = {}
        # Longest scene first: with 2 workers and 4 uneven scenes this keeps both busy until the end.
        ordered = sorted(jobs, key=lambda j: j.plan.frames, reverse=True)
        with ThreadPoolExecutor(self.workers) as pool:
            # Paint here, encode in the pool: each encode starts the moment its stills exist, and painting the
            # next scenes overlaps the running encodes instead of stalling a worker (Pillow holds the GIL for
            # much of its work, so two threads painting at once wouldn't be faster anyway).
            futures: dict[Future[Clip], int] = {}
            for job in ordered:
                futures[pool.submit(encode_scene, job, paint_scene(job))] = job.scene.index
            # Progress is reported from the calling thread, so callers need no locking.
            for done, fut in enumerate(as_completed(futures), start=1):
                clip = fut.result()
                clips[clip.index] = clip
                progress(done / n, f"scene {done} of {n}")
        return [clips[i] for i in sorted(clips)]

    scenes = paint  # SceneRenderer: the pipeline takes live stages from the local renderer
