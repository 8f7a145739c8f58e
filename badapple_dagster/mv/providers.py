"""Provider interfaces of the MV stages and their offline implementations.

Each MV stage asks one provider for its output: a scene writer (mv_scenes), a character artist
(character_reference) and a clip renderer (mv_clips). The offline providers below wrap the local engine;
remote adapters (badapple_dagster/providers/mv_llm.py, mv_replicate.py) implement the same protocols, so the
assets and the fallback chains treat them alike. Scenes travel as the dicts the mv_scenes manifest stores
(``MVScene.to_dict()``), because that is what mv_clips reads back.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from ..media.providers import ProgressFn, no_progress
from .clip_renderer import ClipInfo
from .flavors import ResolvedFlavor
from .scene_writer import MVScene


class SceneWriter(Protocol):
    name: str
    model: str

    def write(self, concept: str, character_description: str, flavor: ResolvedFlavor, *,
              num_scenes: int | None, seed: int) -> list[MVScene]: ...


class CharacterArtist(Protocol):
    name: str
    model: str

    def render(self, description: str, flavor: ResolvedFlavor, out_path: str, *, seed: int) -> str:
        """Write the reference image (in the flavor's output_format); return the path actually written."""
        ...


class ClipRenderer(Protocol):
    name: str
    model: str

    def render(self, scenes: list[dict[str, Any]], reference: str, flavor: ResolvedFlavor, out_dir: str, *,
               seed: int, progress: ProgressFn = no_progress) -> list[ClipInfo]:
        """One clip per scene, in scene order, each as the assembly expects it (see clip_renderer.validate_clip)."""
        ...


def clip_path(out_dir: str, scene: dict[str, Any]) -> str:
    return os.path.join(out_dir, f"scene_{int(scene['sequence']):03d}.mp4")


class LocalSceneWriter:
    name = "local"
    model = "template-v1"

    def write(self, concept: str, character_description: str, flavor: ResolvedFlavor, *,
              num_scenes: int | None, seed: int) -> list[MVScene]:
        from .scene_writer import write_scenes

        return write_scenes(concept, character_description, flavor, num_scenes=num_scenes, seed=seed)


class LocalCharacterArtist:
    name = "local"
    model = "pillow-character-card"

    def render(self, description: str, flavor: ResolvedFlavor, out_path: str, *, seed: int) -> str:
        from .character import render_character_reference

        return render_character_reference(description, flavor, out_path, seed=seed)


class LocalClipRenderer:
    name = "local"
    model = "pillow-layers+ffmpeg"

    def render(self, scenes: list[dict[str, Any]], reference: str, flavor: ResolvedFlavor, out_dir: str, *,
               seed: int, progress: ProgressFn = no_progress) -> list[ClipInfo]:
        from .clip_renderer import render_scene_clip

        clips = []
        for i, scene in enumerate(scenes):
            progress(i / len(scenes), f"Rendering scene {i + 1} of {len(scenes)}")
            clips.append(render_scene_clip(scene["prompt"], [reference], flavor, clip_path(out_dir, scene),
                                           duration=scene["duration"], seed=seed + int(scene["sequence"])))
        return clips
