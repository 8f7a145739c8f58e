"""Eased motion as ffmpeg expressions, and the filtergraph that animates pre-painted layers.

Python paints each layer once; ffmpeg moves it per frame. A background is cropped out of an oversized still
(crop x/y per frame — a pointer offset, no pixel work), foreground layers are overlaid at expression positions
and only the small layers are scaled per frame. Every still is decoded and colour-converted once and then
repeated with the ``loop`` filter, so per-frame cost is just the overlays and the encoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import FPS
from .styles import StyleSpec


def _n(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".") or "0"


def progress(start: float, dur: float) -> str:
    """0 before ``start``, rising linearly to 1 at ``start + dur``."""
    return f"clip((t-{_n(start)})/{_n(max(dur, 1e-3))},0,1)"


def ease_out_cubic(p: str) -> str:
    return f"(1-pow(1-{p},3))"


def ease_out_quint(p: str) -> str:
    return f"(1-pow(1-{p},5))"


def ease_in_out_sine(p: str) -> str:
    return f"(0.5-0.5*cos(PI*{p}))"


def ease_out_back(p: str, overshoot: float = 1.6) -> str:
    # 1 + (c+1)(p-1)^3 + c(p-1)^2: overshoots the target slightly, then settles — a "pop".
    return f"(1+{_n(overshoot + 1)}*pow({p}-1,3)+{_n(overshoot)}*pow({p}-1,2))"


@dataclass
class Layer:
    """A still placed with its top-left at (x, y) at rest; dx/dy/scale are expressions in ``t``."""

    path: str
    x: float
    y: float
    w: int
    h: int
    dx: str = "0"
    dy: str = "0"
    scale: str | None = None  # scale factor around the layer centre; None = never scaled
    fade: tuple[float, float] | None = None  # (start, duration) alpha fade-in


@dataclass
class Stage:
    """Everything one shot needs: an oversized background panned by crop expressions, plus layers."""

    background: str
    bg_size: tuple[int, int]
    crop_x: str
    crop_y: str
    layers: list[Layer] = field(default_factory=list)


def stage_inputs(stage: Stage) -> list[str]:
    """ffmpeg input args for a stage's stills (``-framerate`` so timestamps are 30 fps from the start)."""
    args: list[str] = []
    for path in [stage.background, *[layer.path for layer in stage.layers]]:
        args += ["-framerate", str(FPS), "-i", path]
    return args


def stage_graph(stage: Stage, size: tuple[int, int], frames: int, first_input: int, tag: str) -> tuple[str, str]:
    """Filtergraph text animating ``stage`` for ``frames`` frames; returns (graph, output label).

    ``first_input`` is the index of the stage's background among the command's inputs (the compositor
    appends the end card after the scene clips); ``tag`` keeps labels unique within one graph.
    """
    w, h = size
    # One decoded still, repeated by reference; timestamps rebuilt as plain frame numbers at 1/FPS so every
    # stream in a graph (stills, decoded clips) shares one timebase, as xfade requires.
    hold = f"loop=loop={frames - 1}:size=1,settb=1/{FPS},setpts=N"
    chains = [f"[{first_input}:v]format=yuv420p,{hold},crop={w}:{h}:x='{stage.crop_x}':y='{stage.crop_y}'[{tag}b0]"]
    cur = f"{tag}b0"
    for k, layer in enumerate(stage.layers, start=1):
        steps = [f"[{first_input + k}:v]format=yuva420p", hold]
        if layer.fade:
            steps.append(f"fade=t=in:st={_n(layer.fade[0])}:d={_n(layer.fade[1])}:alpha=1")
        if layer.scale:
            # eval=frame re-evaluates the size every frame; once the factor settles at 1 the size equals the
            # input and scale passes frames through untouched.
            s = layer.scale
            steps.append(f"scale=w='trunc(iw*{s}/2)*2':h='trunc(ih*{s}/2)*2':eval=frame:flags=bilinear")
        chains.append(",".join(steps) + f"[{tag}l{k}]")
        # Anchor at the layer centre so scaling grows/shrinks around it.
        cx, cy = layer.x + layer.w / 2, layer.y + layer.h / 2
        x = f"{_n(cx)}-overlay_w/2+({layer.dx})"
        y = f"{_n(cy)}-overlay_h/2+({layer.dy})"
        nxt = f"{tag}v{k}"
        chains.append(f"[{cur}][{tag}l{k}]overlay=x='{x}':y='{y}':format=yuv420:eof_action=pass[{nxt}]")
        cur = nxt
    return ";\n".join(chains), cur


# ------------------------------------------------------------------------------------ style → motion


def camera(
    style: StyleSpec, bg_size: tuple[int, int], size: tuple[int, int], dur: float, index: int
) -> tuple[str, str]:
    """Crop x/y expressions for the background, per ``camera_motion``. Alternating direction per scene keeps
    consecutive shots from sliding the same way."""
    mx, my = bg_size[0] - size[0], bg_size[1] - size[1]
    d = 1 if index % 2 == 0 else -1
    p = progress(0, dur)
    motion = style.camera_motion
    if motion == "fast_pan":
        e = ease_out_cubic(progress(0, dur * 0.85))
        x = f"{_n(mx)}*{e}" if d > 0 else f"{_n(mx)}*(1-{e})"
        y = f"{_n(my / 2)}"
    elif motion == "punch_in":
        # A quick shove on the cut, then a decaying shake: the hit of a hard cut in poster style.
        e = ease_out_cubic(progress(0, 0.4))
        shake = f"{_n(min(14, mx / 8))}*exp(-7*t)*sin(55*t)"
        x = f"{_n(mx / 2)}+{_n(d * mx * 0.3)}*{e}+{shake}"
        y = f"{_n(my / 2)}+{_n(my * 0.15)}*{e}"
    elif motion == "slow_push":
        e = ease_in_out_sine(p)
        x = f"{_n(mx / 2)}+{_n(d * mx * 0.4)}*({e}-0.5)"
        y = f"{_n(my * 0.7)}-{_n(my * 0.4)}*{e}"
    else:  # drift
        e = ease_in_out_sine(p)
        x = f"{_n(mx * 0.5)}+{_n(d * mx * 0.42)}*({e}-0.5)*2"
        y = f"{_n(my * 0.5)}+{_n(my * 0.3)}*sin(2*PI*t/{_n(max(dur, 1) * 1.6)})"
    # Keep inside the still whatever the expression does (shake/overshoot).
    return f"clip({x},0,{_n(mx)})", f"clip({y},0,{_n(my)})"


def bg_oversize(style: StyleSpec, size: tuple[int, int]) -> tuple[int, int]:
    """How much bigger than the frame the background still is: room for the camera move, no more (every
    extra pixel is painted, PNG-coded and decoded)."""
    w, h = size
    fx, fy = {"fast_pan": (1.3, 1.05), "punch_in": (1.12, 1.08), "slow_push": (1.1, 1.1)}.get(
        style.camera_motion, (1.14, 1.08)
    )
    return (round(w * fx / 2) * 2, round(h * fy / 2) * 2)


def hero_motion(
    style: StyleSpec, size: tuple[int, int], dur: float, index: int, intro: float
) -> tuple[str, str, str | None]:
    """(dx, dy, scale) of the hero: it moves against the background pan (parallax) so the frame has depth."""
    w, h = size
    d = 1 if index % 2 == 0 else -1
    p = progress(0, dur)
    motion = style.camera_motion
    if motion == "fast_pan":
        drift = f"({_n(-d * w * 0.02)})*{p}"
        if index == 0:
            # No transition hides an empty or half-out-of-frame first frame, so scene 0 pops in place.
            return drift, "0", f"(0.9+0.1*{ease_out_back(progress(intro, 0.45))})"
        slide = ease_out_quint(progress(intro, 0.55))
        return f"{_n(d * w * 0.6)}*(1-{slide})+{drift}", "0", None
    if motion == "punch_in":
        pop = ease_out_back(progress(intro, 0.35), 2.2)
        return "0", "0", f"(0.8+0.2*{pop}+0.03*{p})"
    if motion == "slow_push":
        return "0", f"-{_n(h * 0.012)}*{ease_in_out_sine(p)}", f"(1+0.07*{ease_in_out_sine(p)})"
    # drift: a slow float plus counter-drift against the background.
    dx = f"{_n(-d * w * 0.02)}*({ease_in_out_sine(p)}-0.5)*2"
    dy = f"{_n(h * 0.008)}*sin(2*PI*t/3.2)"
    return dx, dy, None


def text_motion(
    style: StyleSpec, size: tuple[int, int], intro: float
) -> tuple[str, str, str | None, tuple[float, float]]:
    """(dx, dy, scale, fade) of the headline per ``text_motion`` — all eased, none linear."""
    w, h = size
    m = style.text_motion
    if m == "slide_in":
        e = ease_out_quint(progress(intro, 0.6))
        return f"-{_n(w * 0.35)}*(1-{e})", "0", None, (intro, 0.3)
    if m == "rise":
        e = ease_out_quint(progress(intro, 0.9))
        return "0", f"{_n(h * 0.05)}*(1-{e})", None, (intro, 0.55)
    if m == "slam":
        e = ease_out_cubic(progress(intro, 0.22))
        return "0", "0", f"(1+0.9*(1-{e}))", (intro, 0.08)
    e = ease_out_cubic(progress(intro, 0.8))  # fade_up
    return "0", f"{_n(h * 0.025)}*(1-{e})", None, (intro, 0.7)


def extra_motion(
    size: tuple[int, int], start: float, *, pulse: bool
) -> tuple[str, str, str | None, tuple[float, float]]:
    """Badge/button: rises in with a pop after the headline; the CTA button then breathes to draw the eye."""
    rise = ease_out_cubic(progress(start, 0.5))
    dy = f"{_n(size[1] * 0.02)}*(1-{rise})"
    if pulse:
        pop = ease_out_back(progress(start, 0.45))
        breathe = f"0.04*pow(sin(PI*max(t-{_n(start + 0.6)},0)/1.1),2)"
        return "0", dy, f"(0.7+0.3*{pop}+{breathe})", (start, 0.25)
    return "0", dy, None, (start, 0.35)
