"""How MV projects and sweeps look on the wire. Blocking (store reads, presigning, report files): threads only.

A project's variants are ordinary jobs of kind "mv", so each variant is shown with the job view of
``GET /api/jobs/{id}`` (status, progress, stages, error) minus the ad-only brief fields, and its progress
streams over ``/ws/jobs/{job_id}`` like any job's. Video URLs point at ``/api/mv/files/...`` (or a presigned
URL), which serves every MV artifact by key.
"""

from __future__ import annotations

import threading
from typing import Any

from badapple_dagster.store.mv import MvProject, MvStore, MvVariant
from badapple_dagster.sweep_report import build_report, write_report

from .errors import ApiError
from .job_views import TERMINAL_STATUSES, iso, job_view
from .mv_files import file_url
from .mv_models import VariantRef
from .state import AppState

MAX_ID_CHARS = 64  # mv_projects.id and mv_sweeps.id: longer ids cannot exist, so they skip the database
_VARIANT_JOB_FIELDS = ("status", "progress", "created_at", "updated_at", "video_url", "error_message", "cost_usd",
                       "degraded", "stages")


def project_not_found(project_id: str) -> ApiError:
    return ApiError(404, "ProjectNotFound", f"Project with ID '{project_id[:100]}' not found",
                    "The specified project ID does not exist in the system")


def sweep_not_found(sweep_id: str) -> ApiError:
    return ApiError(404, "SweepNotFound", f"Sweep with ID '{sweep_id[:100]}' not found",
                    "The specified sweep ID does not exist in the system")


def aggregate_status(statuses: list[str]) -> str:
    """One word for the whole project: done only when every variant is, failed if any variant failed."""
    if statuses and all(s in TERMINAL_STATUSES for s in statuses):
        return "completed" if all(s == "completed" for s in statuses) else "failed"
    if any(s != "pending" for s in statuses):
        return "processing"
    return "pending"


def variant_view(state: AppState, v: MvVariant) -> dict[str, Any]:
    job = v.job
    video = file_url(state, job.video_key) if job.status == "completed" else None
    base = job_view(job, video)
    return {"variant": v.variant, "flavor": v.flavor, "overrides": v.overrides, "job_id": job.id,
            **{k: base[k] for k in _VARIANT_JOB_FIELDS}}


def variant_refs(project: MvProject) -> list[VariantRef]:
    return [VariantRef(variant=v.variant, flavor=v.flavor, job_id=v.job.id) for v in project.variants]


def load_project(state: AppState, project_id: str) -> MvProject | None:
    return MvStore(state.store).get_project(project_id) if len(project_id) <= MAX_ID_CHARS else None


def project_view(state: AppState, project_id: str) -> dict[str, Any]:
    project = load_project(state, project_id)
    if project is None:
        raise project_not_found(project_id)
    variants = [variant_view(state, v) for v in project.variants]
    return {
        "project_id": project.id,
        "status": aggregate_status([v["status"] for v in variants]),
        "progress": int(sum(v["progress"] for v in variants) / max(1, len(variants))),
        "created_at": iso(project.created_at),
        "concept": project.concept,
        "character_description": project.character_description,
        "audio_url": file_url(state, project.audio_key),
        "reference_image_url": file_url(state, project.reference_image_key),
        "sweep_id": project.sweep_id,
        # A fallback anywhere shows on the project too (never silent), and the project costs what its variants do.
        "degraded": any(v["degraded"] for v in variants),
        "cost_usd": round(sum(v["cost_usd"] for v in variants), 6),
        "variants": variants,
    }


def _finish_report(state: AppState, mv: MvStore, sweep_id: str, project: MvProject, lock: threading.Lock) -> str:
    """Write the report files once the sweep is over (once: a concurrent poll waits, then finds it written).
    Returns the report's JSON key."""
    with lock:
        sweep = mv.get_sweep(sweep_id)
        if sweep is not None and sweep["report_key"]:
            return str(sweep["report_key"])
        report = write_report(project, state.artifacts, sweep_id)
        with state.store.writing():
            mv.set_sweep_report(sweep_id, report["report_json_key"])
        return str(report["report_json_key"])


def sweep_view(state: AppState, sweep_id: str, report_lock: threading.Lock) -> dict[str, Any]:
    mv = MvStore(state.store)
    sweep = mv.get_sweep(sweep_id) if len(sweep_id) <= MAX_ID_CHARS else None
    project = mv.get_project(sweep["project_id"]) if sweep else None
    if sweep is None or project is None:
        raise sweep_not_found(sweep_id)
    # Built fresh on every poll (a few ms): status and progress are live while variants render.
    report = build_report(project, state.artifacts, sweep_id)
    json_key = sweep["report_key"]
    if report["status"] != "running" and not json_key:
        json_key = _finish_report(state, mv, sweep_id, project, report_lock)
    html_key = f"{json_key.rsplit('/', 1)[0]}/report.html" if json_key else None
    report.update(report_json_key=json_key, report_html_key=html_key,
                  report_json_url=file_url(state, json_key), report_html_url=file_url(state, html_key))
    for v in report["variants"]:
        v["video_url"] = file_url(state, v["video_key"]) if v["status"] == "completed" else None
        v["contact_sheet_url"] = file_url(state, v["contact_sheet_key"])
    return report
