"""Offline scene clip: the reference character performing in a painted location, with a real camera move.

Pillow paints every still once: the location backdrop (oversized for the camera move, blurred for shallow
focus in close shots), a loop of 8 character poses (redrawn from the card's embedded spec, or a cut-out of a
foreign reference image), stage beams, a crowd strip, rain, the title strip. One ffmpeg graph animates them:
the backdrop is cropped along the camera path, the pose loop plays at the action's tempo with parallax
against the background, push-ins scale the composite per frame, then grain, vignette and the grade finish it.
No Python runs per frame, and each still is decoded once (the ``loop`` filter repeats decoded frames).

Output: ``ASPECT_SIZES`` pixels (1920×1080 for 16:9), 30 fps, H.264 High yuv420p, faststart. With the flavor's
``video_generate_audio`` on, a silent 48 kHz stereo AAC track stands in for the model's native audio so clips
are uniform with remote ones; off, the file has no audio stream. The music video replaces it either way.
"""

from __future__ import annotations

import functools
import math
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from ..media.ffmpeg import FFmpegError, probe, run_ffmpeg
from ..media.fonts import resolve_font
from ..media.layout import fit_text
from ..media.models import ASPECT_SIZES
from ..media.paint import mix, save_png
from .backdrops import crowd_strip, paint_backdrop, rain_tile
from .character import read_character_metadata
from .clip_plan import ClipPlan, plan_clip
from .cutout import cutout_subject
from .figure import draw_figure, figure_canvas
from .flavors import ResolvedFlavor, load_flavor
from .look import Look, grade, light_figure, look_of
from .poses import choose_action, cycle
from .traits import CharacterSpec, parse_character
from .vocab import SHOT_BY_KEY

FPS = 30
POSES = 8
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "19", "-pix_fmt", "yuv420p", "-profile:v", "high",
          "-g", str(2 * FPS), "-movflags", "+faststart"]
TITLE_FONTS = ("Lato-Bold.ttf", "OpenSans-Bold.ttf", "DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class ClipInfo:
    path: str
    duration: float
    width: int
    height: int
    fps: float
    frames: int
    has_audio: bool
    shot: str
    camera_move: str
    place: str
    time_of_day: str
    action: str
    reference_used: str  # "card" (spec redrawn) | "cutout" (foreign image) | "prompt" (no reference given)
    seed: int
    render_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def render_scene_clip(
    prompt: str,
    reference_images: list[str],
    flavor: ResolvedFlavor | str | None,
    out_mp4: str,
    *,
    duration: float | None = None,
    aspect_ratio: str | None = None,
    seed: int = 0,
    groove_bpm: float | None = None,
) -> ClipInfo:
    """Render one scene clip; duration and aspect default to the flavor's video settings. ``groove_bpm``
    (e.g. the song's detected tempo, when the song is chosen before the clips) replaces the flavor's
    ``local_render.groove_bpm`` so the performer and crowd move in time with the music."""
    started = time.monotonic()
    if not prompt or not prompt.strip():
        raise ValueError("prompt must not be empty")
    flav = flavor if isinstance(flavor, ResolvedFlavor) else load_flavor(flavor)
    look = look_of(flav)
    if groove_bpm is not None:
        if not 40 <= groove_bpm <= 220:
            raise ValueError(f"groove_bpm must be between 40 and 220, got {groove_bpm}")
        look = replace(look, groove_bpm=round(groove_bpm))
    dur = float(duration if duration is not None else flav.video_duration)
    if not 0.5 <= dur <= 30:
        raise ValueError(f"duration must be between 0.5 and 30 seconds, got {dur}")
    aspect = aspect_ratio or flav.video_aspect_ratio
    if aspect not in ASPECT_SIZES:
        raise ValueError(f"aspect_ratio must be one of {', '.join(ASPECT_SIZES)}, got {aspect!r}")
    size = ASPECT_SIZES[aspect]
    frames = round(dur * FPS)
    plan = plan_clip(prompt, seed, look.motion)
    spec, cut, ref_used = _character(reference_images, prompt, seed)
    action = choose_action(prompt, spec) if spec else "idle"
    with_audio = bool(flav.image_params.get("video_generate_audio", True))

    out = Path(out_mp4)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mvclip-", dir=out.parent) as tmp:
        work = Path(tmp)
        job = _Job(prompt, plan, look, size, dur, frames, seed, spec, cut, action, work)
        inputs, graph, label = _build(job)
        (work / "graph.txt").write_text(graph)
        audio_in = ["-f", "lavfi", "-t", f"{dur:.3f}", "-i", "anullsrc=r=48000:cl=stereo"] if with_audio else []
        n_video_inputs = sum(1 for a in inputs if a == "-i")
        audio_map = ["-map", f"{n_video_inputs}:a", "-c:a", "aac", "-b:a", "96k"] if with_audio else ["-an"]
        run_ffmpeg([*inputs, *audio_in, "-filter_complex_script", str(work / "graph.txt"),
                    "-map", f"[{label}]", *audio_map, "-frames:v", str(frames), "-r", str(FPS), *ENCODE,
                    "-t", f"{frames / FPS:.4f}", str(out)], timeout=900)
    info = probe(str(out))
    validate_clip(info, size, frames / FPS, with_audio, out)
    return ClipInfo(str(out), round(info.duration, 3), size[0], size[1], FPS, frames, info.audio_codec is not None,
                    plan.shot, plan.move, plan.place, plan.time, action, ref_used, seed,
                    round(time.monotonic() - started, 2))


def validate_clip(info: Any, size: tuple[int, int], dur: float, with_audio: bool, out: Path) -> None:
    """Every clip, offline or remote, must match what the assembly expects: size, H.264 yuv420p, 30 fps,
    the planned length, and an audio stream exactly when the flavor asks for one."""
    problems = []
    if (info.width, info.height) != size:
        problems.append(f"size {info.width}x{info.height} != {size[0]}x{size[1]}")
    if info.video_codec != "h264" or info.pix_fmt != "yuv420p":
        problems.append(f"codec {info.video_codec}/{info.pix_fmt}")
    if info.fps is None or abs(info.fps - FPS) > 0.01:
        problems.append(f"fps {info.fps}")
    if abs(info.duration - dur) > 2.5 / FPS + (0.05 if with_audio else 0):
        problems.append(f"duration {info.duration:.3f} != {dur:.3f}")
    if with_audio != (info.audio_codec is not None):
        problems.append(f"audio stream {'missing' if with_audio else 'unexpected'}")
    if problems:
        raise FFmpegError(f"rendered clip {out} failed validation: {'; '.join(problems)}")


# ------------------------------------------------------------------------------------------------ character

@functools.lru_cache(maxsize=4)
def _cutout_cached(path: str, mtime: float) -> Image.Image:
    return cutout_subject(path)


def _cutout(path: str) -> Image.Image:
    """Cut out once per reference (the morphology filters take seconds on a large photo and every scene of a
    project uses the same one); callers get a copy."""
    return _cutout_cached(path, os.path.getmtime(path)).copy()


def _character(refs: list[str], prompt: str, seed: int) -> tuple[CharacterSpec | None, Image.Image | None, str]:
    for path in refs or []:
        meta = read_character_metadata(path)
        if meta and "spec" in meta:
            return CharacterSpec.from_dict(meta["spec"]), None, "card"
    for path in refs or []:
        if Path(path).is_file():
            return None, _cutout(path), "cutout"
    if refs:
        raise FileNotFoundError(f"reference image not found: {refs[0]}")
    # No reference: draw the character the prompt describes ("Character: …" from the scene writer).
    desc = prompt.split("Character:", 1)[1].split(",")[0] if "Character:" in prompt else "a lead performer"
    return parse_character(desc, seed), None, "prompt"


# ------------------------------------------------------------------------------------------------ the graph

@dataclass
class _Job:
    prompt: str
    plan: ClipPlan
    look: Look
    size: tuple[int, int]
    dur: float
    frames: int
    seed: int
    spec: CharacterSpec | None
    cut: Image.Image | None
    action: str
    work: Path


def _n(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".") or "0"


def _ease(dur: float) -> str:
    """Ease-in-out progress 0→1 over the clip, as an ffmpeg expression in t."""
    return f"(0.5-0.5*cos(PI*clip(t/{_n(dur)},0,1)))"


@dataclass
class _Camera:
    margin: tuple[float, float]  # backdrop oversize as fractions of the frame
    crop_x: str  # expressions, px into the oversized backdrop
    crop_y: str
    x0: float  # crop position at t=0 (parallax is measured from it)
    y0: float
    parallax: float  # how much faster than the backdrop the character slides (1 = glued to it)
    zoom: str | None  # per-frame zoom factor of the whole composite, or None


def _camera(move: str, size: tuple[int, int], dur: float, motion: float, rng: random.Random) -> _Camera:
    w, h = size
    a = 0.45 + 0.55 * motion  # amplitude from the flavor's motion knob
    d = rng.choice((-1, 1))
    e = _ease(dur)
    if move == "tracking":
        mxf, myf = 0.5 * a + 0.15, 0.06
    elif move in ("pan", "orbit"):
        mxf, myf = 0.22 * a + 0.06, 0.06
    elif move in ("crane_up", "crane_down"):
        mxf, myf = 0.08, 0.2 * a + 0.06
    else:
        mxf, myf = 0.08, 0.06
    mx, my = w * mxf, h * myf
    zoom: str | None = None
    cx, cy = f"{_n(mx / 2)}", f"{_n(my / 2)}"
    par = 1.3
    if move in ("pan", "orbit", "tracking"):
        lo, hi = (0.0, mx) if d > 0 else (mx, 0.0)
        cx = f"{_n(lo)}+{_n(hi - lo)}*{e if move != 'tracking' else f'clip(t/{_n(dur)},0,1)'}"
        par = {"pan": 1.3, "orbit": 0.0, "tracking": 0.0}[move]  # orbit/tracking: the camera keeps the subject
    elif move == "crane_up":
        cy = f"{_n(my)}-{_n(my)}*{e}"
        zoom = f"(1+{_n(0.05 * a)}*(1-{e}))"
        par = 1.0
    elif move == "crane_down":
        cy = f"{_n(my)}*{e}"
        zoom = f"(1+{_n(0.05 * a)}*{e})"
        par = 1.0
    elif move == "push_in":
        zoom = f"(1+{_n(0.14 * a)}*{e})"
    elif move == "pull_back":
        zoom = f"(1+{_n(0.14 * a)}*(1-{e}))"
    elif move == "handheld":
        amp = min(mx, my) * 0.35 * a
        cx = f"{_n(mx / 2)}+{_n(amp)}*(sin(1.7*t)+0.5*sin(4.3*t+1.1))/1.5"
        cy = f"{_n(my / 2)}+{_n(amp * 0.7)}*(sin(2.3*t+0.4)+0.5*sin(5.1*t))/1.5"
        par = 1.15
    else:  # static: a barely-there drift so the frame breathes
        cx = f"{_n(mx / 2)}+{_n(mx * 0.08)}*sin(2*PI*t/{_n(max(dur, 1) * 1.5)})"
    # Parallax is measured from the mid-clip position, so the subject sits where it was framed halfway
    # through the move rather than drifting off one side by the end.
    x0 = _eval_at(cx, dur / 2)
    y0 = _eval_at(cy, dur / 2)
    return _Camera((mxf, myf), f"clip({cx},0,{_n(mx)})", f"clip({cy},0,{_n(my)})", x0, y0, par, zoom)


def _eval_at(expr: str, t: float) -> float:
    """Value of a crop expression at time ``t`` (the expressions only use t, PI and these functions)."""
    env = {"t": t, "PI": math.pi, "sin": math.sin, "cos": math.cos,
           "clip": lambda v, lo, hi: max(lo, min(hi, v))}
    return float(eval(expr, {"__builtins__": {}}, env))  # noqa: S307 - our own generated arithmetic


def _action_cycle(action: str, look: Look) -> float:
    beat = 60.0 / max(40, look.groove_bpm)
    return {"strum": 2 * beat, "sing": 2 * beat, "dance": 2 * beat, "jump": 4 * beat, "walk": 1.1 - 0.3 * look.motion,
            "talk": 1.6, "sneak": 1.4}.get(action, 3.0)


def _build(job: _Job) -> tuple[list[str], str, str]:
    w, h = job.size
    plan, look = job.plan, job.look
    rng = random.Random(f"clip:{job.prompt}:{job.seed}")
    shot = SHOT_BY_KEY[plan.shot]
    cam = _camera(plan.move, job.size, job.dur, look.motion, rng)
    if shot.figure_height > 1.0:
        # Close and medium shots: the operator keeps the subject framed, so it slides much less than the set.
        cam.parallax = min(cam.parallax, 0.45)
    bg_w, bg_h = round(w * (1 + cam.margin[0]) / 2) * 2, round(h * (1 + cam.margin[1]) / 2) * 2

    # Framing: the shot sets the figure's size and where the top of its head sits (head room).
    fig_h = shot.figure_height * h * (1.0 if w >= h else 0.75)
    fig_x = w * rng.choice((0.5, 0.42, 0.58)) if plan.shot not in ("wide", "aerial") else w * rng.uniform(0.4, 0.6)
    top = h * shot.head_top
    feet = top + fig_h
    ground_frame = feet if feet < h * 0.96 else h * 0.9
    ground_bg = round(ground_frame + cam.y0)

    inputs: list[str] = []
    chains: list[str] = []
    hold = f"loop=loop={job.frames - 1}:size=1,setpts=N/{FPS}/TB"

    def still(img: Image.Image, name: str) -> int:
        path = save_png(img, str(job.work / f"{name}.png"))
        inputs.extend(["-framerate", str(FPS), "-i", path])
        return len([a for a in inputs if a == "-i"]) - 1

    backdrop = paint_backdrop(plan.place, (bg_w, bg_h), ground_bg, look, plan.time, job.seed)
    bg = backdrop.image
    if shot.bg_blur > 0:  # shallow focus: the closer the shot, the softer the location
        bg = bg.filter(ImageFilter.GaussianBlur(shot.bg_blur / 100 * h))
    bg = grade(bg, look)
    i_bg = still(bg, "bg")
    chains.append(f"[{i_bg}:v]format=yuv420p,{hold},crop={w}:{h}:x='{cam.crop_x}':y='{cam.crop_y}'[v0]")
    cur = "v0"
    k = 0

    def overlay(idx: int, prep: str, x: str, y: str) -> None:
        nonlocal cur, k
        k += 1
        chains.append(f"[{idx}:v]format=yuva420p,{prep}[l{k}]")
        chains.append(f"[{cur}][l{k}]overlay=x='{x}':y='{y}':format=yuv420:eof_action=repeat[v{k}]")
        cur = f"v{k}"

    # Offsets that follow the camera, written to be subtracted (ffmpeg's parser rejects "+-(").
    dx_par = f"{_n(cam.parallax)}*(({cam.crop_x})-{_n(cam.x0)})"
    dy_par = f"(({cam.crop_y})-{_n(cam.y0)})"
    bpm_w = 2 * math.pi * look.groove_bpm / 60

    if backdrop.beams is not None and shot.bg_blur < 1.0:
        beams = grade(backdrop.beams.crop((0, 0, bg_w, bg_h)), look)
        i = still(beams, "beams")
        sway = w * 0.04 * (0.5 + look.motion)
        overlay(i, hold, f"{_n(sway)}*sin({_n(bpm_w / 8)}*t)-{_n(cam.x0)}-({cam.crop_x}-{_n(cam.x0)})",
                f"0-{_n(cam.y0)}-{dy_par}")

    # The character: a loop of poses drawn once each, played at the action's tempo.
    cyc = _action_cycle(job.action, look)
    walk_dx, speed = "", 0.0
    if job.action in ("walk", "sneak") and plan.move not in ("tracking", "orbit"):
        speed = w * 0.025 * (0.5 + look.motion) * rng.choice((-1, 1)) / max(1.0, shot.figure_height)
        walk_dx = f"+{_n(speed)}*(t-{_n(job.dur / 2)})" if speed > 0 else f"-{_n(-speed)}*(t-{_n(job.dur / 2)})"
    travel = cam.parallax * cam.margin[0] * w + (abs(speed) * job.dur / 2 if walk_dx else 0.0)
    idx, fx, fy = _figure_layers(job, fig_h, fig_x, feet, travel + w * 0.04, cam.margin[1] * h + h * 0.04,
                                 still_seq=lambda imgs: _sequence(job, inputs, imgs, cyc))
    loops = math.ceil(job.dur / cyc) + 1
    fps_pose = POSES / cyc
    overlay(idx, f"loop=loop={loops}:size={POSES},setpts=N/{_n(fps_pose)}/TB",
            f"{_n(fx)}-{dx_par}{walk_dx}", f"{_n(fy)}-{dy_par}")

    if plan.crowd and shot.key != "extreme_close_up":
        near = shot.figure_height > 1.0
        strip_h = round(h * (0.3 if near else 0.27))
        # Foreground moves 1.6x the subject's parallax: paint enough strip for the whole pan.
        spare = round(1.6 * cam.parallax * cam.margin[0] * w + w * 0.05)
        crowd = crowd_strip(w + 2 * spare, strip_h, look, rng, blur=h * 0.012 if near else 0.0)
        crowd = grade(crowd, look)
        i = still(crowd, "crowd")
        bounce = h * 0.012 * (0.5 + look.motion)
        overlay(i, hold, f"0-{spare}-1.6*({dx_par})",
                f"{_n(h - strip_h * 0.85)}-{_n(bounce)}*abs(sin({_n(bpm_w / 2)}*t))")

    if plan.rain:
        tile = rain_tile(w, 2 * h, rng)
        i = still(tile, "rain")
        overlay(i, hold, "0", f"mod(t*{_n(h * 1.6)},{h})-{h}")

    if cam.zoom:
        z = cam.zoom
        chains.append(f"[{cur}]scale=w='trunc({w}*{z}/2)*2':h='trunc({h}*{z}/2)*2':eval=frame:flags=bicubic[zs]")
        chains.append(f"color=c=black:s={w}x{h}:r={FPS}:d={_n(job.dur + 1)}[zc]")
        chains.append("[zc][zs]overlay=x='(main_w-overlay_w)/2':y='(main_h-overlay_h)/2':eval=frame[zo]")
        cur = "zo"

    finish = []
    if look.grain > 0:
        finish.append(f"noise=c0s={round(4 + 18 * look.grain)}:c0f=t+u")
    if look.vignette > 0:
        finish.append(f"vignette=angle={_n(0.2 + 0.5 * look.vignette)}")
    if look.monochrome:
        finish.append("hue=s=0")
    finish.append("format=yuv420p")
    chains.append(f"[{cur}]{','.join(finish)}[vf]")
    cur = "vf"

    if look.title_strip and plan.title:
        i = still(_title_strip(plan.title, look, job.size), "title")
        fade_out = max(1.0, job.dur - 0.7)
        k += 1
        chains.append(f"[{i}:v]format=yuva420p,{hold},fade=t=in:st=0.3:d=0.5:alpha=1,"
                      f"fade=t=out:st={_n(fade_out)}:d=0.5:alpha=1[l{k}]")
        chains.append(f"[{cur}][l{k}]overlay=x=0:y=0:format=yuv420:eof_action=repeat[out]")
        cur = "out"
    return inputs, ";\n".join(chains), cur


def _sequence(job: _Job, inputs: list[str], imgs: list[Image.Image], cyc: float) -> int:
    for n, img in enumerate(imgs):
        save_png(img, str(job.work / f"pose_{n:03d}.png"))
    inputs.extend(["-framerate", _n(POSES / cyc), "-i", str(job.work / "pose_%03d.png")])
    return len([a for a in inputs if a == "-i"]) - 1


def _figure_layers(
    job: _Job, fig_h: float, fig_x: float, feet: float, mx: float, my: float, still_seq: Any
) -> tuple[int, float, float]:
    """Draw the pose loop for the visible part of the figure; returns (input index, x, y) of the layer.
    ``mx``/``my``: how far the layer can travel (camera parallax, walking), so that much extra is painted."""
    w, h = job.size
    if job.spec is None:
        assert job.cut is not None
        return _cutout_layers(job, fig_h, fig_x, feet, still_seq)
    full_w, full_h, (sx, sy) = figure_canvas(fig_h)
    left, top = fig_x - sx, feet - sy
    # Only the part of the canvas that can appear on screen (plus the travel room) is painted.
    x0 = max(0, math.floor(-left - mx))
    y0 = max(0, math.floor(-top - my))
    x1 = min(full_w, math.ceil(w - left + mx))
    y1 = min(full_h, math.ceil(h - top + my))
    window = (x0, y0, max(2, x1 - x0), max(2, y1 - y0))
    poses = cycle(job.action, job.spec, POSES, job.look.motion)
    key_side = -1 if random.Random(job.seed).random() < 0.5 else 1
    imgs = [grade(light_figure(draw_figure(job.spec, p, fig_h, window), job.look, key_side), job.look, lift=True)
            for p in poses]
    return still_seq(imgs), left + x0, top + y0


def _cutout_layers(job: _Job, fig_h: float, fig_x: float, feet: float, still_seq: Any) -> tuple[int, float, float]:
    """A foreign reference: the cut-out subject, breathing and swaying (a cycle of slight scales/offsets)."""
    assert job.cut is not None
    w, h = job.size
    target_h = min(fig_h, h * 0.9)
    scale = target_h / job.cut.height
    base = job.cut.resize((max(2, round(job.cut.width * scale)), max(2, round(target_h))), Image.LANCZOS)
    base = grade(base, job.look, lift=True)
    imgs = []
    for n in range(POSES):
        ph = 2 * math.pi * n / POSES
        s = 1 + 0.012 * (0.5 + job.look.motion) * math.sin(ph)
        frame = Image.new("RGBA", (round(base.width * 1.06), round(base.height * 1.06)), (0, 0, 0, 0))
        im = base.resize((round(base.width * s), round(base.height * s)), Image.BILINEAR)
        im = im.rotate(1.2 * (0.5 + job.look.motion) * math.sin(ph + 0.6), resample=Image.BICUBIC, expand=False)
        frame.alpha_composite(im, ((frame.width - im.width) // 2, frame.height - im.height))
        imgs.append(frame)
    x = fig_x - imgs[0].width / 2
    y = min(feet, h * 1.02) - imgs[0].height
    return still_seq(imgs), x, y


def _title_strip(title: str, look: Look, size: tuple[int, int]) -> Image.Image:
    """A small lower-left caption: accent tick, the prompt's first words, on a soft dark backing."""
    w, h = size
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    pad = round(min(w, h) * 0.05)
    fitted = fit_text(title, resolve_font(TITLE_FONTS), round(w * 0.6), round(h * 0.06),
                      max_size=max(12, round(min(w, h) * 0.03)), min_size=10, max_lines=1)
    tw, th = fitted.width, fitted.height
    box_pad = round(th * 0.55)
    x, y = pad, h - pad - th - box_pad
    back = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(back).rounded_rectangle([x - box_pad, y - box_pad, x + tw + box_pad * 2.4, y + th + box_pad],
                                           radius=box_pad, fill=(0, 0, 0, 120))
    img.alpha_composite(back.filter(ImageFilter.GaussianBlur(box_pad * 0.3)))
    d = ImageDraw.Draw(img)
    accent = (230, 230, 230) if look.monochrome else look.accent
    d.rectangle([x, y + th * 0.1, x + max(3, th // 7), y + th * 0.9], fill=(*accent, 255))
    ink = mix((255, 255, 255), look.light, 0.3)
    d.text((x + box_pad, y + fitted.ascent), fitted.lines[0], font=fitted.font, fill=(*ink, 235), anchor="ls")
    return img
