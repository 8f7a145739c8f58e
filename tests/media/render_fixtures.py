"""Hand-built inputs for the scene renderer / captions / compositor tests.

They don't depend on the script writer, the voice or the audio mix: a Script with fixed copy, a VoiceTrack
whose word timings are laid out from the voiceover text, a sine WAV and a drawn product image.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from badapple_dagster.media.models import END_CARD_SECONDS, Palette, Scene, SceneWindow, Script, VoiceTrack, WordTiming
from badapple_dagster.media.styles import resolve_style

COPY = [
    ("hook", "hero", "Meet the EcoWater Bottle.", "Hydration, reinvented"),
    ("benefit", "statement", "Ice cold for a full day, hot for twelve hours.", "Cold for 24 hours"),
    ("proof", "showcase", "Thousands already made the switch.", "Loved by thousands"),
    ("cta", "cta", "Grab yours today!", "Grab yours today"),
]
LONG_NAME = "EcoWater Ultra Insulated Stainless Steel Adventure Bottle With Bamboo Lid And Carry Loop Edition XXL"
LONG_CTA = "Tap Here Now To Claim Your Exclusive Limited Time Launch Discount Today"


def make_script(
    style: str = "modern", *, name: str = "EcoWater Bottle", cta: str = "Buy Now!", scenes: int = 4, seed: int = 7
) -> Script:
    st = resolve_style(style)
    pal = Palette(st.background, st.background_alt, st.text, st.accent, st.muted)
    copy = COPY[:scenes] if scenes < len(COPY) else COPY
    return Script(
        name,
        st.key,
        cta,
        seed,
        pal,
        [Scene(i, role, vo, text, 2.0, layout) for i, (role, layout, vo, text) in enumerate(copy)],
        tagline="Cold water, anywhere",
    )


def make_voice(script: Script, wav_path: str | Path, *, window: float = 1.0) -> VoiceTrack:
    """Words spread evenly over fixed-length scene windows (short windows keep the media tests fast)."""
    words: list[WordTiming] = []
    windows: list[SceneWindow] = []
    for i, scene in enumerate(script.scenes):
        start = round(i * window, 3)
        tokens = scene.voiceover.split()
        step = (window - 0.1) / len(tokens)
        for k, token in enumerate(tokens):
            t = round(start + 0.05 + k * step, 3)
            words.append(WordTiming(token, t, round(t + step * 0.85, 3)))
        windows.append(SceneWindow(i, start, round(start + window, 3)))
    duration = windows[-1].end
    write_sine_wav(wav_path, duration, channels=1)
    return VoiceTrack(str(wav_path), duration, 48000, "test", 170, words, windows, provider="test")


def write_sine_wav(path: str | Path, seconds: float, *, channels: int = 2, freq: float = 220.0) -> str:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={freq}:duration={seconds:.3f}",
            "-ar",
            "48000",
            "-ac",
            str(channels),
            str(path),
        ],
        check=True,
    )
    return str(path)


def mixed_audio(voice: VoiceTrack, path: str | Path) -> str:
    """Stand-in for the mixed soundtrack: stereo 48 kHz, voice + end card long."""
    return write_sine_wav(path, voice.duration + END_CARD_SECONDS, channels=2)


def make_product_png(path: str | Path, size: tuple[int, int] = (500, 1100)) -> str:
    """A bottle-shaped RGBA cut-out like the sanitised uploads the renderer receives."""
    w, h = size
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    body = (38, 170, 150, 255)
    d.rounded_rectangle([w * 0.18, h * 0.22, w * 0.82, h * 0.97], radius=int(w * 0.18), fill=body)
    d.rounded_rectangle([w * 0.3, h * 0.1, w * 0.7, h * 0.26], radius=int(w * 0.08), fill=body)
    d.rounded_rectangle([w * 0.28, h * 0.02, w * 0.72, h * 0.12], radius=int(w * 0.06), fill=(30, 30, 36, 255))
    d.rectangle([w * 0.18, h * 0.5, w * 0.82, h * 0.68], fill=(245, 245, 240, 255))
    shine = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(shine).rounded_rectangle(
        [w * 0.26, h * 0.26, w * 0.34, h * 0.9], radius=16, fill=(255, 255, 255, 90)
    )
    img.alpha_composite(shine.filter(ImageFilter.GaussianBlur(6)))
    img.save(path)
    return str(path)


def frame_at(video: str | Path, t: float, out_png: str | Path) -> np.ndarray:
    """Decode one frame (RGB array) at time ``t``."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", f"{t:.3f}", "-i", str(video), "-frames:v", "1", str(out_png)], check=True
    )
    return np.asarray(Image.open(out_png).convert("RGB"), dtype=np.int16)


def frame_count(video: str | Path) -> int:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            str(video),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())
