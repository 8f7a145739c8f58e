"""Render the default ad stage by stage and compare the total with an encode-only floor.

    python bench/render.py [--repeat 3] [--style modern] [--aspect 9:16] [--image PATH] [--out bench/out]

Per stage: wall time, CPU time (this process + waited-for children, i.e. ffmpeg) and peak RSS of the whole
process tree (sampled from /proc). The floor, measured in the same run on the same machine: ffmpeg encoding
the same number of frames at the same size with the delivery codec settings from a raw yuv420p file in
/dev/shm — what any pipeline that produces this video must at least spend. Medians over ``--repeat`` runs.

Stages run through a ``Pipeline`` object; ``LocalPipeline`` calls the media providers directly. A Dagster
mode only needs another class with the same ``stages()``/``output`` shape.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from badapple_dagster.media import compositor, scene_renderer  # noqa: E402
from badapple_dagster.media.ffmpeg import probe, run_ffmpeg  # noqa: E402
from badapple_dagster.media.models import END_CARD_SECONDS, FPS, size_for_aspect  # noqa: E402
from badapple_dagster.media.styles import resolve_style  # noqa: E402

STAGES = ("script_gen", "voice_gen", "video_gen", "compositing")
FLOOR_CODEC = compositor.DELIVERY_VIDEO  # the floor is the delivery encode itself, whatever it is set to
BAR_TOTAL = 2.0
BAR_VIDEO = 0.45
BAR_COMPOSE = 1.3


def _require_pipeline_modules() -> None:
    missing = []
    for mod in ("script_writer", "voice", "music", "audio_mix", "palette", "brief"):
        try:
            __import__(f"badapple_dagster.media.{mod}")
        except ImportError as exc:
            missing.append(f"{mod} ({exc})")
    if missing:
        sys.exit("bench/render.py needs the other pipeline stages, missing: " + ", ".join(missing))


# ------------------------------------------------------------------------------------------ measuring


class TreeRss:
    """Peak resident memory of this process and all its descendants, sampled in a thread.

    Walks /proc/<pid>/task/<tid>/children from our pid (cheap: only our own tree is read), so ffmpeg
    children are included while they run."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> TreeRss:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._sample())

    def _sample(self) -> int:
        total, stack, seen = 0, [os.getpid()], set()
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/statm") as f:
                    total += int(f.read().split()[1]) * self._page
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        stack.extend(int(c) for c in f.read().split())
            except (OSError, ValueError):
                continue  # the process ended between listing and reading
        return total


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_rss: int


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure_into(parts: dict, name: str, fn: Callable[[], str]) -> str:
    """Wall time only, for work running beside another measured step (its CPU is already in that step's)."""
    t0 = time.perf_counter()
    result = fn()
    parts[name] = Sample(time.perf_counter() - t0, float("nan"), 0)
    return result


def measure(fn: Callable[[], object]) -> Sample:
    with TreeRss() as rss:
        c0, w0 = _cpu(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - w0, _cpu() - c0
    return Sample(wall, cpu, rss.peak)


# ------------------------------------------------------------------------------------------- pipelines


class Pipeline(Protocol):
    """What the bench drives: named stages in order, and where the final MP4 ends up."""

    output: Path

    def stages(self) -> list[tuple[str, Callable[[], object]]]: ...


@dataclass
class LocalPipeline:
    """The stages as the Dagster assets run them, but called in-process (no orchestration overhead)."""

    product: str
    style: str
    cta: str
    aspect: str
    image: str | None
    work: Path
    seed: int = 42
    state: dict = field(default_factory=dict)

    @property
    def output(self) -> Path:
        return self.work / "ad.mp4"

    def stages(self) -> list[tuple[str, Callable[[], object]]]:
        return [
            ("script_gen", self.script_gen),
            ("voice_gen", self.voice_gen),
            ("video_gen", self.video_gen),
            ("compositing", self.compositing),
        ]

    def script_gen(self) -> None:
        from badapple_dagster.media.brief import build_brief
        from badapple_dagster.media.palette import palette_for
        from badapple_dagster.media.script_writer import LocalScriptWriter

        brief = build_brief(self.product, self.style, self.cta, self.image)
        palette = palette_for(resolve_style(brief.style), brief.image_path)
        self.state["script"] = LocalScriptWriter().write(brief, seed=self.seed, palette=palette)

    def voice_gen(self) -> None:
        from badapple_dagster.media.voice import EspeakVoice

        self.state["voice"] = EspeakVoice().synthesize(self.state["script"], str(self.work / "voice.wav"))

    def video_gen(self) -> None:
        # As the asset does: live stages, animated in the compositor's single encode.
        self.state["clips"] = scene_renderer.LocalSceneRenderer().scenes(
            self.state["script"],
            self.state["voice"],
            product_image=self.image,
            size=size_for_aspect(self.aspect),
            out_dir=str(self.work / "clips"),
            seed=self.seed,
        )

    def compositing(self) -> None:
        from badapple_dagster.media.audio_mix import mix_ad_audio
        from badapple_dagster.media.music import render_music_bed

        script, voice = self.state["script"], self.state["voice"]
        total = voice.duration + END_CARD_SECONDS
        parts = self.state.setdefault("parts", {})
        out: dict[str, object] = {}

        def soundtrack() -> str:
            out["music"] = render_music_bed(resolve_style(script.style), total, self.seed, str(self.work / "music.wav"))
            out["mix"] = mix_ad_audio(voice.wav_path, out["music"], str(self.work / "mix.wav"), total_duration=total)
            return out["mix"].path

        def compose() -> None:
            # As the compositing asset does: the soundtrack mixes beside the picture encode.
            with ThreadPoolExecutor(1) as pool:
                mix_path = pool.submit(lambda: measure_into(parts, "soundtrack (beside)", soundtrack))
                self.state["result"] = compositor.compose_ad(
                    self.state["clips"],
                    script,
                    voice,
                    audio_wav=mix_path,
                    size=size_for_aspect(self.aspect),
                    out_path=str(self.output),
                    product_image=self.image,
                    work_dir=str(self.work / "compose"),
                )

        parts["compose"] = measure(compose)


@dataclass
class DagsterPipeline:
    """The real assets, each stage materialized as its own Dagster run on a throwaway instance: includes the
    orchestration overhead (run setup, event log writes, resources, manifests in the artifact store) four
    times over, so it is the pessimistic view of what one `ad_video_job` run costs."""

    product: str
    style: str
    cta: str
    aspect: str
    image: str | None
    work: Path
    seed: int = 42
    state: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        import contextlib

        import dagster as dg

        from badapple_dagster.artifacts import artifact_store_from_settings
        from badapple_dagster.definitions import build_definitions
        from badapple_dagster.partitions import AD_JOBS
        from badapple_dagster.settings import get_settings
        from badapple_dagster.store.jobs import JobStore
        from badapple_dagster.submission import accept_brief

        os.environ["BADAPPLE_DATA_DIR"] = str(self.work / "data")
        os.environ.pop("REDIS_URL", None)
        self._stack = contextlib.ExitStack()
        self.instance = self._stack.enter_context(dg.instance_for_test())
        image = Path(self.image).read_bytes() if self.image else None
        job = accept_brief(JobStore(get_settings().database_url), artifact_store_from_settings(),
                           product_name=self.product, style=self.style, cta_text=self.cta, image_bytes=image,
                           options={"aspect_ratio": self.aspect, "seed": self.seed})
        self.job_id = job.id
        self.instance.add_dynamic_partitions(AD_JOBS, [job.id])
        self.resources = build_definitions().resources

    @property
    def output(self) -> Path:
        from badapple_dagster.artifacts import artifact_store_from_settings

        return Path(artifact_store_from_settings().local_path(f"ads/{self.job_id}/compositing/ad.mp4"))

    def stages(self) -> list[tuple[str, Callable[[], object]]]:
        from badapple_dagster.assets import ad

        return [(a.op.name, lambda a=a: self._materialize(a)) for a in ad.AD_ASSETS]

    def close(self) -> None:
        self._stack.close()

    def _materialize(self, asset: object) -> None:
        import dagster as dg

        result = dg.materialize([asset], partition_key=self.job_id, instance=self.instance,
                                resources=self.resources, raise_on_error=True)
        assert result.success


# --------------------------------------------------------------------------------------------- floor


def measure_floor(video: Path) -> tuple[Sample, int]:
    """Encode-only floor for ``video``: decode it to raw yuv420p in /dev/shm (not timed), then time libx264
    with the delivery settings encoding those frames. Returns (sample, frame count)."""
    info = probe(str(video))
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    fd, raw = tempfile.mkstemp(suffix=".yuv", dir=shm)
    os.close(fd)
    out = Path(raw).with_suffix(".mp4")
    try:
        run_ffmpeg(["-i", str(video), "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", raw])
        frames = os.path.getsize(raw) // (info.width * info.height * 3 // 2)
        args = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{info.width}x{info.height}", "-r", str(FPS),
                "-i", raw, *FLOOR_CODEC, "-an", str(out)]
        sample = measure(lambda: run_ffmpeg(args))
        return sample, frames
    finally:
        Path(raw).unlink(missing_ok=True)
        out.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- report


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        int(statistics.median(s.peak_rss for s in samples)),
    )


def report(
    runs: list[dict[str, Sample]], floors: list[Sample], frames: int, size: str, subs: list[dict[str, Sample]]
) -> bool:
    med = {name: _median([r[name] for r in runs]) for name in runs[0]}
    floor = _median(floors)
    totals = [sum(r[n].wall for n in r) for r in runs]
    total_wall = statistics.median(totals)
    total_cpu = statistics.median(sum(r[n].cpu for n in r) for r in runs)
    peak = max(s.peak_rss for s in med.values())
    print(f"\nmedian of {len(runs)} run(s); {frames} frames at {size}, floor = libx264 veryfast crf 23 from raw yuv\n")
    print(f"{'stage':<14}{'wall s':>9}{'cpu s':>9}{'peak MB':>10}{'× floor':>10}")
    print("-" * 52)
    sub_med = {k: _median([r[k] for r in subs if k in r]) for k in (subs[0] if subs and subs[0] else {})}
    for name, s in med.items():
        print(f"{name:<14}{s.wall:>9.2f}{s.cpu:>9.2f}{s.peak_rss / 2**20:>10.0f}{s.wall / floor.wall:>10.2f}")
        if name == "compositing":
            for sub, t in sub_med.items():
                print(f"  {sub:<12}{t.wall:>9.2f}{t.cpu:>9.2f}{t.peak_rss / 2**20:>10.0f}{t.wall / floor.wall:>10.2f}")
    print("-" * 52)
    print(f"{'total':<14}{total_wall:>9.2f}{total_cpu:>9.2f}{peak / 2**20:>10.0f}{total_wall / floor.wall:>10.2f}")
    print(f"{'floor':<14}{floor.wall:>9.2f}{floor.cpu:>9.2f}{floor.peak_rss / 2**20:>10.0f}{1:>10.2f}")
    print(f"(cpu total/floor: {total_cpu / floor.cpu:.2f} — less sensitive to other load on the machine than wall)")
    # Each run's floor is measured seconds after it, so per-run ratios cancel most of the drift in load from
    # other work on the machine; their median is the verdict, the ratio of medians is shown for reference.
    per_run = [t / f.wall for t, f in zip(totals, floors, strict=True)]
    ratio = statistics.median(per_run)

    def stage_ratio(name: str) -> float:
        return statistics.median(r[name].wall / f.wall for r, f in zip(runs, floors, strict=True))

    checks = [
        ("total", ratio, BAR_TOTAL),
        ("video_gen", stage_ratio("video_gen"), BAR_VIDEO),
        ("compositing", stage_ratio("compositing"), BAR_COMPOSE),
    ]
    print(f"\nratio of medians total/floor: {total_wall / floor.wall:.2f}")
    print(f"per-run total/floor: {', '.join(f'{r:.2f}' for r in per_run)}")
    print("median of per-run ratios:")
    for name, value, bar in checks:
        print(f"  {name:<12} {value:5.2f}× floor  (bar ≤ {bar}×)  {'ok' if value <= bar else 'OVER'}")
    return ratio <= BAR_TOTAL


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--product", default="EcoWater Bottle")
    ap.add_argument("--style", default="modern")
    ap.add_argument("--cta", default="Buy Now!")
    ap.add_argument("--aspect", default="9:16")
    ap.add_argument("--image", default=None, help="product image (a sanitised PNG)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument("--keep", action="store_true", help="keep the work dirs of every run")
    ap.add_argument("--mode", choices=["local", "dagster"], default="dagster",
                    help="dagster: the real assets, one Dagster run per stage; local: the providers called directly")
    args = ap.parse_args(argv)
    _require_pipeline_modules()

    runs: list[dict[str, Sample]] = []
    subs: list[dict[str, Sample]] = []
    floors: list[Sample] = []
    frames = 0
    for i in range(args.repeat):
        work = Path(args.out) / f"run{i}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        kind = DagsterPipeline if args.mode == "dagster" else LocalPipeline
        pipe = kind(args.product, args.style, args.cta, args.aspect, args.image, work)
        runs.append({name: measure(fn) for name, fn in pipe.stages()})
        subs.append(dict(getattr(pipe, "state", {}).get("parts", {})))
        floor, frames = measure_floor(pipe.output)
        floors.append(floor)
        if hasattr(pipe, "close"):
            pipe.close()
        print(
            f"run {i + 1}/{args.repeat}: "
            + "  ".join(f"{n} {s.wall:.2f}s" for n, s in runs[-1].items())
            + f"  | floor {floor.wall:.2f}s  -> {pipe.output}"
        )
        if not args.keep and i < args.repeat - 1:
            shutil.rmtree(work, ignore_errors=True)
    w, h = size_for_aspect(args.aspect)
    ok = report(runs, floors, frames, f"{w}x{h}", subs)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
