"""Shared fixtures for the MV engine tests: temp flavor roots, and media rendered once per session.

Media is real (Pillow + ffmpeg) but short: 2 s clips keep the whole suite to about a minute on 2 cores.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from badapple_dagster.mv.character import render_character_reference
from badapple_dagster.mv.clip_renderer import render_scene_clip
from badapple_dagster.mv.flavors import _REPO_CONFIGS

CLIP_SECONDS = 2.0
# Three visibly different scenes (place, shot, light), so cuts between them are detectable in the output.
CONCERT_PROMPTS = (
    "Wide establishing shot from the front, slow pan. The main stage of a packed outdoor stadium at night, "
    "moving spotlights sweeping through haze. The singer grips the microphone stand and belts the opening line.",
    "Extreme close-up at eye level, locked-off camera. A rain-slicked city street at night under a buzzing "
    "neon sign. The singer holds one long note.",
    "Medium shot from the side, slow push-in. A quiet park path under tall trees in bright daylight. "
    "The singer walks briskly through the frame.",
)


@pytest.fixture
def flavor_root(tmp_path: Path) -> Path:
    """A writable copy of the shipped configs; tests add or break flavors in it."""
    root = tmp_path / "mv_configs"
    shutil.copytree(_REPO_CONFIGS, root)
    return root


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mv_media")


@pytest.fixture(scope="session")
def concert_card(media_dir: Path) -> str:
    return render_character_reference(
        "a singer with long pink hair in a red leather jacket with a white guitar", "concert",
        str(media_dir / "card.png"), seed=3,
    )


@pytest.fixture(scope="session")
def concert_clips(media_dir: Path, concert_card: str) -> list[str]:
    paths = []
    for i, prompt in enumerate(CONCERT_PROMPTS):
        info = render_scene_clip(prompt, [concert_card], "concert", str(media_dir / f"scene_{i + 1:03d}.mp4"),
                                 duration=CLIP_SECONDS, seed=i)
        paths.append(info.path)
    return paths


def frame_rgb(path: str, index: int, width: int = 160) -> np.ndarray:
    """Frame ``index`` of a video, downscaled, as an RGB array (for motion and colour checks)."""
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-vf",
         f"select='eq(n,{index})',scale={width}:-2", "-vsync", "0", "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"], capture_output=True, check=True,
    )
    data = np.frombuffer(proc.stdout, np.uint8)
    return data.reshape(-1, width, 3)


def frame_diffs(path: str, size: tuple[int, int] = (64, 36)) -> np.ndarray:
    """Mean absolute difference between consecutive frames (grey, downscaled): spikes are cuts."""
    w, h = size
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-vf", f"scale={w}:{h},format=gray",
         "-f", "rawvideo", "-"], capture_output=True, check=True,
    )
    arr = np.frombuffer(proc.stdout, np.uint8).reshape(-1, h, w).astype(np.float32)
    return np.abs(np.diff(arr, axis=0)).mean(axis=(1, 2))
