"""Procedural music bed: a short, loopable-sounding track in the style's tempo and mode.

Everything is additive synthesis in numpy: each distinct note or drum hit is rendered once and then
placed on the timeline by slice-adding, so a 30 s stereo bed takes a few tens of milliseconds.

Musical plan: one chord per bar from a progression chosen per seed, chord tones folded into a fixed register
so consecutive chords move smoothly (automatic inversions), the bass on each chord's root, and a mode-specific
arrangement ("pad", "sparse", "pulse", "drive"). The bar that rings out under the fade resolves to the tonic.
"""

from __future__ import annotations

import math
import os
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .styles import StyleSpec

FADE_IN = 1.0
FADE_OUT = 1.5
PEAK_DBFS = -3.2  # a little under the -3 dBFS ceiling so int16 rounding can never cross it

_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
}

# Per music mode: the scale that fits its mood and a few four-bar progressions (0-based scale degrees).
_HARMONY: dict[str, tuple[str, tuple[tuple[int, ...], ...]]] = {
    # Warm and unhurried: major, leaning on IV and vi.
    "pad": ("major", ((0, 3, 5, 4), (0, 5, 3, 4), (3, 0, 5, 4), (0, 2, 3, 3))),
    # Light and open: major, classic singable loops.
    "sparse": ("major", ((0, 4, 5, 3), (0, 3, 0, 4), (5, 3, 0, 4))),
    # Cool and steady: dorian's major IV keeps a minor groove from sounding sad.
    "pulse": ("dorian", ((0, 3, 0, 3), (0, 6, 3, 0), (0, 4, 6, 3))),
    # Urgent: natural minor, the "epic" i-VI-III-VII family.
    "drive": ("minor", ((0, 5, 2, 6), (0, 6, 5, 6), (5, 6, 0, 0))),
}


@dataclass
class _Plan:
    sr: int
    n: int  # output length in samples
    beat: float  # seconds
    bars: int
    chords: list[tuple[int, ...]]  # semitone offsets from the root, one tuple per bar (root first)
    rng: np.random.Generator

    @property
    def bar(self) -> float:
        return 4 * self.beat

    def at(self, seconds: float) -> int:
        return int(round(seconds * self.sr))


def render_music_bed(style: StyleSpec, duration: float, seed: int, out_wav: str, sample_rate: int = 44100) -> str:
    """Render ``duration`` seconds of music for ``style`` to a stereo 16-bit WAV; deterministic per seed."""
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration}")
    arrange = _ARRANGEMENTS.get(style.music_mode)
    if arrange is None:
        raise ValueError(f"Unknown music mode {style.music_mode!r}; valid: {', '.join(_ARRANGEMENTS)}")
    plan = _plan(style, duration, seed, sample_rate)
    # Work on a buffer longer than the output so notes that start near the end can ring out before cropping.
    left = np.zeros(plan.n + plan.at(plan.bar + 3.0))
    right = np.zeros_like(left)
    arrange(plan, style.music_root_hz, left, right)
    stereo = np.stack([left[: plan.n], right[: plan.n]], axis=1)
    stereo = _master(stereo, sample_rate, saturate=style.music_mode in ("pulse", "drive"))
    _write_stereo_wav(out_wav, stereo, sample_rate)
    return out_wav


def _plan(style: StyleSpec, duration: float, seed: int, sr: int) -> _Plan:
    rng = np.random.default_rng(seed)
    scale_name, progressions = _HARMONY[style.music_mode]
    scale = _SCALES[scale_name]
    progression = progressions[int(rng.integers(len(progressions)))]
    beat = 60.0 / max(style.music_bpm, 1)
    bars = math.ceil(duration / (4 * beat)) + 1
    degrees = [progression[i % len(progression)] for i in range(bars)]
    # Resolve home: the bar under the fade-out (and anything after) is the tonic.
    last_bar = int((duration - FADE_OUT) // (4 * beat))
    degrees = [0 if i >= max(last_bar, 1) else d for i, d in enumerate(degrees)]
    chords = [_chord(scale, d, seventh=style.music_mode in ("pad", "sparse")) for d in degrees]
    return _Plan(sr=sr, n=int(round(duration * sr)), beat=beat, bars=bars, chords=chords, rng=rng)


def _chord(scale: tuple[int, ...], degree: int, *, seventh: bool) -> tuple[int, ...]:
    """Stack thirds inside the scale; returns semitones above the tonic, chord root first."""
    steps = (0, 2, 4, 6) if seventh else (0, 2, 4)
    return tuple(scale[(degree + s) % 7] + 12 * ((degree + s) // 7) for s in steps)


def _hz(root_hz: float, semitones: float) -> float:
    return root_hz * 2.0 ** (semitones / 12.0)


def _voicing(chord: tuple[int, ...], low: int) -> list[int]:
    """Fold chord tones into the octave [low, low + 12) so chord changes move by small steps."""
    return sorted(low + (s - low) % 12 for s in chord)


# --- sound sources ----------------------------------------------------------------------------------------

_TABLE_SIZE = 8192


def _additive(freq: float, n: int, sr: int, amps: tuple[float, ...], detune_cents: float = 0.0) -> np.ndarray:
    """Harmonic oscillator via a single-cycle wavetable: one table lookup per sample instead of one sine
    per partial, which is what keeps multi-note pads fast."""
    f = freq * 2.0 ** (detune_cents / 1200.0)
    x = np.arange(_TABLE_SIZE) / _TABLE_SIZE
    table = np.zeros(_TABLE_SIZE)
    for k, a in enumerate(amps, start=1):
        if k * f < sr / 2.2:  # skip partials that would alias
            table += a * np.sin(2 * np.pi * k * x)
    table = np.append(table, table[0])  # guard point so interpolation can read index + 1
    pos = ((np.arange(n) * (f / sr)) % 1.0) * _TABLE_SIZE
    idx = pos.astype(np.int64)
    frac = pos - idx
    # Linear interpolation: plain truncation leaves an audible hiss floor around -60 dB on sustained pads.
    return table[idx] * (1.0 - frac) + table[idx + 1] * frac


def _envelope(n: int, sr: int, attack: float, release: float) -> np.ndarray:
    """Flat sustain with raised-cosine attack and release edges, so notes never start or stop with a click."""
    env = np.ones(n)
    a, r = min(n, max(1, int(attack * sr))), min(n, max(1, int(release * sr)))
    env[:a] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, a))
    env[n - r:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, r))
    return env


def _decay(n: int, sr: int, tau: float, attack: float = 0.004) -> np.ndarray:
    t = np.arange(n) / sr
    return np.exp(-t / tau) * np.minimum(1.0, t / attack)


def _band_noise(rng: np.random.Generator, n: int, sr: int, lo: float, hi: float) -> np.ndarray:
    """White noise band-limited in the frequency domain, with soft (Gaussian) band edges."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    gain = np.ones_like(f)
    gain[f < lo] = np.exp(-(((lo - f[f < lo]) / (0.25 * lo)) ** 2))
    gain[f > hi] = np.exp(-(((f[f > hi] - hi) / (0.25 * hi)) ** 2))
    out = np.fft.irfft(spectrum * gain, n)
    return out / (np.abs(out).max() + 1e-12)


def _kick(sr: int) -> np.ndarray:
    n = int(0.4 * sr)
    t = np.arange(n) / sr
    freq = 48 + 120 * np.exp(-t / 0.035)  # the pitch drop is what makes it a kick and not a tom
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.16)
    click = np.exp(-t / 0.003) * np.sin(2 * np.pi * 1800 * t) * 0.25
    return (body + click) * np.minimum(1.0, t / 0.001)


def _hat(rng: np.random.Generator, sr: int, open_: bool) -> np.ndarray:
    n = int((0.35 if open_ else 0.12) * sr)
    return _band_noise(rng, n, sr, 7000, 14000) * _decay(n, sr, 0.09 if open_ else 0.022, 0.001)


def _clap(rng: np.random.Generator, sr: int) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    # Several hands a few ms apart: three short bursts, then the room tail.
    env = sum(np.where(t >= d, np.exp(-np.maximum(t - d, 0) / 0.006), 0.0) for d in (0.0, 0.011, 0.022))
    env = env + np.where(t >= 0.03, 0.6 * np.exp(-np.maximum(t - 0.03, 0) / 0.09), 0.0)
    return _band_noise(rng, n, sr, 900, 2600) * env


def _pluck(freq: float, sr: int, length: float = 2.6) -> np.ndarray:
    """Piano-like: bright partials die fast and the fundamental rings, with slight string inharmonicity."""
    n = int(length * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k in range(1, 9):
        fk = k * freq * math.sqrt(1 + 0.0004 * k * k)
        if fk < sr / 2.2:
            out += (1.0 / k**1.3) * np.sin(2 * np.pi * fk * t) * np.exp(-t * (1.2 + 1.6 * k))
    return out * np.minimum(1.0, t / 0.003) * _envelope(n, sr, 0.0, 0.05)


def _place(buf: np.ndarray, sound: np.ndarray, start: int, gain: float) -> None:
    if start >= len(buf):
        return
    end = min(len(buf), start + len(sound))
    buf[start:end] += gain * sound[: end - start]


def _cached(render: Callable[[float], np.ndarray]) -> Callable[[float], np.ndarray]:
    """Per-render memo: the same pitch recurs every few bars, so render each note once."""
    memo: dict[float, np.ndarray] = {}

    def get(freq: float) -> np.ndarray:
        key = round(freq, 4)
        if key not in memo:
            memo[key] = render(freq)
        return memo[key]

    return get


# --- layers -----------------------------------------------------------------------------------------------

_WARM = (1.0, 0.45, 0.22, 0.12, 0.06, 0.03)  # soft saw-like rolloff: warm without a filter


def _pad_layer(p: _Plan, root: float, left: np.ndarray, right: np.ndarray, gain: float, low: int) -> None:
    """Sustained chords, one per bar, overlapping by the release so changes crossfade. L/R are detuned in
    opposite directions for width."""
    cents = 4 + 4 * float(p.rng.random())
    n = p.at(p.bar + 1.2)
    env = _envelope(n, p.sr, attack=min(0.9, p.bar * 0.4), release=1.2)
    memo: dict[tuple[int, ...], list[np.ndarray]] = {}
    for i, chord in enumerate(p.chords):
        if chord not in memo:
            notes = _voicing(chord, low)
            memo[chord] = [
                sum(_additive(_hz(root, s), n, p.sr, _WARM, c) for s in notes) * env / len(notes)
                for c in (-cents, cents)
            ]
        for buf, sound in zip((left, right), memo[chord], strict=True):
            _place(buf, sound, p.at(i * p.bar), gain)


def _bass_sustain(p: _Plan, root: float, left: np.ndarray, right: np.ndarray, gain: float) -> None:
    base = root if root < 100 else root / 2
    n = p.at(p.bar + 0.6)
    env = _envelope(n, p.sr, 0.25, 0.6)
    note = _cached(lambda f: _additive(f, n, p.sr, (1.0, 0.3, 0.08)) * env)
    for i, chord in enumerate(p.chords):
        s = note(_hz(base, chord[0] % 12))
        _place(left, s, p.at(i * p.bar), gain)
        _place(right, s, p.at(i * p.bar), gain)


def _bass_pulse(p: _Plan, root: float, left: np.ndarray, right: np.ndarray, gain: float, octaves: bool) -> None:
    """Eighth-note bass on the chord root; "drive" jumps the octave on offbeats for momentum."""
    base = root if root < 100 else root / 2
    n = p.at(p.beat / 2)
    note = _cached(lambda f: _additive(f, n, p.sr, (1.0, 0.5, 0.25, 0.1)) * _decay(n, p.sr, 0.18)
                   * _envelope(n, p.sr, 0.0, 0.02))
    for i, chord in enumerate(p.chords):
        for e in range(8):
            up = 12 if octaves and e % 2 == 1 else 0
            s = note(_hz(base, chord[0] % 12 + up))
            g = gain * (1.0 if e % 2 == 0 else 0.8)
            _place(left, s, p.at(i * p.bar + e * p.beat / 2), g)
            _place(right, s, p.at(i * p.bar + e * p.beat / 2), g)


def _stabs(p: _Plan, root: float, left: np.ndarray, right: np.ndarray, gain: float) -> None:
    """Short electric-piano chords on a seed-chosen syncopated pattern (in eighths of a bar)."""
    patterns = ((1, 3, 5, 7), (1, 4, 6), (0, 3, 6), (2, 3, 6, 7))
    pattern = patterns[int(p.rng.integers(len(patterns)))]
    n = p.at(0.5)
    key = _cached(lambda f: _additive(f, n, p.sr, (1.0, 0.35, 0.08)) * _decay(n, p.sr, 0.14))
    for i, chord in enumerate(p.chords):
        notes = _voicing(chord, 15)
        for e in pattern:
            start = p.at(i * p.bar + e * p.beat / 2)
            for j, s in enumerate(notes):
                pan = 0.75 + 0.25 * (j % 2)  # alternate chord tones left/right for a little spread
                _place(left, key(_hz(root, s)), start, gain * pan / len(notes))
                _place(right, key(_hz(root, s)), start, gain * (1.75 - pan) / len(notes))


def _drums(p: _Plan, left: np.ndarray, right: np.ndarray, gain: float, four_on_floor: bool) -> None:
    kick, clap = _kick(p.sr), _clap(p.rng, p.sr)
    hats = [_hat(p.rng, p.sr, open_=False) for _ in range(3)]  # a few variants so hats do not machine-gun
    open_hat = _hat(p.rng, p.sr, open_=True)
    kicks = (0, 1, 2, 3) if four_on_floor else (0, 2, 2.5)  # pulse: "boom ... ba-boom"
    steps = 16 if four_on_floor else 8  # hats: sixteenths for drive, eighths for pulse
    for i in range(p.bars):
        bar = i * p.bar
        for k in kicks:
            _place(left, kick, p.at(bar + k * p.beat), gain)
            _place(right, kick, p.at(bar + k * p.beat), gain)
        for k in (1, 3):
            _place(left, clap, p.at(bar + k * p.beat), gain * 0.5)
            _place(right, clap, p.at(bar + k * p.beat), gain * 0.5)
        for s in range(steps):
            t = bar + s * 4 * p.beat / steps
            offbeat_eighth = four_on_floor and s % 4 == 2
            hit = open_hat if offbeat_eighth else hats[int(p.rng.integers(len(hats)))]
            accent = 0.35 if (s * 8 // steps) % 2 else 0.25
            vel = accent * (0.85 + 0.3 * float(p.rng.random()))
            _place(left, hit, p.at(t), gain * vel * 0.8)
            _place(right, hit, p.at(t), gain * vel)


def _plucks(p: _Plan, root: float, left: np.ndarray, right: np.ndarray, gain: float) -> None:
    """A few gentle notes per bar: chord tones on seed-chosen beats, alternately panned."""
    pluck = _cached(lambda f: _pluck(f, p.sr))
    for i, chord in enumerate(p.chords):
        notes = _voicing(chord, 12)
        beats = sorted(p.rng.choice([0.0, 1.0, 1.5, 2.0, 3.0], size=3, replace=False))
        for j, b in enumerate(beats):
            s = notes[int(p.rng.integers(len(notes)))] + (12 if j == len(beats) - 1 else 0)
            pan = 0.6 if j % 2 else 1.0
            start = p.at(i * p.bar + b * p.beat)
            _place(left, pluck(_hz(root, s)), start, gain * pan)
            _place(right, pluck(_hz(root, s)), start, gain * (1.6 - pan))


def _echo(p: _Plan, left: np.ndarray, right: np.ndarray, mix: float) -> None:
    """Tempo-synced stereo echo (different delays per side) standing in for a room."""
    for ch, delay in ((left, 0.75), (right, 1.0)):
        d = p.at(delay * p.beat)
        dry = ch.copy()
        for k in range(1, 4):
            ch[d * k:] += dry[: len(ch) - d * k] * mix**k


# --- arrangements -----------------------------------------------------------------------------------------

def _arrange_pad(p: _Plan, root: float, left: np.ndarray, right: np.ndarray) -> None:
    _pad_layer(p, root, left, right, 1.0, low=12)
    _pad_layer(p, root, left, right, 0.25, low=24)  # airy octave doubling
    _bass_sustain(p, root, left, right, 0.7)
    _echo(p, left, right, 0.25)


def _arrange_sparse(p: _Plan, root: float, left: np.ndarray, right: np.ndarray) -> None:
    _plucks(p, root, left, right, 0.8)
    _bass_sustain(p, root, left, right, 0.25)
    _echo(p, left, right, 0.3)


def _arrange_pulse(p: _Plan, root: float, left: np.ndarray, right: np.ndarray) -> None:
    _pad_layer(p, root, left, right, 0.35, low=12)
    _bass_pulse(p, root, left, right, 0.6, octaves=False)
    _stabs(p, root, left, right, 0.5)
    _drums(p, left, right, 0.8, four_on_floor=False)


def _arrange_drive(p: _Plan, root: float, left: np.ndarray, right: np.ndarray) -> None:
    _pad_layer(p, root, left, right, 0.3, low=12)
    _bass_pulse(p, root, left, right, 0.7, octaves=True)
    _stabs(p, root, left, right, 0.55)
    _drums(p, left, right, 1.0, four_on_floor=True)


_ARRANGEMENTS: dict[str, Callable[[_Plan, float, np.ndarray, np.ndarray], None]] = {
    "pad": _arrange_pad,
    "sparse": _arrange_sparse,
    "pulse": _arrange_pulse,
    "drive": _arrange_drive,
}


# --- master -----------------------------------------------------------------------------------------------

def _master(stereo: np.ndarray, sr: int, *, saturate: bool) -> np.ndarray:
    """Optional gentle saturation (glues drums to the bass and tames kick peaks; the quiet modes stay clean),
    peak normalisation, then the fades, which only lower levels so the peak ceiling still holds."""
    peak = np.abs(stereo).max()
    if peak > 0:
        if saturate:
            stereo = np.tanh(1.2 * stereo / peak)
        stereo = stereo * (10 ** (PEAK_DBFS / 20) / np.abs(stereo).max())
    n = len(stereo)
    fade = np.ones(n)
    fi, fo = min(n, int(FADE_IN * sr)), min(n, int(FADE_OUT * sr))
    fade[:fi] *= np.sin(np.linspace(0, np.pi / 2, fi)) ** 2
    fade[n - fo:] *= np.cos(np.linspace(0, np.pi / 2, fo)) ** 2
    return stereo * fade[:, None]


def _write_stereo_wav(path: str, stereo: np.ndarray, sr: int) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pcm = np.round(stereo * 32767).astype("<i2")
    with wave.open(path, "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(pcm.tobytes())
