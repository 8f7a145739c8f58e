"""LocalSceneRenderer: real clips from real stills, checked with ffprobe and decoded frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.media.fonts import resolve_font
from badapple_dagster.media.layout import Box, caption_band, fit_text, layout_boxes, safe_zones
from badapple_dagster.media.models import ASPECT_SIZES, FPS, LAYOUTS
from badapple_dagster.media.scene_renderer import LocalSceneRenderer, SceneJob, paint_scene_layers
from badapple_dagster.media.styles import STYLES, resolve_style
from badapple_dagster.media.timeline import scene_plan
from tests.media.render_fixtures import (
    LONG_CTA,
    LONG_NAME,
    frame_at,
    frame_count,
    make_product_png,
    make_script,
    make_voice,
)

# ------------------------------------------------------------------------------------------ text fitting

FONTS = sorted(
    {resolve_font(s.headline_fonts) for s in STYLES.values()} | {resolve_font(s.caption_fonts) for s in STYLES.values()}
)


@pytest.mark.parametrize("font", FONTS, ids=lambda p: Path(p).stem)
@pytest.mark.parametrize(
    "text", [LONG_NAME, LONG_CTA, "Buy", "Unbreakable" * 9], ids=["name100", "cta", "short", "oneword"]
)
@pytest.mark.parametrize("box", [(930, 260), (600, 120), (300, 400), (120, 40)], ids=str)
def test_fit_text_never_exceeds_its_box(font: str, text: str, box: tuple[int, int]) -> None:
    fitted = fit_text(text, font, box[0], box[1], max_size=160)
    assert fitted.width <= box[0] and fitted.height <= box[1]
    # Nothing dropped: every character of the input is on some line.
    assert "".join(fitted.lines).replace(" ", "") == text.replace(" ", "")


def test_fit_text_prefers_large_type_and_balanced_lines() -> None:
    font = resolve_font(STYLES["modern"].headline_fonts)
    short = fit_text("Buy Now!", font, 900, 300, max_size=120)
    assert short.size == 120 and len(short.lines) == 1
    two = fit_text("Keeps drinks cold for twenty four hours", font, 900, 400, max_size=110)
    widths = [two.font.getlength(line) for line in two.lines]
    # Balanced wrap: no line under half the longest one (no lonely last word).
    assert min(widths) >= 0.5 * max(widths)


def test_fit_text_hundred_char_name_fits_small_box() -> None:
    assert len(LONG_NAME) == 100
    font = resolve_font(STYLES["bold"].headline_fonts)
    fitted = fit_text(LONG_NAME, font, 400, 150, max_size=120)
    assert fitted.width <= 400 and fitted.height <= 150


# ------------------------------------------------------------------------------------------- safe zones


@pytest.mark.parametrize("aspect", list(ASPECT_SIZES))
def test_safe_zones_keep_clear_of_platform_ui_and_captions(aspect: str) -> None:
    w, h = ASPECT_SIZES[aspect]
    z = safe_zones((w, h))
    band = caption_band((w, h))
    assert not z.content.intersects(band)
    assert z.title_safe.contains(z.content) and z.title_safe.contains(band)
    if aspect == "9:16":
        assert z.content.y >= 0.1 * h  # status/search bar
        assert band.bottom <= 0.78 * h  # caption/handle stack
        assert z.content.right <= 0.92 * w and band.right <= 0.92 * w  # action rail
        assert 0.61 * h <= band.y and band.bottom <= 0.77 * h
    for layout in LAYOUTS:
        boxes = layout_boxes(layout, (w, h))
        for b in (boxes.headline, boxes.hero, boxes.extra):
            if b is not None:
                assert z.content.contains(b), (layout, b, z.content)


CASES = [(s, "9:16", img) for s in STYLES for img in (True, False)] + [
    (s, a, True) for s in ("modern", "bold", "luxury") for a in ("1:1", "16:9")
]


@pytest.mark.parametrize(("style", "aspect", "with_image"), CASES)
def test_painted_layers_rest_inside_their_boxes(tmp_path: Path, style: str, aspect: str, with_image: bool) -> None:
    """Worst-case copy (100-char name, long CTA, long headlines) still lands inside the content area,
    clear of the caption band, in every layout."""
    size = ASPECT_SIZES[aspect]
    image = make_product_png(tmp_path / "p.png") if with_image else None
    script = make_script(style, name=LONG_NAME, cta=LONG_CTA)
    for scene in script.scenes:
        scene.on_screen_text = f"{scene.on_screen_text} with a much longer headline than planned for"
    voice = make_voice(script, tmp_path / "v.wav")
    st = resolve_style(style)
    zones = safe_zones(size)
    for scene, plan in zip(script.scenes, scene_plan(voice, st.transition_duration), strict=True):
        work = tmp_path / f"s{scene.index}"
        work.mkdir()
        _stage, placed = paint_scene_layers(SceneJob(scene, plan, script, st, image, size, tmp_path, 1), work)
        assert {"hero", "headline"} <= set(placed)
        assert ("extra" in placed) == (scene.layout in ("showcase", "cta"))
        for name, box in placed.items():
            assert zones.content.contains(box), (scene.layout, name, box, zones.content)
            assert not box.intersects(zones.caption_band), (scene.layout, name)


# ---------------------------------------------------------------------------------------------- clips

RENDERS = [
    ("modern", "9:16", True),
    ("luxury", "1:1", False),
    ("energetic", "16:9", True),
    ("minimal", "9:16", False),
    ("bold", "9:16", True),
]


def _mean_diff(a: np.ndarray, b: np.ndarray, region: Box | None = None) -> float:
    if region is not None:
        a = a[region.y : region.bottom, region.x : region.right]
        b = b[region.y : region.bottom, region.x : region.right]
    return float(np.abs(a - b).mean())


@pytest.mark.slow
@pytest.mark.parametrize(("style", "aspect", "with_image"), RENDERS)
def test_render_produces_one_moving_distinct_clip_per_scene(
    tmp_path: Path, style: str, aspect: str, with_image: bool
) -> None:
    size = ASPECT_SIZES[aspect]
    script = make_script(style)
    voice = make_voice(script, tmp_path / "v.wav", window=0.9)
    image = make_product_png(tmp_path / "p.png") if with_image else None
    calls: list[tuple[float, str]] = []
    clips = LocalSceneRenderer().render(
        script,
        voice,
        product_image=image,
        size=size,
        out_dir=str(tmp_path / "clips"),
        seed=3,
        progress=lambda f, m: calls.append((f, m)),
    )
    td = resolve_style(style).transition_duration
    assert [c.index for c in clips] == list(range(len(script.scenes)))
    assert [f for f, _ in calls] == [(i + 1) / len(clips) for i in range(len(clips))]
    assert calls[-1][1] == f"scene {len(clips)} of {len(clips)}"
    for clip, window in zip(clips, voice.windows, strict=True):
        assert abs(clip.duration - (window.duration + td)) <= 1 / FPS + 1e-6
        p = probe(clip.path)
        assert (p.width, p.height) == size == (clip.width, clip.height)
        assert p.video_codec == "h264" and p.pix_fmt == "yuv420p" and p.fps == FPS
        assert p.audio_codec is None
        assert frame_count(clip.path) == round(clip.duration * FPS)

    # Motion: the same clip looks different early and late (camera move + animated layers).
    first = frame_at(clips[0].path, 0.0, tmp_path / "a.png")
    later = frame_at(clips[0].path, clips[0].duration - 0.1, tmp_path / "b.png")
    assert _mean_diff(first, later) > 1.0
    # Distinct scenes: settled frames of different scenes differ clearly.
    mids = [frame_at(c.path, c.duration * 0.7, tmp_path / f"m{c.index}.png") for c in clips]
    for i in range(len(mids) - 1):
        assert _mean_diff(mids[i], mids[i + 1]) > 4.0, (i, i + 1)
    # Nothing painted into the caption band except background: the headline/hero never sit there.
    # (Checked geometrically above; here we check the frame has real content outside the band.)
    assert mids[0].std() > 10


@pytest.mark.slow
def test_first_frame_already_shows_the_product(tmp_path: Path) -> None:
    """The opening frame is the feed thumbnail: the hero must be there from frame 0, not fade in."""
    script = make_script("modern", scenes=1)
    voice = make_voice(script, tmp_path / "v.wav", window=0.6)
    image = make_product_png(tmp_path / "p.png")
    with_hero = LocalSceneRenderer().render(
        script, voice, product_image=image, size=(1080, 1080), out_dir=str(tmp_path / "a"), seed=1
    )
    frame = frame_at(with_hero[0].path, 0.0, tmp_path / "f.png")
    # The bottle body colour (38,170,150) is present in the first frame.
    teal = (np.abs(frame - np.array([38, 170, 150])).sum(axis=2) < 60).mean()
    assert teal > 0.01


def test_scene_plan_is_frame_exact_and_rejects_scenes_shorter_than_the_transition(tmp_path: Path) -> None:
    script = make_script("modern")
    voice = make_voice(script, tmp_path / "v.wav", window=1.37)
    plans = scene_plan(voice, 0.45)
    td = round(0.45 * FPS)
    # Cuts snap to frames once; consecutive clips overlap by exactly the transition.
    for a, b in zip(plans, plans[1:], strict=False):
        assert a.start_frame + a.frames - td == b.start_frame
    assert plans[-1].start_frame + plans[-1].frames - td == round(voice.duration * FPS)
    voice.windows[2].start = voice.windows[1].end = voice.windows[1].start + 0.2
    with pytest.raises(ValueError, match="shorter than"):
        scene_plan(voice, 0.45)
