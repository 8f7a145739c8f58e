"""The optional extras of ``POST /api/generate`` (aspect_ratio, seed, voice, provider chains, tts_voice),
validated before the job is stored so a bad value is a 400 now rather than a failed render later."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from badapple_dagster.media.models import ASPECT_SIZES
from badapple_dagster.providers.registry import STAGE_KINDS, ProviderSpec, parse_chain

from .errors import ApiError

log = logging.getLogger("badapple.api")

MAX_SEED = 2**32 - 1  # numpy's seed range; larger values would fail inside the render
_TTS_VOICE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # OpenAI voice names, ElevenLabs voice ids
PROVIDER_FIELDS = {"script_provider": "script", "voice_provider": "voice", "video_provider": "video"}
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


def is_whole_number(raw: str, low: int, high: int) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '٣', which int() rejects or reads differently."""
    return raw.isascii() and raw.isdigit() and low <= int(raw) <= high


def validate_options(fields: dict[str, str], *, require_keys: bool = True) -> dict[str, Any]:
    """The stored ``options`` of a job. Blocking (may load espeak-ng once): call from a worker thread.
    ``require_keys=False`` (dry runs) accepts chains whose providers have no key here; see unavailable()."""
    options: dict[str, Any] = {}
    aspect = fields.get("aspect_ratio", "").strip()
    if aspect:
        if aspect not in ASPECT_SIZES:
            raise _invalid(f"Unknown aspect ratio {aspect[:20]!r}",
                           f"Valid aspect ratios: {', '.join(ASPECT_SIZES)}")
        options["aspect_ratio"] = aspect
    seed = fields.get("seed", "").strip()
    if seed:
        if not is_whole_number(seed, 0, MAX_SEED):
            raise _invalid(f"Invalid seed {seed[:20]!r}", f"The seed is an integer from 0 to {MAX_SEED}")
        options["seed"] = int(seed)
    voice = fields.get("voice", "").strip()
    if voice:
        options["voice"] = _check_voice(voice)
    options.update(validate_providers(fields, require_keys=require_keys))
    tts_voice = fields.get("tts_voice", "").strip()
    if tts_voice:
        if not _TTS_VOICE_RE.match(tts_voice):
            raise _invalid(f"Invalid tts_voice {tts_voice[:40]!r}", "A remote TTS voice is a name or id of letters, "
                           "digits, '-' and '_' (e.g. 'nova' for OpenAI, a voice id for ElevenLabs)")
        options["tts_voice"] = tts_voice
    return options


MAX_CHAIN_CHARS = 300


def _labels(_raw: str, chain: list[ProviderSpec]) -> str:
    return ",".join(s.label for s in chain)


def validate_providers(fields: dict[str, str], *, require_keys: bool = True) -> dict[str, str]:
    """The ad's provider chains, normalised (``"replicate, local"`` -> ``"replicate:minimax/video-01,local"``)."""
    return validate_chains(fields, PROVIDER_FIELDS, require_keys=require_keys)


def validate_chains(fields: Mapping[str, str | None], field_stages: Mapping[str, str], *, require_keys: bool = True,
                    store: Callable[[str, list[ProviderSpec]], str] = _labels) -> dict[str, str]:
    """Provider chains per form field (``field_stages``: field -> stage), as ``store`` writes them; only the
    fields that were given.

    A chain none of whose providers can run here (every one remote and missing its API key in this server's
    environment) is refused now: the job could only fail. A chain with a usable fallback is accepted; the
    job then renders ``degraded`` and says so."""
    chosen: dict[str, str] = {}
    for name, stage in field_stages.items():
        raw = (fields.get(name) or "").strip()
        if not raw:
            continue
        if len(raw) > MAX_CHAIN_CHARS:
            raise _invalid(f"{name} is too long", f"A provider chain is at most {MAX_CHAIN_CHARS} characters")
        try:
            chain = parse_chain(raw, stage)
        except ValueError as exc:
            raise _invalid(f"Invalid {name}", str(exc)) from exc
        if require_keys and not any(has_key(stage, s) for s in chain):
            missing = sorted({STAGE_KINDS[stage][s.kind][1] or "" for s in chain} - {""})
            raise ApiError(400, "ProviderUnavailable", f"No provider in {name} can run on this server",
                           f"Set {', '.join(missing)} for the API and the run workers, or add a fallback such "
                           "as ',local'")
        chosen[name] = store(raw, chain)
    return chosen


def has_key(stage: str, spec: ProviderSpec) -> bool:
    env = None if not spec.remote else STAGE_KINDS[stage][spec.kind][1]
    return env is None or bool(os.environ.get(env))


def unavailable(options: Mapping[str, Any], field_stages: Mapping[str, str] = PROVIDER_FIELDS,
                label: Callable[[ProviderSpec], str] = lambda s: s.label) -> list[str]:
    """Providers of the chosen chains that have no API key on this server (they would fall back or fail)."""
    return [f"{name}: {label(s)}" for name, stage in field_stages.items() if options.get(name)
            for s in parse_chain(str(options[name]), stage) if not has_key(stage, s)]


def preload_voices() -> None:
    """Load the voice list at startup so the first request with a voice does not pay for it."""
    _installed_voices()
