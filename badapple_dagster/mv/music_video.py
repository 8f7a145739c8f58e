"""Assemble the music video: scene clips cut on the song's beats, the song fitted and loudness-normalised.

Cut plan. Each scene boundary is moved to the beat nearest to where the clip would naturally end. A beat
before that point trims the clip's tail; a beat after it slows the clip by at most ``MAX_STRETCH`` (a few
percent on 8 s clips is invisible) instead of freezing a frame; if neither fits, the next beat back is used.
Cut times are rounded to whole frames, so a cut lands within half a frame of its beat. With a crossfade the
beat is the midpoint of the dissolve.

Song fit. A long song is trimmed and faded out over the last bar. A short one is looped: each repeat starts
on a beat of the song body (after its intro) and is laid on a beat of the running grid, joined by an
equal-power crossfade, so the beat grid continues unbroken across the loop and later cuts still land on
beats. Then one linear gain (with a true-peak limiter) brings it to −14 LUFS integrated.

Everything is normalised to one size (letterboxed, never stretched), 30 fps and yuv420p, encoded H.264 High
+ AAC 48 kHz with faststart, and validated with ffprobe (and a loudness measurement) before returning.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..media.ffmpeg import FFMPEG, FFmpegError, measure_loudness, probe, run_ffmpeg
from ..media.models import ASPECT_SIZES
from .beats import BeatGrid
from .flavors import ResolvedFlavor, load_flavor
from .look import look_of

FPS = 30
RATE = 48000
TARGET_LUFS = -14.0
TRUE_PEAK = -1.5
MAX_STRETCH = 1.25  # at most this much slower than recorded when a beat falls after a clip's end
MIN_SEGMENT = 0.5  # seconds of a scene on screen, at least
LOOP_XFADE = 1.0  # seconds of crossfade at each song loop point
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-profile:v", "high",
          "-r", str(FPS), "-g", str(2 * FPS), "-c:a", "aac", "-b:a", "192k", "-ar", str(RATE), "-ac", "2",
          "-movflags", "+faststart"]


@dataclass(frozen=True)
class Segment:
    clip: str
    start: float  # on the output timeline (cut time before this scene)
    end: float
    source_in: float  # seconds into the clip
    source_out: float
    speed: float  # playback rate (<1 = slowed to reach the beat)


@dataclass(frozen=True)
class MVResult:
    path: str
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str
    cut_times: list[float]  # scene boundaries on the output timeline (excluding 0 and the end)
    cut_beats: list[float]  # the beat each cut was aligned to
    beat_error_max: float  # seconds between a cut and its beat, worst case (frame rounding included)
    beat_error_mean: float
    segments: list[Segment]
    transition: str
    crossfade: float
    song_looped: bool
    loudness_lufs: float
    true_peak_db: float
    render_seconds: float
    beats: list[float] = field(default_factory=list)  # the (loop-extended) beat grid used

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def assemble_music_video(
    clips: list[str],
    song: str,
    out_mp4: str,
    *,
    beats: BeatGrid,
    target_duration: float | None = None,
    flavor: ResolvedFlavor | str | None = None,
    aspect_ratio: str | None = None,
) -> MVResult:
    """Join ``clips`` in order over ``song``. ``flavor`` supplies the transition (cut or crossfade) and the
    default output aspect; ``target_duration`` None → the clips' natural total length, ended on a beat."""
    started = time.monotonic()
    if not clips:
        raise ValueError("no clips to assemble")
    flav = flavor if isinstance(flavor, ResolvedFlavor) else load_flavor(flavor)
    look = look_of(flav)
    aspect = aspect_ratio or flav.video_aspect_ratio
    size = ASPECT_SIZES[aspect]
    xf = look.crossfade_seconds if look.transition == "crossfade" and len(clips) > 1 else 0.0
    durations = [_video_duration(c) for c in clips]
    song_info = probe(song)
    if song_info.audio_codec is None:
        raise ValueError(f"{song} has no audio stream")

    natural = sum(durations) - xf * (len(clips) - 1)
    total = float(target_duration) if target_duration else natural
    if total < MIN_SEGMENT * len(clips):
        raise ValueError(f"target duration {total:.2f} s is too short for {len(clips)} scenes")
    if total > natural * MAX_STRETCH + 1e-6:
        raise ValueError(f"target duration {total:.2f} s needs more footage than the clips hold ({natural:.2f} s)")

    out = Path(out_mp4)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mvasm-", dir=out.parent) as tmp:
        audio_wav = str(Path(tmp) / "song.wav")
        grid, looped = _fit_song(song, beats, audio_wav, total_hint=total * 1.05 + 2)
        if target_duration is None:
            # End on a beat too, so the last scene also finishes with the music: the nearest beat that trims at
            # most half the last clip or slows it by at most MAX_STRETCH. (Only trimming cut a 2 s single clip
            # to 1.43 s when the beat after its end was the nearer one.)
            last = durations[-1]
            end_beat = _nearest_allowed(grid, total, total - last * 0.5, total + last * (MAX_STRETCH - 1))
            total = end_beat if end_beat is not None else total
        total = round(total * FPS) / FPS
        segments, cut_beats = _plan_cuts(clips, durations, grid, total, xf)
        _finish_audio(audio_wav, total)
        graph = _video_graph(segments, durations, size, xf)
        graph_path = Path(tmp) / "graph.txt"
        graph_path.write_text(graph)
        inputs: list[str] = []
        for c in clips:
            inputs += ["-i", c]
        run_ffmpeg([*inputs, "-i", audio_wav, "-filter_complex_script", str(graph_path), "-map", "[vout]",
                    "-map", f"{len(clips)}:a", *ENCODE, "-t", f"{total:.4f}", str(out)], timeout=1800)

    info = probe(str(out))
    loud = measure_loudness(str(out))
    _validate(info, size, total, loud.integrated_lufs, out)
    cuts = [s.start for s in segments[1:]]
    errors = [abs(c - b) for c, b in zip(cuts, cut_beats, strict=True)]
    return MVResult(
        path=str(out), duration=round(info.duration, 3), width=size[0], height=size[1], fps=FPS,
        video_codec=info.video_codec or "", audio_codec=info.audio_codec or "", cut_times=cuts,
        cut_beats=cut_beats, beat_error_max=round(max(errors, default=0.0), 4),
        beat_error_mean=round(float(np.mean(errors)) if errors else 0.0, 4), segments=segments,
        transition="crossfade" if xf else "cut", crossfade=xf, song_looped=looped,
        loudness_lufs=round(loud.integrated_lufs, 2), true_peak_db=round(loud.true_peak_db, 2),
        render_seconds=round(time.monotonic() - started, 2), beats=[b for b in grid if b <= total],
    )


# ----------------------------------------------------------------------------------------------- cut plan

def _video_duration(path: str) -> float:
    info = probe(path)
    if info.video_codec is None:
        raise ValueError(f"{path} has no video stream")
    v = next(s for s in info.raw["streams"] if s.get("codec_type") == "video")
    return float(v.get("duration") or info.duration)


def _nearest_allowed(grid: list[float], target: float, lo: float, hi: float) -> float | None:
    cands = [b for b in grid if lo <= b <= hi]
    return min(cands, key=lambda b: abs(b - target)) if cands else None


def _plan_cuts(clips: list[str], durations: list[float], grid: list[float], total: float,
               xf: float) -> tuple[list[Segment], list[float]]:
    """Scene boundaries on beats. Segment k shows [cut_{k-1}, cut_k]; with a crossfade each scene also needs
    xf/2 of footage on each joined side."""
    n = len(clips)
    natural = sum(durations) - xf * (n - 1)
    scale = total / natural  # > 1 only when a target asks for more than the footage (bounded by MAX_STRETCH)
    cuts = [0.0]
    beats_used: list[float] = []
    for k in range(n - 1):
        prev = cuts[-1]
        lead = xf / 2 if k > 0 else 0.0  # footage this scene spends in the incoming dissolve
        avail = durations[k] - lead - xf / 2  # footage left for its own time on screen
        nominal = prev + avail * scale
        remaining = n - 1 - k
        lo = prev + max(MIN_SEGMENT, xf)
        hi = min(prev + avail * MAX_STRETCH, total - remaining * max(MIN_SEGMENT, xf))
        beat = _nearest_allowed(grid, nominal, lo, hi)
        cut = beat if beat is not None else min(max(nominal, lo), hi)
        cut = round(cut * FPS) / FPS
        cuts.append(cut)
        beats_used.append(beat if beat is not None else cut)
    cuts.append(total)
    segments = []
    for k in range(n):
        start, end = cuts[k], cuts[k + 1]
        lead = xf / 2 if k > 0 else 0.0
        tail = xf / 2 if k < n - 1 else 0.0
        need = (end - start) + lead + tail  # seconds of output this clip fills
        speed = min(1.0, durations[k] / need)
        segments.append(Segment(clips[k], round(start, 4), round(end, 4), 0.0, round(need * speed, 4),
                                round(speed, 4)))
    return segments, [round(b, 4) for b in beats_used]


def _video_graph(segments: list[Segment], durations: list[float], size: tuple[int, int], xf: float) -> str:
    w, h = size
    chains = []
    n = len(segments)
    for k, seg in enumerate(segments):
        lead = xf / 2 if k > 0 else 0.0
        tail = xf / 2 if k < n - 1 else 0.0
        frames = round((seg.end - seg.start + lead + tail) * FPS)
        # setpts slows a clip that must reach a later beat; fps resamples every source to 30 fps; scale+pad
        # letterboxes anything that is not the output aspect; tpad guards the last frame against rounding.
        chains.append(
            f"[{k}:v]setpts=(PTS-STARTPTS)/{seg.speed:.6f},fps={FPS},"
            f"scale={w}:{h}:force_original_aspect_ratio=decrease:flags=bicubic,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
            f"tpad=stop_mode=clone:stop_duration=1,trim=end_frame={frames},setpts=PTS-STARTPTS[s{k}]"
        )
    if xf <= 0 or n == 1:
        chains.append("".join(f"[s{k}]" for k in range(n)) + f"concat=n={n}:v=1:a=0[vout]")
        return ";\n".join(chains)
    cur = "s0"
    for k in range(1, n):
        offset = segments[k].start - xf / 2  # the dissolve is centred on the cut
        nxt = "vout" if k == n - 1 else f"x{k}"
        chains.append(f"[{cur}][s{k}]xfade=transition=fade:duration={xf:.4f}:offset={offset:.4f}[{nxt}]")
        cur = nxt
    return ";\n".join(chains)


# ------------------------------------------------------------------------------------------------- audio

def _decode_stereo(path: str) -> np.ndarray:
    proc = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-vn",
                           "-ac", "2", "-ar", str(RATE), "-f", "f32le", "-"], capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise FFmpegError(f"could not decode {path}: {proc.stderr.decode(errors='replace')[-300:]}")
    return np.frombuffer(proc.stdout, "<f4").reshape(-1, 2).astype(np.float64)


def _fit_song(song: str, beats: BeatGrid, out_wav: str, total_hint: float) -> tuple[list[float], bool]:
    """Write the song, looped on beats if it is shorter than ``total_hint``; return the (extended) grid."""
    x = _decode_stereo(song)
    song_len = len(x) / RATE
    grid = sorted(b for b in beats.beats if 0 <= b <= song_len)
    if song_len >= total_hint or len(grid) < 4:
        _write_wav(out_wav, x)
        return grid, False
    period = beats.period
    # Loop body: from the first beat after the intro to the last beat that leaves room for the crossfade
    # (and for a fade-out the song may end with).
    body_start = next((b for b in grid if b >= min(2.0, song_len * 0.15)), grid[0])
    body_end_limit = song_len - LOOP_XFADE - min(1.5, song_len * 0.1)
    body_end = max((b for b in grid if b <= body_end_limit), default=grid[-1])
    if body_end - body_start < 0.98 * max(2 * period, LOOP_XFADE * 1.5):  # too short to loop musically
        _write_wav(out_wav, x)
        return grid, False
    out = x.copy()
    out_grid = [b for b in grid if b < body_end]
    xf_n = int(LOOP_XFADE * RATE)
    ramp = np.sin(np.linspace(0, np.pi / 2, xf_n)) ** 2
    join = body_end  # output time where the next repeat begins (a beat of the running grid)
    while len(out) / RATE < total_hint:
        piece = x[int(round(body_start * RATE)):]
        at = int(round(join * RATE))
        need = at + len(piece)
        if need > len(out):
            out = np.concatenate([out, np.zeros((need - len(out), 2))])
        # Equal-power crossfade: the old material fades out while the repeat fades in from the join.
        m = min(xf_n, len(out) - at, len(piece))
        out[at:at + m] = out[at:at + m] * np.sqrt(1 - ramp[:m, None]) + piece[:m] * np.sqrt(ramp[:m, None])
        out[at + m:at + len(piece)] = piece[m:]
        out = out[:at + len(piece)]
        out_grid += [join + (b - body_start) for b in grid if body_start <= b < body_end]
        join += body_end - body_start
    _write_wav(out_wav, out)
    return [round(b, 4) for b in out_grid], True


def _write_wav(path: str, x: np.ndarray) -> None:
    pcm = np.clip(x, -1, 1)
    with wave.open(path, "wb") as wf:
        wf.setnchannels(2)
        wf.setsampwidth(2)
        wf.setframerate(RATE)
        wf.writeframes(np.round(pcm * 32767).astype("<i2").tobytes())


def _finish_audio(path: str, total: float) -> None:
    """Cut to ``total``, fade out over the last bar-ish (≤ 2 s), then bring to −14 LUFS in place."""
    with wave.open(path, "rb") as wf:
        x = np.frombuffer(wf.readframes(wf.getnframes()), "<i2").reshape(-1, 2).astype(np.float64) / 32768
    n = int(round(total * RATE))
    if len(x) < n:
        x = np.concatenate([x, np.zeros((n - len(x), 2))])
    x = x[:n].copy()
    fade = int(min(2.0, total / 4) * RATE)
    x[n - fade:] *= (np.cos(np.linspace(0, np.pi / 2, fade)) ** 2)[:, None]
    _write_wav(path, x)
    _normalise(path)


def _normalise(path: str) -> None:
    """One linear gain plus a true-peak limiter, iterated on the measurement until within 0.3 LU: a plain
    gain keeps the music's dynamics, and the limiter only shaves the peaks the gain pushes over −1.5 dBTP."""
    src = path + ".src.wav"
    Path(path).rename(src)
    gain = TARGET_LUFS - measure_loudness(src).integrated_lufs
    limit = 10 ** ((TRUE_PEAK - 0.5) / 20)
    try:
        for _ in range(4):
            run_ffmpeg(["-i", src, "-af", f"volume={gain:.3f}dB,alimiter=limit={limit:.4f}:level=0:latency=1:"
                        "attack=3:release=60,aresample=48000", "-c:a", "pcm_s16le", path])
            err = TARGET_LUFS - measure_loudness(path).integrated_lufs
            if abs(err) < 0.3:
                break
            gain += err
    finally:
        Path(src).unlink(missing_ok=True)


def _validate(info: Any, size: tuple[int, int], total: float, lufs: float, out: Path) -> None:
    problems = []
    if (info.width, info.height) != size:
        problems.append(f"size {info.width}x{info.height}")
    if info.video_codec != "h264" or info.audio_codec != "aac" or info.pix_fmt != "yuv420p":
        problems.append(f"codecs {info.video_codec}/{info.audio_codec}/{info.pix_fmt}")
    if info.fps is None or abs(info.fps - FPS) > 0.01:
        problems.append(f"fps {info.fps}")
    if abs(info.duration - total) > 0.1:
        problems.append(f"duration {info.duration:.3f} != {total:.3f}")
    if not math.isfinite(lufs) or abs(lufs - TARGET_LUFS) > 1.0:
        problems.append(f"loudness {lufs:.2f} LUFS")
    if problems:
        raise FFmpegError(f"assembled video {out} failed validation: {'; '.join(problems)}")
