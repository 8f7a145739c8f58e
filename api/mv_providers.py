"""The provider chains of an MV project (``scene_provider``, ``image_provider``, ``clip_provider``), validated
before the project is stored so a typo is a 400 now rather than a failed render later.

Same rules as the ad fields (api/options.py): an unknown provider kind is a ``ValidationError``; a chain none of
whose providers can run on this server (all remote, keys missing) is ``ProviderUnavailable`` on a real
submission and listed in ``unavailable_providers`` on a dry run. One difference: a remote part named without a
model is stored as it is (``replicate``), because each variant's flavor supplies its own model at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from badapple_dagster.names import MV_PROVIDER_OPTIONS

from .options import unavailable, validate_chains


def _normalised(raw: str) -> str:
    parts = []
    for part in (p.strip() for p in raw.split(",")):
        if part:
            kind, _, model = part.partition(":")
            parts.append(kind.strip().lower() + (f":{model.strip()}" if model.strip() else ""))
    return ",".join(parts)


def validate_mv_providers(fields: Mapping[str, str | None], *, require_keys: bool = True) -> dict[str, str]:
    """The chains to store in the project's options (only the fields that were given)."""
    return validate_chains(fields, MV_PROVIDER_OPTIONS, require_keys=require_keys,
                           store=lambda raw, _chain: _normalised(raw))


def unavailable_mv_providers(options: Mapping[str, Any]) -> list[str]:
    """Providers of the chosen chains with no API key on this server (they would fall back or fail)."""
    return unavailable(options, MV_PROVIDER_OPTIONS, label=lambda s: s.kind if s.remote else s.label)
