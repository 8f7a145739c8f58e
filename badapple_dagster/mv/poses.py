"""Pose cycles: what the character does in a clip, as a loop of key poses.

The clip renderer draws ``cycle(...)`` once per phase and ffmpeg plays the stills in a loop; the action is
chosen from the prompt's verbs and the character's props (a guitar gets strummed, a microphone gets sung
into). ``energy`` (the flavor's motion knob) scales every amplitude.
"""

from __future__ import annotations

import math

from .figure import Pose
from .traits import CharacterSpec
from .vocab import has_word

ACTIONS = ("strum", "sing", "walk", "jump", "dance", "talk", "sneak", "idle")


def reference_pose(spec: CharacterSpec) -> Pose:
    """The pose of the character card: front-facing and readable, holding its props."""
    if spec.has("guitar"):
        return _strum(0.0, 0.0)
    if spec.has("microphone"):
        return Pose(r_upper=0.35, r_lower=-1.2, l_upper=-0.2, l_lower=-0.1)
    if spec.has("umbrella"):
        return Pose(l_upper=-0.35, l_lower=-2.3)
    return Pose()


def choose_action(prompt: str, spec: CharacterSpec) -> str:
    if has_word(prompt, r"guitar", r"\bsolo\b", r"strum", r"riff") and spec.has("guitar"):
        return "strum"
    if has_word(prompt, r"\bjump", r"leaps?", r"confetti", r"downbeat"):
        return "jump"
    if has_word(prompt, r"\bwalk", r"strides?", r"stroll", r"\bruns?\b", r"marches", r"tiptoe", r"catwalk",
                r"walks"):
        return "sneak" if has_word(prompt, r"tiptoe", r"sneak", r"creep") else "walk"
    if has_word(prompt, r"microphone", r"\bsings?", r"belts?", r"\bnote\b", r"chorus", r"vocal"):
        return "strum" if spec.has("guitar") else "sing"
    if has_word(prompt, r"danc", r"groove", r"spins?", r"moves? to"):
        return "dance"
    if has_word(prompt, r"talks?", r"narrat", r"monologue", r"tells", r"explain", r"shares?", r"secret"):
        return "talk"
    if has_word(prompt, r"peers?", r"sneak", r"creep", r"tiptoe", r"studies", r"clue"):
        return "sneak"
    return "strum" if spec.has("guitar") else "idle"


def cycle(action: str, spec: CharacterSpec, frames: int, energy: float) -> list[Pose]:
    """``frames`` poses evenly spaced over one loop of ``action``."""
    e = 0.35 + 0.9 * max(0.0, min(1.0, energy))
    out = []
    for k in range(frames):
        ph = k / frames
        s = math.sin(2 * math.pi * ph)
        c = math.cos(2 * math.pi * ph)
        if action == "strum":
            out.append(_strum(s * e, abs(s) * e))
        elif action == "sing":
            out.append(Pose(r_upper=0.45, r_lower=-1.75 - 0.1 * s * e, l_upper=-0.5 - 1.1 * e * max(0.0, s),
                            l_lower=-0.6 - 1.6 * e * max(0.0, s), head_tilt=0.08 * s * e,
                            bounce=0.05 * e * abs(s), mouth_open=0.6 + 0.4 * abs(c), mic_at_mouth=True, lean=-0.04))
        elif action == "walk":
            sw = 0.38 * e * s
            out.append(Pose(l_thigh=sw, l_shin=sw * 0.4 - 0.1 * max(0.0, -s), r_thigh=-sw,
                            r_shin=-sw * 0.4 + 0.1 * max(0.0, s), l_upper=-0.12 - sw * 0.7, l_lower=-0.2 - sw * 0.5,
                            r_upper=0.12 - sw * 0.7, r_lower=0.2 - sw * 0.5, bounce=0.06 * e * abs(c), lean=0.03))
        elif action == "jump":
            up = max(0.0, s)
            out.append(Pose(l_upper=-0.4 - 2.2 * up * e, l_lower=-0.5 - 2.3 * up * e,
                            r_upper=0.4 + 2.2 * up * e, r_lower=0.5 + 2.3 * up * e,
                            l_thigh=-0.05 - 0.25 * up, r_thigh=0.05 + 0.25 * up, l_shin=0.25 * up, r_shin=-0.25 * up,
                            bounce=0.9 * e * up, crouch=0.25 * max(0.0, -s) * e, mouth_open=0.7 * up))
        elif action == "dance":
            out.append(Pose(l_upper=-1.2 - 1.0 * e * max(0.0, s), l_lower=-2.2 - 0.6 * s * e,
                            r_upper=1.2 + 1.0 * e * max(0.0, -s), r_lower=2.2 - 0.6 * s * e,
                            lean=0.12 * s * e, head_tilt=0.15 * s * e, bounce=0.12 * e * abs(c),
                            l_thigh=-0.12 + 0.1 * s, r_thigh=0.12 + 0.1 * s, crouch=0.15 * e * abs(s)))
        elif action == "talk":
            out.append(Pose(r_upper=0.35 + 0.15 * s * e, r_lower=-1.4 - 0.5 * e * max(0.0, s),
                            l_upper=-0.3 - 0.2 * e * max(0.0, -s), l_lower=-0.9 - 0.8 * e * max(0.0, -s),
                            head_tilt=0.08 * c * e, mouth_open=0.45 * abs(s), lean=0.03 * s))
        elif action == "sneak":
            out.append(Pose(l_upper=0.6, l_lower=-1.4, r_upper=0.9, r_lower=-1.2, lean=0.18 + 0.05 * s,
                            crouch=0.45, l_thigh=-0.2 + 0.2 * s * e, r_thigh=0.2 + 0.2 * s * e,
                            head_tilt=0.1 * s, bounce=0.04 * abs(s)))
        else:  # idle: a weight shift and a breath, so even a still shot is alive
            out.append(Pose(lean=0.04 * s * e, head_tilt=0.06 * s * e, bounce=0.03 * e * abs(c),
                            l_upper=-0.16 - 0.05 * s, r_upper=0.16 - 0.05 * s))
    return out


def _strum(s: float, lift: float) -> Pose:
    # Fretting hand out along the neck (upper-left), strumming hand over the body.
    return Pose(l_upper=-0.55, l_lower=-1.95, r_upper=0.35, r_lower=-0.75 + 0.35 * s,
                head_tilt=-0.06 + 0.05 * s, bounce=0.06 * lift, mouth_open=0.0)
