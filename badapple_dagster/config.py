"""Run config for the ad assets: only optional overrides. The brief itself belongs to the job and is read
from the job store by partition key, so a Materialize click with no config regenerates *that* job's ad."""

from __future__ import annotations

import hashlib
from typing import Any

import dagster as dg
from pydantic import Field

from .media.models import ASPECT_SIZES


class AdConfig(dg.Config):
    seed: int = Field(default=-1, description="Creative seed; -1 uses the job's own seed (stable per job).")
    aspect_ratio: str = Field(default="", description="9:16, 1:1 or 16:9; empty uses the job's (9:16).")
    voice: str = Field(default="", description="espeak-ng voice, e.g. en-us+f3; empty uses the style's.")
    speech_rate: int = Field(default=0, description="Words per minute; 0 uses the style's rate.")
    music: bool = Field(default=True, description="Lay a procedurally generated music bed under the voice.")
    # Provider chains per stage (docs/PROVIDERS.md): "local", "openai:gpt-4o-mini", or a fallback chain such as
    # "replicate:minimax/video-01,local". Empty uses the job's own choice (made when it was submitted), so a UI
    # re-materialization renders with the providers the job asked for. API keys come from the environment only.
    script_provider: str = Field(default="", description="Script writer chain, e.g. 'openai:gpt-4o-mini,local'; "
                                 "empty: the job's choice, else local.")
    voice_provider: str = Field(default="", description="Voice chain, e.g. 'elevenlabs:eleven_flash_v2_5,local'; "
                                "empty: the job's choice, else local.")
    video_provider: str = Field(default="", description="Clip chain, e.g. 'replicate:minimax/video-01,local'; "
                                "empty: the job's choice, else local.")
    llm_base_url: str = Field(default="", description="OpenAI-compatible base URL (vLLM, Ollama); empty: default.")
    tts_voice: str = Field(default="", description="Remote TTS voice (OpenAI voice name / ElevenLabs voice id); "
                           "empty: the job's choice, else the provider's default.")


# Stored with a job by the API (``options``) and filled into blank run-config fields at run time.
PROVIDER_OPTIONS = ("script_provider", "voice_provider", "video_provider", "tts_voice")


def with_job_providers(config: AdConfig, stored: dict[str, Any]) -> AdConfig:
    """Run config > the job's stored choice > local. Returns a copy; the run's config object is left alone."""
    update = {k: stored.get(k) or ("local" if k.endswith("_provider") else "")
              for k in PROVIDER_OPTIONS if not getattr(config, k)}
    return config.model_copy(update=update) if update else config


def job_seed(job_id: str) -> int:
    """A stable default seed per job, so re-materializing a stage reproduces the same creative choices."""
    return int(hashlib.sha256(job_id.encode()).hexdigest()[:8], 16)


def resolve_options(job_id: str, stored: dict[str, Any], config: AdConfig) -> dict[str, Any]:
    """Run-config override > options stored with the job > defaults."""
    seed = config.seed if config.seed >= 0 else int(stored.get("seed", job_seed(job_id)))
    aspect = config.aspect_ratio or stored.get("aspect_ratio") or "9:16"
    if aspect not in ASPECT_SIZES:
        raise ValueError(f"Unknown aspect ratio {aspect!r}; valid: {', '.join(ASPECT_SIZES)}")
    return {
        "seed": seed,
        "aspect_ratio": aspect,
        "voice": config.voice or stored.get("voice") or None,
        "speech_rate": config.speech_rate or int(stored.get("speech_rate", 0)) or None,
        "music": config.music and bool(stored.get("music", True)),
    }
