"""Word-synced captions as an ASS subtitle file, burned in by the compositor with libass.

Words are grouped into short chunks (≤ 3 words, broken at punctuation, never across a scene cut). Each chunk
is written as one event per word: the event starts exactly at that word's ``WordTiming.start`` and shows the
whole chunk with the spoken word in the accent colour — so the highlight moves with the voice.
"""

from __future__ import annotations

import bisect
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont
from PIL.ImageFont import FreeTypeFont

from .fonts import resolve_font
from .layout import Box, caption_band, load_font, text_width
from .models import RGB, Palette, VoiceTrack, WordTiming
from .paint import luminance
from .styles import StyleSpec

MAX_WORDS = 3
BREAK_AFTER = (".", ",", "!", "?", ";", ":", "—", "–")
HOLD_AFTER_LAST_WORD = 0.3  # seconds a chunk stays up after its last word ends (unless the next one starts)
MAX_GAP = 0.6  # a pause longer than this starts a new chunk


@dataclass(frozen=True)
class CaptionChunk:
    words: tuple[WordTiming, ...]
    window: int  # index of the scene window the chunk belongs to
    start: float
    end: float

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


@dataclass(frozen=True)
class CaptionFile:
    path: str
    fonts_dir: str
    font_path: str
    font_name: str
    font_size: int
    band: Box
    chunks: tuple[CaptionChunk, ...]
    breaks: tuple[int | None, ...] = ()  # per chunk: first word of the second line, if it has one


# ------------------------------------------------------------------------------------------- chunking


def window_of(voice: VoiceTrack, t: float) -> int:
    """Index of the scene window containing time ``t`` (clamped to the first/last window)."""
    starts = [w.start for w in voice.windows]
    return max(0, min(len(starts) - 1, bisect.bisect_right(starts, t + 1e-6) - 1))


def _runs(voice: VoiceTrack) -> list[tuple[int, list[WordTiming]]]:
    """Split the word stream where a chunk may never continue: scene cuts, punctuation, long pauses."""
    runs: list[tuple[int, list[WordTiming]]] = []
    prev: WordTiming | None = None
    for w in voice.words:
        if not w.word.strip():
            continue
        win = window_of(voice, w.start)
        new = (
            prev is None
            or win != runs[-1][0]
            or prev.word.rstrip("\"'”’)").endswith(BREAK_AFTER)
            or w.start - prev.end > MAX_GAP
        )
        if new:
            runs.append((win, [w]))
        else:
            runs[-1][1].append(w)
        prev = w
    return runs


def _balanced(words: list[WordTiming], max_words: int) -> list[list[WordTiming]]:
    """4 words → 2+2 rather than 3+1: a lone trailing word flashes by too fast to read."""
    n = len(words)
    parts = -(-n // max_words)
    out, i = [], 0
    for k in range(parts):
        size = n // parts + (1 if k < n % parts else 0)
        out.append(words[i : i + size])
        i += size
    return out


def chunk_words(voice: VoiceTrack, max_words: int = MAX_WORDS) -> list[CaptionChunk]:
    groups = [(win, g) for win, run in _runs(voice) for g in _balanced(run, max_words)]
    chunks: list[CaptionChunk] = []
    for k, (win, words) in enumerate(groups):
        window_end = voice.windows[win].end if voice.windows else voice.duration
        end = words[-1].end + HOLD_AFTER_LAST_WORD
        if k + 1 < len(groups):
            end = min(end, groups[k + 1][1][0].start)
        end = min(end, window_end)
        end = max(end, words[-1].start + 0.05)
        chunks.append(CaptionChunk(tuple(words), win, words[0].start, end))
    return chunks


# -------------------------------------------------------------------------------------------- fonts


def font_full_name(path: str) -> str:
    """Full font name (name ID 4) from the sfnt ``name`` table. libass matches it exactly, which pins the
    weight (e.g. "Open Sans ExtraBold") where a family name would let fontconfig pick Regular."""
    try:
        data = Path(path).read_bytes()
        num = struct.unpack(">H", data[4:6])[0]
        for i in range(num):
            tag, _sum, off, _len = struct.unpack(">4sIII", data[12 + 16 * i : 28 + 16 * i])
            if tag == b"name":
                return _name_record(data, off, 4) or _fallback_name(path)
    except (OSError, struct.error):
        pass
    return _fallback_name(path)


def _name_record(data: bytes, table: int, name_id: int) -> str | None:
    _fmt, count, str_off = struct.unpack(">HHH", data[table : table + 6])
    mac: str | None = None
    for i in range(count):
        rec = table + 6 + 12 * i
        plat, _enc, lang, nid, length, off = struct.unpack(">6H", data[rec : rec + 12])
        if nid != name_id:
            continue
        raw = data[table + str_off + off : table + str_off + off + length]
        if plat == 3 and lang in (0x409, 0):
            return raw.decode("utf-16-be", errors="ignore")
        if plat == 1 and mac is None:
            mac = raw.decode("mac_roman", errors="ignore")
    return mac


def _fallback_name(path: str) -> str:
    family, sub = ImageFont.truetype(path, 10).getname()
    return family if (sub or "").lower() in ("", "regular") else f"{family} {sub}"


def em_per_ass_size(font_path: str) -> float:
    """libass sizes a font so that its ascender+descender equals the ASS Fontsize (VSFilter behaviour),
    whereas Pillow sizes by the em. Ratio em/ASS-size, for measuring with Pillow."""
    ascent, descent = load_font(font_path, 1000).getmetrics()
    return 1000 / max(1, ascent + descent)


# ------------------------------------------------------------------------------------------- styling


@dataclass(frozen=True)
class CaptionLook:
    text: RGB
    highlight: RGB
    outline: RGB
    outline_k: float  # outline width as a fraction of the font size
    shadow_k: float
    shadow_alpha: float
    upper: bool


def caption_look(style: StyleSpec, pal: Palette) -> CaptionLook:
    upper = style.headline_case == "upper"
    if style.background_kind == "clean_paper" and luminance(pal.background) > 0.5:
        # On paper a dark word with a thin paper-coloured keyline reads cleaner than a heavy black outline.
        return CaptionLook(pal.text, pal.accent, pal.background, 0.06, 0.0, 0.0, upper)
    text = pal.text if luminance(pal.text) > 0.6 else (255, 255, 255)
    highlight = pal.accent
    if luminance(pal.accent) < 0.12:  # an accent too dark to pop against the black outline
        highlight = (255, 214, 0)
    return CaptionLook(text, highlight, (0, 0, 0), 0.1, 0.05, 0.55, upper)


def ass_color(c: RGB, alpha: float = 0.0) -> str:
    """ASS colours are &HAABBGGRR with alpha 00 = opaque."""
    return f"&H{round(alpha * 255):02X}{c[2]:02X}{c[1]:02X}{c[0]:02X}"


def ass_time(t: float) -> str:
    cs = max(0, round(t * 100))
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, cs = divmod(rem, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _clean(word: str) -> str:
    # Braces open ASS override blocks and backslashes start tags: neither may reach libass from user copy.
    return word.replace("{", "(").replace("}", ")").replace("\\", "/")


@dataclass(frozen=True)
class CaptionFit:
    size: int  # ASS font size, the same for every chunk
    breaks: tuple[int | None, ...]  # per chunk: index of the first word on a second line, or None


def _best_break(words: list[str], font: FreeTypeFont) -> tuple[int, int]:
    """(split index, width of the wider line) of the most balanced two-line split."""
    options = [
        (max(text_width(font, " ".join(words[:k])), text_width(font, " ".join(words[k:]))), k)
        for k in range(1, len(words))
    ]
    width, k = min(options)
    return k, width


def _fit_at(
    chunks: list[list[str]], font: FreeTypeFont, limit: float, allow_two: bool, max_two: int
) -> tuple[int | None, ...] | None:
    breaks: list[int | None] = []
    for words in chunks:
        if text_width(font, " ".join(words)) <= limit:
            breaks.append(None)
            continue
        if not allow_two or len(words) < 2:
            return None
        k, width = _best_break(words, font)
        if width > limit:
            return None
        breaks.append(k)
    return tuple(breaks) if sum(b is not None for b in breaks) <= max_two else None


def fit_caption_size(
    chunks: list[list[str]], font_path: str, band: Box, size: tuple[int, int], look: CaptionLook
) -> CaptionFit:
    """Largest uniform ASS font size at which every chunk fits the band width (outline included).

    One long outlier chunk ("ORDINARY ECOWATER BOTTLE") would otherwise shrink every caption of the ad, so
    up to a quarter of the chunks (at least two) may break onto a second, balanced line when the band is tall enough —
    used only if it buys a clearly larger size than the all-one-line fit."""
    cap = min(round(band.h * 0.62), round(min(size) * 0.085))
    em_k = em_per_ass_size(font_path)
    max_two = max(2, len(chunks) // 4)

    def search(allow_two: bool) -> CaptionFit | None:
        for s in range(cap, 11, -1):
            font = load_font(font_path, max(1, round(s * em_k)))
            # 0.92: libass hinting/kerning can differ slightly from FreeType-in-Pillow measurement.
            limit = band.w * 0.92 - 2 * s * look.outline_k
            two_fit = allow_two and 2 * s * (1 + look.outline_k) + s * look.shadow_k <= band.h * 0.95
            breaks = _fit_at(chunks, font, limit, two_fit, max_two if allow_two else 0)
            if breaks is not None:
                return CaptionFit(s, breaks)
        return None

    one = search(False) or CaptionFit(12, tuple(None for _ in chunks))
    if one.size >= 0.85 * cap:
        return one
    two = search(True)
    return two if two and two.size > one.size * 1.1 else one


def build_captions(
    voice: VoiceTrack, style: StyleSpec, palette: Palette, size: tuple[int, int], work_dir: str
) -> CaptionFile:
    """Write ``captions.ass`` (and a one-font fonts dir for libass) into ``work_dir``."""
    work = Path(work_dir)
    fonts_dir = work / "fonts"
    fonts_dir.mkdir(parents=True, exist_ok=True)
    font_path = resolve_font(style.caption_fonts)
    # A private fonts dir holding just the caption face: libass loads it without scanning system fonts.
    local_font = fonts_dir / Path(font_path).name
    if not local_font.exists():
        shutil.copyfile(font_path, local_font)
    look = caption_look(style, palette)
    chunks = chunk_words(voice)
    band = caption_band(size)
    fit = fit_caption_size([[_case(w.word, look) for w in c.words] for c in chunks], font_path, band, size, look)
    name = font_full_name(font_path)
    path = work / "captions.ass"
    path.write_text(_ass_document(chunks, fit, look, name, band, size), encoding="utf-8")
    return CaptionFile(str(path), str(fonts_dir), font_path, name, fit.size, band, tuple(chunks), fit.breaks)


def _case(text: str, look: CaptionLook) -> str:
    return text.upper() if look.upper else text


def _ass_document(
    chunks: list[CaptionChunk], fit: CaptionFit, look: CaptionLook, font: str, band: Box, size: tuple[int, int]
) -> str:
    w, h = size
    fsize = fit.size
    outline = round(fsize * look.outline_k, 1)
    shadow = round(fsize * look.shadow_k, 1)
    head = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {w}",
        f"PlayResY: {h}",
        "WrapStyle: 2",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        f"Style: Caption,{font},{fsize},{ass_color(look.text)},{ass_color(look.highlight)},{ass_color(look.outline)},"
        f"{ass_color((0, 0, 0), 1 - look.shadow_alpha)},0,0,0,0,100,100,0,0,1,{outline},{shadow},5,0,0,0,1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    pos = f"\\an5\\pos({round(band.cx)},{round(band.cy)})"
    lines = list(head)
    for chunk, brk in zip(chunks, fit.breaks, strict=True):
        for j, word in enumerate(chunk.words):
            start = word.start
            end = chunk.words[j + 1].start if j + 1 < len(chunk.words) else chunk.end
            # The chunk pops in (scale 86→100 %) on its first word only; later words just move the highlight.
            pop = "\\fscx86\\fscy86\\t(0,90,\\fscx100\\fscy100)" if j == 0 else ""
            body = "".join(
                ("\\N" if k == brk else " " if k else "")
                + (f"{{\\1c{ass_color(look.highlight)}}}" if k == j else f"{{\\1c{ass_color(look.text)}}}")
                + _clean(_case(w.word, look))
                for k, w in enumerate(chunk.words)
            )
            lines.append(f"Dialogue: 0,{ass_time(start)},{ass_time(end)},Caption,,0,0,0,,{{{pos}{pop}}}{body}")
    return "\n".join(lines) + "\n"


def escape_filter_path(path: str) -> str:
    """Quote a path for a filtergraph option value (single quotes; a literal quote is closed-escaped)."""
    return "'" + path.replace("\\", "/").replace("'", "'\\''") + "'"


def ass_filter(captions: CaptionFile) -> str:
    return f"ass=filename={escape_filter_path(captions.path)}:fontsdir={escape_filter_path(captions.fonts_dir)}"
