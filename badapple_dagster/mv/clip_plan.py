"""Read a scene prompt into a shot plan: framing, camera move, location, time of day, action, extras.

The writer's prompts open with "<shot>, <move>." and then name the setting, so the first match in reading
order is the intended one ("Tracking medium shot, slow push-in" is a tracking shot that pushes in, not a
medium shot that tracks). Hand-written prompts are read the same way; anything unnamed falls back to a
choice that suits the shot, seeded so re-renders are identical.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass
from typing import Any

from .vocab import DEFAULT_PLACE, DEFAULT_SHOT, MOVES, PLACES, SHOT_BY_KEY, SHOTS, TIMES, has_word


@dataclass(frozen=True)
class ClipPlan:
    shot: str
    move: str
    place: str
    time: str
    crowd: bool
    rain: bool
    title: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _earliest(text: str, table: list[tuple[str, tuple[str, ...]]]) -> tuple[str, int, int] | None:
    """(key, start, end) of the keyword that appears first; ties go to the earlier table entry."""
    best: tuple[str, int, int] | None = None
    for key, patterns in table:
        for pat in patterns:
            m = re.search(pat, text)
            if m and (best is None or m.start() < best[1]):
                best = (key, m.start(), m.end())
    return best


def title_words(prompt: str, max_words: int = 7) -> str:
    first = re.split(r"(?<=[.!?;:])\s", prompt.strip(), maxsplit=1)[0].rstrip(".!?;:,")
    words = first.split()
    text = " ".join(words[:max_words])
    return text + ("…" if len(words) > max_words else "")


def plan_clip(prompt: str, seed: int, motion: float) -> ClipPlan:
    low = prompt.lower()
    shot_hit = _earliest(low, [(s.key, s.keywords) for s in SHOTS])
    shot = shot_hit[0] if shot_hit else DEFAULT_SHOT
    # The move follows the shot words ("Sweeping wide shot, crane up": the move is the crane, and a tracking
    # shot's own "tracking" is not its move); only if nothing follows, look before them.
    moves = [(m.key, m.keywords) for m in MOVES]
    move_hit = _earliest(low[shot_hit[2]:], moves) if shot_hit else None
    move_hit = move_hit or _earliest(low[:shot_hit[1]] if shot_hit else low, moves)
    rng = random.Random(f"plan:{prompt}:{seed}")
    if move_hit:
        move = move_hit[0]
    else:
        options = list(SHOT_BY_KEY[shot].moves)
        move = rng.choice(options if motion >= 0.4 else [m for m in options if m != "handheld"] or options)
    place_hit = _earliest(low, [(p.key, p.keywords) for p in PLACES])
    place = place_hit[0] if place_hit else DEFAULT_PLACE
    time_hit = _earliest(low, [(k, pats) for k, pats in TIMES])
    time = time_hit[0] if time_hit else ("night" if place == "stage" else "day")
    crowd = place == "stage" and (
        has_word(low, r"crowd", r"audience", r"\bfans\b", r"thousands", r"phone lights")
        or shot in ("wide", "aerial", "high_angle", "medium_wide")
    )
    rain = place in ("city", "nature", "beach") and has_word(low, r"\brain", r"drizzle", r"downpour", r"storm")
    return ClipPlan(shot, move, place, time, crowd, rain, title_words(prompt))
