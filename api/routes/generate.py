"""POST /api/generate: validate and store a brief, answer 202, and leave launching to the launcher."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from badapple_dagster.media.brief import MAX_CTA_CHARS, MAX_PRODUCT_NAME_CHARS, validate_fields
from badapple_dagster.media.models import ASPECT_SIZES
from badapple_dagster.media.styles import valid_styles
from badapple_dagster.store.jobs import JobRecord
from badapple_dagster.submission import accept_brief

from ..dry_run import estimate_for, wants_dry_run
from ..options import validate_options
from ..schemas import ERROR_RESPONSES, GenerateAccepted
from ..state import AppState, get_state
from ..uploads import GenerateForm, parse_generate_form

router = APIRouter(tags=["jobs"])

ACCEPTED_MESSAGE = "Video generation job created successfully"

# The body is parsed by hand (streaming, see uploads.py), so FastAPI cannot infer its schema: describe it.
_FORM_SCHEMA = {
    "type": "object",
    "required": ["product_name", "style", "cta_text"],
    "properties": {
        "product_name": {"type": "string", "minLength": 1, "maxLength": MAX_PRODUCT_NAME_CHARS},
        "style": {"type": "string", "enum": valid_styles()},
        "cta_text": {"type": "string", "minLength": 1, "maxLength": MAX_CTA_CHARS},
        "product_image": {
            "type": "string",
            "format": "binary",
            "description": "JPEG, PNG or WebP (recognised by content), at most 10 MB",
        },
        "aspect_ratio": {"type": "string", "enum": list(ASPECT_SIZES), "default": "9:16"},
        "seed": {"type": "integer", "minimum": 0, "description": "Creative seed; default: derived from the job"},
        "voice": {"type": "string", "description": "espeak-ng voice such as en-us or en-us+f3"},
        "script_provider": {"type": "string", "default": "local",
                            "description": "Script provider chain, e.g. 'openai:gpt-4o-mini,local'"},
        "voice_provider": {"type": "string", "default": "local",
                           "description": "Voice provider chain, e.g. 'elevenlabs,local' or 'openai:tts-1'"},
        "video_provider": {"type": "string", "default": "local",
                           "description": "Scene clip provider chain, e.g. 'replicate:minimax/video-01,local'"},
        "tts_voice": {"type": "string", "description": "Remote TTS voice: an OpenAI voice name or ElevenLabs id"},
        "dry_run": {"type": "boolean", "default": False,
                    "description": "true: validate and answer 200 with the cost/time estimate per stage; "
                    "nothing is stored or launched"},
    },
    "additionalProperties": False,
}
_OPENAPI_EXTRA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": _FORM_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": {**_FORM_SCHEMA, "properties": {
                k: v for k, v in _FORM_SCHEMA["properties"].items() if k != "product_image"}}},
        },
    }
}


def _accept(state: AppState, form: GenerateForm) -> tuple[JobRecord, int]:
    """Blocking: validation, image decode, artifact and database writes. Runs in a worker thread."""
    f = form.fields
    name, style, cta = f.get("product_name", ""), f.get("style", ""), f.get("cta_text", "")
    # Text fields first: cheap, and the mistakes people make most; nothing is stored if anything fails.
    validate_fields(name, style, cta)
    options = validate_options(f)
    job = accept_brief(
        state.store, state.artifacts, product_name=name, style=style, cta_text=cta,
        image_bytes=form.image, options=options,
    )
    return job, state.estimator.seconds_for_new_job()


@router.post(
    "/api/generate",
    status_code=202,
    response_model=GenerateAccepted,
    responses=ERROR_RESPONSES,
    openapi_extra=_OPENAPI_EXTRA,
    summary="Create a video generation job",
)
async def generate(request: Request, state: AppState = Depends(get_state)) -> GenerateAccepted | JSONResponse:
    form = await parse_generate_form(request)
    if wants_dry_run(form):  # 200 with the per-stage estimate; nothing stored, nothing launched
        return JSONResponse(await run_in_threadpool(estimate_for, form))
    if form.image is not None:
        async with state.image_slots:
            job, eta = await run_in_threadpool(_accept, state, form)
    else:
        job, eta = await run_in_threadpool(_accept, state, form)
    # Stored: from here on the job is durable and the launcher (or any replica's sweep) will launch it.
    state.launcher.submit(job)
    return GenerateAccepted(job_id=job.id, estimated_completion_time=eta, message=ACCEPTED_MESSAGE)
