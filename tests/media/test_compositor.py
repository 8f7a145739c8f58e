"""compose_ad end to end: real clips, real captions, real end card, probed output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from badapple_dagster.media.compositor import CompositingError, compose_ad, extract_frame, validate_output
from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.media.layout import caption_band
from badapple_dagster.media.models import ASPECT_SIZES, END_CARD_SECONDS, FPS
from badapple_dagster.media.scene_renderer import LocalSceneRenderer
from tests.media.render_fixtures import (
    frame_at,
    frame_count,
    make_product_png,
    make_script,
    make_voice,
    mixed_audio,
)

CASES = [
    ("modern", "9:16", True),
    ("bold", "9:16", False),
    ("luxury", "1:1", False),
    ("energetic", "16:9", True),
    ("minimal", "1:1", True),
]


def _render(tmp_path: Path, style: str, aspect: str, with_image: bool, window: float = 1.0):  # noqa: ANN202
    size = ASPECT_SIZES[aspect]
    script = make_script(style)
    voice = make_voice(script, tmp_path / "voice.wav", window=window)
    image = make_product_png(tmp_path / "p.png") if with_image else None
    clips = LocalSceneRenderer().render(
        script, voice, product_image=image, size=size, out_dir=str(tmp_path / "clips"), seed=5
    )
    return script, voice, image, clips, size


@pytest.mark.slow
@pytest.mark.parametrize(("style", "aspect", "with_image"), CASES)
def test_compose_delivers_spec_mp4(tmp_path: Path, style: str, aspect: str, with_image: bool) -> None:
    script, voice, image, clips, size = _render(tmp_path, style, aspect, with_image)
    out = tmp_path / "ad.mp4"
    res = compose_ad(
        clips,
        script,
        voice,
        audio_wav=mixed_audio(voice, tmp_path / "mix.wav"),
        size=size,
        out_path=str(out),
        product_image=image,
        work_dir=str(tmp_path / "work"),
    )
    expected = voice.duration + END_CARD_SECONDS
    assert abs(res.duration - expected) <= 0.1
    assert (res.width, res.height) == size
    assert (res.video_codec, res.audio_codec, res.fps) == ("h264", "aac", FPS)
    assert res.size_bytes == out.stat().st_size > 10_000
    p = probe(str(out))
    assert p.pix_fmt == "yuv420p" and p.sample_rate == 48000
    assert frame_count(out) == round(expected * FPS)
    # faststart: the moov atom precedes the media data.
    head = out.read_bytes()[:200_000]
    assert head.find(b"moov") != -1 and head.find(b"moov") < head.find(b"mdat")


@pytest.mark.slow
def test_captions_are_burned_over_scenes_and_end_card_follows(tmp_path: Path) -> None:
    script, voice, image, clips, size = _render(tmp_path, "modern", "9:16", True, window=1.2)
    out = tmp_path / "ad.mp4"
    compose_ad(
        clips,
        script,
        voice,
        audio_wav=mixed_audio(voice, tmp_path / "mix.wav"),
        size=size,
        out_path=str(out),
        product_image=image,
        work_dir=str(tmp_path / "work"),
    )
    band = caption_band(size)
    word = voice.words[2]  # inside scene 0, away from any transition
    t = word.start + 0.05
    final = frame_at(out, t, tmp_path / "f.png")
    source = frame_at(clips[0].path, t, tmp_path / "s.png")

    def region(a: np.ndarray, top: int, bottom: int) -> np.ndarray:
        return a[top:bottom, band.x : band.right]

    # Inside the band the final frame carries captions the scene clip doesn't have...
    in_band = np.abs(region(final, band.y, band.bottom) - region(source, band.y, band.bottom)).mean()
    # ...while above the band the picture is the same scene (only re-encoded).
    above = np.abs(region(final, 0, band.y - 40) - region(source, 0, band.y - 40)).mean()
    assert in_band > 6 * max(above, 0.5), (in_band, above)

    # The end card is a different picture from the last scene, and motion continues on it.
    last_scene = frame_at(out, voice.duration - 0.15, tmp_path / "l.png")
    end_a = frame_at(out, voice.duration + 0.9, tmp_path / "e1.png")
    end_b = frame_at(out, voice.duration + END_CARD_SECONDS - 0.1, tmp_path / "e2.png")
    assert np.abs(end_a - last_scene).mean() > 8
    assert np.abs(end_b - end_a).mean() > 0.3


@pytest.mark.slow
def test_extract_frame_and_validation_errors(tmp_path: Path) -> None:
    script, voice, image, clips, size = _render(tmp_path, "bold", "1:1", False, window=0.8)
    out = tmp_path / "ad.mp4"
    compose_ad(
        clips,
        script,
        voice,
        audio_wav=mixed_audio(voice, tmp_path / "mix.wav"),
        size=size,
        out_path=str(out),
        product_image=None,
        work_dir=str(tmp_path / "work"),
    )
    jpg = extract_frame(str(out), 1.0, str(tmp_path / "thumb.jpg"), width=320)
    with Image.open(jpg) as im:
        assert im.format == "JPEG" and im.size == (320, 320)

    with pytest.raises(CompositingError, match="duration"):
        validate_output(str(out), size, voice.duration + END_CARD_SECONDS + 1.0)
    with pytest.raises(CompositingError, match="size"):
        validate_output(str(out), (1080, 1920), voice.duration + END_CARD_SECONDS)
    with pytest.raises(CompositingError, match="clips"):
        compose_ad(
            clips[:-1],
            script,
            voice,
            audio_wav=str(tmp_path / "mix.wav"),
            size=size,
            out_path=str(tmp_path / "x.mp4"),
            product_image=None,
            work_dir=str(tmp_path / "w2"),
        )
    with pytest.raises(CompositingError, match="audio"):
        compose_ad(
            clips,
            script,
            voice,
            audio_wav=str(tmp_path / "missing.wav"),
            size=size,
            out_path=str(tmp_path / "x.mp4"),
            product_image=None,
            work_dir=str(tmp_path / "w3"),
        )
