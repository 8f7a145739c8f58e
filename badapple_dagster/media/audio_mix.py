"""Final ad soundtrack: voice over a ducked music bed, loudness-normalised for social platforms.

One ffmpeg filter graph does the whole job and runs twice (EBU R128 two-pass loudnorm): pass 1 measures
the mix, pass 2 applies a single linear gain computed from that measurement, so the voice keeps its
dynamics and the result lands on the target instead of relying on loudnorm's dynamic mode.

A linear gain can only reach ``target_lufs`` without breaking the true-peak ceiling if the mix's
peak-to-loudness ratio is small enough (14 - 1.5 = 12.5 dB for the defaults). Raw espeak speech has a ratio
of ~17-19 dB, so the graph levels voice and music, phase-rotates the voice and limits the mix at a ceiling
placed from a quick numpy loudness estimate. Pass 1 then tells exactly what pass 2 will produce (the same
signal times one gain); if the ratio is still too large the ceiling is lowered and pass 1 repeated, which
is what keeps loudnorm from quietly switching to its dynamic mode.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .ffmpeg import FFMPEG, FFmpegError, measure_loudness, run_ffmpeg

log = logging.getLogger(__name__)

OUT_RATE = 48000
MUSIC_FADE_OUT = 1.5
TARGET_TP = -1.5  # dBTP
VOICE_LEVEL_DBFS = -20.0  # active speech level the voice is brought to before mixing
# The estimate's own error (about +-0.8 dB, no K-weighting or ducking) plus the loudness the limiter takes away.
ESTIMATE_MARGIN_DB = 2.0
# Formant synthesisers emit an impulse-like glottal pulse every pitch period, so their peaks sit ~17 dB over
# their loudness. Two low all-pass stages smear those pulses in time (inaudible phase rotation, as broadcast
# processors do): about 1 dB lower peaks, and the limiter then costs ~0.3 LU instead of ~1.3 LU.
PHASE_ROTATOR = "allpass=f=150:t=q:w=0.5,allpass=f=300:t=q:w=0.5"
# Ducking: the key is the levelled voice (-20 dBFS RMS when talking), so a fixed threshold well below that
# level and well above silence triggers on speech only. Ratio 2 pulls the bed down ~8 dB under speech
# (measured with a steady tone): audible but out of the way; ratio 3 (~11 dB) made it all but vanish.
DUCK = "threshold=0.03:ratio=2:attack=20:release=400:knee=3"
_MIN_CEILING_DB = 20 * np.log10(0.0625)  # alimiter's lowest limit (-24 dBFS)
ANALYSIS_RATE = 16000  # level analysis of non-WAV inputs only needs the speech band


@dataclass
class MixResult:
    path: str
    integrated_lufs: float
    true_peak_db: float
    duration: float


@dataclass
class _Measured:
    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float
    normalization_type: str = ""


def mix_ad_audio(
    voice_wav: str,
    music_wav: str,
    out_wav: str,
    *,
    total_duration: float,
    target_lufs: float = -14.0,
    music_gain_db: float = -12.0,
) -> MixResult:
    """Mix ``voice_wav`` over ``music_wav`` into a 48 kHz stereo 16-bit WAV of exactly ``total_duration``.

    ``music_gain_db`` is the bed's level relative to the voice's speech level before ducking (both inputs are
    levelled first, so it means the same whatever the bed's or the voice's own loudness)."""
    if total_duration <= 0:
        raise ValueError(f"total_duration must be positive, got {total_duration}")
    voice, music = _analyse(voice_wav), _analyse(music_wav)
    voice_gain = VOICE_LEVEL_DBFS - voice.level_db if voice.level_db is not None else 0.0
    music_gain = (VOICE_LEVEL_DBFS + music_gain_db - music.level_db) if music.level_db is not None else 0.0
    n = int(round(total_duration * OUT_RATE))
    # Start the limiter where the estimated loudness says the ratio will just fit, so pass 1 normally
    # measures a mix that linear mode accepts and no re-measurement is needed.
    estimate = _estimate_lufs(voice, voice_gain, music, music_gain, total_duration)
    ceiling = min(-3.0, (estimate if estimate is not None else VOICE_LEVEL_DBFS)
                  + _allowed_plr(target_lufs) - ESTIMATE_MARGIN_DB)

    def graph(ceiling_db: float, loudnorm: str) -> str:
        return _graph(n, voice_gain, music_gain, ceiling_db, loudnorm)

    ceiling, measured = _fit_ceiling(
        lambda c: _measure(voice_wav, music_wav, graph(c, _loudnorm(target_lufs))), ceiling, target_lufs
    )
    stderr = run_ffmpeg(["-loglevel", "info", "-i", voice_wav, "-i", music_wav,
                         "-filter_complex", graph(ceiling, _loudnorm(target_lufs, measured)), "-map", "[out]",
                         "-ar", str(OUT_RATE), "-ac", "2", "-c:a", "pcm_s16le", out_wav])
    kind = _parse_loudnorm(stderr).normalization_type
    if kind and kind != "linear":
        log.warning("loudnorm fell back to %s normalisation for %s", kind, out_wav)
    loud = measure_loudness(out_wav)
    return MixResult(out_wav, loud.integrated_lufs, loud.true_peak_db, _wav_duration(out_wav))


def _allowed_plr(target_lufs: float) -> float:
    # Pass 1 predicts the final true peak exactly (same signal, scalar gain); 0.25 dB covers int16 rounding.
    return TARGET_TP - 0.25 - target_lufs


def _fit_ceiling(
    measure: Callable[[float], _Measured], ceiling: float, target_lufs: float
) -> tuple[float, _Measured]:
    """Pass 1, repeated only if needed: linear mode needs measured TP + gain <= target TP, otherwise loudnorm
    silently switches to its dynamic mode. Limiting harder lowers loudness too, so the ratio shrinks by only
    part of the ceiling change (0.3-0.5 dB per dB measured on espeak voices): step by secant from 0.4."""
    measured = measure(ceiling)
    slope, last_plr = 0.4, measured.input_tp - measured.input_i
    for _ in range(3):
        excess = last_plr - _allowed_plr(target_lufs)
        if excess <= 0 or ceiling <= _MIN_CEILING_DB:
            break
        new_ceiling = max(_MIN_CEILING_DB, ceiling - (excess + 0.3) / slope)
        measured = measure(new_ceiling)
        plr = measured.input_tp - measured.input_i
        if plr != last_plr:
            slope = min(1.0, max(0.1, (last_plr - plr) / (ceiling - new_ceiling)))
        ceiling, last_plr = new_ceiling, plr
    return ceiling, measured


def _graph(n: int, voice_gain: float, music_gain: float, ceiling_db: float, loudnorm: str) -> str:
    """The filter graph shared by both passes (only the loudnorm arguments differ)."""
    dur = n / OUT_RATE
    fade = min(MUSIC_FADE_OUT, dur)
    fit = f"apad=whole_len={n},atrim=end_sample={n}"  # pad short inputs, cut long ones: exact length
    limit = min(1.0, max(0.0625, 10 ** (ceiling_db / 20)))
    return ";".join([
        f"[0:a]aformat=sample_fmts=flt:channel_layouts=mono,aresample={OUT_RATE},volume={voice_gain:.3f}dB,"
        f"{PHASE_ROTATOR},pan=stereo|c0=c0|c1=c0,{fit},asplit=2[voice][key]",
        f"[1:a]aformat=sample_fmts=flt:channel_layouts=stereo,aresample={OUT_RATE},volume={music_gain:.3f}dB,"
        f"{fit},afade=t=out:st={dur - fade:.6f}:d={fade:.6f}[music]",
        f"[music][key]sidechaincompress={DUCK}[bed]",
        # aformat pins the limiter to 48 kHz. loudnorm's dynamic mode (pass 1) wants 192 kHz and its linear
        # mode (pass 2) does not, so unpinned, ffmpeg's format negotiation would run the limiter at 192 kHz
        # in one pass and 48 kHz in the other, and pass 1 would measure a different signal than pass 2 plays.
        # latency=1 keeps the limiter's look-ahead from shifting the voice off its caption timings.
        f"[voice][bed]amix=inputs=2:normalize=0:duration=first,"
        f"alimiter=limit={limit:.5f}:level=0:latency=1:attack=5:release=80,"
        f"aformat=sample_rates={OUT_RATE},{loudnorm},"
        f"aresample={OUT_RATE},aformat=sample_fmts=s16:channel_layouts=stereo,{fit}[out]",
    ])


def _loudnorm(target_lufs: float, m: _Measured | None = None) -> str:
    # LRA is set wide on purpose: linear mode must not be refused because speech-over-music has a larger
    # loudness range than a broadcast default would allow.
    base = f"loudnorm=I={target_lufs:.1f}:TP={TARGET_TP}:LRA=20:print_format=json"
    if m is None:
        return base
    return (f"{base}:measured_I={m.input_i:.2f}:measured_TP={m.input_tp:.2f}:measured_LRA={m.input_lra:.2f}"
            f":measured_thresh={m.input_thresh:.2f}:offset={m.target_offset:.2f}:linear=true")


def _measure(voice_wav: str, music_wav: str, graph: str) -> _Measured:
    stderr = run_ffmpeg(["-loglevel", "info", "-i", voice_wav, "-i", music_wav,
                         "-filter_complex", graph, "-map", "[out]", "-f", "null", "-"])
    return _parse_loudnorm(stderr)


def _parse_loudnorm(stderr: str) -> _Measured:
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr, re.S)
    if not match:
        raise FFmpegError(f"loudnorm printed no measurement: {stderr[-400:]}")
    d = json.loads(match.group(0))
    return _Measured(
        input_i=float(d["input_i"]),
        input_tp=float(d["input_tp"]),
        input_lra=float(d["input_lra"]),
        input_thresh=float(d["input_thresh"]),
        target_offset=float(d["target_offset"]),
        normalization_type=str(d.get("normalization_type", "")),
    )


@dataclass
class _Signal:
    samples: np.ndarray  # mono float, full scale 1.0
    rate: int
    level_db: float | None  # active level, None when silent


def _analyse(path: str) -> _Signal:
    samples, rate = _decode_mono(path)
    return _Signal(samples, rate, _active_level_db(samples, rate))


def _decode_mono(path: str) -> tuple[np.ndarray, int]:
    """Mono float samples and their rate. 16-bit WAV (what our providers write) is read directly; anything
    else is decoded by ffmpeg, which costs a process start."""
    try:
        with wave.open(path, "rb") as wf:
            if wf.getsampwidth() == 2:
                pcm = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2")
                return pcm.reshape(-1, wf.getnchannels()).mean(axis=1) / 32768.0, wf.getframerate()
    except (wave.Error, EOFError):
        pass
    proc = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-vn", "-ac", "1",
         "-ar", str(ANALYSIS_RATE), "-f", "f32le", "-"],
        capture_output=True, timeout=120,
    )
    if proc.returncode != 0:
        raise FFmpegError(f"could not decode {path}: {proc.stderr.decode(errors='replace')[-400:]}")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float64), ANALYSIS_RATE


def _block_power(samples: np.ndarray, rate: int, block_seconds: float) -> np.ndarray:
    block = max(1, int(rate * block_seconds))
    usable = len(samples) // block * block
    return (samples[:usable].reshape(-1, block) ** 2).mean(axis=1)


def _active_level_db(samples: np.ndarray, rate: int) -> float | None:
    """RMS level (dBFS) over the 50 ms blocks that carry signal: pauses between sentences and the silent
    tail must not make a voice look quieter than it sounds. None for a silent file."""
    power = _block_power(samples, rate, 0.05)
    if power.size == 0 or power.max() <= 1e-10:  # below -100 dBFS: nothing there
        return None
    active = power[power > max(power.max() * 1e-4, 1e-7)]  # within 40 dB of the loudest block, above -70
    return float(10 * np.log10(active.mean()))


def _estimate_lufs(voice: _Signal, voice_gain: float, music: _Signal, music_gain: float,
                   duration: float) -> float | None:
    """Rough integrated loudness of the mix (no K-weighting, no ducking), enough to place the limiter:
    400 ms blocks of voice + music power, gated like BS.1770 (-70 absolute, -10 relative)."""
    blocks = int(duration / 0.4)
    if blocks < 1:
        return None
    total = np.zeros(blocks)
    for sig, gain in ((voice, voice_gain), (music, music_gain)):
        p = _block_power(sig.samples, sig.rate, 0.4)[:blocks] * 10 ** (gain / 10)
        total[: len(p)] += p
    # Both channels carry the (mono-derived) signal, hence +3 dB; -0.691 is BS.1770's constant.
    lufs = 10 * np.log10(np.maximum(total, 1e-12)) + 3.01 - 0.691
    gated = lufs[lufs > -70]
    if gated.size == 0:
        return None
    rel = 10 * np.log10(np.mean(10 ** (gated / 10))) - 10
    return float(10 * np.log10(np.mean(10 ** (gated[gated > rel] / 10))))


def _wav_duration(path: str) -> float:
    with wave.open(path, "rb") as wf:
        return wf.getnframes() / wf.getframerate()
