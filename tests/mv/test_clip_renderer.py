"""Scene clips: probe-valid H.264 at the flavor's size/fps/duration, real motion, the flavor's look."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.mv.clip_renderer import render_scene_clip
from badapple_dagster.mv.flavors import load_flavor

from .conftest import CLIP_SECONDS, frame_rgb


def test_clip_is_16_9_30fps_h264_with_silent_audio(concert_clips: list[str]) -> None:
    info = probe(concert_clips[0])
    assert (info.width, info.height) == (1920, 1080)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.fps == pytest.approx(30.0)
    assert info.duration == pytest.approx(CLIP_SECONDS, abs=0.07)
    assert info.audio_codec == "aac"  # video_generate_audio: true → a silent AAC track


def test_clip_moves_and_is_not_blank(concert_clips: list[str]) -> None:
    for path in concert_clips:
        first, later = frame_rgb(path, 3).astype(np.float32), frame_rgb(path, 50).astype(np.float32)
        assert first.std() > 15  # a picture, not a flat frame
        assert np.abs(first - later).mean() > 1.0, path  # the camera and the character moved


def test_plan_is_read_from_the_prompt(tmp_path: Path, concert_card: str) -> None:
    info = render_scene_clip(
        "Low-angle medium shot, rising crane move. The front of the stage above the barrier at night, "
        "the crowd roaring. The singer steps into a guitar solo.",
        [concert_card], "concert", str(tmp_path / "clip.mp4"), duration=1.0, seed=4, groove_bpm=128,
    )
    assert (info.shot, info.camera_move, info.place, info.time_of_day) == ("low_angle", "crane_up", "stage", "night")
    assert info.action == "strum" and info.reference_used == "card"
    assert info.frames == 30 and info.duration == pytest.approx(1.0, abs=0.07)


def test_noir_flavor_is_monochrome_and_audio_follows_the_flavor(flavor_root: Path, tmp_path: Path) -> None:
    folder = flavor_root / "silent_noir"
    folder.mkdir()
    (folder / "parameters.yaml").write_text("local_render:\n  monochrome: true\n  lighting: noir\n")
    (folder / "image_params.yaml").write_text("video_generate_audio: false\n")
    info = render_scene_clip("Wide shot of a fog-bound alley at night, slow pan. A detective peers around a corner.",
                             [], load_flavor("silent_noir", flavor_root), str(tmp_path / "noir.mp4"),
                             duration=1.0, seed=1)
    assert info.has_audio is False and probe(info.path).audio_codec is None
    frame = frame_rgb(info.path, 15).astype(np.int16)
    assert np.abs(frame[..., 0] - frame[..., 2]).mean() < 2.0  # no colour left
    assert info.reference_used == "prompt"


def test_vertical_override_and_a_foreign_reference_image(tmp_path: Path) -> None:
    ref = tmp_path / "upload.png"
    img = Image.new("RGB", (400, 700), (245, 245, 245))
    d = ImageDraw.Draw(img)
    d.ellipse([150, 60, 250, 160], fill=(200, 40, 40))
    d.rectangle([140, 170, 260, 520], fill=(40, 60, 160))
    img.save(ref)
    info = render_scene_clip("Medium shot on a sunlit beach, slow push-in. The hero waves.", [str(ref)], "default",
                             str(tmp_path / "v.mp4"), duration=1.0, aspect_ratio="9:16", seed=2)
    assert (info.width, info.height) == (1080, 1920)
    assert probe(info.path).height == 1920
    assert info.reference_used == "cutout" and info.place == "beach"


def test_bad_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        render_scene_clip("A wide shot.", [str(tmp_path / "missing.png")], "default", str(tmp_path / "x.mp4"),
                          duration=1.0)
    with pytest.raises(ValueError):
        render_scene_clip("A wide shot.", [], "default", str(tmp_path / "x.mp4"), duration=40)
    with pytest.raises(ValueError):
        render_scene_clip("A wide shot.", [], "default", str(tmp_path / "x.mp4"), aspect_ratio="4:3")
