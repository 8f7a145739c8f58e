"""Live scenes: painted stills + motion that the compositor animates in its single encode. They survive the
artifact store, compose into the same picture as pre-rendered clips, and can be mixed with clips."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from badapple_dagster.artifacts import LocalArtifactStore, sha256_file
from badapple_dagster.media.compositor import compose_ad
from badapple_dagster.media.live_scene import LiveScene, from_manifest, rest_preview, to_manifest
from badapple_dagster.media.models import ASPECT_SIZES, END_CARD_SECONDS, FPS
from badapple_dagster.media.scene_renderer import LocalSceneRenderer
from tests.media.render_fixtures import frame_at, frame_count, make_product_png, make_script, make_voice, mixed_audio

SIZE = ASPECT_SIZES["9:16"]


def _inputs(tmp_path: Path, style: str = "modern"):  # noqa: ANN202
    script = make_script(style)
    voice = make_voice(script, tmp_path / "voice.wav", window=1.0)
    image = make_product_png(tmp_path / "p.png")
    return script, voice, image


def _compose(tmp_path: Path, name: str, scenes, script, voice, image) -> Path:  # noqa: ANN001
    out = tmp_path / f"{name}.mp4"
    compose_ad(scenes, script, voice, audio_wav=mixed_audio(voice, tmp_path / "mix.wav"), size=SIZE,
               out_path=str(out), product_image=image, work_dir=str(tmp_path / f"work_{name}"))
    return out


def psnr(a: Path, b: Path) -> float:
    out = subprocess.run(["ffmpeg", "-v", "info", "-i", str(a), "-i", str(b), "-lavfi", "[0:v][1:v]psnr",
                          "-f", "null", "-"], capture_output=True, text=True, timeout=300, check=True).stderr
    line = next(ln for ln in out.splitlines() if "PSNR" in ln and "average:" in ln)
    return float(line.split("average:")[1].split()[0])


def test_paint_gives_one_live_stage_per_scene(tmp_path: Path) -> None:
    script, voice, image = _inputs(tmp_path)
    calls: list[float] = []
    scenes = LocalSceneRenderer().paint(script, voice, product_image=image, size=SIZE,
                                        out_dir=str(tmp_path / "s"), seed=5, progress=lambda f, _m: calls.append(f))
    assert [s.index for s in scenes] == list(range(len(script.scenes)))
    assert calls == [(i + 1) / len(scenes) for i in range(len(scenes))]
    for scene in scenes:
        assert isinstance(scene, LiveScene) and scene.stage.layers
        for path in (scene.stage.background, *[ly.path for ly in scene.stage.layers]):
            with Image.open(path) as im:
                assert im.width > 0
        bw, bh = scene.stage.bg_size
        assert bw >= SIZE[0] and bh >= SIZE[1]


def test_manifest_round_trip_through_the_artifact_store(tmp_path: Path) -> None:
    script, voice, image = _inputs(tmp_path)
    scenes = LocalSceneRenderer().paint(script, voice, product_image=image, size=SIZE,
                                        out_dir=str(tmp_path / "s"), seed=5)
    store = LocalArtifactStore(tmp_path / "artifacts")

    def put(name: str, path: str, content_type: str) -> dict:
        key = f"ads/j/video_gen/{name}"
        return {"key": key, "uri": store.put_file(key, path, content_type), "bytes": Path(path).stat().st_size,
                "sha256": sha256_file(path)}

    entries = [json.loads(json.dumps(to_manifest(s, put))) for s in scenes]  # as the manifest stores them
    assert all(e["kind"] == "live" and "path" not in json.dumps(e["background"]) for e in entries)
    back = [from_manifest(e, lambda key: store.materialize_local(key, str(tmp_path / "w"))) for e in entries]
    for a, b in zip(scenes, back, strict=True):
        assert (a.index, a.duration, a.stage.bg_size, a.stage.crop_x, a.stage.crop_y) == \
               (b.index, b.duration, b.stage.bg_size, b.stage.crop_x, b.stage.crop_y)
        assert sha256_file(a.stage.background) == sha256_file(b.stage.background)
        for la, lb in zip(a.stage.layers, b.stage.layers, strict=True):
            assert (la.x, la.y, la.w, la.h, la.dx, la.dy, la.scale, la.fade) == \
                   (lb.x, lb.y, lb.w, lb.h, lb.dx, lb.dy, lb.scale, lb.fade)
            assert sha256_file(la.path) == sha256_file(lb.path)


@pytest.mark.slow
def test_live_scenes_compose_to_the_same_picture_as_clips(tmp_path: Path) -> None:
    script, voice, image = _inputs(tmp_path)
    renderer = LocalSceneRenderer()
    live = renderer.paint(script, voice, product_image=image, size=SIZE, out_dir=str(tmp_path / "s"), seed=5)
    clips = renderer.render(script, voice, product_image=image, size=SIZE, out_dir=str(tmp_path / "c"), seed=5)
    a = _compose(tmp_path, "live", live, script, voice, image)
    b = _compose(tmp_path, "clips", clips, script, voice, image)
    expected = voice.duration + END_CARD_SECONDS
    assert frame_count(a) == frame_count(b) == round(expected * FPS)
    # The clip path encodes twice (mezzanine, then delivery); the live path once. Same picture otherwise.
    assert psnr(a, b) > 38.0
    # Scenes still move: early and late frames of the first scene differ.
    first, later = frame_at(a, 0.0, tmp_path / "f0.png"), frame_at(a, 0.9, tmp_path / "f1.png")
    assert np.abs(first.astype(int) - later.astype(int)).mean() > 1.0

    # Clips and live stages mix (e.g. a remote renderer delivered some scenes).
    mixed = [live[0], clips[1], live[2], clips[3]]
    m = _compose(tmp_path, "mixed", mixed, script, voice, image)
    assert frame_count(m) == round(expected * FPS) and psnr(m, a) > 38.0


def test_rest_preview_is_a_small_jpeg_of_the_scene(tmp_path: Path) -> None:
    script, voice, image = _inputs(tmp_path)
    scene = LocalSceneRenderer().paint(script, voice, product_image=image, size=SIZE,
                                       out_dir=str(tmp_path / "s"), seed=5)[0]
    out = rest_preview(scene, SIZE, str(tmp_path / "p.jpg"))
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (360, 640)
        assert np.asarray(im.convert("L")).std() > 5, "not a blank frame"
