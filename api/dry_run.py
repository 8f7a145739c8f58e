"""``POST /api/generate`` with ``dry_run=true``: validate the brief exactly as a real submission would and return
the cost/time estimate per stage (badapple_dagster.providers.estimate) without storing or launching anything.
"""

from __future__ import annotations

from typing import Any

from badapple_dagster.media.brief import validate_fields

from .errors import ApiError
from .options import unavailable, validate_options
from .uploads import GenerateForm

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def wants_dry_run(form: GenerateForm) -> bool:
    return dry_run_flag(form.fields.get("dry_run"))


def dry_run_flag(value: str | None) -> bool:
    """The ``dry_run`` field of any form or body: true/false and the usual spellings, else a 400."""
    text = (value or "").strip().lower()
    if text not in TRUE + FALSE:
        raise ApiError(400, "ValidationError", f"Invalid dry_run {text[:20]!r}", "dry_run is true or false")
    return text in TRUE


def estimate_for(form: GenerateForm) -> dict[str, Any]:
    """Blocking (loads the script banks): call from a worker thread."""
    from badapple_dagster.config import AdConfig, with_job_providers
    from badapple_dagster.media.models import Brief
    from badapple_dagster.providers.estimate import estimate

    f = form.fields
    name, style, cta = validate_fields(f.get("product_name", ""), f.get("style", ""), f.get("cta_text", ""))
    options = validate_options(f, require_keys=False)
    config = with_job_providers(AdConfig(), options)
    # An estimate is useful before keys are configured; say which providers could not run here yet.
    return {"dry_run": True, **estimate(Brief(name, style, cta), config), "unavailable_providers": unavailable(options)}
