"""Style presets: the single place where a style's look, sound and motion are defined.

Every provider (script writer, voice, scene renderer, compositor, music bed) reads its style knobs from here,
so adding a style is one entry in ``STYLES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import RGB


@dataclass(frozen=True)
class StyleSpec:
    key: str
    label: str
    description: str
    # Typography: font file names, resolved by media.fonts.resolve_font (first match wins, DejaVu fallback).
    headline_fonts: tuple[str, ...]
    body_fonts: tuple[str, ...]
    caption_fonts: tuple[str, ...]
    headline_case: str  # "upper" | "title" | "as_is"
    # Default palette (replaced by image-derived colours when a product image is given).
    background: RGB
    background_alt: RGB
    text: RGB
    accent: RGB
    muted: RGB
    background_kind: str  # "luxe_gradient" | "energy_shapes" | "clean_paper" | "color_blocks" | "soft_mesh"
    # Voice (espeak-ng voice name with variant, words per minute, pitch 0-100).
    voice: str
    rate: int
    pitch: int
    # Motion.
    camera_motion: str  # "slow_push" | "fast_pan" | "drift" | "punch_in"
    text_motion: str  # "fade_up" | "slide_in" | "rise" | "slam"
    transition: str  # an ffmpeg xfade transition name
    transition_duration: float
    # Music bed.
    music_bpm: int
    music_mode: str  # "pad" | "pulse" | "sparse" | "drive"
    music_root_hz: float


STYLES: dict[str, StyleSpec] = {
    "luxury": StyleSpec(
        key="luxury",
        label="Luxury",
        description="Dark, warm, unhurried: serif headlines, gold accents, slow push-ins and dissolves.",
        headline_fonts=("NotoSerifDisplay-Regular.ttf", "P052-Roman.otf", "DejaVuSerif.ttf"),
        body_fonts=("Lato-Light.ttf", "DejaVuSans.ttf"),
        caption_fonts=("Lato-Semibold.ttf", "DejaVuSans-Bold.ttf"),
        headline_case="title",
        background=(18, 14, 12),
        background_alt=(58, 42, 28),
        text=(246, 238, 224),
        accent=(212, 175, 55),
        muted=(150, 132, 110),
        background_kind="luxe_gradient",
        voice="en-gb-x-rp+edward",
        rate=150,
        pitch=38,
        camera_motion="slow_push",
        text_motion="fade_up",
        transition="fade",
        transition_duration=0.6,
        music_bpm=72,
        music_mode="pad",
        music_root_hz=110.0,
    ),
    "energetic": StyleSpec(
        key="energetic",
        label="Energetic",
        description="Loud colour, italic heavy type, fast pans, slides and a driving beat.",
        headline_fonts=("Roboto-BlackItalic.ttf", "OpenSans-ExtraBoldItalic.ttf", "DejaVuSans-BoldOblique.ttf"),
        body_fonts=("Roboto-Bold.ttf", "DejaVuSans-Bold.ttf"),
        caption_fonts=("Roboto-Black.ttf", "DejaVuSans-Bold.ttf"),
        headline_case="upper",
        background=(255, 61, 110),
        background_alt=(255, 163, 26),
        text=(255, 255, 255),
        accent=(255, 236, 61),
        muted=(40, 16, 60),
        background_kind="energy_shapes",
        voice="en-us+Annie",
        rate=185,
        pitch=60,
        camera_motion="fast_pan",
        text_motion="slide_in",
        transition="slideleft",
        transition_duration=0.35,
        music_bpm=124,
        music_mode="drive",
        music_root_hz=98.0,
    ),
    "minimal": StyleSpec(
        key="minimal",
        label="Minimal",
        description="Paper white, thin type, lots of air, gentle drift and plain fades.",
        headline_fonts=("Lato-Light.ttf", "OpenSans-Light.ttf", "DejaVuSans-ExtraLight.ttf"),
        body_fonts=("Lato-Regular.ttf", "DejaVuSans.ttf"),
        caption_fonts=("Lato-Bold.ttf", "DejaVuSans-Bold.ttf"),
        headline_case="as_is",
        background=(246, 244, 240),
        background_alt=(232, 228, 220),
        text=(28, 28, 30),
        accent=(46, 94, 170),
        muted=(140, 138, 134),
        background_kind="clean_paper",
        voice="en-us+f3",
        rate=160,
        pitch=50,
        camera_motion="drift",
        text_motion="rise",
        transition="fade",
        transition_duration=0.5,
        music_bpm=90,
        music_mode="sparse",
        music_root_hz=130.81,
    ),
    "bold": StyleSpec(
        key="bold",
        label="Bold",
        description="High contrast blocks, condensed capitals, punch-in zooms and hard wipes.",
        headline_fonts=("BebasNeue-Bold.otf", "BebasNeue-Regular.otf", "DejaVuSansCondensed-Bold.ttf"),
        body_fonts=("RobotoCondensed-Bold.ttf", "DejaVuSansCondensed-Bold.ttf"),
        caption_fonts=("Roboto-Black.ttf", "DejaVuSans-Bold.ttf"),
        headline_case="upper",
        background=(12, 12, 14),
        background_alt=(230, 30, 40),
        text=(255, 255, 255),
        accent=(255, 214, 0),
        muted=(90, 90, 96),
        background_kind="color_blocks",
        voice="en-us+m3",
        rate=175,
        pitch=42,
        camera_motion="punch_in",
        text_motion="slam",
        transition="wipeleft",
        transition_duration=0.3,
        music_bpm=110,
        music_mode="pulse",
        music_root_hz=82.41,
    ),
    "modern": StyleSpec(
        key="modern",
        label="Modern",
        description="Soft gradients, clean sans-serif, smooth drift and crisp slides.",
        headline_fonts=("OpenSans-Bold.ttf", "NotoSansDisplay-Bold.ttf", "DejaVuSans-Bold.ttf"),
        body_fonts=("OpenSans-Regular.ttf", "DejaVuSans.ttf"),
        caption_fonts=("OpenSans-ExtraBold.ttf", "DejaVuSans-Bold.ttf"),
        headline_case="as_is",
        background=(22, 30, 58),
        background_alt=(70, 60, 160),
        text=(255, 255, 255),
        accent=(0, 214, 180),
        muted=(150, 160, 200),
        background_kind="soft_mesh",
        voice="en-us+f2",
        rate=170,
        pitch=52,
        camera_motion="drift",
        text_motion="slide_in",
        transition="smoothup",
        transition_duration=0.45,
        music_bpm=100,
        music_mode="pulse",
        music_root_hz=116.54,
    ),
}

# The seed's examples name "minimalist"; it means the same as "minimal".
ALIASES: dict[str, str] = {"minimalist": "minimal", "lux": "luxury", "premium": "luxury"}


def valid_styles() -> list[str]:
    return sorted([*STYLES, *ALIASES])


def resolve_style(name: str) -> StyleSpec:
    """Case-insensitive lookup through aliases; unknown names raise ValueError listing the valid ones."""
    key = (name or "").strip().lower()
    key = ALIASES.get(key, key)
    if key not in STYLES:
        raise ValueError(f"Unknown style {name!r}. Valid styles: {', '.join(valid_styles())}")
    return STYLES[key]
