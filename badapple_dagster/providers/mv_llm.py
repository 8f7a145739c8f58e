"""MV scene prompts from any OpenAI-compatible chat-completions endpoint (OpenAI, OpenRouter, vLLM, Ollama...).

The request is the flavor's own ``scene_generation_prompt``, filled by ``ResolvedFlavor.scene_request``: the
flavor author decides what the model is told, as in the original system. The answer must be JSON
``{"scenes": [{"description", "negative_description"}]}`` with exactly the number of scenes asked for; it
becomes the same ``MVScene`` list the offline writer returns (duration = the flavor's video_duration), so
mv_clips and the assembly do not care who wrote the scenes. Anything else is a PROVIDER_ERROR that still
records the billed tokens, and is not retried here: a second sampling would be paid for again.
"""

from __future__ import annotations

from typing import Any

from ..mv.flavors import ResolvedFlavor
from ..mv.scene_writer import MAX_SCENES, MVScene
from .errors import PROVIDER_ERROR, ProviderError
from .llm import ChatJson

# The original system's limits on a scene prompt and its negative prompt.
MAX_DESCRIPTION_CHARS = 5000
MAX_NEGATIVE_CHARS = 1000
# The flavor's template carries the instructions; the system message only pins the output format, which the
# json_object response format requires to be mentioned somewhere in the conversation.
SYSTEM_PROMPT = ("You write scene prompts for an AI video model. Follow the user's instructions exactly and reply "
                 'with one JSON object only: {"scenes": [{"description": str, "negative_description": str}]}.')


def _malformed(provider: str, why: str, request_id: str | None) -> ProviderError:
    return ProviderError(PROVIDER_ERROR, provider, f"malformed scenes from the model: {why}", request_id=request_id)


def scenes_from_json(data: Any, n: int, flavor: ResolvedFlavor, *, seed: int, provider: str,
                     request_id: str | None = None) -> list[MVScene]:
    """Validate the model's answer into ``n`` MVScenes. Shot, move, place and crowd are read back from each
    description the way the offline clip renderer reads a prompt, so a fallback renderer frames it the same."""
    from ..mv.clip_plan import plan_clip
    from ..mv.scene_writer import story_arc

    if not isinstance(data, dict) or not isinstance(data.get("scenes"), list):
        raise _malformed(provider, "no 'scenes' list", request_id)
    raw = data["scenes"]
    if len(raw) != n:
        raise _malformed(provider, f"{len(raw)} scenes, expected {n}", request_id)
    motion = float(flavor.local_render.get("motion", 0.5))
    beats = story_arc(n)
    scenes: list[MVScene] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _malformed(provider, f"scene {i + 1} is not an object", request_id)
        description = " ".join(str(item.get("description") or "").split())
        negative = " ".join(str(item.get("negative_description") or "").split())
        if not description:
            raise _malformed(provider, f"scene {i + 1} has no description", request_id)
        if len(description) > MAX_DESCRIPTION_CHARS or len(negative) > MAX_NEGATIVE_CHARS:
            raise _malformed(provider, f"scene {i + 1} is longer than {MAX_DESCRIPTION_CHARS}/{MAX_NEGATIVE_CHARS}"
                             " characters", request_id)
        plan = plan_clip(description, seed + i + 1, motion)
        scenes.append(MVScene(sequence=i + 1, prompt=description, negative_prompt=negative,
                              duration=float(flavor.video_duration), shot=plan.shot, camera_move=plan.move,
                              setting=plan.place, beat=beats[i], audience=plan.crowd))
    return scenes


class ChatSceneWriter(ChatJson):
    """``SceneWriter`` over ``POST {base_url}/chat/completions``."""

    default_temperature = 0.8
    default_timeout = 90.0

    def write(self, concept: str, character_description: str, flavor: ResolvedFlavor, *,
              num_scenes: int | None, seed: int) -> list[MVScene]:
        n = flavor.number_of_scenes if num_scenes is None else num_scenes
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SCENES:
            raise ValueError(f"num_scenes must be a whole number from 1 to {MAX_SCENES}, got {num_scenes!r}")
        if not concept.strip():
            raise ValueError("concept must not be empty")

        def parse(answer: Any, rid: str | None) -> dict[str, Any]:
            scenes = scenes_from_json(answer, n, flavor, seed=seed, provider=self.name, request_id=rid)
            return {"scenes": [s.to_dict() for s in scenes]}

        out = self.ask(SYSTEM_PROMPT, flavor.scene_request(concept, character_description, n), seed=seed,
                       stage="mv_scenes", parse=parse)
        # A reused answer may predate an edit of the flavor's video_duration, which the request does not carry:
        # the clip length is the flavor's now, not a stored one.
        return [MVScene(**{**s, "duration": float(flavor.video_duration)}) for s in out["scenes"]]
