"""A stylised full-body character drawn from simple shapes, in any pose, at any scale, any crop.

Geometry is in "head units": the figure is 8 units tall, y grows downward from the top of the head (0) to the
soles (8), x is 0 on the body's centre line. A pose is a set of absolute limb angles (0 = hanging straight
down, positive = swinging toward screen-right), so the same spec can be redrawn in a cycle of poses and
animated by ffmpeg as a short loop of stills. Drawing is supersampled 2× for clean edges; only the requested
window is painted, so a close-up of the face never allocates the whole 6-frame-tall figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from ..media.fonts import resolve_font
from .traits import RGB, CharacterSpec

SS = 2  # supersampling factor
HEIGHT_UNITS = 8.0
# Fraction of the figure height the canvas adds above the head (raised arms, hats) and at each side.
TOP_ROOM = 0.3
SIDE_ROOM = 0.5


@dataclass(frozen=True)
class Pose:
    l_upper: float = -0.16  # left arm (screen-left), shoulder→elbow
    l_lower: float = -0.06  # elbow→wrist
    r_upper: float = 0.16
    r_lower: float = 0.06
    l_thigh: float = -0.05
    l_shin: float = -0.02
    r_thigh: float = 0.05
    r_shin: float = 0.02
    lean: float = 0.0  # torso lean in radians (positive leans right)
    head_tilt: float = 0.0
    bounce: float = 0.0  # units the whole body is lifted (jumps, groove)
    crouch: float = 0.0  # units the hips drop (knees bend outward to match)
    mouth_open: float = 0.0  # 0..1 (singing)
    mic_at_mouth: bool = False


def shade(c: RGB, k: float) -> RGB:
    return (max(0, min(255, round(c[0] * k))), max(0, min(255, round(c[1] * k))), max(0, min(255, round(c[2] * k))))


def _outline(c: RGB) -> tuple[int, int, int, int]:
    d = shade(c, 0.45)
    return (d[0], d[1], d[2], 255)


class _Pen:
    """Maps figure units to canvas pixels and draws outlined shapes."""

    def __init__(self, img: Image.Image, scale: float, origin: tuple[float, float], pose: Pose) -> None:
        self.d = ImageDraw.Draw(img)
        self.s = scale
        self.ox, self.oy = origin  # pixel position of the point between the soles
        self.lift = pose.bounce
        self.line = max(1.0, 0.055 * scale)

    def p(self, x: float, y: float) -> tuple[float, float]:
        return (self.ox + x * self.s, self.oy + (y - HEIGHT_UNITS - self.lift) * self.s)

    def poly(self, pts: list[tuple[float, float]], fill: RGB, outline: bool = True) -> None:
        xy = [self.p(x, y) for x, y in pts]
        self.d.polygon(xy, fill=(*fill, 255), outline=_outline(fill) if outline else None,
                       width=round(self.line) if outline else 0)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: RGB, outline: bool = True) -> None:
        x0, y0 = self.p(cx - rx, cy - ry)
        x1, y1 = self.p(cx + rx, cy + ry)
        self.d.ellipse([x0, y0, x1, y1], fill=(*fill, 255), outline=_outline(fill) if outline else None,
                       width=round(self.line) if outline else 0)

    def capsule(self, a: tuple[float, float], b: tuple[float, float], r: float, fill: RGB) -> None:
        """A limb segment: a thick round-capped line, outlined by drawing a wider dark one first."""
        pa, pb = self.p(*a), self.p(*b)
        for width, col in ((2 * r * self.s + 2 * self.line, _outline(fill)), (2 * r * self.s, (*fill, 255))):
            self.d.line([pa, pb], fill=col, width=max(1, round(width)))
            rr = width / 2
            for q in (pa, pb):
                self.d.ellipse([q[0] - rr, q[1] - rr, q[0] + rr, q[1] + rr], fill=col)

    def rrect(self, x0: float, y0: float, x1: float, y1: float, radius: float, fill: RGB) -> None:
        a, b = self.p(x0, y0), self.p(x1, y1)
        self.d.rounded_rectangle([a[0], a[1], b[0], b[1]], radius=radius * self.s, fill=(*fill, 255),
                                 outline=_outline(fill), width=round(self.line))

    def seg(self, a: tuple[float, float], b: tuple[float, float], w: float, col: RGB, alpha: int = 255) -> None:
        self.d.line([self.p(*a), self.p(*b)], fill=(*col, alpha), width=max(1, round(w * self.s)))


def _limb(start: tuple[float, float], angle: float, length: float) -> tuple[float, float]:
    return (start[0] + math.sin(angle) * length, start[1] + math.cos(angle) * length)


@dataclass(frozen=True)
class Joints:
    head: tuple[float, float]
    l_sh: tuple[float, float]
    r_sh: tuple[float, float]
    l_el: tuple[float, float]
    r_el: tuple[float, float]
    l_wr: tuple[float, float]
    r_wr: tuple[float, float]
    l_hip: tuple[float, float]
    r_hip: tuple[float, float]
    l_kn: tuple[float, float]
    r_kn: tuple[float, float]
    l_ft: tuple[float, float]
    r_ft: tuple[float, float]
    waist_y: float
    hip_y: float


def joints(spec: CharacterSpec, pose: Pose) -> Joints:
    b = spec.build
    hip_y = 4.05 + pose.crouch
    lean = pose.lean
    # Leaning shifts the upper body sideways in proportion to height above the hips.
    def lx(y: float) -> float:
        return math.sin(lean) * (hip_y - y)

    sh_y = 1.5 + pose.crouch
    l_sh, r_sh = (-0.9 * b + lx(sh_y), sh_y), (0.9 * b + lx(sh_y), sh_y)
    l_el, r_el = _limb(l_sh, pose.l_upper, 1.35), _limb(r_sh, pose.r_upper, 1.35)
    l_wr, r_wr = _limb(l_el, pose.l_lower, 1.2), _limb(r_el, pose.r_lower, 1.2)
    l_hip, r_hip = (-0.4 * b, hip_y), (0.4 * b, hip_y)
    # Knees splay out when crouching so the feet stay planted.
    bend = math.acos(max(-1.0, min(1.0, 1 - pose.crouch / 1.95))) if pose.crouch > 0 else 0.0
    l_kn = _limb(l_hip, pose.l_thigh - bend, 1.95)
    r_kn = _limb(r_hip, pose.r_thigh + bend, 1.95)
    l_ft = _limb(l_kn, pose.l_shin + bend * 0.2, 1.95 - pose.crouch * 0.1)
    r_ft = _limb(r_kn, pose.r_shin - bend * 0.2, 1.95 - pose.crouch * 0.1)
    head = (lx(0.55 + pose.crouch) , 0.55 + pose.crouch)
    return Joints(head, l_sh, r_sh, l_el, r_el, l_wr, r_wr, l_hip, r_hip, l_kn, r_kn, l_ft, r_ft,
                  3.35 + pose.crouch, hip_y)


def figure_canvas(height_px: float) -> tuple[int, int, tuple[float, float]]:
    """Size of a canvas holding the whole figure at ``height_px`` and the soles' pixel position in it."""
    w = round(height_px * (1 + 2 * SIDE_ROOM) * 0.62)
    h = round(height_px * (1 + TOP_ROOM + 0.04))
    return w, h, (w / 2, h - height_px * 0.04)


def draw_figure(
    spec: CharacterSpec,
    pose: Pose,
    height_px: float,
    window: tuple[int, int, int, int] | None = None,
) -> Image.Image:
    """RGBA image of the figure ``height_px`` tall. ``window`` (x, y, w, h) crops the full canvas of
    ``figure_canvas(height_px)`` without painting what lies outside it."""
    full_w, full_h, (fx, fy) = figure_canvas(height_px)
    x0, y0, w, h = window if window is not None else (0, 0, full_w, full_h)
    # Supersampling buys smooth edges; on big close-up layers the edges are long and soft anyway, so the
    # factor drops with area to keep paint time flat.
    ss = SS if w * h <= 1_200_000 else 1.5 if w * h <= 3_000_000 else 1.25
    img = Image.new("RGBA", (round(w * ss), round(h * ss)), (0, 0, 0, 0))
    scale = height_px / HEIGHT_UNITS * ss
    pen = _Pen(img, scale, ((fx - x0) * ss, (fy - y0) * ss), pose)
    _paint(pen, spec, pose)
    return img.resize((w, h), Image.LANCZOS)


# --------------------------------------------------------------------------------------------------- painting

def _paint(pen: _Pen, spec: CharacterSpec, pose: Pose) -> None:
    j = joints(spec, pose)
    robot = spec.kind == "robot"
    if spec.has("cape"):
        col = spec.accessory_colors.get("cape", shade(spec.top, 0.7))
        pen.poly([(j.l_sh[0] + 0.1, j.l_sh[1]), (j.r_sh[0] - 0.1, j.r_sh[1]), (1.5, 6.4), (-1.5, 6.4)], col)
    if spec.has("backpack"):
        col = spec.accessory_colors.get("backpack", (90, 70, 50))
        pen.rrect(-0.8, 1.7, 0.8, 3.6, 0.25, col)
    if (spec.hair_style in ("long", "braids") or (spec.hair_style == "curly" and spec.feminine)) and not robot:
        _hair_back(pen, spec, j)
    _legs(pen, spec, pose, j)
    _torso(pen, spec, pose, j)
    if spec.has("guitar"):
        _arm(pen, spec, j.l_sh, j.l_el, j.l_wr)
        _guitar(pen, spec, j)
        _arm(pen, spec, j.r_sh, j.r_el, j.r_wr)
    elif spec.has("keytar"):
        _arm(pen, spec, j.l_sh, j.l_el, j.l_wr)
        _arm(pen, spec, j.r_sh, j.r_el, j.r_wr)
        _keytar(pen, spec, j)
    _head(pen, spec, pose, j)
    if not spec.has("guitar") and not spec.has("keytar"):
        _arm(pen, spec, j.l_sh, j.l_el, j.l_wr)
        _arm(pen, spec, j.r_sh, j.r_el, j.r_wr)
    _hand_props(pen, spec, pose, j)


def _sleeve(spec: CharacterSpec) -> tuple[RGB, float]:
    """Colour of the upper arm and how far down the arm the sleeve reaches (0..2 of upper+lower)."""
    if spec.kind == "robot":
        return spec.top, 2.0
    if spec.top_kind in ("tee", "vest", "dress") and spec.top_kind != "dress":
        return (spec.top if spec.top_kind == "tee" else spec.skin), 0.45 if spec.top_kind == "tee" else 0.0
    if spec.top_kind == "dress":
        return spec.skin, 0.0
    return spec.top, 1.9


def _arm(pen: _Pen, spec: CharacterSpec, sh: tuple[float, float], el: tuple[float, float],
         wr: tuple[float, float]) -> None:
    sleeve, reach = _sleeve(spec)
    skin = spec.skin
    r = 0.26 * spec.build
    if spec.kind == "robot":
        joint = shade(spec.skin, 0.55)
        pen.capsule(sh, el, r * 0.85, spec.top)
        pen.capsule(el, wr, r * 0.75, spec.top)
        pen.ellipse(el[0], el[1], r * 0.7, r * 0.7, joint)
        pen.ellipse(sh[0], sh[1], r * 1.05, r * 1.05, shade(spec.top, 0.85))
        _hand(pen, wr, shade(spec.skin, 0.7), r * 0.95)
        return
    pen.capsule(sh, el, r, sleeve if reach > 0 else skin)
    if reach <= 0:
        pass
    elif reach < 1:  # short sleeve: skin below a cuff part-way down the upper arm
        cut = (sh[0] + (el[0] - sh[0]) * reach, sh[1] + (el[1] - sh[1]) * reach)
        pen.capsule(cut, el, r * 0.9, skin)
        pen.capsule(sh, cut, r * 1.02, sleeve)
    lower_col = sleeve if reach >= 1.9 else skin
    pen.capsule(el, wr, r * 0.9, lower_col)
    if reach >= 1.9:  # cuff
        cuff = (el[0] + (wr[0] - el[0]) * 0.85, el[1] + (wr[1] - el[1]) * 0.85)
        pen.capsule(cuff, wr, r * 0.95, shade(sleeve, 0.8))
    glove = spec.accessory_colors.get("gloves") if spec.has("gloves") else None
    _hand(pen, wr, glove or skin, r * 0.95)


def _hand(pen: _Pen, wr: tuple[float, float], col: RGB, r: float) -> None:
    pen.ellipse(wr[0], wr[1] + 0.05, r, r * 1.1, col)


def _legs(pen: _Pen, spec: CharacterSpec, pose: Pose, j: Joints) -> None:
    bottom = spec.bottom
    r = 0.32 * spec.build
    bare = spec.bottom_kind in ("skirt", "shorts", "dress")
    for hip, kn, foot in ((j.l_hip, j.l_kn, j.l_ft), (j.r_hip, j.r_kn, j.r_ft)):
        # The shin stops at the ankle so its round cap hides inside the shoe instead of poking out below.
        ft = (foot[0], foot[1] - 0.3)
        if spec.kind == "robot":
            pen.capsule(hip, kn, r * 0.85, spec.top)
            pen.capsule(kn, ft, r * 0.8, spec.top)
            pen.ellipse(kn[0], kn[1], r * 0.7, r * 0.7, shade(spec.skin, 0.55))
        else:
            thigh_col = spec.skin if spec.bottom_kind in ("skirt", "dress") else bottom
            shin_col = spec.skin if bare else bottom
            pen.capsule(hip, kn, r, thigh_col)
            pen.capsule(kn, ft, r * 0.88, shin_col)
            if spec.bottom_kind == "jeans":  # seam highlight
                pen.seg((kn[0] + 0.08, kn[1]), (ft[0] + 0.08, ft[1] - 0.1), 0.035, shade(bottom, 1.35), 200)
        _shoe(pen, spec, foot, -1 if foot[0] < 0 else 1)
    if spec.bottom_kind == "shorts":
        pen.poly([(-0.8 * spec.build, j.hip_y - 0.2), (0.8 * spec.build, j.hip_y - 0.2),
                  (j.r_kn[0] + 0.4, (j.hip_y + j.r_kn[1]) / 2 + 0.2), (0.05, j.hip_y + 0.55),
                  (j.l_kn[0] - 0.4, (j.hip_y + j.l_kn[1]) / 2 + 0.2)], bottom)


def _shoe(pen: _Pen, spec: CharacterSpec, ft: tuple[float, float], side: int) -> None:
    col = spec.shoes
    if spec.shoe_kind == "boots":
        pen.rrect(ft[0] - 0.32, ft[1] - 0.55, ft[0] + 0.32, ft[1] + 0.1, 0.12, col)
    x0, x1 = (ft[0] - 0.42, ft[0] + 0.3) if side < 0 else (ft[0] - 0.3, ft[0] + 0.42)
    pen.rrect(x0, ft[1] - 0.18, x1, ft[1] + 0.12, 0.14, col)
    if spec.shoe_kind == "sneakers":
        pen.seg((x0 + 0.05, ft[1] + 0.06), (x1 - 0.05, ft[1] + 0.06), 0.07, (236, 236, 232))


def _torso(pen: _Pen, spec: CharacterSpec, pose: Pose, j: Joints) -> None:
    b = spec.build
    sh_l, sh_r = j.l_sh, j.r_sh
    waist = 0.62 * b if not spec.feminine else 0.52 * b
    hip = 0.74 * b if not spec.feminine else 0.8 * b
    lean = math.sin(pose.lean) * (j.hip_y - j.waist_y)
    top = spec.top
    kind = spec.top_kind
    if kind == "robot":
        pen.rrect(sh_l[0] - 0.05, sh_l[1] - 0.2, sh_r[0] + 0.05, j.waist_y + 0.1, 0.35, top)
        pen.rrect(-hip + 0.1, j.waist_y - 0.1, hip - 0.1, j.hip_y + 0.25, 0.2, shade(top, 0.8))
        cx = (sh_l[0] + sh_r[0]) / 2
        pen.rrect(cx - 0.5, sh_l[1] + 0.35, cx + 0.5, sh_l[1] + 1.2, 0.12, shade(top, 0.72))
        glow = spec.accessory_colors.get("visor", (90, 220, 255))
        pen.ellipse(cx, sh_l[1] + 0.78, 0.22, 0.22, glow)
        for k in range(3):
            y = j.waist_y - 0.35 - k * 0.25
            pen.seg((cx - 0.55, y), (cx + 0.55, y), 0.04, shade(top, 0.6))
        return
    hem = j.hip_y + 0.2
    if kind in ("coat", "robe"):
        hem = j.hip_y + (2.2 if kind == "coat" else 3.4)
    body = [(sh_l[0], sh_l[1] - 0.05), (sh_r[0], sh_r[1] - 0.05), (waist + lean, j.waist_y), (hip, j.hip_y),
            (hip + (0.35 if kind in ("coat", "robe") else 0), hem),
            (-hip - (0.35 if kind in ("coat", "robe") else 0), hem), (-hip, j.hip_y), (-waist + lean, j.waist_y)]
    if kind == "dress":
        pen.poly(body[:4] + [(hip + 0.55, j.hip_y + 1.9), (-hip - 0.55, j.hip_y + 1.9)] + body[6:], top)
        pen.seg((-waist + lean, j.waist_y), (waist + lean, j.waist_y), 0.09, shade(top, 0.7))
        return
    pen.poly(body, top)
    cx = (sh_l[0] + sh_r[0]) / 2
    if kind in ("jacket", "coat", "suit"):
        inner = spec.trim if kind != "suit" else (236, 236, 232)
        pen.poly([(cx - 0.32, sh_l[1]), (cx + 0.32, sh_l[1]), (cx + 0.22 + lean, j.waist_y + 0.3),
                  (cx - 0.22 + lean, j.waist_y + 0.3)], inner, outline=False)
        lapel = shade(top, 0.78)
        pen.poly([(cx - 0.34, sh_l[1] - 0.02), (cx - 0.62, sh_l[1] + 0.25), (cx - 0.1, sh_l[1] + 1.25)], lapel)
        pen.poly([(cx + 0.34, sh_l[1] - 0.02), (cx + 0.62, sh_l[1] + 0.25), (cx + 0.1, sh_l[1] + 1.25)], lapel)
        if kind == "coat":
            pen.seg((-hip * 0.9, j.waist_y + 0.05), (hip * 0.9, j.waist_y + 0.05), 0.12, shade(top, 0.7))
        if kind == "suit" or spec.has("tie"):
            _tie(pen, spec, cx, sh_l[1], j.waist_y)
    elif kind == "hoodie":
        pen.poly([(cx - 0.55, sh_l[1] - 0.1), (cx + 0.55, sh_l[1] - 0.1), (cx + 0.3, sh_l[1] + 0.3),
                  (cx - 0.3, sh_l[1] + 0.3)], shade(top, 0.8))
        pen.rrect(cx - 0.55 + lean, j.waist_y - 0.05, cx + 0.55 + lean, j.waist_y + 0.55, 0.15, shade(top, 0.88))
        for dx in (-0.15, 0.15):
            pen.seg((cx + dx, sh_l[1] + 0.3), (cx + dx * 1.2, sh_l[1] + 1.0), 0.04, (236, 236, 232))
    elif kind == "sweater":
        pen.seg((-hip, j.hip_y + 0.05), (hip, j.hip_y + 0.05), 0.16, shade(top, 0.82))
        pen.ellipse(cx, sh_l[1] + 0.02, 0.36, 0.16, shade(top, 0.82))
    elif kind == "vest":
        pen.poly([(cx - 0.3, sh_l[1]), (cx + 0.3, sh_l[1]), (cx, sh_l[1] + 1.1)], spec.trim, outline=False)
    elif kind == "jumpsuit":
        pen.seg((cx, sh_l[1] + 0.1), (cx + lean, j.hip_y), 0.05, shade(top, 0.7))
        pen.seg((-waist + lean, j.waist_y + 0.1), (waist + lean, j.waist_y + 0.1), 0.12, shade(top, 0.75))
    if kind in ("tee", "sweater", "hoodie") and spec.has("tie"):
        _tie(pen, spec, cx, sh_l[1], j.waist_y)
    if spec.shirt_text:
        _chest_text(pen, spec, cx + lean * 0.5, (sh_l[1] + j.waist_y) / 2 + 0.1)
    if spec.bottom_kind in ("pants", "jeans") and kind not in ("coat", "robe"):
        belt = spec.accessory_colors.get("belt", (40, 32, 28))
        pen.seg((-hip + 0.02, j.hip_y + 0.1), (hip - 0.02, j.hip_y + 0.1), 0.14, belt)
    if spec.bottom_kind == "skirt":
        pen.poly([(-hip, j.hip_y), (hip, j.hip_y), (hip + 0.5, j.hip_y + 1.5), (-hip - 0.5, j.hip_y + 1.5)],
                 spec.bottom)


def _tie(pen: _Pen, spec: CharacterSpec, cx: float, top: float, waist: float) -> None:
    col = spec.accessory_colors.get("tie", (160, 30, 40))
    pen.poly([(cx - 0.1, top + 0.05), (cx + 0.1, top + 0.05), (cx + 0.16, waist - 0.2), (cx, waist + 0.05),
              (cx - 0.16, waist - 0.2)], col)


def _chest_text(pen: _Pen, spec: CharacterSpec, cx: float, cy: float) -> None:
    text = spec.shirt_text or ""
    path = resolve_font(("Lato-Black.ttf", "DejaVuSans-Bold.ttf"))
    size = max(6, round(0.42 * pen.s))
    font = ImageFont.truetype(path, size)
    # Fit the word across the chest (about 1.2 units wide at build 1.0), shrinking long words.
    width = font.getlength(text)
    limit = 1.2 * spec.build * pen.s
    if width > limit:
        font = ImageFont.truetype(path, max(6, int(size * limit / width)))
    x, y = pen.p(cx, cy)
    pen.d.text((x, y), text, font=font, fill=(*spec.trim, 255), anchor="mm")


def _hair_back(pen: _Pen, spec: CharacterSpec, j: Joints) -> None:
    hx, hy = j.head
    col = spec.hair
    if spec.hair_style == "curly":
        for k in range(9):
            a = math.pi * (0.1 + 0.8 * k / 8)
            pen.ellipse(hx - math.cos(a) * 0.62, hy + 0.35 + math.sin(a) * 0.5, 0.3, 0.3, col)
        return
    length = 2.3 if spec.hair_style == "long" else 2.6
    pen.poly([(hx - 0.62, hy - 0.2), (hx + 0.62, hy - 0.2), (hx + 0.72, hy + length - 0.3),
              (hx + 0.3, hy + length), (hx - 0.3, hy + length), (hx - 0.72, hy + length - 0.3)], col)
    if spec.hair_style == "braids":
        for dx in (-0.55, 0.55):
            for k in range(5):
                pen.ellipse(hx + dx, hy + 0.6 + k * 0.38, 0.16, 0.2, shade(col, 0.9))


def _head(pen: _Pen, spec: CharacterSpec, pose: Pose, j: Joints) -> None:
    hx, hy = j.head
    # Neck first, under the head.
    neck_col = shade(spec.skin, 0.55) if spec.kind == "robot" else shade(spec.skin, 0.92)
    pen.capsule((hx * 0.6, hy + 0.45), (hx * 0.3, j.l_sh[1] - 0.05), 0.2, neck_col)
    if spec.has("scarf"):
        col = spec.accessory_colors.get("scarf", (200, 40, 50))
        pen.rrect(hx - 0.55, j.l_sh[1] - 0.35, hx + 0.55, j.l_sh[1] + 0.05, 0.18, col)
        pen.poly([(hx + 0.15, j.l_sh[1] - 0.1), (hx + 0.45, j.l_sh[1] - 0.05), (hx + 0.5, j.l_sh[1] + 1.1),
                  (hx + 0.2, j.l_sh[1] + 1.05)], shade(col, 0.9))
    if spec.has("chain"):
        col = spec.accessory_colors.get("chain", (218, 172, 62))
        for k in range(9):
            a = math.pi * (0.15 + 0.7 * k / 8)
            pen.ellipse(hx - math.cos(a) * 0.45, j.l_sh[1] + math.sin(a) * 0.55, 0.07, 0.07, col)
    if spec.kind == "robot":
        _robot_head(pen, spec, hx, hy)
        return
    tilt = pose.head_tilt
    rx, ry = (0.5, 0.56) if spec.kind != "alien" else (0.58, 0.62)
    if spec.hair_style == "afro":
        pen.ellipse(hx, hy - 0.25, 0.9, 0.78, spec.hair)
    if spec.hair_style == "bun":
        pen.ellipse(hx, hy - 0.72, 0.3, 0.26, spec.hair)
    if spec.hair_style == "ponytail":
        pen.poly([(hx + 0.35, hy - 0.35), (hx + 0.95, hy + 0.1), (hx + 0.85, hy + 1.1), (hx + 0.5, hy + 0.2)],
                 spec.hair)
    for side in (-1, 1):  # ears
        pen.ellipse(hx + side * rx * 0.98, hy + 0.05, 0.11, 0.16, shade(spec.skin, 0.95))
    pen.ellipse(hx, hy, rx, ry, spec.skin)
    _face(pen, spec, pose, hx + tilt * 0.3, hy)
    _hair_front(pen, spec, hx, hy, rx, ry)
    _headwear(pen, spec, hx, hy, rx, ry)


def _face(pen: _Pen, spec: CharacterSpec, pose: Pose, hx: float, hy: float) -> None:
    eye_y = hy + 0.02
    ink = (34, 26, 24)
    if spec.kind == "alien":
        for side in (-1, 1):
            pen.ellipse(hx + side * 0.22, eye_y, 0.16, 0.22, (16, 16, 20), outline=False)
        return
    if spec.has("sunglasses"):
        col = spec.accessory_colors.get("sunglasses", (20, 20, 24))
        for side in (-1, 1):
            pen.rrect(hx + side * 0.22 - 0.17, eye_y - 0.1, hx + side * 0.22 + 0.17, eye_y + 0.12, 0.06, col)
        pen.seg((hx - 0.06, eye_y - 0.04), (hx + 0.06, eye_y - 0.04), 0.04, col)
    else:
        for side in (-1, 1):
            pen.ellipse(hx + side * 0.2, eye_y, 0.075, 0.09, (250, 250, 248), outline=False)
            pen.ellipse(hx + side * 0.2, eye_y + 0.01, 0.05, 0.06, ink, outline=False)
            pen.seg((hx + side * 0.3, eye_y - 0.16), (hx + side * 0.1, eye_y - 0.18), 0.045, shade(spec.hair, 0.8))
        if spec.has("glasses"):
            col = spec.accessory_colors.get("glasses", (30, 30, 34))
            for side in (-1, 1):
                x0, y0 = pen.p(hx + side * 0.2 - 0.15, eye_y - 0.13)
                x1, y1 = pen.p(hx + side * 0.2 + 0.15, eye_y + 0.13)
                pen.d.ellipse([x0, y0, x1, y1], outline=(*col, 255), width=max(1, round(0.04 * pen.s)))
    nose = shade(spec.skin, 0.82)
    pen.seg((hx + 0.02, eye_y + 0.08), (hx + 0.05, eye_y + 0.2), 0.04, nose)
    mouth_y = hy + 0.33
    if pose.mouth_open > 0.05:
        pen.ellipse(hx, mouth_y, 0.1, 0.04 + 0.08 * pose.mouth_open, (90, 30, 36), outline=False)
    else:
        x0, y0 = pen.p(hx - 0.14, mouth_y - 0.08)
        x1, y1 = pen.p(hx + 0.14, mouth_y + 0.06)
        pen.d.arc([x0, y0, x1, y1], 20, 160, fill=(120, 50, 50, 255), width=max(1, round(0.04 * pen.s)))
    if spec.feminine and not spec.has("sunglasses"):
        for side in (-1, 1):
            pen.ellipse(hx + side * 0.3, hy + 0.2, 0.08, 0.05, shade(spec.skin, 0.9), outline=False)


def _hair_front(pen: _Pen, spec: CharacterSpec, hx: float, hy: float, rx: float, ry: float) -> None:
    style, col = spec.hair_style, spec.hair
    if style == "bald" or spec.kind == "alien":
        return
    if style == "mohawk":
        pen.poly([(hx - 0.12, hy - 0.45), (hx - 0.05, hy - 1.05), (hx + 0.05, hy - 1.1), (hx + 0.12, hy - 0.45)], col)
        return
    if style == "curly" or style == "afro":
        for k in range(7):
            a = math.pi * (1.05 + 0.9 * k / 6)
            pen.ellipse(hx + math.cos(a) * rx * 0.85, hy - 0.15 + math.sin(a) * ry * 0.85, 0.22, 0.2, col)
        return
    # Short, bob, long, ponytail, bun, braids: a cap over the crown with a side-swept fringe.
    pen.poly([(hx - rx - 0.04, hy + 0.05), (hx - rx * 0.9, hy - 0.45), (hx - 0.2, hy - ry - 0.1),
              (hx + 0.35, hy - ry - 0.06), (hx + rx * 0.95, hy - 0.4), (hx + rx + 0.04, hy + 0.05),
              (hx + rx * 0.6, hy - 0.22), (hx + 0.05, hy - 0.3), (hx - rx * 0.55, hy - 0.12)], col)
    if style == "bob":
        for side in (-1, 1):
            pen.poly([(hx + side * (rx + 0.05), hy - 0.1), (hx + side * (rx + 0.12), hy + 0.55),
                      (hx + side * (rx - 0.12), hy + 0.55), (hx + side * (rx - 0.1), hy)], col)


def _headwear(pen: _Pen, spec: CharacterSpec, hx: float, hy: float, rx: float, ry: float) -> None:
    if spec.has("headphones"):
        col = spec.accessory_colors.get("headphones", (30, 30, 34))
        x0, y0 = pen.p(hx - rx - 0.08, hy - ry - 0.12)
        x1, y1 = pen.p(hx + rx + 0.08, hy + 0.4)
        pen.d.arc([x0, y0, x1, y1], 180, 360, fill=(*col, 255), width=max(2, round(0.11 * pen.s)))
        for side in (-1, 1):
            pen.rrect(hx + side * (rx + 0.02) - 0.14, hy - 0.15, hx + side * (rx + 0.02) + 0.14, hy + 0.3, 0.08, col)
    hat = next((h for h in ("fedora", "cowboy_hat", "hat", "cap", "beanie", "crown") if spec.has(h)), None)
    if hat is None:
        return
    col = spec.accessory_colors.get(hat, (40, 36, 34) if hat != "crown" else (218, 172, 62))
    top = hy - ry
    if hat in ("fedora", "hat", "cowboy_hat"):
        brim = 0.95 if hat != "cowboy_hat" else 1.15
        pen.ellipse(hx, top + 0.22, brim, 0.16, shade(col, 0.9))
        pen.poly([(hx - 0.5, top + 0.2), (hx - 0.44, top - 0.42), (hx, top - 0.34), (hx + 0.44, top - 0.42),
                  (hx + 0.5, top + 0.2)], col)
        pen.seg((hx - 0.5, top + 0.08), (hx + 0.5, top + 0.08), 0.1, shade(col, 0.55))
    elif hat == "cap":
        pen.poly([(hx - rx, top + 0.3), (hx - rx * 0.8, top - 0.08), (hx + rx * 0.8, top - 0.08), (hx + rx, top + 0.3)],
                 col)
        pen.ellipse(hx + 0.35, top + 0.3, 0.55, 0.1, shade(col, 0.85))
    elif hat == "beanie":
        pen.poly([(hx - rx - 0.03, top + 0.35), (hx - rx * 0.7, top - 0.2), (hx + rx * 0.7, top - 0.2),
                  (hx + rx + 0.03, top + 0.35)], col)
        pen.seg((hx - rx - 0.03, top + 0.3), (hx + rx + 0.03, top + 0.3), 0.14, shade(col, 0.8))
    elif hat == "crown":
        pts = [(hx - 0.42, top + 0.15)]
        for k in range(5):
            x = hx - 0.42 + k * 0.21
            pts += [(x, top - 0.35 if k % 2 == 0 else top - 0.12)]
        pts += [(hx + 0.42, top - 0.35), (hx + 0.42, top + 0.15)]
        pen.poly(pts, col)


def _robot_head(pen: _Pen, spec: CharacterSpec, hx: float, hy: float) -> None:
    shell = spec.skin
    pen.rrect(hx - 0.55, hy - 0.6, hx + 0.55, hy + 0.52, 0.22, shell)
    glow = spec.accessory_colors.get("visor", (90, 220, 255))
    pen.rrect(hx - 0.42, hy - 0.2, hx + 0.42, hy + 0.12, 0.12, (20, 24, 34))
    for side in (-1, 1):
        pen.ellipse(hx + side * 0.2, hy - 0.04, 0.1, 0.08, glow, outline=False)
        pen.rrect(hx + side * 0.56 - 0.08, hy - 0.2, hx + side * 0.56 + 0.08, hy + 0.2, 0.05, shade(shell, 0.7))
    for k in range(4):
        pen.seg((hx - 0.2 + k * 0.13, hy + 0.28), (hx - 0.2 + k * 0.13, hy + 0.4), 0.035, shade(shell, 0.55))
    if spec.has("antenna"):
        pen.seg((hx, hy - 0.6), (hx, hy - 0.95), 0.05, shade(shell, 0.6))
        pen.ellipse(hx, hy - 0.98, 0.09, 0.09, glow)
    pen.seg((hx - 0.4, hy - 0.45), (hx + 0.1, hy - 0.45), 0.05, shade(shell, 1.25), 180)  # specular glint


def _guitar(pen: _Pen, spec: CharacterSpec, j: Joints) -> None:
    col = spec.accessory_colors.get("guitar", (176, 40, 36))
    cx, cy = j.r_hip[0] - 0.25, j.hip_y - 0.25
    # The neck points at the fretting hand, so arm and instrument always meet whatever the pose.
    nx, ny = j.l_wr[0], j.l_wr[1]
    ang = math.atan2(ny - cy, nx - cx)
    ux, uy = math.cos(ang), math.sin(ang)
    ex, ey = cx + ux * 3.0, cy + uy * 3.0
    pen.capsule((cx, cy), (ex, ey), 0.1, (110, 72, 40))
    pen.capsule((ex, ey), (ex + ux * 0.4, ey + uy * 0.4), 0.15, (40, 30, 26))
    # Body: a big lower bout and a smaller upper bout along the neck axis, joined at the waist.
    pen.ellipse(cx, cy, 0.68, 0.68, col)
    pen.ellipse(cx + ux * 0.72, cy + uy * 0.72, 0.5, 0.5, col)
    pen.ellipse(cx + ux * 0.36, cy + uy * 0.36, 0.5, 0.5, col, outline=False)
    pen.ellipse(cx + ux * 0.55, cy + uy * 0.55, 0.17, 0.17, (24, 18, 16), outline=False)
    bx, by = cx - ux * 0.25, cy - uy * 0.25
    pen.seg((bx - uy * 0.25, by + ux * 0.25), (bx + uy * 0.25, by - ux * 0.25), 0.09, (40, 30, 26))
    for off in (-0.05, 0.05):
        pen.seg((bx - uy * off, by + ux * off), (ex - uy * off, ey + ux * off), 0.018, (235, 235, 228), 210)


def _keytar(pen: _Pen, spec: CharacterSpec, j: Joints) -> None:
    col = spec.accessory_colors.get("keytar", (230, 230, 236))
    y = j.waist_y + 0.1
    pen.poly([(-1.4, y - 0.2), (1.2, y - 0.45), (1.3, y + 0.15), (-1.3, y + 0.4)], col)
    for k in range(10):
        x = -1.1 + k * 0.2
        pen.seg((x, y - 0.1 - 0.025 * k), (x, y + 0.2 - 0.025 * k), 0.03, (30, 30, 34))


def _hand_props(pen: _Pen, spec: CharacterSpec, pose: Pose, j: Joints) -> None:
    if spec.has("microphone") and not spec.has("guitar"):
        wx, wy = j.r_wr
        hx, hy = j.head
        ang = math.atan2((hy + 0.3) - wy, hx - wx) if pose.mic_at_mouth else -math.pi / 2
        tip = (wx + math.cos(ang) * 0.55, wy + math.sin(ang) * 0.55)
        pen.capsule((wx, wy), tip, 0.07, (30, 30, 34))
        pen.ellipse(tip[0], tip[1], 0.15, 0.15, (150, 154, 160))
    if spec.has("drumsticks"):
        for wr, a in ((j.l_wr, -2.4), (j.r_wr, 2.4)):
            pen.capsule(wr, (wr[0] + math.sin(a) * 1.2, wr[1] + math.cos(a) * 1.2), 0.04, (214, 180, 120))
    if spec.has("umbrella"):
        col = spec.accessory_colors.get("umbrella", (30, 30, 34))
        wx, wy = j.l_wr
        pen.seg((wx, wy + 0.2), (wx, wy - 2.2), 0.05, (60, 50, 40))
        x0, y0 = pen.p(wx - 1.5, wy - 3.1)
        x1, y1 = pen.p(wx + 1.5, wy - 1.3)
        pen.d.pieslice([x0, y0, x1, y1], 180, 360, fill=(*col, 255), outline=_outline(col), width=round(pen.line))


