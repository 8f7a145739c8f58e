"""Response shapes, declared for the OpenAPI document at /docs (and checked on the way out)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatusValue = Literal["pending", "processing", "completed", "failed"]


class ErrorEnvelope(BaseModel):
    error: str = Field(examples=["ValidationError"])
    message: str = Field(examples=["Product name is required"])
    details: str = Field(examples=["Product name must not be empty"])


class GenerateAccepted(BaseModel):
    job_id: str
    status: Literal["pending"] = "pending"
    estimated_completion_time: int = Field(description="Seconds until the video is expected to be ready")
    message: str


class StageStatus(BaseModel):
    id: int
    stage_name: str
    status: JobStatusValue
    progress: int = Field(ge=0, le=100)
    started_at: str | None
    completed_at: str | None
    error_message: str | None
    provider: str | None = Field(None, description="What produced the stage, e.g. 'openai:gpt-4o-mini' or 'local'")
    requested_provider: str | None = Field(None, description="The chain's first choice; differs when it fell back")
    fallbacks: list[dict[str, Any]] = Field(default_factory=list, description="Providers that failed, with codes")
    cost_usd: float | None = Field(None, description="Paid provider calls of this stage (ledger sum)")
    error_code: str | None = Field(None, description="Classified provider error when the stage failed")


class JobStatus(BaseModel):
    job_id: str
    status: JobStatusValue
    progress: int = Field(ge=0, le=100)
    created_at: str
    updated_at: str
    product_name: str
    style: str
    cta_text: str
    video_url: str | None = Field(description="Set once the job is completed")
    error_message: str | None
    cost_usd: float
    degraded: bool = Field(default=False, description="A fallback provider produced at least one stage")
    error_code: str | None = Field(None, description="CONTENT_POLICY_VIOLATION, RATE_LIMIT_EXCEEDED, "
                                   "AUTHENTICATION_ERROR, TIMEOUT or PROVIDER_ERROR when a provider failed the job")
    stages: list[StageStatus]


class WsHealth(BaseModel):
    status: Literal["healthy"] = "healthy"
    websocket_server: Literal["running"] = "running"
    active_jobs: int
    total_connections: int


class HealthChecks(BaseModel):
    database: str
    redis: str
    dagster: str


class Health(BaseModel):
    status: Literal["healthy", "degraded"]
    service: Literal["badapple-api"] = "badapple-api"
    version: str
    checks: HealthChecks


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorEnvelope, "description": "Invalid input"},
    500: {"model": ErrorEnvelope, "description": "Unexpected server error"},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": ErrorEnvelope, "description": "Unknown job"}}
