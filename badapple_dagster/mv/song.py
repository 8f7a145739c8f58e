"""The music video's song: generate one offline, or load and validate the user's (mp3, wav or m4a).

Generation reuses the ad pipeline's procedural music bed (media/music.py) with the MV's tempo and a mood
instead of an ad style. Moods whose arrangement has no drums get a light kick-and-shaker pulse on top: a
music video is cut to the beat, so the beat has to be there to hear (and to detect).
"""

from __future__ import annotations

import math
import wave
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..media.ffmpeg import FFmpegError, probe
from ..media.music import render_music_bed
from ..media.styles import STYLES
from .beats import BeatGrid, detect_beats

__all__ = ["MOODS", "BeatGrid", "SongError", "SongInfo", "detect_beats", "generate_song", "load_song"]

# mood → (arrangement in media/music.py, root note Hz)
MOODS: dict[str, tuple[str, float]] = {
    "energetic": ("drive", 98.0),
    "anthemic": ("drive", 110.0),
    "groovy": ("pulse", 82.41),
    "cool": ("pulse", 116.54),
    "dreamy": ("pad", 110.0),
    "calm": ("pad", 130.81),
    "bright": ("sparse", 130.81),
    "gentle": ("sparse", 98.0),
}
_NEEDS_PULSE = ("pad", "sparse")
ACCEPTED = {"wav": "WAV", "mp3": "MP3", "mov,mp4,m4a,3gp,3g2,mj2": "M4A/AAC"}
_COVER_CODECS = ("mjpeg", "png", "bmp", "gif")  # album art that mp3/m4a files carry as a "video" stream


class SongError(ValueError):
    """A song that cannot be used (not audio, unsupported container, too short)."""


@dataclass(frozen=True)
class SongInfo:
    path: str
    duration: float
    sample_rate: int
    channels: int
    codec: str
    container: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def generate_song(duration: float, bpm: float, seed: int, out_wav: str, mood: str = "energetic") -> str:
    """A stereo 44.1 kHz WAV of ``duration`` seconds at exactly ``bpm`` (beats fall on k·60/bpm)."""
    if not 2 <= duration <= 600:
        raise ValueError(f"duration must be between 2 and 600 seconds, got {duration}")
    if not 60 <= bpm <= 200:
        raise ValueError(f"bpm must be between 60 and 200, got {bpm}")
    if mood not in MOODS:
        raise ValueError(f"unknown mood {mood!r}; valid: {', '.join(MOODS)}")
    mode, root = MOODS[mood]
    style = replace(STYLES["energetic"], music_bpm=bpm, music_mode=mode, music_root_hz=root)
    render_music_bed(style, duration, seed, out_wav)
    if mode in _NEEDS_PULSE:
        _add_pulse(out_wav, bpm, seed)
    return out_wav


def _add_pulse(path: str, bpm: float, seed: int) -> None:
    """Mix a soft kick on every beat and a shaker on the off-beats into a 16-bit stereo WAV, in place."""
    with wave.open(path, "rb") as wf:
        sr, ch = wf.getframerate(), wf.getnchannels()
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), "<i2").reshape(-1, ch).astype(np.float64) / 32768
    n = len(pcm)
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.3 * sr)) / sr
    kick = np.sin(2 * np.pi * np.cumsum(50 + 90 * np.exp(-t / 0.03)) / sr) * np.exp(-t / 0.12)
    st = np.arange(int(0.06 * sr)) / sr
    # Shaker: noise band-limited to 6-12 kHz, so it sits above the pads and carries no low end at all
    # (low-frequency energy on the off-beats would read as a kick and double the felt tempo).
    spectrum = np.fft.rfft(rng.standard_normal(len(st)))
    f = np.fft.rfftfreq(len(st), 1 / sr)
    shaker = np.fft.irfft(spectrum * ((f > 6000) & (f < 12000)), len(st))
    shaker = shaker / (np.abs(shaker).max() + 1e-12) * np.exp(-st / 0.015)
    layer = np.zeros(n)
    beat = 60.0 / bpm
    for k in range(math.ceil(n / sr / beat) + 1):
        for start, sound, gain in ((k * beat, kick, 0.55), ((k + 0.5) * beat, shaker, 0.12)):
            i = int(round(start * sr))
            if i < n:
                m = min(len(sound), n - i)
                layer[i:i + m] += gain * sound[:m]
    # Follow the bed's own fades so the pulse starts and ends with the music.
    env = np.abs(pcm).max(axis=1)
    win = int(0.2 * sr)
    env = np.convolve(env, np.ones(win) / win, mode="same")
    env = np.clip(env / max(1e-9, np.percentile(env, 90)), 0, 1)
    mixed = pcm + (layer * env)[:, None]
    mixed *= 10 ** (-3.2 / 20) / max(1e-9, np.abs(mixed).max())
    with wave.open(path, "wb") as wf:
        wf.setnchannels(ch)
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(np.round(mixed * 32767).astype("<i2").tobytes())


def load_song(path: str) -> SongInfo:
    """Validate a user's song by probing its content (not its name): mp3, wav or m4a with an audio stream,
    at least one second long. Raises SongError with the reason otherwise."""
    p = Path(path)
    if not p.is_file():
        raise SongError(f"song file not found: {path}")
    try:
        info = probe(str(p))
    except FFmpegError:
        raise SongError(f"{p.name} is not an audio file (ffprobe cannot read it); use mp3, wav or m4a") from None
    container = next((label for fmt, label in ACCEPTED.items() if info.format_name == fmt), None)
    if container is None:
        raise SongError(f"{p.name} is {info.format_name or 'an unknown format'}; songs must be mp3, wav or m4a")
    if info.audio_codec is None:
        raise SongError(f"{p.name} has no audio stream")
    video = [s for s in info.raw.get("streams", []) if s.get("codec_type") == "video"]
    if any(s.get("codec_name") not in _COVER_CODECS for s in video):
        raise SongError(f"{p.name} is a video, not a song; extract its audio first")
    if info.duration < 1.0:
        raise SongError(f"{p.name} is {info.duration:.2f} s long; a song needs at least 1 s")
    return SongInfo(str(p), round(info.duration, 3), info.sample_rate or 0, info.channels or 0,
                    info.audio_codec, container)
