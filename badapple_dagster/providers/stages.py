"""Glue between the ad assets and the providers: run a stage's provider chain with a ledger meter, make a
fallback visible (log, metadata, stage_data, the job's ``degraded`` flag) and sum the stage and job costs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg

from .errors import ProviderError
from .ledger import CallMeter, Ledger
from .registry import (
    ChainOutcome,
    build_character_artist,
    build_clip_renderer,
    build_renderer,
    build_scene_writer,
    build_script_writer,
    build_voice,
    parse_chain,
)

# Ad stages: script, voice, video. MV stages: scene (mv_scenes), image (character_reference), clip (mv_clips).
_BUILDERS = {"script": build_script_writer, "voice": build_voice, "video": build_renderer,
             "scene": build_scene_writer, "image": build_character_artist, "clip": build_clip_renderer}


def meter_for(run: Any) -> CallMeter:
    from .pools import ProviderSlots

    slots = ProviderSlots.for_context(run.context, lambda pool: run.progress(
        None, f"Waiting for a free {pool} slot (provider concurrency limit)"))
    return CallMeter(Ledger(run.store.engine), run.job_id, run.stage, run.artifacts,
                     key_prefix=run.key("manifest.json").rsplit("/", 1)[0], slots=slots)


def run_providers(run: Any, config: Any, stage: str, call: Callable[[Any], Any]) -> ChainOutcome[Any]:
    """Try the configured chain for ``stage`` (script | voice | video). Non-retryable failure of the last
    provider fails the step for good; a retryable one is re-raised so Dagster's retry policy may try again
    (outputs already paid for are reused through the ledger)."""
    from ..assets.stage import permanent_failure

    config = effective_config(run, config)
    try:
        chain = parse_chain(getattr(config, f"{stage}_provider"), stage)
    except ValueError as exc:
        raise permanent_failure(f"Invalid {stage}_provider: {exc}") from exc
    meter = meter_for(run)

    def note(spec: Any, exc: ProviderError) -> None:
        run.context.log.warning(f"{run.stage}: {spec.label} failed, falling back: {exc}")

    try:
        outcome = run_chain_for(chain, stage, config, meter, call, note)
    except ProviderError as exc:
        if exc.retryable:
            raise
        raise permanent_failure(f"{run.stage} failed: {exc}", error_code=exc.code, provider=exc.provider) from exc
    if outcome.degraded:
        run.store.mark_degraded(run.job_id)
        run.context.log.warning(f"{run.stage} DEGRADED: produced by {outcome.used.label} instead of "
                                f"{outcome.requested.label}")
    return outcome


def effective_config(run: Any, config: Any) -> Any:
    """Blank provider fields of an ad run take the job's stored choice (see config.with_job_providers)."""
    from ..config import AdConfig, with_job_providers

    if not isinstance(config, AdConfig):
        return config
    brief = run.store.get_brief(run.job_id)
    return with_job_providers(config, brief.options if brief is not None else {})


def run_chain_for(chain: list[Any], stage: str, config: Any, meter: CallMeter, call: Callable[[Any], Any],
                  note: Callable[[Any, ProviderError], None] | None = None) -> ChainOutcome[Any]:
    from .registry import run_chain

    build = _BUILDERS[stage]
    return run_chain(chain, lambda spec: build(spec, config, meter), call, on_fallback=note)


def costs(run: Any) -> tuple[float, float]:
    """(this stage's cost, the job's cost) from the ledger: every paid call, reused outputs counted once."""
    ledger = Ledger(run.store.engine)
    return ledger.cost(run.job_id, run.stage), ledger.cost(run.job_id)


def finish_stage(run: Any, manifest: dict[str, Any], outcome: ChainOutcome[Any] | None,
                 **data: Any) -> tuple[str, dict[str, Any]]:
    """Store the stage's manifest and complete it with who produced it and what it cost (stage_data gets
    ``data`` too); returns (manifest URI, the provider/cost metadata for the MaterializeResult).
    ``outcome`` None: no provider was asked (the user's own upload)."""
    uri = run.artifacts.put_json(run.key("manifest.json"), manifest)
    stage_cost, job_cost = costs(run)
    chain = outcome.describe() if outcome is not None else {"provider": "upload"}
    run.complete({"manifest": uri, **data, **chain, "cost_usd": stage_cost}, cost_usd=job_cost)
    if outcome is None:
        return uri, {"provider": "upload", "cost_usd": stage_cost, "job_cost_usd": job_cost}
    return uri, provider_metadata(outcome, stage_cost, job_cost)


def provider_metadata(outcome: ChainOutcome[Any], stage_cost: float, job_cost: float) -> dict[str, Any]:
    return {
        "provider": outcome.used.label,
        "requested_provider": outcome.requested.label,
        "degraded": outcome.degraded,
        "fallbacks": dg.MetadataValue.json(outcome.failures),
        "cost_usd": stage_cost,
        "job_cost_usd": job_cost,
    }
