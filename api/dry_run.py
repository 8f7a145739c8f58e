"""``POST /api/generate`` with ``dry_run=true``: validate the brief and return the cost/time estimate per stage
(badapple_dagster.providers.estimate) without storing or launching anything.

Provider fields (``script_provider``, ``voice_provider``, ``video_provider``) are accepted for the estimate
only; per-job provider selection through the API is not wired yet (it is run config), so a real submission
that names providers is refused rather than silently rendered with the local ones.
"""

from __future__ import annotations

from typing import Any

from badapple_dagster.media.brief import validate_fields

from .errors import ApiError
from .options import validate_options
from .uploads import GenerateForm

PROVIDER_FIELDS = ("script_provider", "voice_provider", "video_provider")
TRUE = ("1", "true", "yes", "on")


def wants_dry_run(form: GenerateForm) -> bool:
    """Also refuses provider fields on a real submission (see the module docstring)."""
    dry = form.fields.get("dry_run", "").strip().lower() in TRUE
    named = [k for k in PROVIDER_FIELDS if form.fields.get(k, "").strip()]
    if named and not dry:
        raise ApiError(400, "ValidationError", f"{', '.join(named)} only apply to dry_run=true",
                       "Choose providers per run through the Dagster run config (docs/PROVIDERS.md)")
    return dry


def estimate_for(form: GenerateForm) -> dict[str, Any]:
    """Blocking (loads the script banks): call from a worker thread."""
    from badapple_dagster.config import AdConfig
    from badapple_dagster.media.models import Brief
    from badapple_dagster.providers.estimate import estimate

    f = form.fields
    name, style, cta = validate_fields(f.get("product_name", ""), f.get("style", ""), f.get("cta_text", ""))
    validate_options(f)
    config = AdConfig(**{k: f[k].strip() for k in PROVIDER_FIELDS if f.get(k, "").strip()})
    try:
        result = estimate(Brief(name, style, cta), config)
    except ValueError as exc:  # an unknown provider kind in a chain
        raise ApiError(400, "ValidationError", str(exc)) from exc
    return {"dry_run": True, **result}
