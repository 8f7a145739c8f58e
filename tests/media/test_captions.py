"""Captions: chunking rules, exact word timing, styling, and what libass actually draws."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from badapple_dagster.media.captions import (
    MAX_WORDS,
    ass_color,
    ass_filter,
    build_captions,
    caption_look,
    chunk_words,
    font_full_name,
)
from badapple_dagster.media.fonts import resolve_font
from badapple_dagster.media.layout import caption_band
from badapple_dagster.media.models import ASPECT_SIZES, SceneWindow, VoiceTrack, WordTiming
from badapple_dagster.media.styles import STYLES, resolve_style
from tests.media.render_fixtures import make_script, make_voice

DIALOGUE = re.compile(r"^Dialogue: \d+,(\d+):(\d\d):(\d\d)\.(\d\d),(\d+):(\d\d):(\d\d)\.(\d\d),Caption,,0,0,0,,(.*)$")


def _events(path: str) -> list[tuple[float, float, str]]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = DIALOGUE.match(line)
        if m:
            g = m.groups()
            start = int(g[0]) * 3600 + int(g[1]) * 60 + int(g[2]) + int(g[3]) / 100
            end = int(g[4]) * 3600 + int(g[5]) * 60 + int(g[6]) + int(g[7]) / 100
            out.append((start, end, g[8]))
    return out


def _voice(words: list[tuple[str, float, float]], windows: list[tuple[float, float]]) -> VoiceTrack:
    return VoiceTrack(
        "/dev/null",
        windows[-1][1],
        22050,
        "t",
        170,
        [WordTiming(w, s, e) for w, s, e in words],
        [SceneWindow(i, s, e) for i, (s, e) in enumerate(windows)],
    )


def test_chunks_are_short_break_at_punctuation_and_never_cross_scenes() -> None:
    words = [
        ("Meet", 0.0, 0.2),
        ("the", 0.25, 0.35),
        ("new", 0.4, 0.55),
        ("bottle.", 0.6, 0.9),
        ("Cold", 1.0, 1.2),
        ("all", 1.32, 1.4),  # scene cut at 1.3 falls between these two words
        ("day,", 1.45, 1.7),
        ("every", 1.75, 1.95),
        ("single", 2.0, 2.2),
        ("day", 2.25, 2.4),
        ("tonight!", 2.6, 2.9),
    ]
    voice = _voice(words, [(0.0, 1.3), (1.3, 3.0)])
    chunks = chunk_words(voice)
    texts = [c.text for c in chunks]
    assert all(len(c.words) <= MAX_WORDS for c in chunks)
    assert "Cold all" not in " | ".join(texts)  # the scene cut splits them
    for c in chunks:
        win = voice.windows[c.window]
        assert all(win.start <= w.start < win.end for w in c.words)
        assert win.start <= c.start and c.end <= win.end + 1e-9
    # Punctuation ends a chunk: nothing follows "bottle." or "day," inside a chunk.
    for c in chunks:
        assert not any(w.word.endswith((".", ",", "!")) for w in c.words[:-1])
    # 4 words between breaks split 2+2, not 3+1.
    assert [len(c.words) for c in chunks if c.words[0].word == "every"] == [2]
    # Chunks never overlap in time.
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.end <= b.start + 1e-9


@pytest.mark.parametrize("style", list(STYLES))
def test_each_word_highlight_starts_at_its_timing(tmp_path: Path, style: str) -> None:
    script = make_script(style)
    voice = make_voice(script, tmp_path / "v.wav", window=1.3)
    st = resolve_style(style)
    cap = build_captions(voice, st, script.palette, (1080, 1920), str(tmp_path))
    events = _events(cap.path)
    assert len(events) == len(voice.words)
    look = caption_look(st, script.palette)
    hi, plain = ass_color(look.highlight), ass_color(look.text)
    for (start, end, text), word in zip(events, voice.words, strict=True):
        assert abs(start - word.start) <= 0.005 + 1e-9  # ASS has centisecond resolution
        assert end > start
        # Exactly one word carries the highlight colour, and it is this one.
        assert text.count(f"\\1c{hi}") == 1
        active = re.search(r"\\1c" + re.escape(hi) + r"\}([^{]+)", text).group(1)
        expected = word.word.upper() if look.upper else word.word
        assert active.replace("\\N", "").strip() == expected
        if hi != plain:
            assert f"\\1c{plain}" in text or len(text.split("}")) == 3  # others plain (unless 1-word chunk)
    # Captions end with the voice: nothing is burned over the end card.
    assert max(e for _s, e, _t in events) <= voice.duration + 1e-9


def test_style_uses_caption_font_and_fits_band(tmp_path: Path) -> None:
    st = resolve_style("modern")
    script = make_script("modern")
    voice = make_voice(script, tmp_path / "v.wav")
    cap = build_captions(voice, st, script.palette, (1080, 1920), str(tmp_path))
    text = Path(cap.path).read_text()
    assert f"Style: Caption,{font_full_name(resolve_font(st.caption_fonts))},{cap.font_size}," in text
    assert (Path(cap.fonts_dir) / Path(resolve_font(st.caption_fonts)).name).is_file()
    assert "fontsdir=" in ass_filter(cap)
    assert cap.band == caption_band((1080, 1920))
    assert 40 <= cap.font_size <= 110


def test_one_long_chunk_breaks_onto_two_lines_instead_of_shrinking_all(tmp_path: Path) -> None:
    st = resolve_style("energetic")
    script = make_script("energetic")
    voice = make_voice(script, tmp_path / "v.wav", window=1.5)
    base = build_captions(voice, st, script.palette, (1080, 1920), str(tmp_path / "a"))
    script.scenes[1].voiceover = "Extraordinarily refreshing!"
    voice = make_voice(script, tmp_path / "v2.wav", window=1.5)
    cap = build_captions(voice, st, script.palette, (1080, 1920), str(tmp_path / "b"))
    long_idx = [i for i, c in enumerate(cap.chunks) if c.words[0].word == "Extraordinarily"][0]
    assert cap.breaks[long_idx] is not None  # the outlier wraps...
    assert sum(b is not None for b in cap.breaks) <= max(2, len(cap.chunks) // 4)
    assert cap.font_size >= 0.85 * base.font_size  # ...instead of shrinking every caption
    assert "\\N" in Path(cap.path).read_text()


def _render_caption_frame(
    cap_path: str, fonts_dir: str, size: tuple[int, int], t: float, out: Path
) -> tuple[np.ndarray, str]:
    w, h = size
    proc = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "verbose",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"color=c=black:s={w}x{h}:r=30:d={t + 0.2:.2f}",
            "-vf",
            f"ass=filename={cap_path}:fontsdir={fonts_dir}",
            "-ss",
            f"{t:.3f}",
            "-frames:v",
            "1",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return np.asarray(Image.open(out).convert("L")), proc.stderr


@pytest.mark.parametrize("aspect", list(ASPECT_SIZES))
def test_libass_draws_the_longest_chunk_inside_the_band(tmp_path: Path, aspect: str) -> None:
    """Render the widest chunk with libass itself and measure the ink: it must sit in the caption band,
    and libass must have loaded the style's caption font file (not a fallback)."""
    size = ASPECT_SIZES[aspect]
    st = resolve_style("energetic")  # upper-case heavy captions: the widest case
    script = make_script("energetic")
    script.scenes[1].voiceover = "Unbelievably refreshing hydration. Everything else."
    voice = make_voice(script, tmp_path / "v.wav", window=1.5)
    cap = build_captions(voice, st, script.palette, size, str(tmp_path))
    widest = max(cap.chunks, key=lambda c: len(c.text))
    t = widest.words[-1].start + 0.02
    frame, log = _render_caption_frame(cap.path, cap.fonts_dir, size, t, tmp_path / "c.png")
    ys, xs = np.nonzero(frame > 40)
    assert len(xs) > 500, "no caption drawn"
    band = cap.band
    slack = 4  # antialiasing of the outline
    assert xs.min() >= band.x - slack and xs.max() <= band.right + slack, (xs.min(), xs.max(), band)
    assert ys.min() >= band.y - slack and ys.max() <= band.bottom + slack, (ys.min(), ys.max(), band)
    assert Path(resolve_font(st.caption_fonts)).name in log
