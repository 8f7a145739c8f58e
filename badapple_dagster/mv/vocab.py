"""Shared film vocabulary: the words the scene writer uses and the clip renderer reads back.

The writer picks shot sizes, camera moves and settings from these tables, so its prompts always contain words
the renderer recognises; the renderer also parses hand-edited prompts, so the keyword lists are generous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Shot:
    key: str
    phrases: tuple[str, ...]  # how the writer names it (one is picked per scene)
    keywords: tuple[str, ...]  # regexes the renderer looks for in a prompt (first shot found wins)
    figure_height: float  # the character's full height as a multiple of the frame height
    head_top: float  # where the top of the head sits, as a fraction of the frame height (negative = cropped)
    bg_blur: float  # depth of field: background blur in % of frame height
    moves: tuple[str, ...]  # camera moves that suit the shot, when the prompt names none


# Ordered most specific first: "extreme close-up" must win over "close-up", "medium wide" over "wide".
SHOTS: tuple[Shot, ...] = (
    Shot("extreme_close_up", ("extreme close-up", "tight extreme close-up"),
         (r"extreme close", r"\becu\b", r"macro"), 6.5, -0.12, 1.2, ("push_in", "static", "handheld")),
    Shot("over_shoulder", ("over-the-shoulder shot", "over-the-shoulder medium shot"),
         (r"over[- ]the[- ]shoulder",), 2.1, 0.1, 0.6, ("orbit", "handheld")),
    Shot("close_up", ("close-up", "tight close-up", "close shot"),
         (r"close[- ]?up", r"close shot", r"\bcu\b"), 3.6, 0.05, 0.9, ("push_in", "handheld", "orbit")),
    Shot("medium_wide", ("medium-wide shot", "full-length shot", "cowboy shot"),
         (r"medium[- ]wide", r"full[- ]length", r"full[- ]body", r"cowboy shot"), 1.05, 0.08, 0.25,
         ("tracking", "pan", "pull_back")),
    Shot("aerial", ("aerial shot", "sweeping aerial view"),
         (r"aerial", r"drone", r"bird'?s[- ]eye", r"overhead"), 0.2, 0.34, 0.0, ("crane_down", "pan")),
    Shot("wide", ("wide establishing shot", "wide shot", "sweeping wide shot"),
         (r"\bwide\b", r"establishing", r"long shot"), 0.5, 0.17, 0.0, ("pan", "crane_up", "pull_back")),
    Shot("low_angle", ("low-angle medium shot", "low-angle hero shot"),
         (r"low[- ]angle", r"from below", r"looking up"), 1.35, 0.1, 0.3, ("crane_up", "push_in")),
    Shot("high_angle", ("high-angle shot", "high-angle medium shot"),
         (r"high[- ]angle", r"from above", r"looking down"), 1.2, 0.12, 0.2, ("crane_down", "pull_back")),
    Shot("tracking", ("tracking medium shot", "side-on tracking shot"),
         (r"tracking", r"follows?\b", r"following"), 1.6, 0.09, 0.45, ("tracking",)),
    Shot("medium", ("medium shot", "waist-up medium shot"),
         (r"\bmedium\b", r"waist[- ]up", r"mid[- ]shot"), 1.9, 0.07, 0.5, ("push_in", "orbit", "pan")),
)
SHOT_BY_KEY = {s.key: s for s in SHOTS}
DEFAULT_SHOT = "medium"


@dataclass(frozen=True)
class Move:
    key: str
    phrases: tuple[str, ...]
    keywords: tuple[str, ...]


MOVES: tuple[Move, ...] = (
    Move("push_in", ("slow push-in", "gentle dolly-in", "creeping push-in"),
         (r"push[- ]?in", r"dolly[- ]?in", r"zoom[- ]?in", r"moves? in", r"creep")),
    Move("pull_back", ("slow pull-back", "dolly-out reveal"),
         (r"pull[- ]?back", r"pull[- ]?out", r"dolly[- ]?out", r"zoom[- ]?out", r"reveal")),
    Move("crane_up", ("crane up", "rising crane move"),
         (r"crane up", r"rising", r"rises", r"tilt[- ]?up", r"pedestal up")),
    Move("crane_down", ("crane down", "descending crane move"),
         (r"crane down", r"crane descent", r"descend", r"tilt[- ]?down")),
    Move("tracking", ("tracking alongside", "smooth lateral track"),
         (r"track", r"alongside", r"lateral", r"follows?\b", r"keeping pace")),
    Move("orbit", ("slow orbit", "half-circle arc around the subject"), (r"orbit", r"\barc", r"circl")),
    Move("pan", ("slow pan", "steady pan across"), (r"\bpan", r"sweep")),
    Move("handheld", ("handheld drift", "restless handheld camera"), (r"handheld", r"hand-held", r"shaky")),
    Move("static", ("locked-off camera", "static frame"), (r"locked[- ]off", r"static", r"still camera", r"tripod")),
)
MOVE_BY_KEY = {m.key: m for m in MOVES}


@dataclass(frozen=True)
class Place:
    key: str  # backdrop painter
    keywords: tuple[str, ...]


# Checked in order; the first family with a keyword in the prompt paints the backdrop.
PLACES: tuple[Place, ...] = (
    Place("stage", (r"stadium", r"concert", r"\bstage", r"catwalk", r"arena", r"festival", r"\bgig\b",
                    r"drum riser", r"crowd", r"audience", r"spotlight")),
    Place("interior", (r"office", r"kitchen", r"diner", r"apartment", r"bedroom", r"\broom\b", r"\bbar\b",
                       r"cafe", r"caf[eé]", r"hallway", r"studio apartment", r"living room", r"library",
                       r"warehouse", r"lobby", r"inside", r"interior")),
    Place("beach", (r"beach", r"\bsea\b", r"ocean", r"shore", r"coast", r"waves", r"pier")),
    Place("nature", (r"forest", r"park", r"field", r"meadow", r"mountain", r"hill", r"desert", r"trees",
                     r"garden", r"countryside", r"lake", r"woods")),
    Place("city", (r"street", r"city", r"alley", r"rooftop", r"downtown", r"neon", r"skyline", r"avenue",
                   r"sidewalk", r"town", r"tokyo", r"new york", r"paris", r"london", r"austin")),
)
DEFAULT_PLACE = "studio"

TIMES = (("night", (r"night", r"midnight", r"neon", r"moon", r"dark", r"street lamp", r"after hours")),
         ("sunset", (r"sunset", r"golden hour", r"dusk", r"sundown", r"amber")),
         ("twilight", (r"twilight", r"blue hour", r"dawn")),
         ("day", (r"daylight", r"sunlit", r"\bday\b", r"morning", r"noon", r"afternoon", r"bright")))


def has_word(text: str, *patterns: str) -> bool:
    low = text.lower()
    return any(re.search(p, low) for p in patterns)
