"""The price table (``prices.yaml``) and what one call costs under it."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PRICES = Path(__file__).with_name("prices.yaml")
UNITS = ("per_1k_input_tokens", "per_1k_output_tokens", "per_character", "per_second_of_output", "per_prediction")


@dataclass(frozen=True)
class Usage:
    """What a call consumed, in the units the price table knows."""

    input_tokens: int = 0
    output_tokens: int = 0
    characters: int = 0
    output_seconds: float = 0.0
    predictions: int = 0


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, dict[str, dict[str, float]]]:
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    providers = data.get("providers") or {}
    for provider, models in providers.items():
        for model, entry in (models or {}).items():
            unknown = set(entry) - set(UNITS) - {"typical_seconds"}
            if unknown:
                raise ValueError(f"{path}: {provider}/{model} has unknown price keys {sorted(unknown)}")
    return providers


def price_table() -> dict[str, dict[str, dict[str, float]]]:
    return _load(os.environ.get("BADAPPLE_PRICES") or str(DEFAULT_PRICES))


def price_entry(provider: str, model: str) -> dict[str, Any]:
    """The model's row, else the provider's ``default`` row, else nothing (free, e.g. an unknown local model)."""
    models = price_table().get(provider, {})
    return dict(models.get(model) or models.get("default") or {})


def cost_usd(provider: str, model: str, usage: Usage) -> float:
    p = price_entry(provider, model)
    total = (
        usage.input_tokens / 1000 * p.get("per_1k_input_tokens", 0.0)
        + usage.output_tokens / 1000 * p.get("per_1k_output_tokens", 0.0)
        + usage.characters * p.get("per_character", 0.0)
        + usage.output_seconds * p.get("per_second_of_output", 0.0)
        + usage.predictions * p.get("per_prediction", 0.0)
    )
    return round(total, 6)


def typical_seconds(provider: str, model: str) -> float:
    return float(price_entry(provider, model).get("typical_seconds", 0.0))
