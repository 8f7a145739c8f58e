"""Thin wrappers around the ffmpeg/ffprobe binaries: one place for error reporting and JSON probing."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"


class FFmpegError(RuntimeError):
    pass


def run_ffmpeg(args: list[str], *, timeout: float = 600) -> str:
    """Run ffmpeg quietly; on failure raise with the tail of stderr (the useful part)."""
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise FFmpegError(f"ffmpeg failed ({proc.returncode}): {tail}")
    return proc.stderr


@dataclass
class ProbeResult:
    duration: float
    width: int | None
    height: int | None
    video_codec: str | None
    pix_fmt: str | None
    fps: float | None
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    format_name: str
    raw: dict


def probe(path: str) -> ProbeResult:
    proc = subprocess.run(
        [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise FFmpegError(f"ffprobe could not read {path}: {proc.stderr.strip()[-500:]}")
    data = json.loads(proc.stdout)
    v = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    a = next((s for s in data.get("streams", []) if s.get("codec_type") == "audio"), None)
    fps = None
    if v and v.get("avg_frame_rate") and v["avg_frame_rate"] != "0/0":
        num, den = v["avg_frame_rate"].split("/")
        fps = float(num) / float(den) if float(den) else None
    return ProbeResult(
        duration=float(data.get("format", {}).get("duration", 0.0)),
        width=int(v["width"]) if v else None,
        height=int(v["height"]) if v else None,
        video_codec=v.get("codec_name") if v else None,
        pix_fmt=v.get("pix_fmt") if v else None,
        fps=fps,
        audio_codec=a.get("codec_name") if a else None,
        sample_rate=int(a["sample_rate"]) if a and a.get("sample_rate") else None,
        channels=int(a["channels"]) if a and a.get("channels") else None,
        format_name=data.get("format", {}).get("format_name", ""),
        raw=data,
    )


@dataclass
class Loudness:
    integrated_lufs: float
    true_peak_db: float
    lra: float


def measure_loudness(path: str) -> Loudness:
    """EBU R128 integrated loudness of a file's audio (ffmpeg's loudnorm analysis, JSON output)."""
    err = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-i", path, "-vn", "-af",
         "loudnorm=I=-14:TP=-1.5:LRA=11:print_format=json", "-f", "null", "-"],
        capture_output=True, text=True, timeout=300,
    ).stderr
    m = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", err, re.S)
    if not m:
        raise FFmpegError(f"could not measure loudness of {path}: {err[-400:]}")
    d = json.loads(m.group(0))
    return Loudness(float(d["input_i"]), float(d["input_tp"]), float(d["input_lra"]))
