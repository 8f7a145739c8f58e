"""Songs: procedural generation, validated loading of real formats, and beat detection that recovers tempo."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from badapple_dagster.mv.song import BeatGrid, SongError, detect_beats, generate_song, load_song


@pytest.mark.parametrize(
    ("mood", "bpm"),
    [("energetic", 128), ("groovy", 100), ("dreamy", 90), ("bright", 112), ("anthemic", 160), ("calm", 76)],
)
def test_detect_beats_recovers_the_generated_tempo(tmp_path: Path, mood: str, bpm: float) -> None:
    path = generate_song(16, bpm, seed=4, out_wav=str(tmp_path / "song.wav"), mood=mood)
    grid = detect_beats(path)
    assert grid.bpm == pytest.approx(bpm, rel=0.02)
    beats = np.asarray(grid.beats)
    period = 60 / bpm
    # The song's beats are at k·60/bpm: every detected beat lands within 20 ms of one.
    off = np.abs(beats / period - np.round(beats / period)) * period
    assert off.max() < 0.02
    assert len(beats) >= 0.85 * 16 / period
    assert BeatGrid.from_dict(grid.to_dict()) == grid


def test_generated_song_is_a_stereo_wav_of_the_asked_length(tmp_path: Path) -> None:
    path = generate_song(6.5, 120, seed=1, out_wav=str(tmp_path / "s.wav"))
    with wave.open(path) as wf:
        assert wf.getnchannels() == 2 and wf.getframerate() == 44100
        assert wf.getnframes() / 44100 == pytest.approx(6.5, abs=0.01)
    a = generate_song(4, 120, seed=1, out_wav=str(tmp_path / "a.wav"))
    b = generate_song(4, 120, seed=1, out_wav=str(tmp_path / "b.wav"))
    assert Path(a).read_bytes() == Path(b).read_bytes()
    with pytest.raises(ValueError):
        generate_song(4, 300, seed=1, out_wav=str(tmp_path / "x.wav"))
    with pytest.raises(ValueError):
        generate_song(4, 120, seed=1, out_wav=str(tmp_path / "x.wav"), mood="furious")


def _encode(src: str, dst: str, *args: str) -> str:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", src, *args, dst], check=True)
    return dst


def test_load_song_accepts_mp3_wav_m4a(tmp_path: Path) -> None:
    wav = generate_song(3, 120, seed=2, out_wav=str(tmp_path / "s.wav"))
    mp3 = _encode(wav, str(tmp_path / "s.mp3"), "-c:a", "libmp3lame", "-b:a", "128k")
    m4a = _encode(wav, str(tmp_path / "s.m4a"), "-c:a", "aac", "-b:a", "128k")
    for path, container in ((wav, "WAV"), (mp3, "MP3"), (m4a, "M4A/AAC")):
        info = load_song(path)
        assert info.container == container and info.duration == pytest.approx(3.0, abs=0.1)
    # Content decides, not the name: an mp3 called .wav is still an mp3.
    renamed = tmp_path / "really_mp3.wav"
    renamed.write_bytes(Path(mp3).read_bytes())
    assert load_song(str(renamed)).container == "MP3"


def test_load_song_refuses_non_audio_clearly(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("definitely not audio")
    with pytest.raises(SongError, match="not an audio file"):
        load_song(str(text))
    png = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=red:s=32x32", "-frames:v", "1",
                    str(png)], check=True)
    with pytest.raises(SongError, match="songs must be mp3, wav or m4a"):
        load_song(str(png))
    video = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=d=1:s=64x64", "-f", "lavfi",
                    "-i", "sine=d=1", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(video)], check=True)
    with pytest.raises(SongError, match="is a video"):
        load_song(str(video))
    short = _encode(generate_song(2, 120, 1, str(tmp_path / "x.wav")), str(tmp_path / "short.wav"), "-t", "0.5")
    with pytest.raises(SongError, match="at least 1 s"):
        load_song(short)
    with pytest.raises(SongError, match="not found"):
        load_song(str(tmp_path / "missing.mp3"))
