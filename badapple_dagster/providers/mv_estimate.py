"""Dry-run estimate for one MV variant: expected cost and wall-clock time per stage, without calling anyone.

Remote stages are priced from the price table with the inputs the adapters would really send (the clip
duration each video model would be asked for, the filled scene request's length), so a flavor's
video_duration or video_model changes the estimate exactly as it would change the bill. Only the first
provider of each chain is estimated, as for ads. Local stage times were measured on a 2-core machine.
"""

from __future__ import annotations

import math
from typing import Any

from ..mv.flavors import ResolvedFlavor
from .pricing import Usage, cost_usd, typical_seconds
from .registry import parse_chain

CHARS_PER_TOKEN = 4
TOKENS_PER_SCENE = 180  # one {"description", "negative_description"} pair of a typical answer
CLIP_CONCURRENCY = 4  # ReplicateClipRenderer's default
UNSTATED_CLIP_SECONDS = 6.0  # models with no duration input (minimax/video-01) return about 6 s
# Offline stages (seconds): scene writing, one character card, clip rendering per second of video, and the
# assembly (beat detection + loudness passes, then per second of video). Conforming a remote clip per clip.
LOCAL_SCENES_S = 0.2
LOCAL_CARD_S = 0.6
LOCAL_CLIP_S_PER_VIDEO_S = 1.1
ASSEMBLY_BASE_S, ASSEMBLY_S_PER_VIDEO_S = 4.0, 0.4
CONFORM_S_PER_CLIP = 1.5


def estimate_mv(flavor: ResolvedFlavor, *, concept: str, character_description: str, num_scenes: int | None = None,
                has_reference_image: bool = False, providers: dict[str, str] | None = None) -> dict[str, Any]:
    """``providers``: the project's ``scene_provider`` / ``image_provider`` / ``clip_provider`` (blank: local).
    Raises ValueError for a chain naming an unknown provider kind."""
    from ..assets.mv import MvConfig, with_project_providers

    for name, stage in (("scene_provider", "scene"), ("image_provider", "image"), ("clip_provider", "clip")):
        parse_chain((providers or {}).get(name) or "local", stage)  # refuse a bad chain (with_project… keeps it)
    config = with_project_providers(MvConfig(), providers or {}, flavor)
    n = num_scenes or flavor.number_of_scenes
    video_seconds = n * flavor.video_duration
    stages = {
        "mv_scenes": _scenes(parse_chain(config.scene_provider, "scene")[0], flavor, concept, character_description,
                             n),
        "character_reference": (_row("upload", "upload", 0.0, 0.0) if has_reference_image
                                else _image(parse_chain(config.image_provider, "image")[0])),
        "mv_clips": _clips(parse_chain(config.clip_provider, "clip")[0], flavor, n),
        "music_video": _row("local", "beat-cut-assembler", 0.0,
                            ASSEMBLY_BASE_S + ASSEMBLY_S_PER_VIDEO_S * video_seconds),
    }
    return {
        "stages": stages,
        "total_cost_usd": round(sum(s["cost_usd"] for s in stages.values()), 4),
        "total_seconds": round(sum(s["seconds"] for s in stages.values()), 1),
        "scenes": n,
        "planned_video_seconds": float(video_seconds),
    }


def _scenes(spec: Any, flavor: ResolvedFlavor, concept: str, character: str, n: int) -> dict[str, Any]:
    if not spec.remote:
        return _row("local", "template-v1", 0.0, LOCAL_SCENES_S)
    from .mv_llm import SYSTEM_PROMPT

    request = flavor.scene_request(concept, character, n)
    usage = Usage(input_tokens=(len(SYSTEM_PROMPT) + len(request)) // CHARS_PER_TOKEN,
                  output_tokens=TOKENS_PER_SCENE * n + 20)
    return _row(spec.label, spec.model, cost_usd(spec.kind, spec.model, usage), typical_seconds(spec.kind, spec.model))


def _image(spec: Any) -> dict[str, Any]:
    if not spec.remote:
        return _row("local", "pillow-character-card", 0.0, LOCAL_CARD_S)
    return _row(spec.label, spec.model, cost_usd(spec.kind, spec.model, Usage(predictions=1)),
                typical_seconds(spec.kind, spec.model))


def _clips(spec: Any, flavor: ResolvedFlavor, n: int) -> dict[str, Any]:
    if not spec.remote:
        return _row("local", "pillow-layers+ffmpeg", 0.0, LOCAL_CLIP_S_PER_VIDEO_S * n * flavor.video_duration)
    from .mv_replicate import clip_input

    # The reference does not change the price; the duration the model is asked for does.
    inputs, _ = clip_input(spec.model, {"prompt": "", "duration": flavor.video_duration}, flavor, seed=0,
                           reference_uri=None)
    seconds = float(inputs.get("duration", UNSTATED_CLIP_SECONDS))
    cost = n * cost_usd(spec.kind, spec.model, Usage(output_seconds=seconds, predictions=1))
    waves = math.ceil(n / CLIP_CONCURRENCY)
    return _row(spec.label, spec.model, cost, typical_seconds(spec.kind, spec.model) * waves + CONFORM_S_PER_CLIP * n)


def _row(provider: str, model: str, cost: float, seconds: float) -> dict[str, Any]:
    return {"provider": provider, "model": model, "cost_usd": round(cost, 4), "seconds": round(seconds, 1)}
