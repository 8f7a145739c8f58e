"""The optional extras of ``POST /api/generate`` (aspect_ratio, seed, voice), validated before the job is
stored so a bad value is a 400 now rather than a failed render later."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from badapple_dagster.media.models import ASPECT_SIZES

from .errors import ApiError

log = logging.getLogger("badapple.api")

MAX_SEED = 2**32 - 1  # numpy's seed range; larger values would fail inside the render
_VOICE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}(\+[A-Za-z0-9_-]{1,32})?$")


def _invalid(message: str, details: str) -> ApiError:
    return ApiError(400, "ValidationError", message, details)


@functools.lru_cache(maxsize=1)
def _installed_voices() -> tuple[frozenset[str], frozenset[str]] | None:
    """(languages, variants) known to espeak-ng, lower-cased; None when espeak-ng cannot be loaded here
    (the render then reports a bad voice itself). Loads libespeak-ng once, so call it off the event loop."""
    try:
        from badapple_dagster.media.voice import list_voices

        voices = list_voices()
    except Exception as exc:  # missing library in a slim API image: syntax check only
        log.warning("espeak-ng voice list unavailable, voices are only syntax-checked: %s", exc)
        return None
    languages = frozenset(v.lower() for v in voices if not v.startswith("+"))
    variants = frozenset(v[1:].lower() for v in voices if v.startswith("+"))
    return languages, variants


def _check_voice(value: str) -> str:
    voice = value.strip()
    if not _VOICE_RE.match(voice):
        raise _invalid(f"Invalid voice {voice[:40]!r}", "Voices are LANGUAGE or LANGUAGE+VARIANT, "
                       "e.g. 'en-us' or 'en-us+f3'")
    known = _installed_voices()
    if known is not None:
        languages, variants = known
        lang, _, variant = voice.lower().partition("+")
        if lang not in languages or (variant and variant not in variants):
            raise _invalid(f"Unknown voice {voice!r}", "Voices are LANGUAGE or LANGUAGE+VARIANT as "
                           "listed by `espeak-ng --voices` and `espeak-ng --voices=variant`, e.g. 'en-us+f3'")
    return voice


def validate_options(fields: dict[str, str]) -> dict[str, Any]:
    """The stored ``options`` of a job. Blocking (may load espeak-ng once): call from a worker thread."""
    options: dict[str, Any] = {}
    aspect = fields.get("aspect_ratio", "").strip()
    if aspect:
        if aspect not in ASPECT_SIZES:
            raise _invalid(f"Unknown aspect ratio {aspect[:20]!r}",
                           f"Valid aspect ratios: {', '.join(ASPECT_SIZES)}")
        options["aspect_ratio"] = aspect
    seed = fields.get("seed", "").strip()
    if seed:
        if not seed.isascii() or not seed.isdigit() or int(seed) > MAX_SEED:
            raise _invalid(f"Invalid seed {seed[:20]!r}", f"The seed is an integer from 0 to {MAX_SEED}")
        options["seed"] = int(seed)
    voice = fields.get("voice", "").strip()
    if voice:
        options["voice"] = _check_voice(voice)
    return options


def preload_voices() -> None:
    """Load the voice list at startup so the first request with a voice does not pay for it."""
    _installed_voices()
