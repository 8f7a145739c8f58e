"""The `badapple` command line.

    badapple job create --product-name ... --style ... --cta ... [--image FILE]   store a brief + partition
    badapple job show JOB_ID                                                      the job as the API sees it
    badapple render --product-name ... --style ... --cta ... [--image FILE]      create and render in-process
    badapple dev                                                                  dagster dev on this data dir
    badapple up [--demo]                      redis + dagster webserver/daemon + API on loopback, until Ctrl-C
    badapple generate --product-name ... --style ... --cta ... [--image FILE]    submit through the API, live
    badapple sweep --concept ... --character ... --flavors default,example,concert [--set number_of_scenes=3,5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the data directory (unless set) and give it the dagster.yaml of this mode."""
    from .instance_config import write_instance_yaml
    from .settings import get_settings

    home = get_settings().dagster_home
    os.environ["DAGSTER_HOME"] = str(home)
    if not (home / "dagster.yaml").exists():
        write_instance_yaml(home)
    return home


def _add_brief_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--product-name", required=True)
    p.add_argument("--style", required=True)
    p.add_argument("--cta", required=True, help="call-to-action text, 1-50 characters")
    p.add_argument("--image", help="product image (JPEG, PNG or WebP, at most 10 MB)")
    p.add_argument("--aspect-ratio", choices=["9:16", "1:1", "16:9"], help="default 9:16")
    p.add_argument("--seed", type=int, help="creative seed (default: derived from the job id)")
    p.add_argument("--voice", help="espeak-ng voice, e.g. en-us+f3 (default: the style's)")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.aspect_ratio:
        opts["aspect_ratio"] = args.aspect_ratio
    if args.seed is not None:
        opts["seed"] = args.seed
    if args.voice:
        opts["voice"] = args.voice
    return opts


def _create(args: argparse.Namespace) -> Any:
    from dagster import DagsterInstance

    from .artifacts import artifact_store_from_settings
    from .settings import get_settings
    from .store.jobs import JobStore
    from .submission import accept_brief, add_partition

    image_bytes = Path(args.image).read_bytes() if args.image else None
    store = JobStore(get_settings().database_url)
    job = accept_brief(
        store,
        artifact_store_from_settings(),
        product_name=args.product_name,
        style=args.style,
        cta_text=args.cta,
        image_bytes=image_bytes,
        options=_options(args),
    )
    # Launched by hand (Materialize in the UI, or `render` right here): mark it so an API running on the same
    # job store does not launch it a second time.
    store.record_launch(job.id, run_id="cli")
    ensure_dagster_home()
    add_partition(DagsterInstance.get(), job.id)
    return job


def cmd_job_create(args: argparse.Namespace) -> int:
    job = _create(args)
    print(job.id)
    print(
        f"Stored the brief and added partition {job.id} to ad_jobs. Materialize it in the Dagster UI "
        "(Assets > ad_pipeline > Materialize, pick the partition) or run `badapple render`.",
        file=sys.stderr,
    )
    return 0


def cmd_job_show(args: argparse.Namespace) -> int:
    from .settings import get_settings
    from .store.jobs import JobStore

    job = JobStore(get_settings().database_url).get_job(args.job_id)
    if job is None:
        print(f"job {args.job_id} not found", file=sys.stderr)
        return 1
    print(json.dumps({
        "job_id": job.id, "status": job.status, "progress": job.progress, "video_key": job.video_key,
        "error_message": job.error_message,
        "stages": [{"stage_name": s.stage_name, "status": s.status, "progress": s.progress,
                    "error_message": s.error_message} for s in job.stages],
    }, indent=2))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """Create a job and materialize its partition in this process (no servers needed)."""
    import dagster as dg

    from .artifacts import artifact_store_from_settings
    from .definitions import AD_ASSETS, build_definitions

    job = _create(args)
    defs = build_definitions()
    result = dg.materialize(
        AD_ASSETS,
        partition_key=job.id,
        instance=dg.DagsterInstance.get(),
        resources=defs.resources,
        raise_on_error=False,
    )
    if not result.success:
        print(f"render failed for job {job.id}", file=sys.stderr)
        return 1
    store = artifact_store_from_settings()
    key = f"ads/{job.id}/compositing/ad.mp4"
    print(store.local_path(key) or store.uri(key))
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    os.chdir(REPO_ROOT)
    return os.spawnvp(os.P_WAIT, "dagster", ["dagster", "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
                                            "-p", str(args.port)])


def cmd_up(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .settings import get_settings
    from .stack import Stack, StackConfig, StackError

    data_dir = Path(args.data_dir).resolve() if args.data_dir else get_settings().data_dir
    cfg = StackConfig(
        data_dir=data_dir,
        host=args.host,
        api_port=args.api_port,
        dagster_port=args.dagster_port,
        redis_port=args.redis_port,
        redis_url=os.environ.get("REDIS_URL") or None,
        database_url=os.environ.get("DATABASE_URL") or None,
    )
    stack = Stack(cfg)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"badapple: starting the stack in {data_dir} (logs in {data_dir / 'logs'}) ...", flush=True)
    try:
        stack.start()
    except StackError as exc:
        stack.stop()
        print(f"badapple: could not start: {exc}", file=sys.stderr)
        return 1
    print(f"  API            {cfg.api_url}   (docs: {cfg.api_url}/docs)")
    print(f"  Dagster UI     {cfg.dagster_url}")
    print(f"  Redis          {cfg.effective_redis_url}")
    print("Ready. Ctrl-C stops everything.", flush=True)
    rc = 0
    try:
        if args.demo:
            rc = _generate(cfg.api_url, product_name="EcoWater Bottle", style="modern", cta="Buy Now!",
                           image=args.demo_image, output=str(data_dir / "demo.mp4"))
            if args.exit_after_demo:
                return rc
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        print("badapple: stopping ...", flush=True)
        stack.stop()
        print("badapple: stopped.", flush=True)
    return rc


def _progress_bar(pct: int, stage: str, message: str, width: int = 30) -> str:
    filled = int(width * max(0, min(100, pct)) / 100)
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {pct:3d}% {stage:<12} {message[:48]:<48}"


def _generate(api: str, *, product_name: str, style: str, cta: str, image: str | None, output: str | None,
              providers: dict[str, str] | None = None, dry_run: bool = False) -> int:
    import asyncio

    import httpx

    data = {"product_name": product_name, "style": style, "cta_text": cta, **(providers or {})}
    if dry_run:
        data["dry_run"] = "true"
    files = {"product_image": (Path(image).name, Path(image).read_bytes())} if image else None
    resp = httpx.post(f"{api}/api/generate", data=data, files=files, timeout=60)
    body = resp.json()
    if dry_run and resp.status_code == 200:
        print(_estimate_table(body))
        return 0
    if resp.status_code != 202:
        print(f"error {resp.status_code}: {body.get('message')} ({body.get('details')})", file=sys.stderr)
        return 2
    job_id = body["job_id"]
    print(f"job {job_id} accepted; following it live", flush=True)

    async def follow() -> dict[str, Any]:
        from websockets.asyncio.client import connect

        ws_url = api.replace("http", "ws", 1) + f"/ws/jobs/{job_id}"
        last: dict[str, Any] = {}
        async with connect(ws_url, open_timeout=30, ping_interval=None) as ws:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") in ("pong", "ping"):
                    continue
                # Status messages carry no text: keep showing the last thing that was said.
                text = str(msg.get("message") or last.get("message") or "")
                last = {**msg, "message": text}
                sys.stdout.write(_progress_bar(int(msg.get("progress", 0)), str(msg.get("stage", "")), text))
                sys.stdout.flush()
                if msg.get("status") in ("completed", "failed"):
                    break
        print()
        return last

    asyncio.run(follow())
    job = httpx.get(f"{api}/api/jobs/{job_id}", timeout=30).json()
    if job.get("status") != "completed":
        print(f"job {job_id} {job.get('status')}: {job.get('error_message')}", file=sys.stderr)
        return 1
    print(f"video: {job['video_url']}")
    if output:
        with httpx.stream("GET", job["video_url"], timeout=120, follow_redirects=True) as r, open(output, "wb") as f:
            for chunk in r.iter_bytes():
                f.write(chunk)
        print(f"saved: {output}")
    return 0


def _estimate_table(body: dict[str, Any]) -> str:
    rows = [f"{'stage':<14}{'provider':<40}{'cost $':>10}{'seconds':>10}"]
    for name, st in body["stages"].items():
        rows.append(f"{name:<14}{st['provider']:<40}{st['cost_usd']:>10.4f}{st['seconds']:>10.1f}")
    rows.append(f"{'total':<54}{body['total_cost_usd']:>10.4f}{body['total_seconds']:>10.1f}")
    if body.get("unavailable_providers"):
        rows.append("no API key on the server for: " + ", ".join(body["unavailable_providers"]))
    return "\n".join(rows)


def _chains(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, str]:
    """Provider chain flags -> form fields; checked here so a typo fails before anything is sent or stored."""
    from .providers.registry import parse_chain

    out = {}
    for name in names:
        value = getattr(args, name, None)
        if value:
            try:
                parse_chain(value, name.removesuffix("_provider"))
            except ValueError as exc:
                raise SystemExit(f"--{name.replace('_', '-')}: {exc}") from exc
            out[name] = value
    return out


def cmd_generate(args: argparse.Namespace) -> int:
    providers = _chains(args, ("script_provider", "voice_provider", "video_provider"))
    return _generate(args.api, product_name=args.product_name, style=args.style, cta=args.cta, image=args.image,
                     output=args.output, providers=providers, dry_run=args.dry_run)


def _parse_sets(sets: list[str] | None) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for item in sets or []:
        key, _, values = item.partition("=")
        if not key or not values:
            raise SystemExit(f"--set takes key=v1,v2 (got {item!r})")
        grid[key.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return grid


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run one brief across flavors (and an optional parameter grid) in this process, then write the report."""
    import dagster as dg

    from .artifacts import artifact_store_from_settings
    from .definitions import MV_ASSETS, build_definitions
    from .mv_submission import add_mv_partitions, create_mv_project
    from .settings import get_settings
    from .store.jobs import JobStore
    from .store.mv import MvStore
    from .sweep_report import write_report

    store = MvStore(JobStore(get_settings().database_url))
    arts = artifact_store_from_settings()
    project = create_mv_project(
        store, arts, concept=args.concept, character_description=args.character,
        flavors=args.flavors.split(","), grid=_parse_sets(args.set),
        audio_bytes=Path(args.audio).read_bytes() if args.audio else None,
        reference_image_bytes=Path(args.image).read_bytes() if args.image else None, sweep=True,
        options=_chains(args, ("scene_provider", "image_provider", "clip_provider")) or None,
    )
    for v in project.variants:  # rendered right here: an API on the same store must not launch them too
        store.jobs.record_launch(v.job.id, run_id="cli")
    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    add_mv_partitions(instance, project)
    resources = build_definitions().resources
    print(f"sweep {project.id}: {len(project.variants)} variants", flush=True)
    for v in project.variants:
        key = dg.MultiPartitionKey({"project": project.id, "flavor": v.variant})
        result = dg.materialize(MV_ASSETS, partition_key=key, instance=instance, resources=resources,
                                raise_on_error=False)
        print(f"  {v.variant:<40} {'ok' if result.success else 'FAILED'}", flush=True)
    report = write_report(store.get_project(project.id), arts, project.id)
    for k in ("report_html_key", "report_json_key"):
        print(arts.local_path(report[k]) or arts.uri(report[k]))
    return 0 if report["status"] == "completed" else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="badapple", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    job = sub.add_parser("job", help="create or inspect ad jobs").add_subparsers(dest="job_command", required=True)
    create = job.add_parser("create", help="store a brief and add its partition")
    _add_brief_args(create)
    create.set_defaults(func=cmd_job_create)
    show = job.add_parser("show", help="show a job's status")
    show.add_argument("job_id")
    show.set_defaults(func=cmd_job_show)

    render = sub.add_parser("render", help="create a job and render it in this process")
    _add_brief_args(render)
    render.set_defaults(func=cmd_render)

    dev = sub.add_parser("dev", help="run `dagster dev` against this data directory")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)

    up = sub.add_parser("up", help="start redis, dagster webserver + daemon and the API; Ctrl-C stops them")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--api-port", type=int, default=8000)
    up.add_argument("--dagster-port", type=int, default=3000)
    up.add_argument("--redis-port", type=int, default=6379)
    up.add_argument("--data-dir", help="default: $BADAPPLE_DATA_DIR or ./.badapple")
    up.add_argument("--demo", action="store_true", help="once up, generate a demo ad through the API")
    up.add_argument("--demo-image", help="product image for the demo ad")
    up.add_argument("--exit-after-demo", action="store_true", help="stop the stack after the demo ad")
    up.set_defaults(func=cmd_up)

    gen = sub.add_parser("generate", help="submit a brief through the API and follow it live")
    gen.add_argument("--product-name", required=True)
    gen.add_argument("--style", required=True)
    gen.add_argument("--cta", required=True)
    gen.add_argument("--image")
    gen.add_argument("--output", help="also download the video to this file")
    gen.add_argument("--script-provider", help="e.g. openai:gpt-4o-mini,local (docs/PROVIDERS.md)")
    gen.add_argument("--voice-provider", help="e.g. elevenlabs,local")
    gen.add_argument("--video-provider", help="e.g. replicate:minimax/video-01,local")
    gen.add_argument("--dry-run", action="store_true", help="print the cost/time estimate; render nothing")
    gen.add_argument("--api", default=os.environ.get("BADAPPLE_API_URL", "http://127.0.0.1:8000"))
    gen.set_defaults(func=cmd_generate)

    sweep = sub.add_parser("sweep", help="one music-video brief across config flavors, with a comparison report")
    sweep.add_argument("--concept", required=True)
    sweep.add_argument("--character", required=True, help="character description")
    sweep.add_argument("--flavors", default="default", help="comma-separated flavors (mv_configs/ folders)")
    sweep.add_argument("--set", action="append", help="parameter grid, e.g. number_of_scenes=3,5 (repeatable)")
    sweep.add_argument("--audio", help="song (mp3, wav or m4a); default: a generated one")
    sweep.add_argument("--image", help="character reference image; default: a rendered character card")
    sweep.add_argument("--scene-provider", help="scene prompt chain, e.g. openai:gpt-4o-mini,local (docs/PROVIDERS.md)")
    sweep.add_argument("--image-provider", help="character reference chain, e.g. replicate,local (flavor's model)")
    sweep.add_argument("--clip-provider", help="clip chain, e.g. replicate,local (each flavor's video_model)")
    sweep.set_defaults(func=cmd_sweep)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .media.brief import BriefError

    try:
        return int(args.func(args) or 0)
    except BriefError as exc:
        print(f"error: {exc.message} ({exc.details})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
