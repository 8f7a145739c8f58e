"""Offline music-video engine: config flavors, scene writer, character cards, scene clips, songs, assembly.

Pure Python + Pillow + numpy + ffmpeg; no Dagster and no HTTP here (assets and endpoints wrap these calls).

    flavors.load_flavor / list_flavors        presets from mv_configs/ (docs/FLAVORS.md)
    scene_writer.write_scenes                 concept → N shot prompts
    character.render_character_reference      description → character card PNG
    clip_renderer.render_scene_clip           prompt + reference → 8 s 16:9 clip
    song.generate_song / load_song / detect_beats
    music_video.assemble_music_video          clips + song → beat-cut, −14 LUFS MP4
"""

from .flavors import DEFAULT_FLAVOR, FlavorError, ResolvedFlavor, list_flavors, load_flavor

__all__ = ["DEFAULT_FLAVOR", "FlavorError", "ResolvedFlavor", "list_flavors", "load_flavor"]
