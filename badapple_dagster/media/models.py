"""Plain data passed between the media providers and the Dagster assets.

Everything here is JSON-serialisable through ``to_dict``/``from_dict`` so a stage can hand the next one a
small manifest in the artifact store instead of a pickle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RGB = tuple[int, int, int]

ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "16:9": (1920, 1080),
}
FPS = 30
SCENE_ROLES = ("hook", "benefit", "proof", "cta")
# Scene layouts the renderer implements; the script writer picks one per scene.
#   hero      - the product (or, without an image, the product name as a typographic hero) fills the centre,
#               headline above it
#   statement - the headline is the hero, large and centred; the product sits small below it
#   showcase  - the product centre-low with a proof badge (stars / "loved by thousands"), headline on top
#   cta       - the product beside/above a call-to-action button carrying the CTA text
LAYOUTS = ("hero", "statement", "showcase", "cta")


def size_for_aspect(aspect_ratio: str) -> tuple[int, int]:
    try:
        return ASPECT_SIZES[aspect_ratio]
    except KeyError:
        valid = ", ".join(ASPECT_SIZES)
        raise ValueError(f"Unknown aspect ratio {aspect_ratio!r}; valid: {valid}") from None


def hex_to_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def rgb_to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class Brief:
    """What a product team asks for. Validated by ``media.brief.build_brief`` before any media work."""

    product_name: str
    style: str  # canonical style key (aliases already resolved)
    cta_text: str
    image_path: str | None = None  # local path of the validated product image, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Palette:
    """Colours of one ad. ``background``/``background_alt`` form gradients; ``text`` is the on-screen copy
    colour (always contrasted against the background); ``accent`` highlights (active caption word, CTA)."""

    background: RGB
    background_alt: RGB
    text: RGB
    accent: RGB
    muted: RGB
    source: str = "style"  # "style" or "image" (dominant colours of the product image)

    def to_dict(self) -> dict[str, Any]:
        return {k: (rgb_to_hex(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Palette:
        kw = {k: (hex_to_rgb(v) if k != "source" else v) for k, v in data.items()}
        return cls(**kw)


@dataclass
class Scene:
    index: int  # 0-based
    role: str  # hook | benefit | proof | cta
    voiceover: str
    on_screen_text: str
    duration: float  # planned seconds (voice_gen fixes the real window)
    layout: str = "center"  # layout hint for the renderer, chosen per style

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Script:
    product_name: str
    style: str
    cta_text: str
    seed: int
    palette: Palette
    scenes: list[Scene]
    tagline: str = ""
    provider: str = "local"
    model: str = "template-v1"

    @property
    def planned_duration(self) -> float:
        return round(sum(s.duration for s in self.scenes), 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_name": self.product_name,
            "style": self.style,
            "cta_text": self.cta_text,
            "seed": self.seed,
            "palette": self.palette.to_dict(),
            "scenes": [s.to_dict() for s in self.scenes],
            "tagline": self.tagline,
            "provider": self.provider,
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        return cls(
            product_name=data["product_name"],
            style=data["style"],
            cta_text=data["cta_text"],
            seed=int(data["seed"]),
            palette=Palette.from_dict(data["palette"]),
            scenes=[Scene(**s) for s in data["scenes"]],
            tagline=data.get("tagline", ""),
            provider=data.get("provider", "local"),
            model=data.get("model", "template-v1"),
        )

    def to_markdown(self) -> str:
        lines = [f"### {self.product_name} — {self.style}", ""]
        if self.tagline:
            lines += [f"_{self.tagline}_", ""]
        lines += ["| # | role | on screen | voiceover | s |", "|---|---|---|---|---|"]
        for s in self.scenes:
            lines.append(f"| {s.index + 1} | {s.role} | {s.on_screen_text} | {s.voiceover} | {s.duration:.1f} |")
        lines += ["", f"**CTA:** {self.cta_text}"]
        return "\n".join(lines)


@dataclass
class WordTiming:
    word: str
    start: float  # seconds from the start of the whole voiceover track
    end: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SceneWindow:
    """Where a scene sits on the final timeline (seconds). Scene cuts fall on sentence boundaries."""

    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 3)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VoiceTrack:
    wav_path: str  # local path of the mono WAV (the asset stores it under a deterministic key)
    duration: float  # seconds, equals the end of the last scene window
    sample_rate: int
    voice: str
    rate: int  # words per minute given to the engine
    words: list[WordTiming] = field(default_factory=list)
    windows: list[SceneWindow] = field(default_factory=list)
    provider: str = "espeak-ng"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VoiceTrack:
        return cls(
            wav_path=data["wav_path"],
            duration=float(data["duration"]),
            sample_rate=int(data["sample_rate"]),
            voice=data["voice"],
            rate=int(data["rate"]),
            words=[WordTiming(**w) for w in data.get("words", [])],
            windows=[SceneWindow(**w) for w in data.get("windows", [])],
            provider=data.get("provider", "espeak-ng"),
        )


# Timeline bounds of a finished ad: voiceover scenes plus a CTA end card.
END_CARD_SECONDS = 3.0
MIN_AD_SECONDS = 15.0
MAX_AD_SECONDS = 30.0


@dataclass
class Clip:
    """One rendered scene clip (video only, 30 fps, yuv420p H.264 mezzanine)."""

    index: int
    path: str  # local path
    duration: float  # seconds, includes the transition overlap
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
