"""Frame-exact scene timing shared by the scene renderer and the compositor.

Scene cuts are snapped to whole frames once, here, so clip lengths, xfade offsets and caption times all agree
and rounding never accumulates across scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import FPS, VoiceTrack


@dataclass(frozen=True)
class ScenePlan:
    index: int
    start_frame: int  # where the scene's cut sits on the final timeline
    frames: int  # clip length, including the transition overlap into whatever follows

    @property
    def start(self) -> float:
        return self.start_frame / FPS

    @property
    def duration(self) -> float:
        return self.frames / FPS


def overlap_frames(transition_duration: float) -> int:
    return max(1, round(transition_duration * FPS))


def boundaries(voice: VoiceTrack) -> list[int]:
    """Cut frames: 0, each later window's start, and the end of the voice track."""
    if not voice.windows:
        raise ValueError("voice track has no scene windows")
    cuts = [0] + [round(w.start * FPS) for w in voice.windows[1:]] + [round(voice.duration * FPS)]
    for a, b in zip(cuts, cuts[1:], strict=False):
        if b <= a:
            raise ValueError(f"scene windows are not increasing: {[w.to_dict() for w in voice.windows]}")
    return cuts


def scene_plan(voice: VoiceTrack, transition_duration: float) -> list[ScenePlan]:
    cuts = boundaries(voice)
    td = overlap_frames(transition_duration)
    # A scene must outlast the transition into it, or its clip would be all transition and no scene.
    short = [i for i in range(1, len(cuts) - 1) if cuts[i + 1] - cuts[i] <= td]
    if short:
        raise ValueError(f"scene window(s) {short} are shorter than the {td / FPS:.2f}s transition")
    return [ScenePlan(i, cuts[i], cuts[i + 1] - cuts[i] + td) for i in range(len(cuts) - 1)]


def scenes_end(voice: VoiceTrack) -> float:
    """Where the last scene's cut into the end card sits (the voice duration, frame-snapped)."""
    return boundaries(voice)[-1] / FPS
