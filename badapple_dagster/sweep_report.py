"""The flavor-sweep comparison report (JSON and HTML): one column per variant with a contact sheet of
frames, duration, scene count, render time, cost, status, and the resolved config as a diff against
``default`` — so creatives compare variants side by side."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from .artifacts import ArtifactStore
from .store.mv import MvProject

TERMINAL = ("completed", "failed")


def _manifest(artifacts: ArtifactStore, project_id: str, variant: str, stage: str) -> dict[str, Any] | None:
    try:
        return artifacts.get_json(f"mv/projects/{project_id}/{variant}/{stage}/manifest.json")
    except FileNotFoundError:
        return None


def _render_seconds(job: Any) -> float | None:
    spans = [(s.completed_at - s.started_at).total_seconds() for s in job.stages if s.started_at and s.completed_at]
    return round(sum(spans), 2) if spans else None


def build_report(project: MvProject, artifacts: ArtifactStore, sweep_id: str) -> dict[str, Any]:
    from .mv.flavors import FlavorError, apply_overrides, load_flavor

    default = load_flavor("default")
    variants = []
    for v in project.variants:
        job = v.job
        scenes = _manifest(artifacts, project.id, v.variant, "mv_scenes")
        clips = _manifest(artifacts, project.id, v.variant, "mv_clips")
        final = _manifest(artifacts, project.id, v.variant, "music_video")
        try:
            resolved = apply_overrides(load_flavor(v.flavor), v.overrides)
            diff = {k: {"default": ab[1], "variant": ab[0]} for k, ab in resolved.diff_against(default).items()}
        except (FlavorError, ValueError) as exc:  # the flavor folder was removed or broken since the sweep ran
            resolved, diff = None, {"_error": {"default": None, "variant": str(exc)}}
        variants.append({
            "variant": v.variant,
            "flavor": v.flavor,
            "overrides": v.overrides,
            "job_id": job.id,
            "status": job.status,
            "progress": job.progress,
            "error_message": job.error_message,
            "duration_s": final["result"]["duration"] if final else None,
            "scene_count": len(scenes["scenes"]) if scenes else None,
            "render_seconds": _render_seconds(job),
            "cost_usd": job.cost_usd,
            "video_key": job.video_key,
            "contact_sheet_key": clips["contact_sheet"]["key"] if clips else None,
            "config_diff_vs_default": diff,
            "resolved_config": scenes["resolved_config"] if scenes else (resolved.to_dict() if resolved else None),
        })
    done = sum(1 for x in variants if x["status"] in TERMINAL)
    return {
        "sweep_id": sweep_id,
        "project_id": project.id,
        "concept": project.concept,
        "character_description": project.character_description,
        "status": "completed" if done == len(variants) and all(x["status"] == "completed" for x in variants)
        else ("failed" if done == len(variants) else "running"),
        "progress": int(sum(x["progress"] for x in variants) / max(1, len(variants))),
        "variants": variants,
    }


def render_html(report: dict[str, Any], artifacts: ArtifactStore) -> str:
    """A self-contained page: contact sheets are embedded, so the file can be mailed or opened offline."""
    cols = []
    for v in report["variants"]:
        img = ""
        if v["contact_sheet_key"]:
            try:
                b64 = base64.b64encode(artifacts.get_bytes(v["contact_sheet_key"])).decode()
                img = f'<img src="data:image/jpeg;base64,{b64}" alt="contact sheet">'
            except FileNotFoundError:
                pass  # not rendered (yet): the column shows without a picture
        diff_rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(json.dumps(d['default']))}</td>"
            f"<td>{html.escape(json.dumps(d['variant']))}</td></tr>"
            for k, d in v["config_diff_vs_default"].items()
        ) or '<tr><td colspan="3">same as default</td></tr>'
        stats = {"status": v["status"], "duration": v["duration_s"], "scenes": v["scene_count"],
                 "render time (s)": v["render_seconds"], "cost (USD)": v["cost_usd"]}
        stat_rows = "".join(f"<tr><th>{k}</th><td>{html.escape(str(val))}</td></tr>" for k, val in stats.items())
        cols.append(
            f'<section><h2>{html.escape(v["variant"])}</h2>{img}<table>{stat_rows}</table>'
            f"<h3>config vs default</h3><table><tr><th>key</th><th>default</th><th>this</th></tr>{diff_rows}"
            "</table></section>"
        )
    title = html.escape(f"Flavor sweep — {report['concept'][:80]}")
    return (
        f"<!doctype html><meta charset=utf-8><title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:24px;background:#111;color:#eee}"
        "main{display:flex;gap:24px;align-items:flex-start;overflow-x:auto}"
        "section{min-width:380px;background:#1c1c1c;padding:12px;border-radius:8px}"
        "img{max-width:100%}table{border-collapse:collapse;font-size:13px;width:100%}"
        "td,th{border-bottom:1px solid #333;padding:4px;text-align:left;vertical-align:top}</style>"
        f"<h1>{title}</h1><p>status: {report['status']} · {report['progress']}% · "
        f"character: {html.escape(report['character_description'][:120])}</p><main>{''.join(cols)}</main>"
    )


def write_report(project: MvProject, artifacts: ArtifactStore, sweep_id: str) -> dict[str, Any]:
    report = build_report(project, artifacts, sweep_id)
    base = f"mv/sweeps/{sweep_id}"
    report["report_json_key"] = f"{base}/report.json"
    report["report_html_key"] = f"{base}/report.html"
    artifacts.put_json(report["report_json_key"], report)
    artifacts.put_bytes(report["report_html_key"], render_html(report, artifacts).encode(), "text/html")
    return report
