"""Provider selection per stage from config, fallback chains, and run tags for per-provider concurrency.

A chain is a comma-separated list tried in order, e.g. ``"replicate:minimax/video-01,local"``. A provider that
fails with a ``ProviderError`` (non-retryable, or retryable with its retries spent) hands over to the next one;
when anything but the first produced the stage, the stage records it and the job is flagged ``degraded``.
Keys are read from the environment at call time, never from run config, and a missing key is an
AUTHENTICATION_ERROR like a rejected one, so a chain falls back the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import AUTHENTICATION_ERROR, VALIDATION_ERROR, ProviderError
from .ledger import CallMeter

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# kind -> (default base URL, API key env var or None for keyless self-hosted servers)
LLM_KINDS: dict[str, tuple[str, str | None]] = {
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "ollama": ("http://localhost:11434/v1", None),
    "vllm": ("http://localhost:8000/v1", None),
}
TTS_KINDS: dict[str, tuple[str, str]] = {
    "openai": ("https://api.openai.com/v1", "OPENAI_API_KEY"),
    "elevenlabs": ("https://api.elevenlabs.io", "ELEVENLABS_API_KEY"),
}
VIDEO_KINDS: dict[str, tuple[str, str]] = {"replicate": ("https://api.replicate.com", "REPLICATE_API_TOKEN")}
_SCRIPT_MODELS = {"openai": "gpt-4o-mini", "openrouter": "openai/gpt-4o-mini", "ollama": "llama3.1", "vllm": "default"}
DEFAULT_MODELS = {**{("script", k): m for k, m in _SCRIPT_MODELS.items()},
                  ("voice", "openai"): "tts-1", ("voice", "elevenlabs"): "eleven_multilingual_v2",
                  ("video", "replicate"): "minimax/video-01",
                  # MV stages: the LLM writes scene prompts like ad scripts. The image and clip models normally
                  # come from the flavor (image_params model / video_model, passed as ``default_model``); these
                  # are the default flavor's, for when no flavor is at hand.
                  **{("scene", k): m for k, m in _SCRIPT_MODELS.items()},
                  ("image", "replicate"): "google/imagen-4", ("clip", "replicate"): "google/veo-3.1"}
# Ad stages: script, voice, video. MV stages: scene (mv_scenes), image (character_reference), clip (mv_clips).
STAGE_KINDS = {"script": LLM_KINDS, "voice": TTS_KINDS, "video": VIDEO_KINDS,
               "scene": LLM_KINDS, "image": VIDEO_KINDS, "clip": VIDEO_KINDS}
PROVIDER_TAG = "badapple/provider"


@dataclass(frozen=True)
class ProviderSpec:
    kind: str  # "local" or a remote kind
    model: str = ""

    @property
    def label(self) -> str:
        return self.kind if self.kind == "local" else f"{self.kind}:{self.model}"

    @property
    def remote(self) -> bool:
        return self.kind != "local"


def parse_chain(spec: str, stage: str, default_model: str | None = None) -> list[ProviderSpec]:
    """``"replicate:minimax/video-01, local"`` -> specs; unknown kinds are a config error, raised at once.
    A remote part without a model gets ``default_model`` (an MV flavor's model name) if given, else the
    stage's entry in DEFAULT_MODELS."""
    kinds = STAGE_KINDS[stage]
    chain: list[ProviderSpec] = []
    for part in (p.strip() for p in (spec or "local").split(",")):
        if not part:
            continue
        kind, _, model = part.partition(":")
        kind = kind.strip().lower()
        if kind != "local" and kind not in kinds:
            raise ValueError(f"unknown {stage} provider {kind!r}; valid: local, {', '.join(kinds)}")
        chain.append(ProviderSpec(kind, "" if kind == "local" else
                                  (model.strip() or default_model or DEFAULT_MODELS[(stage, kind)])))
    return chain or [ProviderSpec("local")]


def base_url(kind: str, default: str) -> str:
    """``{KIND}_BASE_URL`` (e.g. OPENAI_BASE_URL, REPLICATE_BASE_URL) points a kind at a proxy or a test server."""
    return os.environ.get(f"{kind.upper()}_BASE_URL") or default


def api_key(kind: str, env: str | None) -> str | None:
    if env is None:
        return os.environ.get(f"{kind.upper()}_API_KEY") or None  # optional for self-hosted servers
    value = os.environ.get(env)
    if not value:
        raise ProviderError(AUTHENTICATION_ERROR, kind, f"no API key: set {env} in the run worker's environment")
    return value


def build_script_writer(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> Any:
    if not spec.remote:
        from ..media.script_writer import LocalScriptWriter

        return LocalScriptWriter()
    from .llm import ChatScriptWriter

    return ChatScriptWriter(**_chat_args(spec, config, meter))


def _chat_args(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> dict[str, Any]:
    """Endpoint and key of an OpenAI-compatible chat provider (run config's llm_base_url wins)."""
    default_url, env = LLM_KINDS[spec.kind]
    url = getattr(config, "llm_base_url", "") or base_url(spec.kind, default_url)
    return {"provider": spec.kind, "model": spec.model, "base_url": url, "api_key": api_key(spec.kind, env),
            "meter": meter}


def build_voice(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> Any:
    if not spec.remote:
        from ..media.voice import EspeakVoice

        return EspeakVoice()
    from .tts import ElevenLabsSpeech, OpenAISpeech

    default_url, env = TTS_KINDS[spec.kind]
    cls = OpenAISpeech if spec.kind == "openai" else ElevenLabsSpeech
    return cls(api_key=api_key(spec.kind, env), base_url=base_url(spec.kind, default_url), model=spec.model,
               voice=getattr(config, "tts_voice", ""), meter=meter)


def replicate_client(spec: ProviderSpec) -> Any:
    from .replicate import ReplicateClient

    default_url, env = VIDEO_KINDS[spec.kind]
    poll = float(os.environ.get("REPLICATE_POLL_SECONDS", "2"))
    return ReplicateClient(api_key(spec.kind, env), base_url=base_url(spec.kind, default_url), poll_interval=poll)


def build_renderer(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> Any:
    if not spec.remote:
        from ..media.scene_renderer import LocalSceneRenderer

        return LocalSceneRenderer()
    from .replicate import ReplicateSceneRenderer

    return ReplicateSceneRenderer(replicate_client(spec), spec.model, meter=meter)


# --- MV stages (protocols in mv/providers.py) ------------------------------------------------------------

def build_scene_writer(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> Any:
    if not spec.remote:
        from ..mv.providers import LocalSceneWriter

        return LocalSceneWriter()
    from .mv_llm import ChatSceneWriter

    return ChatSceneWriter(**_chat_args(spec, config, meter))


def build_character_artist(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> Any:
    if not spec.remote:
        from ..mv.providers import LocalCharacterArtist

        return LocalCharacterArtist()
    from .mv_replicate import ReplicateCharacterArtist

    return ReplicateCharacterArtist(replicate_client(spec), spec.model, meter=meter)


def build_clip_renderer(spec: ProviderSpec, config: Any, meter: CallMeter | None) -> Any:
    if not spec.remote:
        from ..mv.providers import LocalClipRenderer

        return LocalClipRenderer()
    from .mv_replicate import ReplicateClipRenderer

    return ReplicateClipRenderer(replicate_client(spec), spec.model, meter=meter)


@dataclass
class ChainOutcome(Generic[R]):
    value: R
    used: ProviderSpec
    requested: ProviderSpec
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        return self.used != self.requested

    def describe(self) -> dict[str, Any]:
        """What the stage records in metadata and stage_data."""
        return {"provider": self.used.label, "requested_provider": self.requested.label,
                "degraded": self.degraded, "fallbacks": self.failures}


def run_chain(chain: list[ProviderSpec], build: Callable[[ProviderSpec], T], call: Callable[[T], R],
              *, on_fallback: Callable[[ProviderSpec, ProviderError], None] | None = None) -> ChainOutcome[R]:
    failures: list[dict[str, Any]] = []
    for i, spec in enumerate(chain):
        try:
            value = call(build(spec))
        except ProviderError as exc:
            failures.append({"provider": spec.label, **exc.to_dict()})
            if i == len(chain) - 1:
                raise
            log.warning("%s failed (%s); falling back to %s", spec.label, exc.code, chain[i + 1].label)
            if on_fallback is not None:
                on_fallback(spec, exc)
            continue
        return ChainOutcome(value, spec, chain[0], failures)
    raise ProviderError(VALIDATION_ERROR, "registry", "empty provider chain")  # parse_chain never returns one


def provider_run_tags(config: dict[str, Any] | Any) -> dict[str, str]:
    """The ``badapple/provider`` run tag for a run's config (or a job's / MV project's stored options): the
    first remote provider of the most rate-limited stage (video clips, then voice / images, then text). The
    instance's tag_concurrency_limits cap concurrent runs per tag value. Local-only runs get no tag."""
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    for stage in ("video", "clip", "voice", "image", "script", "scene"):
        for spec in parse_chain(get(f"{stage}_provider", "local") or "local", stage):
            if spec.remote:
                return {PROVIDER_TAG: spec.kind}
    return {}
