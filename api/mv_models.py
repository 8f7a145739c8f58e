"""Request and response shapes of the MV endpoints (``/api/mv/...``), for validation and the OpenAPI page.

Requests are strict: unknown fields are refused (a typo such as ``num_scene`` must not silently fall back
to a default), numbers must be JSON numbers (``"3"`` and ``true`` are refused), and text is trimmed before
its length is checked, so a blank concept is an empty one. Violations become 400 ``ValidationError``
through the app's error envelope.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from badapple_dagster.mv.scene_writer import MAX_SCENES
from badapple_dagster.mv_submission import MAX_TEXT

from .schemas import JobStatusValue, StageStatus

MAX_PROMPT_CHARS = 5000
MAX_REFERENCE_IMAGES = 4
MAX_SWEEP_FLAVORS = 8
MAX_SWEEP_VARIANTS = 12  # each variant is a full Dagster run: a sweep of more is a batch job, not a request
MAX_GRID_VALUES = 6
MIN_CLIP_SECONDS, MAX_CLIP_SECONDS = 1, 30
MAX_SEED = 2**31 - 1
# A project id names a folder and a partition key: the alphabet of variant keys, never "|" "," "[" "]" "/".
PROJECT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT_CHARS)]
Seed = Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)]
GridValue = Annotated[int, Field(strict=True)] | Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- requests -----------------------------------------------------------------------------------------


class ScenesRequest(_Strict):
    concept_prompt: Text = Field(description="What the video is about (1-2000 characters)")
    num_scenes: Annotated[int, Field(strict=True, ge=1, le=MAX_SCENES)] | None = Field(
        None, description="1-12; default: the flavor's number_of_scenes")
    character_description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)] | None = (
        Field(None, description="Optional: who performs; woven into every prompt"))
    seed: Seed | None = Field(None, description="Same inputs and seed give the same scenes; default 0")


class CharacterReferenceRequest(_Strict):
    character_description: Text
    seed: Seed | None = Field(None, description="Default 0")


class VideoRequest(_Strict):
    prompt: Prompt
    duration: float = Field(8.0, strict=True, ge=MIN_CLIP_SECONDS, le=MAX_CLIP_SECONDS, description="Seconds, 1-30")
    reference_image_s3_keys: list[str] = Field(
        default_factory=list, max_length=MAX_REFERENCE_IMAGES,
        description="Keys under mv/ of images to take the character from (e.g. a character reference's s3_key)")
    project_id: Annotated[str, Field(pattern=PROJECT_ID_PATTERN)] | None = Field(
        None, description="Groups clips under mv/projects/{project_id}/scenes/; default: a new id")
    seed: Seed | None = Field(None, description="Default: the scene's sequence number")


ProviderChain = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None
_CHAIN_HELP = ("Provider chain tried left to right, e.g. {}; a remote part without a model uses the flavor's. "
               "Default: local (docs/PROVIDERS.md)")


class SweepRequest(_Strict):
    concept: Text
    character_description: Text
    flavors: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_SWEEP_FLAVORS)
    grid: dict[str, list[GridValue]] | None = Field(
        None, alias="set", description='Parameter grid, e.g. {"number_of_scenes": [3, 5]}; sweepable keys: '
        "number_of_scenes, video_duration, video_aspect_ratio, camera_angle, video_characteristics, "
        "character_characteristics")
    scene_provider: ProviderChain = Field(None, description=_CHAIN_HELP.format("'openai:gpt-4o-mini,local'"))
    image_provider: ProviderChain = Field(None, description=_CHAIN_HELP.format("'replicate,local'"))
    clip_provider: ProviderChain = Field(None, description=_CHAIN_HELP.format("'replicate:minimax/video-01,local'"))
    dry_run: bool = Field(False, strict=True, description="true: answer 200 with the estimate; store and launch "
                          "nothing")


# ---- responses ----------------------------------------------------------------------------------------


class FlavorsResponse(BaseModel):
    flavors: list[str]
    default_flavor: str


class SceneOut(BaseModel):
    sequence: int
    prompt: str
    duration: float
    negative_prompt: str


class ScenesResponse(BaseModel):
    scenes: list[SceneOut]
    config_flavor: str


class CharacterReferenceResponse(BaseModel):
    image_url: str
    s3_key: str
    config_flavor: str


class VideoResponse(BaseModel):
    video_url: str
    s3_key: str
    project_id: str
    sequence: int
    duration: float
    config_flavor: str


class VariantRef(BaseModel):
    variant: str
    flavor: str
    job_id: str


class ProjectAccepted(BaseModel):
    project_id: str
    status: Literal["pending"] = "pending"
    variants: list[VariantRef]
    message: str


class SweepAccepted(ProjectAccepted):
    sweep_id: str


class VariantStatus(BaseModel):
    variant: str
    flavor: str
    overrides: dict[str, Any]
    job_id: str
    status: JobStatusValue
    progress: int = Field(ge=0, le=100)
    created_at: str
    updated_at: str
    video_url: str | None
    error_message: str | None
    cost_usd: float
    degraded: bool = Field(description="A stage was produced by a fallback provider, not the one asked for first")
    stages: list[StageStatus]


class ProjectStatus(BaseModel):
    project_id: str
    status: JobStatusValue
    progress: int = Field(ge=0, le=100)
    created_at: str
    concept: str
    character_description: str
    audio_url: str | None
    reference_image_url: str | None
    sweep_id: str | None
    degraded: bool = Field(description="Any variant is degraded")
    cost_usd: float = Field(description="Sum of the variants' ledger costs")
    variants: list[VariantStatus]


class StageEstimate(BaseModel):
    provider: str
    model: str
    cost_usd: float
    seconds: float


class VariantEstimate(BaseModel):
    variant: str
    flavor: str
    overrides: dict[str, Any]
    scenes: int
    planned_video_seconds: float
    stages: dict[str, StageEstimate]
    total_cost_usd: float
    total_seconds: float


class MvDryRun(BaseModel):
    """``dry_run=true``: what each variant would cost and take, per stage. Nothing is stored or launched."""

    dry_run: Literal[True] = True
    variants: list[VariantEstimate]
    total_cost_usd: float
    total_seconds: float = Field(description="The variants rendered one after another")
    unavailable_providers: list[str] = Field(description="Chosen providers with no API key on this server")


class SweepReport(BaseModel):
    """build_report's fields (variants carry per-variant stats and config diffs) plus download URLs."""

    model_config = ConfigDict(extra="allow")

    sweep_id: str
    project_id: str
    status: Literal["running", "completed", "failed"]
    progress: int
    variants: list[dict[str, Any]]
    report_html_url: str | None = None
    report_json_url: str | None = None
