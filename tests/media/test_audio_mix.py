"""mix_ad_audio on real espeak speech and real/procedural music: loudness, peaks, length, ducking, timing."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from badapple_dagster.media.audio_mix import MixResult, mix_ad_audio
from badapple_dagster.media.ffmpeg import measure_loudness, probe
from badapple_dagster.media.models import END_CARD_SECONDS, Palette, Scene, Script, VoiceTrack
from badapple_dagster.media.music import render_music_bed
from badapple_dagster.media.styles import STYLES
from badapple_dagster.media.voice import EspeakVoice

OUT_SR = 48000
SCENES = [
    "Tired of lukewarm coffee by nine in the morning?",
    "Meet the GlowBottle. It keeps drinks hot for twenty four hours.",
    "Over ten thousand five star reviews can't be wrong.",
    "Order yours today and save twenty percent!",
]


def make_script(texts: list[str], style: str = "energetic") -> Script:
    palette = Palette((0, 0, 0), (20, 20, 20), (255, 255, 255), (255, 200, 0), (128, 128, 128))
    roles = ["hook", "benefit", "proof", "cta"]
    return Script("GlowBottle", style, "Order now", 3, palette,
                  [Scene(i, roles[i % 4], t, t[:24], 4.0) for i, t in enumerate(texts)])


def read_stereo(path: str) -> np.ndarray:
    with wave.open(path, "rb") as wf:
        assert (wf.getnchannels(), wf.getsampwidth(), wf.getframerate()) == (2, 2, OUT_SR)
        return np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").reshape(-1, 2) / 32768.0


def write_stereo(path: Path, samples: np.ndarray, sr: int = 44100) -> str:
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(np.repeat(pcm, 2).tobytes())
    return str(path)


def tone_level_db(x: np.ndarray, start: float, end: float, freq: float) -> float:
    """Level of one sine component in [start, end), by a windowed DFT at exactly that frequency."""
    seg = x[int(start * OUT_SR): int(end * OUT_SR)]
    t = np.arange(len(seg)) / OUT_SR
    w = np.hanning(len(seg))
    amp = 2 * abs(np.sum(seg * w * np.exp(-2j * np.pi * freq * t))) / w.sum()
    return 20 * np.log10(amp + 1e-12)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> VoiceTrack:
    out = str(tmp_path_factory.mktemp("mix") / "voice.wav")
    return EspeakVoice().synthesize(make_script(SCENES), out)


@pytest.fixture(scope="module")
def ad_mix(voice: VoiceTrack, tmp_path_factory: pytest.TempPathFactory) -> tuple[MixResult, float]:
    tmp = tmp_path_factory.mktemp("mix")
    total = voice.duration + END_CARD_SECONDS
    music = render_music_bed(STYLES["energetic"], total, 3, str(tmp / "music.wav"))
    return mix_ad_audio(voice.wav_path, music, str(tmp / "mix.wav"), total_duration=total), total


def test_loudness_hits_the_target(ad_mix: tuple[MixResult, float]) -> None:
    result, _ = ad_mix
    assert abs(result.integrated_lufs - -14.0) <= 1.0
    assert result.true_peak_db <= -1.0
    # The returned numbers are a real measurement of the written file.
    again = measure_loudness(result.path)
    assert again.integrated_lufs == pytest.approx(result.integrated_lufs, abs=0.05)


def test_output_format_and_exact_duration(ad_mix: tuple[MixResult, float]) -> None:
    result, total = ad_mix
    info = probe(result.path)
    assert (info.sample_rate, info.channels, info.audio_codec) == (OUT_SR, 2, "pcm_s16le")
    assert len(read_stereo(result.path)) == round(total * OUT_SR)
    assert result.duration == pytest.approx(total, abs=1 / OUT_SR)


def test_other_targets_and_lengths_are_exact(voice: VoiceTrack, tmp_path: Path) -> None:
    # Music shorter than the ad is padded, a voice longer than the ad is cut; neither changes the length.
    music = render_music_bed(STYLES["minimal"], 4.0, 1, str(tmp_path / "short.wav"))
    total = 7.777
    result = mix_ad_audio(voice.wav_path, music, str(tmp_path / "m.wav"), total_duration=total,
                          target_lufs=-16.0)
    assert len(read_stereo(result.path)) == round(total * OUT_SR)
    assert abs(result.integrated_lufs - -16.0) <= 1.0
    assert result.true_peak_db <= -1.0


def test_music_ducks_under_speech_and_fades_out(voice: VoiceTrack, tmp_path: Path) -> None:
    # A steady 60 Hz tone as the bed: speech has almost no energy there, so that bin is the music alone.
    total = voice.duration + 5.0
    t = np.arange(int(total * 44100)) / 44100
    bed = write_stereo(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 60 * t))
    result = mix_ad_audio(voice.wav_path, bed, str(tmp_path / "duck.wav"), total_duration=total)
    x = read_stereo(result.path)[:, 0]
    under = np.mean([tone_level_db(x, w.start + 0.4, w.end - 0.5, 60) for w in voice.windows])
    after = tone_level_db(x, voice.duration + 0.8, total - 1.6, 60)
    assert after - under >= 4.0, f"music only {after - under:.1f} dB louder once the voice stops"
    assert tone_level_db(x, total - 0.25, total, 60) < after - 15  # faded out over the last 1.5 s


def test_voice_timing_is_preserved(voice: VoiceTrack, tmp_path: Path) -> None:
    # With a silent bed the output is the processed voice alone: the limiter look-ahead and the phase
    # rotation must not move speech away from the caption word timings.
    silent = write_stereo(tmp_path / "silent.wav", np.zeros(44100 * 2))
    total = voice.duration + 1.0
    x = np.abs(read_stereo(mix_ad_audio(voice.wav_path, silent, str(tmp_path / "v.wav"),
                                        total_duration=total).path)[:, 0])
    for w in voice.windows:
        first_word = next(word for word in voice.words if word.start >= w.start)
        seg = x[int(w.start * OUT_SR): int(w.end * OUT_SR)]
        onset = w.start + np.flatnonzero(seg > 0.01 * seg.max())[0] / OUT_SR
        assert onset == pytest.approx(first_word.start, abs=0.004)  # the look-ahead alone is 5 ms


def test_thirty_second_mix_is_fast(tmp_path: Path) -> None:
    words = "Our bottle keeps your coffee hot for twelve hours and your water cold all day".split()
    track = EspeakVoice().synthesize(
        make_script([" ".join((words * 2)[:19]) + "." for _ in range(4)], "luxury"), str(tmp_path / "v.wav")
    )
    total = track.duration + END_CARD_SECONDS
    assert total > 27.0
    music = render_music_bed(STYLES["luxury"], total, 5, str(tmp_path / "m.wav"))
    start = time.perf_counter()
    result = mix_ad_audio(track.wav_path, music, str(tmp_path / "mix.wav"), total_duration=total)
    elapsed = time.perf_counter() - start
    assert abs(result.integrated_lufs - -14.0) <= 1.0 and result.true_peak_db <= -1.0
    # Budget is < 2 s on an idle machine; the bound leaves room for a CPU shared with other test runs.
    assert elapsed < 4.0, f"{elapsed:.2f}s"


def test_rejects_non_positive_duration(voice: VoiceTrack, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="total_duration"):
        mix_ad_audio(voice.wav_path, voice.wav_path, str(tmp_path / "x.wav"), total_duration=0)
