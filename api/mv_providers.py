"""The provider chains of an MV project (``scene_provider``, ``image_provider``, ``clip_provider``), validated
before the project is stored so a typo is a 400 now rather than a failed render later.

Same rules as the ad fields (api/options.py): an unknown provider kind is a ``ValidationError``; a chain none of
whose providers can run on this server (all remote, keys missing) is ``ProviderUnavailable`` on a real
submission and listed in ``unavailable_providers`` on a dry run. One difference: a remote part named without a
model is stored as it is (``replicate``), because each variant's flavor supplies its own model at run time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from badapple_dagster.assets.mv import MV_PROVIDER_OPTIONS
from badapple_dagster.providers.registry import STAGE_KINDS, ProviderSpec, parse_chain

from .errors import ApiError

MAX_CHAIN_CHARS = 300


def _normalised(raw: str) -> str:
    parts = []
    for part in (p.strip() for p in raw.split(",")):
        if part:
            kind, _, model = part.partition(":")
            parts.append(kind.strip().lower() + (f":{model.strip()}" if model.strip() else ""))
    return ",".join(parts)


def _has_key(stage: str, spec: ProviderSpec) -> bool:
    env = STAGE_KINDS[stage][spec.kind][1] if spec.remote else None
    return env is None or bool(os.environ.get(env))


def validate_mv_providers(fields: Mapping[str, str | None], *, require_keys: bool = True) -> dict[str, str]:
    """The chains to store in the project's options (only the fields that were given)."""
    chosen: dict[str, str] = {}
    for name, stage in MV_PROVIDER_OPTIONS.items():
        raw = (fields.get(name) or "").strip()
        if not raw:
            continue
        if len(raw) > MAX_CHAIN_CHARS:
            raise ApiError(400, "ValidationError", f"{name} is too long",
                           f"A provider chain is at most {MAX_CHAIN_CHARS} characters")
        try:
            chain = parse_chain(raw, stage)
        except ValueError as exc:
            raise ApiError(400, "ValidationError", f"Invalid {name}", str(exc)) from exc
        if require_keys and not any(_has_key(stage, s) for s in chain):
            missing = sorted({STAGE_KINDS[stage][s.kind][1] or "" for s in chain} - {""})
            raise ApiError(400, "ProviderUnavailable", f"No provider in {name} can run on this server",
                           f"Set {', '.join(missing)} for the API and the run workers, or add a fallback such "
                           "as ',local'")
        chosen[name] = _normalised(raw)
    return chosen


def unavailable_mv_providers(options: Mapping[str, Any]) -> list[str]:
    """Providers of the chosen chains with no API key on this server (they would fall back or fail)."""
    return [f"{name}: {s.kind if s.remote else s.label}" for name, stage in MV_PROVIDER_OPTIONS.items()
            if options.get(name) for s in parse_chain(str(options[name]), stage) if not _has_key(stage, s)]
