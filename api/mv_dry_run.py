"""``dry_run`` for MV projects and sweeps: the same validation as a real submission, then the expected cost and
time of every stage of every variant (badapple_dagster.providers.mv_estimate), with nothing stored or launched.

Each variant is estimated with exactly the flavor its run would use (the flavor with its grid point applied)
and the project's provider chains, so a sweep over ``video_duration`` or ``number_of_scenes`` shows what each
point would cost. ``total_seconds`` adds the variants up: the time if they render one after another.
"""

from __future__ import annotations

from typing import Any

from .mv_providers import unavailable_mv_providers


def estimate_variants(*, concept: str, character_description: str, flavors: list[str],
                      points: list[dict[str, Any]], options: dict[str, Any],
                      has_reference_image: bool = False) -> dict[str, Any]:
    """Blocking (reads the flavor files): call from a worker thread. ``options``: the project's validated
    options (num_scenes, seed, provider chains)."""
    from badapple_dagster.mv.flavors import apply_overrides, load_flavor
    from badapple_dagster.names import MV_PROVIDER_OPTIONS
    from badapple_dagster.providers.mv_estimate import estimate_mv
    from badapple_dagster.store.mv import variant_key

    providers = {k: str(options[k]) for k in MV_PROVIDER_OPTIONS if options.get(k)}
    variants = []
    for name in flavors:
        base = load_flavor(name)
        for point in points:
            # Like the mv_scenes asset: a grid point's number_of_scenes wins over the project's num_scenes.
            n = None if "number_of_scenes" in point else options.get("num_scenes")
            est = estimate_mv(apply_overrides(base, point), concept=concept,
                              character_description=character_description, num_scenes=n,
                              has_reference_image=has_reference_image, providers=providers)
            variants.append({"variant": variant_key(name, point), "flavor": name, "overrides": point, **est})
    return {
        "dry_run": True,
        "variants": variants,
        "total_cost_usd": round(sum(v["total_cost_usd"] for v in variants), 4),
        "total_seconds": round(sum(v["total_seconds"] for v in variants), 1),
        "unavailable_providers": unavailable_mv_providers(options),
    }
