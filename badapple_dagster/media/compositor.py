"""Final assembly: scenes + transitions + burned captions + CTA end card, in ONE ffmpeg run; then the soundtrack.

The graph: scenes are chained with the style's ``xfade`` at the scene cuts. A scene is either a clip (remote
renderers) or a live stage (the local renderer's painted stills + motion, animated right here, see
live_scene.py). The word-synced ASS captions are burned over that scene part only; the end card (painted
stills animated like a scene) joins with one more transition. One filter -> encode pass means the frames are
encoded exactly once, at delivery quality. The already-mixed WAV (which may still be mixing while the picture
encodes) is then muxed in, the picture stream copied.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .backgrounds import render_background
from .captions import ass_filter, build_captions
from .ffmpeg import FFmpegError, probe, run_ffmpeg
from .layers import render_cta_button, render_headline, render_product_hero, render_type_hero
from .layout import end_card_boxes
from .live_scene import LiveScene
from .models import END_CARD_SECONDS, FPS, Clip, Script, VoiceTrack
from .motion import (
    Layer,
    Stage,
    bg_oversize,
    camera,
    ease_out_cubic,
    extra_motion,
    progress,
    stage_graph,
    stage_inputs,
    text_motion,
)
from .paint import save_png
from .scene_renderer import role_palette
from .styles import StyleSpec, resolve_style
from .timeline import ScenePlan, overlap_frames, scene_plan, scenes_end

DELIVERY_VIDEO = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-r", str(FPS)]
DELIVERY_AUDIO = ["-c:a", "aac", "-b:a", "192k", "-ar", "48000"]
DURATION_TOLERANCE = 0.1


class CompositingError(RuntimeError):
    pass


@dataclass
class ComposeResult:
    path: str
    duration: float
    width: int
    height: int
    size_bytes: int
    video_codec: str
    audio_codec: str
    fps: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def end_card_stage(
    script: Script, style: StyleSpec, product_image: str | None, size: tuple[int, int], work: Path, intro: float
) -> Stage:
    """CTA end card: style background, the product (or its name as the hero), the name, the CTA button."""
    boxes = end_card_boxes(size)
    pal = role_palette(script.palette, "cta")
    frames = round(END_CARD_SECONDS * FPS)
    dur = frames / FPS
    bg_size = bg_oversize(style, size)
    bg = save_png(
        render_background(style.background_kind, pal, bg_size, "end", script.seed * 101 + 99), str(work / "end_bg.png")
    )
    cx, cy = camera(style, bg_size, size, dur, 0)
    stage = Stage(bg, bg_size, cx, cy)

    if product_image:
        hero = render_product_hero(product_image, style, pal, boxes.hero)
        line = script.product_name
    else:
        hero = render_type_hero(script.product_name, style, pal, boxes.hero)
        line = script.tagline  # the name is already the hero; don't say it twice
    hb = boxes.hero.place(hero.width, hero.height)
    settle = ease_out_cubic(progress(intro, 0.9))
    stage.layers.append(
        Layer(
            save_png(hero, str(work / "end_hero.png")),
            hb.x,
            hb.y,
            hb.w,
            hb.h,
            "0",
            "0",
            f"(0.9+0.1*{settle})",
            (intro * 0.5, 0.5),
        )
    )
    if line.strip():
        name = render_headline(line, style, pal, boxes.name, max_size=round(min(size) * 0.1))
        nb = boxes.name.place(name.width, name.height)
        dx, dy, scale, fade = text_motion(style, size, intro + 0.1)
        stage.layers.append(
            Layer(save_png(name, str(work / "end_name.png")), nb.x, nb.y, nb.w, nb.h, dx, dy, scale, fade)
        )
    button = render_cta_button(script.cta_text, style, pal, boxes.button)
    bb = boxes.button.place(button.width, button.height)
    dx, dy, scale, fade = extra_motion(size, intro + 0.45, pulse=True)
    stage.layers.append(
        Layer(save_png(button, str(work / "end_button.png")), bb.x, bb.y, bb.w, bb.h, dx, dy, scale, fade)
    )
    return stage


def _segments(src: str, frames: int, td: int, tag: str, *, head: bool, tail: bool = True) -> tuple[str, str, str, str]:
    """Split one stream into [head][body][tail]: the first/last ``td`` frames feed transitions, the body
    passes straight to concat. xfade has no yuv420p path — ffmpeg would convert every frame it sees to
    4:4:4 and back — so only the few transition frames may go through it."""
    labels = [lb for lb, keep in ((f"{tag}h", head), (f"{tag}b", True), (f"{tag}t", tail)) if keep]
    chain = [f"[{src}]split={len(labels)}" + "".join(f"[{lb}_in]" for lb in labels)]
    if head:
        chain.append(f"[{tag}h_in]trim=end_frame={td},setpts=PTS-STARTPTS[{tag}h]")
    body_end = frames - td if tail else frames
    chain.append(f"[{tag}b_in]trim=start_frame={td if head else 0}:end_frame={body_end},setpts=PTS-STARTPTS[{tag}b]")
    if tail:
        chain.append(f"[{tag}t_in]trim=start_frame={frames - td},setpts=PTS-STARTPTS[{tag}t]")
    return ";\n".join(chain), f"{tag}h", f"{tag}b", f"{tag}t"


def _planar_xfade(a: str, b: str, label: str, transition: str, duration: float) -> str:
    """xfade one plane at a time. Its transitions are defined relative to each plane's own size, so a
    Y/U/V split gives the same picture as a 4:4:4 xfade, minus the 4:2:0→4:4:4→4:2:0 round trip and with
    half the pixels to blend (~40 % cheaper per transition frame)."""
    chains = [
        f"[{a}]extractplanes=y+u+v[{label}a0][{label}a1][{label}a2]",
        f"[{b}]extractplanes=y+u+v[{label}b0][{label}b1][{label}b2]",
    ]
    for p in range(3):
        chains.append(
            f"[{label}a{p}][{label}b{p}]xfade=transition={transition}:duration={duration:.4f}:offset=0[{label}p{p}]"
        )
    chains.append(f"[{label}p0][{label}p1][{label}p2]mergeplanes=0x001020:yuv420p[{label}]")
    return ";\n".join(chains)


def _graph(
    scene_chains: list[str],
    clip_frames: list[int],
    style: StyleSpec,
    td: int,
    captions: str,
    end: Stage,
    end_input: int,
    size: tuple[int, int],
) -> str:
    """``scene_chains[i]`` produces the label ``c{i}``: a decoded clip or a live-animated stage."""
    n = len(clip_frames)
    restamp = f"settb=1/{FPS},setpts=N"
    parts: list[str] = []
    heads: list[str] = []
    bodies: list[str] = []
    tails: list[str] = []
    for i, frames in enumerate(clip_frames):
        parts.append(scene_chains[i])
        chain, h, b, t = _segments(f"c{i}", frames, td, f"s{i}", head=i > 0)
        parts.append(chain)
        heads.append(h)
        bodies.append(b)
        tails.append(t)
    end_frames = round(END_CARD_SECONDS * FPS)
    end_graph, end_out = stage_graph(end, size, end_frames, end_input, "e")
    parts.append(end_graph)
    chain, end_head, end_body, _ = _segments(end_out, end_frames, td, "ec", head=True, tail=False)
    parts.append(chain)

    def xfade(a: str, b: str, label: str) -> str:
        return _planar_xfade(a, b, label, style.transition, td / FPS)

    scene_seq: list[str] = []
    for i in range(n):
        scene_seq.append(bodies[i])
        if i + 1 < n:
            parts.append(xfade(tails[i], heads[i + 1], f"x{i}"))
            scene_seq.append(f"x{i}")
    # Captions over the scenes only: burned before the end card joins (they end with the voice anyway).
    parts.append(
        "".join(f"[{lb}]" for lb in scene_seq) + f"concat=n={len(scene_seq)}:v=1:a=0,{restamp},{captions}[scenes]"
    )
    parts.append(xfade(tails[-1], end_head, "xend"))
    parts.append(f"[scenes][xend][{end_body}]concat=n=3:v=1:a=0,{restamp}[vout]")
    # The mix is expected to span voice + end card already; pad/trim makes the length exact regardless.
    return ";\n".join(parts)


Scene = Clip | LiveScene  # a decoded clip (remote renderers) or a live stage animated in the final graph


def _check_inputs(scenes: list[Scene], plans: list[ScenePlan], size: tuple[int, int]) -> list[Scene]:
    """Fail early, with a clear message, on inputs the graph would silently mis-time."""
    if len(scenes) != len(plans):
        raise CompositingError(f"{len(scenes)} clips for {len(plans)} scene windows")
    scenes = sorted(scenes, key=lambda c: c.index)
    for scene, plan in zip(scenes, plans, strict=True):
        if abs(scene.duration - plan.duration) > 1.5 / FPS:
            raise CompositingError(f"scene {scene.index} lasts {scene.duration}s, expected {plan.duration}s")
        if isinstance(scene, Clip) and (scene.width, scene.height) != tuple(size):
            raise CompositingError(f"clip {scene.index} is {scene.width}x{scene.height}, expected {size}")
        if isinstance(scene, LiveScene):
            missing = [p for p in (scene.stage.background, *[ly.path for ly in scene.stage.layers])
                       if not os.path.isfile(p)]
            if missing:
                raise CompositingError(f"scene {scene.index} stills not found: {missing}")
    return scenes


def _scene_sources(scenes: list[Scene], plans: list[ScenePlan], size: tuple[int, int]) -> tuple[list[str], list[str]]:
    """(ffmpeg input args, one chain per scene ending in ``[c{i}]``) for clips and live stages alike."""
    restamp = f"settb=1/{FPS},setpts=N"
    inputs: list[str] = []
    chains: list[str] = []
    for i, (scene, plan) in enumerate(zip(scenes, plans, strict=True)):
        first = _count_inputs(inputs)
        if isinstance(scene, LiveScene):
            inputs += stage_inputs(scene.stage)
            graph, out = stage_graph(scene.stage, size, plan.frames, first, f"g{i}")
            chains.append(f"{graph};\n[{out}]null[c{i}]")
        else:
            inputs += ["-i", scene.path]
            chains.append(f"[{first}:v]{restamp}[c{i}]")
    return inputs, chains


def _count_inputs(args: list[str]) -> int:
    return sum(1 for a in args if a == "-i")


def compose_ad(
    clips: list[Scene],
    script: Script,
    voice: VoiceTrack,
    *,
    audio_wav: str | Future[str],
    size: tuple[int, int],
    out_path: str,
    product_image: str | None,
    work_dir: str,
) -> ComposeResult:
    """Join the scenes (clips or live stages) into the delivered MP4 (see module doc) and validate it; raises
    CompositingError.

    ``audio_wav`` may be a Future: the soundtrack is only needed once the picture is encoded, so the caller
    can mix it on the cores the video encode leaves idle (it never quite fills two)."""
    style = resolve_style(script.style)
    plans = scene_plan(voice, style.transition_duration)
    scenes = _check_inputs(clips, plans, size)
    if isinstance(audio_wav, str) and not os.path.isfile(audio_wav):
        raise CompositingError(f"audio track not found: {audio_wav}")
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    td = overlap_frames(style.transition_duration)
    total_frames = round(scenes_end(voice) * FPS) + round(END_CARD_SECONDS * FPS)

    captions = build_captions(voice, style, script.palette, size, str(work))
    end = end_card_stage(script, style, product_image, size, work, td / FPS * 0.6)
    scene_inputs, scene_chains = _scene_sources(scenes, plans, size)
    end_input = _count_inputs(scene_inputs)
    inputs = scene_inputs + stage_inputs(end)
    graph = _graph(scene_chains, [p.frames for p in plans], style, td, ass_filter(captions), end, end_input, size)
    graph_path = work / "compose_graph.txt"
    graph_path.write_text(graph)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    picture = str(work / "picture.mp4")
    try:
        run_ffmpeg([*inputs, "-filter_complex_script", str(graph_path), "-map", "[vout]",
                    "-frames:v", str(total_frames), *DELIVERY_VIDEO, "-an", picture])
    except FFmpegError as exc:
        raise CompositingError(f"compositing failed: {exc}") from exc
    audio = audio_wav.result() if isinstance(audio_wav, Future) else audio_wav
    if not os.path.isfile(audio):
        raise CompositingError(f"audio track not found: {audio}")
    total = total_frames / FPS
    try:
        # The picture is copied, not re-encoded; the mix is padded/trimmed to the picture's exact length.
        run_ffmpeg(["-i", picture, "-i", audio, "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                    "-af", f"aresample=48000,apad,atrim=0:{total:.4f},asetpts=N/SR/TB", *DELIVERY_AUDIO,
                    "-t", f"{total:.4f}", "-movflags", "+faststart", out_path])
    except FFmpegError as exc:
        raise CompositingError(f"muxing the soundtrack failed: {exc}") from exc
    finally:
        Path(picture).unlink(missing_ok=True)
    return validate_output(out_path, size, voice.duration + END_CARD_SECONDS)


def validate_output(path: str, size: tuple[int, int], expected_duration: float) -> ComposeResult:
    """Probe the delivered file; any deviation from the delivery spec is an error, listed in full."""
    try:
        p = probe(path)
    except FFmpegError as exc:
        raise CompositingError(str(exc)) from exc
    problems = []
    if abs(p.duration - expected_duration) > DURATION_TOLERANCE:
        problems.append(f"duration {p.duration:.3f}s, expected {expected_duration:.3f}s ±{DURATION_TOLERANCE}")
    if (p.width, p.height) != tuple(size):
        problems.append(f"size {p.width}x{p.height}, expected {size[0]}x{size[1]}")
    if p.video_codec != "h264":
        problems.append(f"video codec {p.video_codec}, expected h264")
    if p.pix_fmt != "yuv420p":
        problems.append(f"pixel format {p.pix_fmt}, expected yuv420p")
    if p.fps is None or abs(p.fps - FPS) > 0.01:
        problems.append(f"frame rate {p.fps}, expected {FPS}")
    if p.audio_codec != "aac":
        problems.append(f"audio codec {p.audio_codec}, expected aac")
    if problems:
        raise CompositingError(f"{path} fails the delivery spec: " + "; ".join(problems))
    return ComposeResult(
        path,
        p.duration,
        p.width or 0,
        p.height or 0,
        os.path.getsize(path),
        p.video_codec or "",
        p.audio_codec or "",
        p.fps or 0.0,
    )


def extract_frame(video_path: str, t: float, out_path: str, width: int | None = None) -> str:
    """A JPEG still at time ``t`` (seek before the input: fast, and frame-accurate when decoding)."""
    vf = ["-vf", f"scale={width}:-2"] if width else []
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(
        ["-ss", f"{max(0.0, t):.3f}", "-i", video_path, "-frames:v", "1", *vf, "-q:v", "3", "-f", "image2", out_path]
    )
    if not os.path.isfile(out_path):
        raise FFmpegError(f"no frame at {t:.2f}s in {video_path}")
    return out_path
