"""render_music_bed: real WAVs, checked for format, determinism, level, fades and musical structure."""

from __future__ import annotations

import dataclasses
import hashlib
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from badapple_dagster.media.music import render_music_bed
from badapple_dagster.media.styles import STYLES, StyleSpec

SR = 44100
# One style per music mode.
MODES = {spec.music_mode: spec for spec in reversed(list(STYLES.values()))}


def read(path: str) -> tuple[np.ndarray, int, int]:
    with wave.open(path, "rb") as wf:
        assert wf.getnchannels() == 2 and wf.getsampwidth() == 2
        frames = wf.getnframes()
        data = np.frombuffer(wf.readframes(frames), dtype="<i2").reshape(-1, 2).astype(np.float64) / 32768
        return data, wf.getframerate(), frames


def db(x: float) -> float:
    return 20 * np.log10(max(x, 1e-12))


def render(tmp_path: Path, style: StyleSpec, duration: float, seed: int, name: str = "bed") -> str:
    return render_music_bed(style, duration, seed, str(tmp_path / f"{name}.wav"))


def test_all_four_modes_are_covered() -> None:
    assert set(MODES) == {"pad", "pulse", "sparse", "drive"}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_mode_renders_a_clean_stereo_bed(mode: str, tmp_path: Path) -> None:
    duration = 12.3456
    path = render(tmp_path, MODES[mode], duration, seed=5)
    audio, sr, frames = read(path)
    assert sr == SR and frames == round(duration * SR)  # exact duration
    peak = np.abs(audio).max()
    assert db(peak) <= -3.0, "peak must stay at or below -3 dBFS"
    body = audio[int(2 * SR): int((duration - 2) * SR)]
    assert db(float(np.sqrt(np.mean(body**2)))) > -30, "not silent"
    # 1.0 s fade-in and 1.5 s fade-out: silent at the very edges, well below the body just inside them.
    assert np.abs(audio[:40]).max() < 0.01 and np.abs(audio[-40:]).max() < 0.01
    assert np.abs(audio[: int(0.1 * SR)]).max() < 0.2 * peak
    assert np.abs(audio[-int(0.1 * SR):]).max() < 0.2 * peak
    # Stereo, not dual mono.
    assert not np.allclose(audio[:, 0], audio[:, 1])


@pytest.mark.parametrize("mode", sorted(MODES))
def test_music_is_tonal_not_noise(mode: str, tmp_path: Path) -> None:
    audio, _, _ = read(render(tmp_path, MODES[mode], 10.0, seed=2))
    mono = audio[int(1.5 * SR): int(8.5 * SR)].mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / SR)
    band = spectrum[(freqs > 40) & (freqs < 4000)]
    flatness = np.exp(np.mean(np.log(band + 1e-20))) / np.mean(band)
    assert flatness < 0.05, f"spectral flatness {flatness:.3f}: sounds like noise"
    # Energy concentrates at a few pitches: the 20 strongest bins hold a large share of the band.
    assert np.sort(band)[-20:].sum() / band.sum() > 0.2


@pytest.mark.parametrize("mode", ["drive", "pulse"])
def test_drum_modes_pulse_at_the_style_tempo(mode: str, tmp_path: Path) -> None:
    style = MODES[mode]
    audio, _, _ = read(render(tmp_path, style, 16.0, seed=9))
    mono = audio[int(1.5 * SR): int(14 * SR)].mean(axis=1)
    hop = 220  # ~5 ms envelope frames
    rate = SR / hop
    env = np.sqrt((mono[: len(mono) // hop * hop].reshape(-1, hop) ** 2).mean(axis=1))
    onset = np.maximum(np.diff(env), 0)
    onset -= onset.mean()
    ac = np.correlate(onset, onset, mode="full")[len(onset) - 1:]
    beat = 60 / style.music_bpm

    def at(seconds: float) -> float:  # onsets are spikes: allow one frame of rounding either way
        i = round(seconds * rate)
        return float(ac[i - 1: i + 2].max())

    lags = np.arange(len(ac)) / rate
    window = (lags > 0.25) & (lags < 1.2)
    best = lags[window][np.argmax(ac[window])]
    # The strongest periodicity sits on the tempo's half-beat grid (a syncopated kick can make 1.5 beats win)...
    half = beat / 2
    assert abs(best / half - round(best / half)) * half < 0.015, (best, beat)
    # ...and the groove repeats every bar, far more strongly than at an off-grid lag.
    assert at(4 * beat) > 0.15 * ac[0] and at(4 * beat) > 3 * abs(at(4.37 * beat))


def test_deterministic_per_seed(tmp_path: Path) -> None:
    style = STYLES["energetic"]
    a = Path(render(tmp_path, style, 6.0, seed=42, name="a")).read_bytes()
    b = Path(render(tmp_path, style, 6.0, seed=42, name="b")).read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()


@pytest.mark.parametrize("mode", sorted(MODES))
def test_different_seeds_give_different_music(mode: str, tmp_path: Path) -> None:
    beds = [read(render(tmp_path, MODES[mode], 8.0, seed=s, name=f"s{s}"))[0] for s in (1, 2, 3)]
    for i in range(3):
        for j in range(i + 1, 3):
            diff = np.sqrt(np.mean((beds[i] - beds[j]) ** 2))
            assert diff > 0.01, f"seeds {i + 1} and {j + 1} sound the same"


def test_thirty_seconds_render_fast(tmp_path: Path) -> None:
    # Budget is "well under 1 s"; the bound leaves room for a machine shared with other test runs.
    for mode, style in MODES.items():
        start = time.perf_counter()
        render(tmp_path, style, 30.0, seed=1, name=mode)
        elapsed = time.perf_counter() - start
        assert elapsed < 1.5, f"{mode}: {elapsed:.2f}s"


def test_rejects_unknown_mode_and_bad_duration(tmp_path: Path) -> None:
    polka = dataclasses.replace(STYLES["modern"], music_mode="polka")
    with pytest.raises(ValueError, match="music mode"):
        render(tmp_path, polka, 5.0, seed=1)
    with pytest.raises(ValueError, match="duration"):
        render(tmp_path, STYLES["modern"], 0.0, seed=1)
