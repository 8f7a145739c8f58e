"""Assembly: cuts on beats (checked in the rendered frames), normalised picture, fitted song at −14 LUFS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from badapple_dagster.media.ffmpeg import measure_loudness, probe
from badapple_dagster.mv.clip_renderer import render_scene_clip
from badapple_dagster.mv.music_video import assemble_music_video
from badapple_dagster.mv.song import detect_beats, generate_song

from .conftest import frame_diffs

FRAME = 1 / 30


@pytest.fixture(scope="module")
def long_song(tmp_path_factory: pytest.TempPathFactory) -> str:
    return generate_song(12, 124, seed=5, out_wav=str(tmp_path_factory.mktemp("song") / "long.wav"))


def test_hard_cuts_land_on_beats_in_the_output(concert_clips: list[str], long_song: str, tmp_path: Path) -> None:
    grid = detect_beats(long_song)
    result = assemble_music_video(concert_clips, long_song, str(tmp_path / "mv.mp4"), beats=grid, flavor="concert")
    info = probe(result.path)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (1920, 1080, "h264", "aac")
    assert info.fps == pytest.approx(30)
    assert info.duration == pytest.approx(result.duration, abs=0.05)
    assert result.transition == "cut" and not result.song_looped
    assert len(result.cut_times) == 2
    beats = np.asarray(grid.beats)
    for cut in [*result.cut_times, result.duration]:
        assert np.abs(beats - cut).min() <= FRAME, (cut, beats)  # every cut and the ending within one frame
    assert result.beat_error_max <= FRAME
    # The real picture: the two biggest frame-to-frame jumps are the planned cuts.
    diffs = frame_diffs(result.path)
    found = sorted(int(i) + 1 for i in np.argsort(diffs)[-2:])
    expected = [round(c * 30) for c in result.cut_times]
    assert all(abs(f - e) <= 1 for f, e in zip(found, expected, strict=True)), (found, expected)
    loud = measure_loudness(result.path)
    assert loud.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert loud.true_peak_db <= -1.0


def test_short_song_loops_on_the_beat_grid_with_crossfades(
    concert_clips: list[str], tmp_path: Path
) -> None:
    song = generate_song(4.5, 120, seed=6, out_wav=str(tmp_path / "short.wav"), mood="groovy")
    grid = detect_beats(song)
    result = assemble_music_video(concert_clips, song, str(tmp_path / "mv.mp4"), beats=grid, flavor="example")
    assert result.song_looped and result.transition == "crossfade" and result.crossfade == pytest.approx(0.4)
    assert result.duration == pytest.approx(probe(result.path).duration, abs=0.05)
    assert result.duration > 4.5  # longer than the song: it was looped, and the grid continued past the loop
    period = 60 / 120
    for cut in result.cut_times:
        k = round((cut - grid.beats[0]) / period)
        assert abs(cut - (grid.beats[0] + k * period)) <= FRAME + 0.01, cut
    assert measure_loudness(result.path).integrated_lufs == pytest.approx(-14.0, abs=1.0)


def test_mixed_sizes_are_normalised_and_target_duration_is_honoured(
    concert_clips: list[str], long_song: str, concert_card: str, tmp_path: Path
) -> None:
    vertical = render_scene_clip("Medium shot, slow push-in. The singer on the stage at night.", [concert_card],
                                 "concert", str(tmp_path / "v.mp4"), duration=2.0, aspect_ratio="9:16", seed=3)
    grid = detect_beats(long_song)
    result = assemble_music_video([concert_clips[0], vertical.path], long_song, str(tmp_path / "mv.mp4"),
                                  beats=grid, flavor="concert", target_duration=3.0)
    info = probe(result.path)
    assert (info.width, info.height) == (1920, 1080)
    assert info.duration == pytest.approx(3.0, abs=0.07)
    assert result.segments[1].clip == vertical.path
    with pytest.raises(ValueError, match="more footage"):
        assemble_music_video(concert_clips[:1], long_song, str(tmp_path / "x.mp4"), beats=grid, target_duration=9)


def test_a_short_single_clip_ends_on_the_nearest_beat_even_if_it_is_later(concert_clips: list[str],
                                                                            long_song: str, tmp_path: Path) -> None:
    from badapple_dagster.mv.beats import BeatGrid

    clip = concert_clips[0]
    length = probe(clip).duration
    # Beats just before half-way and just after the end: the later one is nearer, and slowing the clip a few
    # percent to reach it beats throwing away a third of it.
    grid = BeatGrid(bpm=60 / (length * 0.55), beats=[length * 0.55 * k for k in range(12)])
    later = min((b for b in grid.beats if b > length), default=None)
    assert later is not None and later - length < length - max(b for b in grid.beats if b <= length)
    result = assemble_music_video([clip], long_song, str(tmp_path / "one.mp4"), beats=grid, flavor="concert")
    assert result.duration == pytest.approx(round(later * 30) / 30, abs=0.05)
    assert result.duration > length
