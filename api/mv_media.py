"""The blocking halves of the synchronous MV endpoints. Every function here runs in a worker thread.

Scene writing takes milliseconds; a character card ~0.6 s of Pillow; a scene clip ~1.1 s per second of
video (ffmpeg). Concurrency is bounded by the caller (mv_runtime.RenderGate), not here.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from badapple_dagster.artifacts import ArtifactStore
from badapple_dagster.media.brief import MAX_IMAGE_BYTES, sniff_image_type
from badapple_dagster.mv.flavors import FlavorError, ResolvedFlavor, list_flavors, load_flavor

from .errors import ApiError
from .mv_files import check_mv_key, media_type

CARD_PREFIX = "mv/outputs/character_reference"
MAX_SCENE_NUMBER = 999  # scene_NNN.mp4


def flavor_error(exc: FlavorError, requested: str | None) -> ApiError:
    valid = ", ".join(list_flavors()) or "(none)"
    if exc.key == "config_flavor":  # unknown name; FlavorError's own text also names the configs folder
        name = (requested or "").strip()[:64]
        return ApiError(400, "InvalidFlavor", f"Unknown config flavor '{name}'", f"Valid flavors: {valid}")
    # The flavor exists but its YAML is broken: say what is wrong with it (file and key, no server paths).
    lines = [f"{i.file}: {i.key}: {i.message}" for i in exc.issues] or [str(exc).split("\n")[0]]
    return ApiError(400, "InvalidFlavor", f"Config flavor '{exc.flavor}' cannot be used",
                    f"{'; '.join(lines)[:1000]}. Valid flavors: {valid}")


def resolve_flavor(name: str | None) -> ResolvedFlavor:
    try:
        return load_flavor(name)
    except FlavorError as exc:
        raise flavor_error(exc, name) from None


def bad_input(message: str, details: str = "") -> ApiError:
    return ApiError(400, "ValidationError", message, details)


# ---- scenes ---------------------------------------------------------------------------------------------


def write_scene_list(flavor_name: str | None, concept: str, num_scenes: int | None,
                     character_description: str | None, seed: int) -> tuple[ResolvedFlavor, list[dict[str, Any]]]:
    from badapple_dagster.mv.scene_writer import write_scenes

    flavor = resolve_flavor(flavor_name)
    try:
        scenes = write_scenes(concept, character_description or None, flavor, num_scenes=num_scenes, seed=seed)
    except ValueError as exc:  # e.g. a concept that is only punctuation
        raise bad_input(str(exc)) from None
    return flavor, [{"sequence": s.sequence, "prompt": s.prompt, "duration": s.duration,
                     "negative_prompt": s.negative_prompt} for s in scenes]


# ---- character reference -------------------------------------------------------------------------------


def render_card(artifacts: ArtifactStore, flavor: ResolvedFlavor, description: str, seed: int) -> str:
    """Paint the card and store it; returns its key (suffix per the flavor's output_format)."""
    from badapple_dagster.mv.character import render_character_reference

    with tempfile.TemporaryDirectory(prefix="mv-card-") as tmp:
        try:
            path = render_character_reference(description, flavor, os.path.join(tmp, "card.png"), seed=seed)
        except ValueError as exc:
            raise bad_input(str(exc)) from None
        key = f"{CARD_PREFIX}/{uuid.uuid4()}{os.path.splitext(path)[1]}"
        artifacts.put_file(key, path, media_type(key))
    return key


# ---- scene clips ----------------------------------------------------------------------------------------


def _reference_error(key: str, why: str) -> ApiError:
    return ApiError(400, "InvalidReferenceImage", f"Reference image '{key[:200]}' cannot be used", why)


def fetch_references(artifacts: ArtifactStore, keys: list[str], work_dir: str) -> list[str]:
    """Local paths of the referenced images, after checking each key is under mv/, exists and is an image."""
    paths = []
    for key in keys:
        check_mv_key(key)
        if not artifacts.exists(key):
            raise _reference_error(key, "No file is stored under this key")
        if artifacts.size(key) > MAX_IMAGE_BYTES:
            raise _reference_error(key, "Larger than 10 MB")
        path = artifacts.materialize_local(key, work_dir)  # type: ignore[attr-defined]
        with open(path, "rb") as f:
            head = f.read(16)
        # Only our own uploads and cards live under mv/, but a key may name a clip or a JSON manifest.
        if sniff_image_type(head) is None:
            raise _reference_error(key, "Not a PNG, JPEG or WebP image")
        paths.append(path)
    return paths


@dataclass(frozen=True)
class StoredClip:
    key: str
    sequence: int
    duration: float


def scene_key(project_id: str, sequence: int) -> str:
    return f"mv/projects/{project_id}/scenes/scene_{sequence:03d}.mp4"


def _store_next(artifacts: ArtifactStore, lock: threading.Lock, project_id: str, clip_path: str) -> tuple[str, int]:
    # The first free number wins through a create-if-absent write, so API replicas sharing the artifact store
    # never hand out the same number; the process lock only spares this replica's threads the collisions.
    # The clip is rendered before this, so a failed render never uses up a number.
    with lock:
        for sequence in range(1, MAX_SCENE_NUMBER + 1):
            key = scene_key(project_id, sequence)
            if not artifacts.exists(key) and artifacts.put_file_if_absent(key, clip_path, "video/mp4"):
                return key, sequence
    raise ApiError(409, "TooManyScenes", f"Project '{project_id}' already has {MAX_SCENE_NUMBER} scene clips")


def render_clip(artifacts: ArtifactStore, lock: threading.Lock, flavor: ResolvedFlavor, *, prompt: str,
                duration: float, reference_keys: list[str], project_id: str, seed: int | None) -> StoredClip:
    from badapple_dagster.mv.clip_renderer import render_scene_clip

    with tempfile.TemporaryDirectory(prefix="mv-clip-") as tmp:
        refs = fetch_references(artifacts, reference_keys, tmp)
        out = os.path.join(tmp, "clip.mp4")
        # Without an explicit seed, vary by the project's clip count so repeated prompts do not look identical.
        info = render_scene_clip(prompt, refs, flavor, out, duration=duration,
                                 seed=seed if seed is not None else _clip_count(artifacts, project_id) + 1)
        key, sequence = _store_next(artifacts, lock, project_id, info.path)
    return StoredClip(key, sequence, info.duration)


def _clip_count(artifacts: ArtifactStore, project_id: str) -> int:
    n = 0
    while n < MAX_SCENE_NUMBER and artifacts.exists(scene_key(project_id, n + 1)):
        n += 1
    return n
