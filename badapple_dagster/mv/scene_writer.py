"""Offline MV scene writer: concept + character + flavor → N shot prompts, deterministic per seed.

It plays the part of the LLM writer with the same inputs the flavor's ``scene_generation_prompt`` gives an LLM
(video type, character, personality, camera angle, number of scenes, look) plus the flavor's ``local_writer``
vocabulary. What it does with them follows the template's instructions:

* an edit, not a list: a wide opener, shot sizes and camera moves that change from scene to scene, framed
  around the flavor's main camera angle; at least one close shot of the face when the flavor asks;
* continuity: the full character description in every prompt (video models see one prompt at a time), one
  venue or a small set of recurring places, and a lighting progression instead of random jumps;
* a story arc over the scenes (opening → build → turn → peak → close) tied back to the concept;
* the flavor's look words spread across the scenes, the audience shown in the configured share of scenes;
* every prompt self-contained, third person, present tense, with a negative prompt.

The filled template itself is available as ``ResolvedFlavor.scene_request`` for recording next to the scenes.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import asdict, dataclass
from typing import Any

from .flavors import ResolvedFlavor, load_flavor
from .traits import NOUNS, subject_noun
from .vocab import MOVE_BY_KEY, SHOT_BY_KEY

MAX_SCENES = 12
_WIDE = ("wide", "aerial", "medium_wide")
_CLOSE = ("close_up", "extreme_close_up")
_ANGLED = ("low_angle", "high_angle", "aerial", "over_shoulder")  # the shot name already says the angle
_CALM_MOVES = ("static", "push_in", "pan", "pull_back")

_ANGLE_PHRASES = {
    "front": ("from the front", "straight-on from the front", "facing the camera"),
    "side": ("from the side", "in profile", "from a side angle"),
    "back": ("from behind", "from over the back"),
    "three-quarter": ("from a three-quarter angle",),
    "low": ("from a low angle",),
    "high": ("from above",),
    "wide": ("from a distance", "from across the space"),
    "eye": ("at eye level", "straight-on at eye level"),
    "dynamic": ("from a roaming, off-axis angle", "from a dynamic diagonal angle", "from a swinging angle"),
}
_ANGLE_WORDS = {"front": "front", "frontal": "front", "side": "side", "profile": "side", "back": "back",
                "behind": "back", "three-quarter": "three-quarter", "low": "low", "high": "high",
                "overhead": "high", "wide": "wide", "dynamic": "dynamic", "roaming": "dynamic",
                "varied": "dynamic", "moving": "dynamic"}

_BEATS = {
    "single": ("The whole story in one shot: {idea}.",),
    "open": ("Opening beat of the story: {idea}.", "It all starts here: {idea}.",
             "The first image sets up the premise: {idea}."),
    "build": ("The story moves forward: {idea}.", "Momentum builds around the idea: {idea}.",
              "The premise plays out in earnest: {idea}."),
    "turn": ("A turn in the story, still true to the idea: {idea}.", "Halfway, something shifts: {idea}.",
             "An unexpected angle on the premise: {idea}."),
    "peak": ("The big moment of the story, at full intensity: {idea}.", "Everything peaks here: {idea}.",
             "The emotional high point: {idea}."),
    "close": ("Closing beat: {idea}. It lands, and the camera lingers.", "The final image resolves it: {idea}.",
              "The story comes to rest: {idea}."),
}
_LOOK_LEADS = ("The look: {look}.", "Visual treatment: {look}.", "Look and feel: {look}.")
_MANNER = ("{action} — {traits}", "{action}, {traits} as ever", "{action}, {traits} throughout")
_CROWD = ("Thousands of fans pack the stands, hands raised and singing every word.",
          "Phone lights glitter across the crowd as the chorus hits.",
          "The crowd surges against the barrier, jumping in time.",
          "Behind the camera, the audience roars; silhouettes of raised arms frame the shot.")
_FACE = ("The framing holds on the {noun}'s face: every expression readable.",
         "Focus stays on the {noun}'s face, eyes catching the light.")
_LINES = {
    "open": ("Okay. Today we find out.", "Nobody said this would be easy.", "Here goes everything."),
    "build": ("See? Told you it would work.", "Wait for it...", "We're getting somewhere."),
    "turn": ("That was not supposed to happen.", "Huh. Plan B.", "Don't look at me like that."),
    "peak": ("This is it!", "Now or never!", "Watch this!"),
    "close": ("Same time tomorrow?", "Worth it.", "And that's how it's done."),
}
_TONES = ("deadpan", "breathless", "whispering", "grinning", "indignant", "triumphant")


@dataclass(frozen=True)
class MVScene:
    sequence: int  # 1-based, the scene's immutable id
    prompt: str
    negative_prompt: str
    duration: float
    shot: str  # vocab shot key, e.g. "close_up"
    camera_move: str  # vocab move key, e.g. "push_in"
    setting: str
    beat: str  # single | open | build | turn | peak | close
    audience: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_scenes(
    concept: str,
    character_description: str | None = None,
    flavor: ResolvedFlavor | str | None = None,
    num_scenes: int | None = None,
    seed: int = 0,
) -> list[MVScene]:
    """Scene prompts for ``concept``. ``num_scenes`` None → the flavor's number_of_scenes; each scene lasts the
    flavor's video_duration. Same inputs and seed → the same scenes, byte for byte."""
    flav = flavor if isinstance(flavor, ResolvedFlavor) else load_flavor(flavor)
    idea = _clean_idea(concept)
    if not idea:
        raise ValueError("concept must not be empty")
    n = flav.number_of_scenes if num_scenes is None else num_scenes
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SCENES:
        raise ValueError(f"num_scenes must be a whole number from 1 to {MAX_SCENES}, got {num_scenes!r}")
    desc = _clean_desc(character_description)
    rng = random.Random(f"mv-scenes:{flav.digest}:{idea}:{desc}:{n}:{seed}")
    w = flav.local_writer
    params = flav.parameters
    noun = subject_noun(character_description)
    subject = f"the {noun}"
    motion = float(flav.local_render.get("motion", 0.5))

    beats = story_arc(n)
    shots = _plan_shots(n, list(w.get("shot_mix", ["wide", "medium", "close_up"])), params["camera_angle"],
                        bool(w.get("closeup_required", False)), rng)
    moves = _plan_moves(shots, motion, rng)
    angles = _angle_cycle(params["camera_angle"])
    settings = _plan_settings(n, list(w.get("settings", ["a simple, uncluttered location"])), idea, rng)
    lights = _rotate(list(w.get("lighting_cues", ["soft, natural light"])), rng.randrange(1 << 16), n)
    actions = _deal(list(w.get("actions", ["{subject} looks into the distance"])), n, rng)
    looks = _spread_look(params["video_characteristics"], n, rng)
    traits = _traits(params["character_characteristics"])
    audience = _plan_audience(shots, float(w.get("audience_ratio", 0.0)), rng)
    actions = _crowd_actions_where_seen(actions, audience)
    spoken = "music" not in params["video_type"].lower()
    base_negative = str(w.get("negative_prompt", "on-screen text, watermark, blurry")).strip()
    monochrome = bool(flav.local_render.get("monochrome", False))

    scenes: list[MVScene] = []
    for i in range(n):
        shot, move, beat = shots[i], moves[i], beats[i]
        parts = [_shot_line(shot, move, angles[i % len(angles)], rng)]
        parts.append(_sentence(f"{settings[i]}, {lights[i]}"))
        action = actions[i].format(subject=subject)
        parts.append(_sentence(rng.choice(_MANNER).format(action=action, traits=_pair(traits, i))))
        parts.append(f"Character: {desc}, matching the reference image.")
        if shot in _CLOSE:
            parts.append(rng.choice(_FACE).format(noun=noun))
        if audience[i]:
            parts.append(rng.choice(_CROWD))
        parts.append(rng.choice(_BEATS[beat]).format(idea=idea))
        if spoken and beat in _LINES and rng.random() < 0.5:
            line = rng.choice(_LINES[beat])
            parts.append(f'{noun.capitalize()} ({rng.choice(_TONES)}): "{line}"')
        parts.append(rng.choice(_LOOK_LEADS).format(look=looks[i]))
        negative = _negative(base_negative, audience[i], bool(w.get("audience_ratio", 0.0)), shot, monochrome)
        scenes.append(MVScene(
            sequence=i + 1, prompt=" ".join(parts), negative_prompt=negative, duration=float(flav.video_duration),
            shot=shot, camera_move=move, setting=settings[i], beat=beat, audience=audience[i],
        ))
    return scenes


# ----------------------------------------------------------------------------------------------- text helpers

def _clean_idea(concept: str) -> str:
    idea = re.sub(r"\s+", " ", (concept or "")).strip().rstrip(".!?;:,")
    first, _, rest = idea.partition(" ")
    # Sentence-initial capitals read oddly mid-sentence ("...: Robot exploring Austin"); names keep theirs.
    if first in ("A", "An", "The", "My", "Our", "Two", "Three", "One", "Some", "Every") or first.lower() in NOUNS:
        idea = first.lower() + (" " + rest if rest else "")
    return idea


def _clean_desc(description: str | None) -> str:
    desc = re.sub(r"\s+", " ", (description or "")).strip().rstrip(".")
    if not desc:
        return "a lead performer in a bold, single-colour outfit"
    first = desc.split(" ", 1)[0]
    if first.lower() not in ("a", "an", "the") and not first[:1].isdigit():
        article = "an" if desc[0].lower() in "aeiou" else "a"
        # Lower-case a leading capital ("Silver robot") but keep acronyms ("DJ with ...").
        desc = f"{article} {desc}" if first.isupper() and len(first) > 1 else f"{article} {desc[0].lower()}{desc[1:]}"
    else:
        desc = first.lower() + desc[len(first):]
    return desc


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def _traits(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r",|\band\b", text) if p.strip()]
    short = [p for p in parts if len(p.split()) <= 3]
    return short or parts[:1] or ["focused"]


def _pair(traits: list[str], i: int) -> str:
    if len(traits) == 1:
        return traits[0]
    a, b = traits[i % len(traits)], traits[(i + 1) % len(traits)]
    return f"{a} and {b}"


def _shot_line(shot: str, move: str, angle: str, rng: random.Random) -> str:
    phrase = rng.choice(SHOT_BY_KEY[shot].phrases)
    move_phrase = rng.choice(MOVE_BY_KEY[move].phrases)
    if shot == "tracking" and move == "tracking":
        move_phrase = "the camera keeping pace"
    if angle == "wide" and shot not in (*_WIDE, "high_angle"):
        angle = "eye"  # "a close-up from a distance" contradicts itself
    where = "" if shot in _ANGLED else " " + rng.choice(_ANGLE_PHRASES[angle])
    return _sentence(f"{phrase}{where}, {move_phrase}")


def _negative(base: str, audience: bool, flavor_has_audience: bool, shot: str, monochrome: bool) -> str:
    extra: list[str] = []
    if flavor_has_audience and not audience:
        extra.append("audience in frame")  # the template keeps the crowd out of the other scenes
    if shot in _CLOSE:
        extra.append("wide framing")
    if monochrome and "colour" not in base:
        extra.append("colour")
    return ", ".join([base, *extra]) if extra else base


# ------------------------------------------------------------------------------------------------- planning

def story_arc(n: int) -> list[str]:
    """The story beat of each of ``n`` scenes (open, build, turn, peak, close); remote writers reuse it to label
    their scenes the same way."""
    if n == 1:
        return ["single"]
    out = []
    for i in range(n):
        p = i / (n - 1)
        if i == 0:
            out.append("open")
        elif i == n - 1:
            out.append("close")
        elif p >= 0.6 and "peak" not in out:
            out.append("peak")
        elif 0.35 <= p < 0.6 and "turn" not in out:
            out.append("turn")
        else:
            out.append("build")
    return out


def _angle_cycle(camera_angle: str) -> list[str]:
    """The flavor's camera_angle ("front, side, and roaming angles") as angle keys, main angle first."""
    found: list[str] = []
    for word in re.findall(r"[a-z-]+", camera_angle.lower()):
        key = _ANGLE_WORDS.get(word)
        if key and key not in found:
            found.append(key)
    return found or ["front"]


def _plan_shots(n: int, mix: list[str], camera_angle: str, closeup: bool, rng: random.Random) -> list[str]:
    mix = [s for s in mix if s in SHOT_BY_KEY] or ["wide", "medium", "close_up"]
    main_wide = _angle_cycle(camera_angle)[0] == "wide"
    opener = next((s for s in mix if s in _WIDE), mix[0])
    shots = [opener]
    pool: list[str] = []
    while len(shots) < n:
        if not pool:
            pool = mix[:]
            rng.shuffle(pool)
        # A wide main angle keeps the edit mostly wide: every other pick comes from the wide family.
        if main_wide and len(shots) % 2 == 0:
            cand = [s for s in mix if s in (*_WIDE, "high_angle")] or pool
            pick = rng.choice([s for s in cand if s != shots[-1]] or cand)
        else:
            pick = next((s for s in pool if s != shots[-1]), pool[0])
            pool.remove(pick)
        shots.append(pick)
    if closeup and n >= 2 and not any(s in _CLOSE for s in shots):
        at = max(1, min(n - 1, round((n - 1) * 0.7)))
        shots[at] = "extreme_close_up" if "extreme_close_up" in mix else "close_up"
    return shots


def _plan_moves(shots: list[str], motion: float, rng: random.Random) -> list[str]:
    moves: list[str] = []
    for shot in shots:
        options = list(SHOT_BY_KEY[shot].moves)
        if motion < 0.4:  # a calm flavor prefers locked-off and slow moves where the shot allows it
            options = [m for m in options if m in _CALM_MOVES] or options
        elif motion > 0.7 and "static" in options and len(options) > 1:
            options.remove("static")
        fresh = [m for m in options if not moves or m != moves[-1]]
        if not fresh:  # the shot has one natural move and the last scene used it: pick any other
            fresh = [m for m in MOVE_BY_KEY if m != moves[-1] and (motion >= 0.4 or m in _CALM_MOVES)]
        moves.append(rng.choice(fresh))
    return moves


def _place_from_idea(idea: str) -> str | None:
    """A place the concept names ("... in Austin, Texas", "... on a rooftop"), appended to the settings."""
    m = re.search(r"\b(?:in|at|on|across|through|around|inside|exploring|visiting)\s+((?:the\s+|a\s+)?"
                  r"[A-Za-z][A-Za-z'’-]*(?:,?\s+[A-Z][A-Za-z'’-]*){0,3})", idea)
    if not m:
        return None
    place = m.group(1).strip().rstrip(",")
    if place.split()[0].lower() in ("a", "the") or place[:1].isupper():
        return place
    return None


def _plan_settings(n: int, settings: list[str], idea: str, rng: random.Random) -> list[str]:
    """Recurring places: at most ceil(n/2) settings, each used for consecutive scenes, so locations repeat
    and stay recognisable instead of changing every shot."""
    order = settings[:]
    rng.shuffle(order)
    count = max(1, min(len(order), math.ceil(n / 2)))
    chosen = order[:count]
    place = _place_from_idea(idea)
    if place:
        chosen = [f"{s}, in {place}" if place.lower() not in s.lower() else s for s in chosen]
    return [chosen[min(count - 1, i * count // n)] for i in range(n)]


def _rotate(items: list[str], start: int, n: int) -> list[str]:
    """Consecutive items from a seeded start: lighting progresses (sunset → night) rather than jumping."""
    return [items[(start + i // 2) % len(items)] for i in range(n)]


def _deal(items: list[str], n: int, rng: random.Random) -> list[str]:
    out: list[str] = []
    deck: list[str] = []
    while len(out) < n:
        if not deck:
            deck = items[:]
            rng.shuffle(deck)
        out.append(deck.pop())
    return out


def _crowd_actions_where_seen(actions: list[str], audience: list[bool]) -> list[str]:
    """Move actions that involve the crowd onto scenes that show it (swap with a crowd-free action)."""
    out = actions[:]
    for i, seen in enumerate(audience):
        if seen or "crowd" not in out[i]:
            continue
        for j, other in enumerate(out):
            if audience[j] and "crowd" not in other:
                out[i], out[j] = other, out[i]
                break
    return out


def _spread_look(characteristics: str, n: int, rng: random.Random) -> list[str]:
    """Every scene carries the first (core) look word plus two others in rotation, so all appear."""
    words = [w.strip() for w in characteristics.split(",") if w.strip()] or ["cinematic"]
    core, rest = words[0], words[1:]
    rng.shuffle(rest)
    out = []
    for i in range(n):
        extra = [rest[(2 * i + k) % len(rest)] for k in range(min(2, len(rest)))] if rest else []
        out.append(", ".join(dict.fromkeys([core, *extra])))
    return out


def _plan_audience(shots: list[str], ratio: float, rng: random.Random) -> list[bool]:
    n = len(shots)
    if ratio <= 0:
        return [False] * n
    want = max(1, min(n, round(ratio * n)))
    # Wide and high shots show a crowd naturally; extreme close-ups never do.
    ranked = sorted(range(n), key=lambda i: (shots[i] == "extreme_close_up", shots[i] not in (*_WIDE, "high_angle"),
                                             rng.random()))
    chosen = set(ranked[:want])
    return [i in chosen for i in range(n)]
