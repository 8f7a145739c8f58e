"""Provider interfaces, one per stage. The offline (local) providers implement them; remote adapters
(LLMs, TTS services, Replicate models; badapple_dagster/providers/) implement the same protocols and are
chosen by config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .live_scene import LiveScene
from .models import Brief, Clip, Palette, Script, VoiceTrack

# progress(fraction 0..1, message) — lets a stage report fine-grained progress without knowing about Redis.
ProgressFn = Callable[[float, str], None]


def no_progress(_fraction: float, _message: str) -> None:
    return None


class ScriptWriter(Protocol):
    name: str
    model: str

    def write(self, brief: Brief, *, seed: int, palette: Palette) -> Script: ...


class VoiceProvider(Protocol):
    name: str

    def synthesize(
        self, script: Script, out_wav: str, *, voice: str | None = None, rate: int | None = None
    ) -> VoiceTrack: ...


class SceneRenderer(Protocol):
    """``scenes`` is what video_gen calls: clips (remote models) or live stages (the local renderer's painted
    stills + motion, animated in compositing's single encode); the compositor takes both, mixed too."""

    name: str

    def scenes(
        self,
        script: Script,
        voice: VoiceTrack,
        *,
        product_image: str | None,
        size: tuple[int, int],
        out_dir: str,
        seed: int,
        progress: ProgressFn = no_progress,
    ) -> list[Clip | LiveScene]: ...
