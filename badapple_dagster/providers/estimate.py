"""Dry-run estimate: expected cost and wall-clock time per stage, from the price table, without calling anyone.

Text lengths come from the offline script writer for the same brief (cheap and deterministic), so the TTS
character count and clip lengths are realistic rather than guessed constants. Only the first provider of each
chain is estimated: a fallback costs less than the provider it replaces, never more, in this table.
"""

from __future__ import annotations

import math
from typing import Any

from ..media.models import FPS, Brief
from .pricing import Usage, cost_usd, typical_seconds
from .registry import parse_chain

# Rough token counts of one script call: the system + user prompt, and a four-scene JSON answer.
SCRIPT_INPUT_TOKENS = 260
SCRIPT_OUTPUT_TOKENS_PER_WORD = 1.6
CLIP_CONCURRENCY = 4


def estimate(brief: Brief, config: Any) -> dict[str, Any]:
    from ..media.palette import palette_for
    from ..media.script_writer import LocalScriptWriter
    from ..media.styles import resolve_style
    from .replicate import build_input

    style = resolve_style(brief.style)
    script = LocalScriptWriter().write(brief, seed=0, palette=palette_for(style, None))
    words = sum(len(s.voiceover.split()) for s in script.scenes)
    chars = sum(len(s.voiceover) for s in script.scenes)
    stages: dict[str, dict[str, Any]] = {}

    spec = parse_chain(config.script_provider, "script")[0]
    out_tokens = round(words * SCRIPT_OUTPUT_TOKENS_PER_WORD + 40)
    stages["script_gen"] = _row(spec.label, spec.model or "template-v1",
                                cost_usd(spec.kind, spec.model, Usage(SCRIPT_INPUT_TOKENS, out_tokens)),
                                typical_seconds(spec.kind, spec.model if spec.remote else "script"))

    spec = parse_chain(config.voice_provider, "voice")[0]
    stages["voice_gen"] = _row(spec.label, spec.model or "espeak-ng",
                               cost_usd(spec.kind, spec.model, Usage(characters=chars)),
                               typical_seconds(spec.kind, spec.model if spec.remote else "voice")
                               * (len(script.scenes) if spec.remote else 1))

    spec = parse_chain(config.video_provider, "video")[0]
    if spec.remote:
        cost = 0.0
        for scene in script.scenes:
            duration = scene.duration + style.transition_duration
            params = build_input(spec.model, prompt="", aspect_ratio="9:16", duration=duration)
            seconds = float(params.get("duration", 6))  # minimax/video-01 renders ~6 s whatever is asked
            cost += cost_usd(spec.kind, spec.model, Usage(output_seconds=seconds, predictions=1))
        waves = math.ceil(len(script.scenes) / CLIP_CONCURRENCY)
        stages["video_gen"] = _row(spec.label, spec.model, cost, typical_seconds(spec.kind, spec.model) * waves)
    else:
        stages["video_gen"] = _row("local", "pillow-layers+ffmpeg", 0.0, typical_seconds("local", "video"))
    stages["compositing"] = _row("local", "libx264-veryfast+aac", 0.0, typical_seconds("local", "compositing"))
    return {
        "stages": stages,
        "total_cost_usd": round(sum(s["cost_usd"] for s in stages.values()), 4),
        "total_seconds": round(sum(s["seconds"] for s in stages.values()), 1),
        "planned_video_seconds": round(script.planned_duration + 3.0, 1),
        "fps": FPS,
    }


def _row(provider: str, model: str, cost: float, seconds: float) -> dict[str, Any]:
    return {"provider": provider, "model": model, "cost_usd": round(cost, 4), "seconds": round(seconds, 1)}
