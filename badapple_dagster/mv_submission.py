"""Accepting a music-video project or a flavor sweep: validate, store inputs with the project, register its
partitions. Shared by the CLI (`badapple sweep`) and the API (`POST /api/mv/projects`, `/api/mv/sweeps`)."""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Any

from .artifacts import ArtifactStore
from .media.brief import BriefError, normalize_image
from .mv.flavors import SWEEPABLE
from .names import MUSIC_JOBS, MV_FLAVORS
from .settings import scratch_dir
from .store.mv import MvProject, MvStore

MAX_TEXT = 2000
MAX_AUDIO_BYTES = 50 * 1024 * 1024
INT_KEYS = {"number_of_scenes", "video_duration"}


def _text(name: str, value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise BriefError(f"{name} is required", details=f"{name} cannot be empty", field=name)
    if len(value) > MAX_TEXT:
        raise BriefError(f"{name} is too long", details=f"at most {MAX_TEXT} characters", field=name)
    return value


def check_project_text(concept: str | None, character_description: str | None) -> tuple[str, str]:
    """The project's two required texts, trimmed; BriefError (a 400) when one is blank or too long."""
    return _text("concept", concept), _text("character_description", character_description)


def resolve_flavors(names: list[str]) -> list[str]:
    from .mv.flavors import FlavorError, load_flavor

    out = []
    for name in names:
        try:
            out.append(load_flavor(name.strip()).name)
        except FlavorError as exc:
            raise BriefError(str(exc), error="InvalidFlavor", details=str(exc), field="config_flavor") from exc
    if not out:
        raise BriefError("at least one flavor is required", field="flavors")
    return list(dict.fromkeys(out))


def parse_grid(sets: dict[str, list[Any]] | None) -> list[dict[str, Any]]:
    """{"number_of_scenes": ["3", "5"]} -> [{"number_of_scenes": 3}, {"number_of_scenes": 5}] (cartesian)."""
    if not sets:
        return [{}]
    keys = sorted(sets)
    values = []
    for key in keys:
        if key not in SWEEPABLE:
            raise BriefError(f"cannot sweep {key!r}", details=f"sweepable: {', '.join(sorted(SWEEPABLE))}",
                             field="set")
        vals = sets[key]
        try:
            vals = [int(v) for v in vals] if key in INT_KEYS else [str(v) for v in vals]
        except (TypeError, ValueError):
            raise BriefError(f"{key} takes whole numbers", field="set") from None
        if not vals:
            raise BriefError(f"{key} needs at least one value", field="set")
        values.append(vals)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def create_mv_project(
    store: MvStore,
    artifacts: ArtifactStore,
    *,
    concept: str,
    character_description: str,
    flavors: list[str],
    grid: dict[str, list[Any]] | None = None,
    audio_bytes: bytes | None = None,
    reference_image_bytes: bytes | None = None,
    options: dict[str, Any] | None = None,
    sweep: bool = False,
) -> MvProject:
    concept, character = check_project_text(concept, character_description)
    flavor_names = resolve_flavors(flavors)
    points = parse_grid(grid)
    project_id = str(uuid.uuid4())
    audio_key = ref_key = None
    with scratch_dir() as tmp:
        # Validate every input before storing any, so a bad image never leaves an orphan song behind.
        png = None
        if reference_image_bytes:
            png = os.path.join(tmp, "reference.png")
            normalize_image(reference_image_bytes, png)
        song_path, song_ext = None, None
        if audio_bytes:
            if len(audio_bytes) > MAX_AUDIO_BYTES:
                raise BriefError("Audio file too large", error="FileTooLarge", details="at most 50 MB", field="audio")
            from .mv.song import SongError, load_song

            song_path = os.path.join(tmp, "song.bin")
            with open(song_path, "wb") as f:
                f.write(audio_bytes)
            try:
                info = load_song(song_path)  # probes the content: mp3, wav or m4a with an audio stream
            except SongError as exc:
                raise BriefError(str(exc), error="InvalidAudio", details="mp3, wav or m4a", field="audio") from exc
            song_ext = {"WAV": "wav", "MP3": "mp3"}.get(info.container, "m4a")
        if png:
            ref_key = f"mv/projects/{project_id}/input/reference.png"
            artifacts.put_file(ref_key, png, "image/png")
        if song_path:
            audio_key = f"mv/projects/{project_id}/input/song.{song_ext}"
            artifacts.put_file(audio_key, song_path)
    variants = [(f, p) for f in flavor_names for p in points]
    project = store.create_project(project_id, concept=concept, character_description=character, variants=variants,
                                   audio_key=audio_key, reference_image_key=ref_key, options=options or {})
    if sweep:
        sweep_id = project_id  # one sweep = one project across flavor partitions
        store.create_sweep(sweep_id, project_id, {"flavors": flavor_names, "grid": grid or {}})
        project = store.get_project(project_id) or project
    return project


def add_mv_partitions(instance: Any, project: MvProject) -> None:
    instance.add_dynamic_partitions(MUSIC_JOBS, [project.id])
    instance.add_dynamic_partitions(MV_FLAVORS, [v.variant for v in project.variants])


def mv_partition_key(project_id: str, variant: str) -> str:
    """The multi-partition key string: dimensions sorted by name ("flavor" before "project")."""
    return f"{variant}|{project_id}"


def mv_run_tags(project_id: str, variant: str) -> dict[str, str]:
    return {
        "dagster/partition": mv_partition_key(project_id, variant),
        "dagster/partition/flavor": variant,
        "dagster/partition/project": project_id,
        "badapple/project_id": project_id,
    }
