"""Music-video endpoints under /api/mv: config flavors, scene prompts, character references, scene clips,
projects and flavor sweeps, and a range-capable file endpoint for MV artifacts.

Scenes, character references and clips are answered synchronously (milliseconds, ~0.6 s and ~1.1 s per
second of video); the blocking work runs in worker threads behind bounded gates (mv_runtime.py), so the
event loop keeps serving everything else. Projects and sweeps are stored and answered 202 at once; their
variants are Dagster runs of ``mv_video_job`` launched by the launcher, one job (and job id) per variant.

Every endpoint that uses a flavor takes ``?config_flavor=`` (default "default"); an unknown one is a 400
``InvalidFlavor`` naming the valid flavors.

Projects and sweeps take the provider chains ``scene_provider``, ``image_provider`` and ``clip_provider``
(stored with the project, read by its runs; docs/PROVIDERS.md) and ``dry_run``: true answers 200 with the cost
and time of every stage of every variant and stores and launches nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from badapple_dagster.media.brief import BriefError
from badapple_dagster.mv.flavors import DEFAULT_FLAVOR, ResolvedFlavor, list_flavors
from badapple_dagster.mv_submission import check_project_text, create_mv_project, parse_grid
from badapple_dagster.store.mv import MvProject, MvStore

from ..dry_run import dry_run_flag
from ..errors import ApiError
from ..mv_dry_run import estimate_variants
from ..mv_files import check_mv_key, file_url, serve
from ..mv_media import render_card, render_clip, resolve_flavor, write_scene_list
from ..mv_models import (
    MAX_CLIP_SECONDS,
    MAX_GRID_VALUES,
    MAX_SEED,
    MAX_SWEEP_VARIANTS,
    MIN_CLIP_SECONDS,
    CharacterReferenceRequest,
    CharacterReferenceResponse,
    FlavorsResponse,
    MvDryRun,
    ProjectAccepted,
    ProjectStatus,
    SceneOut,
    ScenesRequest,
    ScenesResponse,
    SweepAccepted,
    SweepReport,
    SweepRequest,
    VideoRequest,
    VideoResponse,
)
from ..mv_providers import validate_mv_providers
from ..mv_runtime import MvRuntime, get_mv_runtime
from ..mv_uploads import AUDIO_FIELD, IMAGE_FIELD, ProjectForm, parse_project_form
from ..mv_views import project_view, sweep_view, variant_refs
from ..options import is_whole_number
from ..schemas import ERROR_RESPONSES, ErrorEnvelope
from ..state import AppState, get_state

router = APIRouter(prefix="/api/mv", tags=["music video"])

MAX_JSON_BODY_BYTES = 64 * 1024
FlavorQuery = Query(None, max_length=64, description="Configuration flavor (a folder of mv_configs/); "
                    "default: \"default\"")
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorEnvelope, "description": "Unknown id"}}
_BUSY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorEnvelope, "description": "Too many renders at once; see Retry-After"}}
_DRY_RUN: dict[int | str, dict[str, Any]] = {
    200: {"model": MvDryRun, "description": "dry_run=true: cost and time per stage and variant; nothing stored"}}


async def small_json_body(request: Request) -> None:
    """JSON bodies here are a few hundred bytes: refuse a huge one before FastAPI reads it into memory."""
    raw = request.headers.get("content-length")
    if raw is not None and raw.isdigit() and int(raw) > MAX_JSON_BODY_BYTES:
        raise ApiError(400, "PayloadTooLarge", "The request body is too large",
                       f"Limit: {MAX_JSON_BODY_BYTES} bytes")


# ---- flavors and scenes ---------------------------------------------------------------------------------


@router.get("/config-flavors", response_model=FlavorsResponse, summary="List the configuration flavors")
async def config_flavors() -> FlavorsResponse:
    # Re-scanned on every call: a flavor folder added on disk shows up without a restart.
    flavors = await run_in_threadpool(list_flavors)
    return FlavorsResponse(flavors=flavors, default_flavor=DEFAULT_FLAVOR)


@router.post("/scenes", response_model=ScenesResponse, responses=ERROR_RESPONSES,
             dependencies=[Depends(small_json_body)], summary="Write scene prompts for a concept")
async def scenes(body: ScenesRequest, config_flavor: str | None = FlavorQuery) -> ScenesResponse:
    flavor, items = await run_in_threadpool(write_scene_list, config_flavor, body.concept_prompt, body.num_scenes,
                                            body.character_description, body.seed or 0)
    return ScenesResponse(scenes=[SceneOut(**s) for s in items], config_flavor=flavor.name)


# ---- character references and clips --------------------------------------------------------------------


@router.post("/character-reference", response_model=CharacterReferenceResponse,
             responses={**ERROR_RESPONSES, **_BUSY}, dependencies=[Depends(small_json_body)],
             summary="Render a character reference image")
async def character_reference(
    body: CharacterReferenceRequest,
    config_flavor: str | None = FlavorQuery,
    state: AppState = Depends(get_state),
    runtime: MvRuntime = Depends(get_mv_runtime),
) -> CharacterReferenceResponse:
    flavor = await run_in_threadpool(resolve_flavor, config_flavor)  # a bad flavor never waits for a slot
    async with runtime.cards.slot():
        key = await run_in_threadpool(render_card, state.artifacts, flavor, body.character_description,
                                      body.seed or 0)
    url = await run_in_threadpool(file_url, state, key)
    assert url is not None
    return CharacterReferenceResponse(image_url=url, s3_key=key, config_flavor=flavor.name)


def _check_references_exist(state: AppState, keys: list[str]) -> None:
    for key in keys:
        if not state.artifacts.exists(key):
            raise ApiError(400, "InvalidReferenceImage", f"Reference image '{key[:200]}' cannot be used",
                           "No file is stored under this key")


@router.post("/video", response_model=VideoResponse, responses={**ERROR_RESPONSES, **_BUSY},
             dependencies=[Depends(small_json_body)], summary="Render one scene clip (synchronous)")
async def video(
    body: VideoRequest,
    config_flavor: str | None = FlavorQuery,
    state: AppState = Depends(get_state),
    runtime: MvRuntime = Depends(get_mv_runtime),
) -> VideoResponse:
    # Everything that can be refused is refused before waiting for a render slot.
    for key in body.reference_image_s3_keys:
        check_mv_key(key)
    flavor = await run_in_threadpool(resolve_flavor, config_flavor)
    await run_in_threadpool(_check_references_exist, state, body.reference_image_s3_keys)
    project_id = body.project_id or str(uuid.uuid4())
    async with runtime.clips.slot():
        clip = await run_in_threadpool(
            lambda: render_clip(state.artifacts, runtime.scene_numbers, flavor, prompt=body.prompt,
                                duration=body.duration, reference_keys=body.reference_image_s3_keys,
                                project_id=project_id, seed=body.seed)
        )
    url = await run_in_threadpool(file_url, state, clip.key)
    assert url is not None
    return VideoResponse(video_url=url, s3_key=clip.key, project_id=project_id, sequence=clip.sequence,
                         duration=clip.duration, config_flavor=flavor.name)


# ---- projects and sweeps --------------------------------------------------------------------------------


def _int_field(form: ProjectForm, name: str, low: int, high: int) -> int | None:
    raw = form.fields.get(name, "").strip()
    if not raw:
        return None  # a browser form sends blank inputs as empty strings
    if not is_whole_number(raw, low, high):
        raise ApiError(400, "ValidationError", f"Invalid value for '{name}'", f"A whole number from {low} to {high}")
    return int(raw)


def _project_inputs(form: ProjectForm, query_flavor: str | None, *,
                    dry_run: bool) -> tuple[ResolvedFlavor, dict[str, Any], dict[str, list[Any]] | None]:
    """(flavor, options to store, grid): everything but the texts and files, which create_mv_project checks."""
    f = form.fields
    form_flavor = f.get("config_flavor", "").strip() or None
    if form_flavor and query_flavor and form_flavor != query_flavor.strip():
        raise ApiError(400, "ValidationError", "config_flavor was given twice with different values",
                       f"form: '{form_flavor[:64]}', query: '{query_flavor[:64]}'")
    flavor = resolve_flavor(form_flavor or query_flavor)
    num_scenes = _int_field(form, "num_scenes", 1, 12)
    duration = _int_field(form, "video_duration", MIN_CLIP_SECONDS, MAX_CLIP_SECONDS)
    seed = _int_field(form, "seed", 0, MAX_SEED)
    options: dict[str, Any] = {k: v for k, v in (("num_scenes", num_scenes), ("seed", seed)) if v is not None}
    # An estimate is useful before keys are configured; a real project must be able to run here.
    options.update(validate_mv_providers(f, require_keys=not dry_run))
    # A clip length other than the flavor's is a variant of it (its own partition and outputs).
    grid = {"video_duration": [duration]} if duration is not None and duration != flavor.video_duration else None
    return flavor, options, grid


def _accept_project(state: AppState, form: ProjectForm, query_flavor: str | None) -> MvProject:
    flavor, options, grid = _project_inputs(form, query_flavor, dry_run=False)
    return create_mv_project(
        MvStore(state.store), state.artifacts, concept=form.fields.get("concept", ""),
        character_description=form.fields.get("character_description", ""), flavors=[flavor.name], grid=grid,
        audio_bytes=form.files.get(AUDIO_FIELD), reference_image_bytes=form.files.get(IMAGE_FIELD),
        options=options,
    )


def _estimate_project(form: ProjectForm, query_flavor: str | None) -> dict[str, Any]:
    flavor, options, grid = _project_inputs(form, query_flavor, dry_run=True)
    concept, character = check_project_text(form.fields.get("concept"), form.fields.get("character_description"))
    return estimate_variants(concept=concept, character_description=character, flavors=[flavor.name],
                             points=parse_grid(grid), options=options,
                             has_reference_image=IMAGE_FIELD in form.files)


_PROJECT_FORM = {
    "type": "object",
    "required": ["concept", "character_description"],
    "properties": {
        "concept": {"type": "string", "minLength": 1, "maxLength": 2000},
        "character_description": {"type": "string", "minLength": 1, "maxLength": 2000},
        "config_flavor": {"type": "string", "default": DEFAULT_FLAVOR},
        "num_scenes": {"type": "integer", "minimum": 1, "maximum": 12},
        "video_duration": {"type": "integer", "minimum": 1, "maximum": 30,
                           "description": "Seconds per clip; default: the flavor's video_duration"},
        "seed": {"type": "integer", "minimum": 0},
        "scene_provider": {"type": "string", "description": "Scene writer chain, e.g. 'openai:gpt-4o-mini,local'; "
                           "default: local"},
        "image_provider": {"type": "string", "description": "Character reference chain, e.g. 'replicate,local' "
                           "(no model: the flavor's image_params model); default: local"},
        "clip_provider": {"type": "string", "description": "Clip chain, e.g. 'replicate,local' (no model: the "
                          "flavor's video_model); default: local"},
        "dry_run": {"type": "boolean", "default": False,
                    "description": "true: answer 200 with the cost/time estimate; store and launch nothing"},
        "audio": {"type": "string", "format": "binary", "description": "mp3, wav or m4a (by content), ≤ 50 MB"},
        "reference_image": {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP, ≤ 10 MB"},
    },
    "additionalProperties": False,
}


@router.post("/projects", status_code=202, response_model=ProjectAccepted, responses={**ERROR_RESPONSES, **_DRY_RUN},
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"multipart/form-data": {"schema": _PROJECT_FORM}}}},
             summary="Create a music-video project and start rendering it (or, with dry_run, price it)")
async def create_project(request: Request, config_flavor: str | None = FlavorQuery,
                         state: AppState = Depends(get_state)) -> ProjectAccepted | JSONResponse:
    form = await parse_project_form(request)
    if dry_run_flag(form.fields.get("dry_run")):
        estimate = await run_in_threadpool(_estimate_project, form, config_flavor)
        return JSONResponse(MvDryRun(**estimate).model_dump())
    if IMAGE_FIELD in form.files:
        async with state.image_slots:  # decoding an upload is the expensive part: share the ad form's limit
            project = await run_in_threadpool(_accept_project, state, form, config_flavor)
    else:
        project = await run_in_threadpool(_accept_project, state, form, config_flavor)
    for v in project.variants:
        state.launcher.submit(v.job)
    return ProjectAccepted(project_id=project.id, variants=variant_refs(project),
                           message="Music video project created; rendering has been queued")


@router.get("/projects/{project_id}", response_model=ProjectStatus, responses={**_NOT_FOUND, **ERROR_RESPONSES},
            summary="A project's status, with each variant's progress, stages and video")
async def get_project(project_id: str, state: AppState = Depends(get_state)) -> dict[str, Any]:
    return await run_in_threadpool(project_view, state, project_id)


def _check_grid(grid: dict[str, list[Any]] | None) -> list[dict[str, Any]]:
    from badapple_dagster.mv.flavor_schema import check_file
    from badapple_dagster.mv.flavors import SWEEPABLE

    points = parse_grid(grid)  # BriefError (400) for keys that cannot be swept or non-numbers
    for key, values in (grid or {}).items():
        if len(values) > MAX_GRID_VALUES:
            raise BriefError(f"too many values for {key}", details=f"at most {MAX_GRID_VALUES}", field="set")
    # Check values against the flavor schema now, not when a run fails on them minutes later.
    for point in points:
        for key, value in point.items():
            issues = check_file(SWEEPABLE[key], {key: value}, partial=True)
            if issues:
                raise BriefError(f"invalid value for {key}: {issues[0].message}", details="set", field="set")
    return points


def _sweep_inputs(body: SweepRequest) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    """(flavor names, grid points, options to store)."""
    names = list(dict.fromkeys(resolve_flavor(name).name for name in body.flavors))  # aliases → real names
    points = _check_grid(body.grid)
    if len(names) * len(points) > MAX_SWEEP_VARIANTS:
        raise ApiError(400, "ValidationError", "The sweep has too many variants",
                       f"{len(names)} flavors × {len(points)} grid points; at most {MAX_SWEEP_VARIANTS}")
    chains = {"scene_provider": body.scene_provider, "image_provider": body.image_provider,
              "clip_provider": body.clip_provider}
    return names, points, validate_mv_providers(chains, require_keys=not body.dry_run)


def _accept_sweep(state: AppState, body: SweepRequest) -> MvProject:
    names, _, options = _sweep_inputs(body)
    return create_mv_project(MvStore(state.store), state.artifacts, concept=body.concept,
                             character_description=body.character_description, flavors=names, grid=body.grid,
                             options=options, sweep=True)


def _estimate_sweep(body: SweepRequest) -> dict[str, Any]:
    names, points, options = _sweep_inputs(body)
    return estimate_variants(concept=body.concept, character_description=body.character_description, flavors=names,
                             points=points, options=options)


@router.post("/sweeps", status_code=202, response_model=SweepAccepted, responses={**ERROR_RESPONSES, **_DRY_RUN},
             dependencies=[Depends(small_json_body)],
             summary="Render one concept across flavors (and a grid), or with dry_run, price it")
async def create_sweep(body: SweepRequest, state: AppState = Depends(get_state)) -> SweepAccepted | JSONResponse:
    if body.dry_run:
        estimate = await run_in_threadpool(_estimate_sweep, body)
        return JSONResponse(MvDryRun(**estimate).model_dump())
    project = await run_in_threadpool(_accept_sweep, state, body)
    for v in project.variants:
        state.launcher.submit(v.job)
    return SweepAccepted(sweep_id=project.sweep_id or project.id, project_id=project.id,
                         variants=variant_refs(project),
                         message=f"Sweep created; rendering {len(project.variants)} variant(s)")


@router.get("/sweeps/{sweep_id}", response_model=SweepReport, responses={**_NOT_FOUND, **ERROR_RESPONSES},
            summary="A sweep's comparison report (live; written to the artifact store once it is over)")
async def get_sweep(sweep_id: str, state: AppState = Depends(get_state),
                    runtime: MvRuntime = Depends(get_mv_runtime)) -> dict[str, Any]:
    return await run_in_threadpool(sweep_view, state, sweep_id, runtime.reports)


# ---- files ----------------------------------------------------------------------------------------------


@router.api_route("/files/{key:path}", methods=["GET", "HEAD"], responses={**_NOT_FOUND, **ERROR_RESPONSES},
                  summary="Download an MV artifact by key (local store; supports Range)")
async def get_file(key: str, request: Request, state: AppState = Depends(get_state)) -> Response:
    return await serve(state, key, request)
