"""Location backdrops for scene clips, chosen from the prompt's place words and painted once per clip.

Each painter returns the background still (oversized: the camera pans across it) with its horizon placed at
``ground_y`` so the character stands on the floor, plus optional moving layers the clip renderer animates:
light beams that sweep, a crowd that bounces, rain that falls. Palettes come from the flavor's look; the
time of day (night, sunset, twilight, day) comes from the prompt.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from ..media.paint import linear_gradient, mix, radial_gradient
from .look import Look
from .traits import RGB


@dataclass
class Backdrop:
    image: Image.Image  # RGB, oversized
    ground_y: int  # px in ``image``
    beams: Image.Image | None = None  # RGBA, same width as the frame + sweep room
    crowd: Image.Image | None = None  # RGBA strip for the bottom of the frame
    rain: bool = False


def _sky(size: tuple[int, int], time: str, look: Look, horizon: int) -> Image.Image:
    tops = {"night": (8, 10, 26), "twilight": (24, 30, 72), "sunset": (52, 36, 92), "day": (92, 150, 214)}
    lows = {"night": (30, 34, 66), "twilight": (190, 96, 120), "sunset": (250, 150, 80), "day": (206, 226, 240)}
    top, low = tops[time], lows[time]
    top = mix(top, look.shadow, 0.3)
    w, h = size
    sky = linear_gradient((w, max(2, horizon)), top, low, 90)
    img = Image.new("RGB", size, low)
    img.paste(sky, (0, 0))
    return img


def _stars_or_sun(img: Image.Image, time: str, horizon: int, rng: random.Random) -> None:
    w, h = img.size
    d = ImageDraw.Draw(img)
    if time == "night":
        for _ in range(int(w * h / 9000)):
            x, y = rng.uniform(0, w), rng.uniform(0, horizon * 0.8)
            r = rng.choice((0.8, 1.0, 1.4))
            d.ellipse([x - r, y - r, x + r, y + r], fill=(220, 226, 255))
    elif time in ("sunset", "day"):
        cx, cy = w * rng.uniform(0.62, 0.8), horizon * (0.78 if time == "sunset" else 0.25)
        r = w * 0.045
        glow = Image.new("L", img.size, 0)
        ImageDraw.Draw(glow).ellipse([cx - r * 4, cy - r * 4, cx + r * 4, cy + r * 4], fill=120)
        glow = glow.filter(ImageFilter.GaussianBlur(r * 1.6))
        sun = (255, 214, 140) if time == "sunset" else (255, 250, 230)
        img.paste(Image.new("RGB", img.size, sun), (0, 0), glow)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=sun)


# ----------------------------------------------------------------------------------------------------- stage

def _stage(size: tuple[int, int], ground_y: int, look: Look, time: str, rng: random.Random) -> Backdrop:
    w, h = size
    time = time if time != "day" else "sunset"  # a stadium show in daylight reads as a rehearsal
    horizon = int(ground_y - h * 0.3)
    img = _sky(size, time, look, horizon)
    _stars_or_sun(img, time, horizon - int(h * 0.15), rng)
    d = ImageDraw.Draw(img)
    # Stadium bowl at the sides: dark tiers with rows of phone lights, fading into the distance.
    stands = mix(look.shadow, (0, 0, 0), 0.3)
    d.polygon([(0, horizon - h * 0.2), (w * 0.5, horizon - h * 0.06), (w, horizon - h * 0.2), (w, ground_y),
               (0, ground_y)], fill=stands)
    lights = (look.light, mix(look.accent, look.light, 0.6), mix(look.accent_alt, look.light, 0.6))
    for row in range(9):
        y_mid = horizon - h * 0.17 + row * (ground_y - horizon + h * 0.12) / 9
        d.line([(0, y_mid + h * 0.01), (w, y_mid + h * 0.01)], fill=mix(stands, look.base, 0.18), width=1)
        for _ in range(int(w / 40)):
            if rng.random() < 0.45:
                x = rng.uniform(0, w)
                r = rng.uniform(0.7, 1.5)
                col = mix(rng.choice(lights), stands, rng.uniform(0.0, 0.6))
                d.ellipse([x - r, y_mid - r, x + r, y_mid + r], fill=col)
    # Stage: roof truss on two towers, a big LED wall behind the band, side screens, the deck.
    sx0, sx1 = w * 0.2, w * 0.8
    roof = horizon - h * 0.3
    truss = mix(look.shadow, look.base, 0.4)
    led = linear_gradient((round(sx1 - sx0), round(ground_y - roof)), mix(look.accent, look.shadow, 0.35),
                          mix(look.accent_alt, look.shadow, 0.45), 90 + rng.uniform(-30, 30))
    ld = ImageDraw.Draw(led)
    lw, lh = led.size
    cx, cy = lw * rng.uniform(0.35, 0.65), lh * 0.45
    for k in range(14):  # a burst of light rays on the wall: the show's graphics
        a = 2 * math.pi * k / 14 + rng.uniform(0, 0.2)
        ld.polygon([(cx, cy), (cx + math.cos(a) * lw, cy + math.sin(a) * lw),
                    (cx + math.cos(a + 0.12) * lw, cy + math.sin(a + 0.12) * lw)],
                   fill=mix(look.light, look.accent, 0.5) if k % 2 else mix(look.accent_alt, look.shadow, 0.3))
    led = led.filter(ImageFilter.GaussianBlur(max(1, lw * 0.006)))
    ld = ImageDraw.Draw(led)
    step = max(4, lw // 90)
    for x in range(0, lw, step):  # LED tile grid
        ld.line([(x, 0), (x, lh)], fill=(0, 0, 0), width=1)
    for y in range(0, lh, step):
        ld.line([(0, y), (lw, y)], fill=(0, 0, 0), width=1)
    img.paste(Image.blend(Image.new("RGB", led.size, look.shadow), led, 0.8), (round(sx0), round(roof)))
    d = ImageDraw.Draw(img)
    d.rectangle([sx0, roof, sx1, roof + h * 0.04], fill=truss)
    for k in range(30):
        x = sx0 + (sx1 - sx0) * k / 29
        d.line([(x, roof), (x + w * 0.01, roof + h * 0.04)], fill=mix(truss, look.light, 0.25), width=2)
    for x in (sx0 - w * 0.02, sx1):
        d.rectangle([x, roof, x + w * 0.02, ground_y], fill=truss)
    for side, col in ((-1, look.accent), (1, look.accent_alt)):
        scx = w / 2 + side * w * 0.39
        scr = [scx - w * 0.07, roof + h * 0.06, scx + w * 0.07, roof + h * 0.06 + w * 0.075]
        d.rectangle(scr, fill=mix(col, look.light, 0.15), outline=(10, 10, 14), width=max(2, w // 400))
    spill = Image.new("L", size, 0)
    ImageDraw.Draw(spill).ellipse([w * 0.25, ground_y - h * 0.25, w * 0.75, ground_y + h * 0.1], fill=120)
    img.paste(Image.new("RGB", size, mix(look.accent, look.light, 0.4)), (0, 0),
              spill.filter(ImageFilter.GaussianBlur(w * 0.05)))
    d = ImageDraw.Draw(img)
    deck = mix(look.shadow, look.base, 0.25)
    d.rectangle([0, ground_y, w, h], fill=deck)
    pools = Image.new("L", size, 0)
    pd = ImageDraw.Draw(pools)
    for k in range(5):  # light pools where the beams hit the deck
        px = w * (0.2 + 0.15 * k) + rng.uniform(-0.03, 0.03) * w
        pd.ellipse([px - w * 0.06, ground_y + h * 0.01, px + w * 0.06, ground_y + h * 0.09], fill=90)
    img.paste(Image.new("RGB", size, mix(look.accent_alt, look.light, 0.5)), (0, 0),
              pools.filter(ImageFilter.GaussianBlur(w * 0.015)))
    d = ImageDraw.Draw(img)
    d.line([(0, ground_y), (w, ground_y)], fill=mix(look.accent, look.light, 0.5), width=max(2, h // 250))
    for k in range(1, 9):  # deck boards in perspective
        x = w / 2 + (k - 4.5) * w * 0.08
        d.line([(x, ground_y), (w / 2 + (x - w / 2) * 3, h)], fill=mix(deck, look.shadow, 0.5), width=1)
    return Backdrop(img, ground_y, beams=_beams((w, h), ground_y, roof, look, rng), crowd=None)


def _beams(size: tuple[int, int], ground_y: int, roof: float, look: Look, rng: random.Random) -> Image.Image:
    w, h = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    cols = (look.accent, look.accent_alt, look.light)
    # Beams fade with distance from the fixture, as light through haze does.
    falloff = Image.linear_gradient("L").resize(size).point(lambda v: 255 - v)
    for k in range(6):
        beam = Image.new("L", size, 0)
        x = w * (0.24 + 0.52 * k / 5)
        spread = w * rng.uniform(0.04, 0.08)
        tx = x + rng.uniform(-0.3, 0.3) * w
        ImageDraw.Draw(beam).polygon([(x - 5, roof + h * 0.04), (x + 5, roof + h * 0.04),
                                      (tx + spread, h), (tx - spread, h)], fill=95)
        beam = ImageChops.multiply(beam.filter(ImageFilter.GaussianBlur(w * 0.008)), falloff)
        col = Image.new("RGBA", size, (*mix(cols[k % 3], (255, 255, 255), 0.3), 255))
        col.putalpha(beam)
        layer = Image.alpha_composite(layer, col)
    return layer


def crowd_strip(width: int, height: int, look: Look, rng: random.Random, *, blur: float = 0.0) -> Image.Image:
    """Backlit silhouettes of heads, shoulders and raised hands (some holding phone lights) across a strip."""
    shape = Image.new("L", (width, height), 0)
    d = ImageDraw.Draw(shape)
    phones: list[tuple[float, float, float]] = []
    x = -height * 0.2
    while x < width + height * 0.2:
        r = height * rng.uniform(0.1, 0.14)
        top = height * rng.uniform(0.3, 0.5)
        d.ellipse([x - r, top, x + r, top + 2.2 * r], fill=255)
        d.rounded_rectangle([x - r * 2.2, top + r * 1.9, x + r * 2.2, height + r], radius=r, fill=255)
        if rng.random() < 0.4:  # a raised arm
            side = rng.choice((-1, 1))
            hx, hy = x + side * r * rng.uniform(1.2, 2.4), top - r * rng.uniform(1.0, 2.6)
            d.line([(x + side * r * 1.6, top + r * 2.2), (hx, hy)], fill=255, width=max(2, round(r * 0.55)))
            d.ellipse([hx - r * 0.33, hy - r * 0.33, hx + r * 0.33, hy + r * 0.33], fill=255)
            if rng.random() < 0.5:
                phones.append((hx, hy - r * 0.45, r * 0.22))
        x += r * rng.uniform(2.2, 3.2)
    body = (*mix(look.shadow, (0, 0, 0), 0.55), 255)
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (width, height), body), (0, 0), shape)
    # Rim light from the stage: a bright band along the top edges of heads and hands.
    rim = ImageChops.subtract(shape, shape.transform(shape.size, Image.AFFINE, (1, 0, 0, 0, 1, -max(2, height // 40))))
    rim = rim.filter(ImageFilter.GaussianBlur(max(1, height / 160)))
    img.paste(Image.new("RGBA", (width, height), (*mix(look.accent, look.light, 0.35), 255)), (0, 0),
              rim.point(lambda v: min(255, v * 2)))
    pd = ImageDraw.Draw(img)
    for px, py, pr in phones:
        pd.rounded_rectangle([px - pr, py - pr * 1.5, px + pr, py + pr * 1.5], radius=pr * 0.3,
                             fill=(*mix(look.light, (255, 255, 255), 0.5), 255))
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    return img


# ------------------------------------------------------------------------------------------------------ city

def _city(size: tuple[int, int], ground_y: int, look: Look, time: str, rng: random.Random) -> Backdrop:
    w, h = size
    img = _sky(size, time, look, ground_y)
    _stars_or_sun(img, time, ground_y, rng)
    d = ImageDraw.Draw(img)
    night = time in ("night", "twilight")
    for layer, (shade_k, hmin, hmax) in enumerate(((0.55, 0.25, 0.5), (0.25, 0.15, 0.38))):
        base = mix(look.shadow, look.base, shade_k) if night else mix(look.base, (200, 205, 215), shade_k)
        x = -rng.uniform(0, w * 0.05)
        while x < w:
            bw = w * rng.uniform(0.05, 0.11)
            bh = h * rng.uniform(hmin, hmax)
            top = ground_y - bh
            d.rectangle([x, top, x + bw, ground_y], fill=base)
            if layer == 1:
                win = (255, 214, 140) if night else mix(base, (230, 240, 250), 0.5)
                for wy in range(int(top + h * 0.02), int(ground_y - h * 0.02), max(6, int(h * 0.03))):
                    for wx in range(int(x + bw * 0.12), int(x + bw * 0.88), max(6, int(w * 0.012))):
                        if rng.random() < (0.35 if night else 0.6):
                            d.rectangle([wx, wy, wx + w * 0.005, wy + h * 0.012], fill=win)
            x += bw + w * rng.uniform(0.0, 0.015)
    street = mix(look.shadow, (0, 0, 0), 0.3) if night else mix(look.base, (90, 90, 95), 0.5)
    d.rectangle([0, ground_y, w, h], fill=street)
    d.rectangle([0, ground_y, w, ground_y + h * 0.02], fill=mix(street, look.light, 0.25))
    for k in range(-4, 5):  # kerb and road lines converging on a vanishing point
        d.line([(w / 2 + k * w * 0.02, ground_y + h * 0.02), (w / 2 + k * w * 0.35, h)],
               fill=mix(street, look.base, 0.2), width=1)
    glow = Image.new("L", size, 0)
    gd = ImageDraw.Draw(glow)
    for k in range(3):  # street lamps
        lx = w * (0.15 + 0.35 * k) + rng.uniform(-0.04, 0.04) * w
        d.line([(lx, ground_y + h * 0.02), (lx, ground_y - h * 0.36)], fill=(20, 20, 24), width=max(2, w // 300))
        d.line([(lx, ground_y - h * 0.36), (lx + w * 0.03, ground_y - h * 0.36)], fill=(20, 20, 24),
               width=max(2, w // 300))
        if night:
            gd.ellipse([lx - w * 0.05, ground_y - h * 0.42, lx + w * 0.11, ground_y - h * 0.3], fill=140)
            gd.polygon([(lx + w * 0.03, ground_y - h * 0.35), (lx - w * 0.08, ground_y + h * 0.2),
                        (lx + w * 0.14, ground_y + h * 0.2)], fill=40)
    if night:
        sign = rng.choice((look.accent, look.accent_alt))
        nx, ny = w * rng.uniform(0.55, 0.8), ground_y - h * rng.uniform(0.3, 0.42)
        d.rounded_rectangle([nx, ny, nx + w * 0.09, ny + h * 0.05], radius=h * 0.01, outline=sign,
                            width=max(3, w // 250))
        gd.rounded_rectangle([nx - w * 0.02, ny - h * 0.03, nx + w * 0.11, ny + h * 0.08], radius=h * 0.02, fill=110)
        img.paste(Image.new("RGB", size, (255, 220, 160)), (0, 0), glow.filter(ImageFilter.GaussianBlur(w * 0.015)))
        # Wet street: blurred vertical reflections of the lights below the horizon.
        refl = img.crop((0, int(ground_y - h * 0.3), w, ground_y)).transpose(Image.FLIP_TOP_BOTTOM)
        refl = refl.resize((w, h - ground_y)).filter(ImageFilter.GaussianBlur(w * 0.006))
        img.paste(Image.blend(img.crop((0, ground_y, w, h)), refl, 0.35), (0, ground_y))
    return Backdrop(img, ground_y, rain=False)


# -------------------------------------------------------------------------------------------------- interior

def _interior(size: tuple[int, int], ground_y: int, look: Look, time: str, rng: random.Random) -> Backdrop:
    w, h = size
    wall = mix(look.base, look.light, 0.35) if time != "night" else mix(look.shadow, look.base, 0.6)
    img = radial_gradient(size, mix(wall, look.light, 0.25), mix(wall, look.shadow, 0.35), (0.5, 0.4), 0.8, 1.2)
    d = ImageDraw.Draw(img)
    # Window with blinds, light falling through it onto the wall.
    wx, wy = w * rng.uniform(0.12, 0.28), ground_y - h * 0.62
    ww, wh = w * 0.18, h * 0.34
    outside = (250, 220, 170) if time in ("sunset", "day") else (60, 70, 110)
    d.rectangle([wx, wy, wx + ww, wy + wh], fill=outside, outline=mix(wall, (0, 0, 0), 0.5), width=max(3, w // 300))
    for k in range(12):
        y = wy + wh * k / 12
        d.rectangle([wx, y, wx + ww, y + wh / 24], fill=mix(wall, (0, 0, 0), 0.25))
    shaft = Image.new("L", size, 0)
    sd = ImageDraw.Draw(shaft)
    for k in range(12):
        y0 = wy + wh * k / 12 + wh / 24
        sd.polygon([(wx + ww, y0), (wx + ww, y0 + wh / 24), (wx + ww + w * 0.5, y0 + wh / 24 + h * 0.35),
                    (wx + ww + w * 0.5, y0 + h * 0.35)], fill=60)
    img.paste(Image.new("RGB", size, mix(look.light, outside, 0.3)), (0, 0),
              shaft.filter(ImageFilter.GaussianBlur(w * 0.004)))
    d = ImageDraw.Draw(img)
    # A door frame and a framed picture give the room scale; a lamp gives it a warm practical.
    dx = w * rng.uniform(0.62, 0.78)
    d.rectangle([dx, ground_y - h * 0.55, dx + w * 0.11, ground_y], outline=mix(wall, (0, 0, 0), 0.45),
                width=max(4, w // 200))
    px = w * rng.uniform(0.4, 0.5)
    d.rectangle([px, ground_y - h * 0.55, px + w * 0.08, ground_y - h * 0.44], fill=mix(look.accent, wall, 0.4),
                outline=mix(wall, (0, 0, 0), 0.55), width=max(3, w // 300))
    lamp = Image.new("L", size, 0)
    lx = w * rng.choice((0.08, 0.9))
    ImageDraw.Draw(lamp).ellipse([lx - w * 0.08, ground_y - h * 0.45, lx + w * 0.08, ground_y - h * 0.15], fill=130)
    img.paste(Image.new("RGB", size, (255, 200, 130)), (0, 0), lamp.filter(ImageFilter.GaussianBlur(w * 0.03)))
    d = ImageDraw.Draw(img)
    floor = mix(look.shadow, (120, 84, 60), 0.4)
    d.rectangle([0, ground_y, w, h], fill=floor)
    d.rectangle([0, ground_y - h * 0.02, w, ground_y], fill=mix(wall, (0, 0, 0), 0.35))  # skirting board
    for k in range(-8, 9):
        d.line([(w / 2 + k * w * 0.06, ground_y), (w / 2 + k * w * 0.3, h)], fill=mix(floor, (0, 0, 0), 0.25), width=1)
    return Backdrop(img, ground_y)


# ----------------------------------------------------------------------------------------- beach and nature

def _beach(size: tuple[int, int], ground_y: int, look: Look, time: str, rng: random.Random) -> Backdrop:
    w, h = size
    horizon = int(ground_y - h * 0.12)
    img = _sky(size, time, look, horizon)
    _stars_or_sun(img, time, horizon, rng)
    d = ImageDraw.Draw(img)
    sea = mix((30, 90, 140), look.shadow, 0.5 if time == "night" else 0.1)
    d.rectangle([0, horizon, w, ground_y], fill=sea)
    for _ in range(int(w / 6)):
        x, y = rng.uniform(0, w), rng.uniform(horizon, ground_y)
        ln = w * rng.uniform(0.005, 0.02)
        d.line([(x, y), (x + ln, y)], fill=mix(sea, look.light, rng.uniform(0.3, 0.7)), width=1)
    sand = mix((222, 196, 150), look.shadow, 0.55 if time == "night" else 0.1)
    d.rectangle([0, ground_y, w, h], fill=sand)
    d.line([(0, ground_y), (w, ground_y)], fill=mix(sand, (255, 255, 255), 0.5), width=max(2, h // 200))
    return Backdrop(img, ground_y)


def _nature(size: tuple[int, int], ground_y: int, look: Look, time: str, rng: random.Random) -> Backdrop:
    w, h = size
    img = _sky(size, time, look, ground_y)
    _stars_or_sun(img, time, ground_y, rng)
    d = ImageDraw.Draw(img)
    dark = time == "night"
    for k, depth in enumerate((0.28, 0.18, 0.08)):
        col = mix(mix((70, 120, 80), look.base, 0.35), look.shadow, 0.7 if dark else 0.25 + 0.2 * (2 - k))
        pts = [(0, h)]
        for i in range(13):
            x = w * i / 12
            pts.append((x, ground_y - h * depth * (0.6 + 0.4 * math.sin(i * 1.3 + rng.uniform(0, 6)))))
        pts.append((w, h))
        d.polygon(pts, fill=col)
        if k == 2:
            for _ in range(9):  # trees on the nearest ridge
                tx = rng.uniform(0, w)
                ty = ground_y - h * rng.uniform(0.02, 0.08)
                tr = h * rng.uniform(0.05, 0.09)
                d.rectangle([tx - tr * 0.12, ty, tx + tr * 0.12, ty + tr * 1.2], fill=mix(col, (40, 30, 20), 0.5))
                d.ellipse([tx - tr, ty - tr * 1.6, tx + tr, ty + tr * 0.2], fill=mix(col, (20, 40, 20), 0.3))
    grass = mix((90, 130, 70), look.shadow, 0.65 if dark else 0.2)
    d.rectangle([0, ground_y, w, h], fill=grass)
    return Backdrop(img, ground_y)


def _studio(size: tuple[int, int], ground_y: int, look: Look, time: str, rng: random.Random) -> Backdrop:
    w, h = size
    img = radial_gradient(size, mix(look.base, look.light, 0.45), mix(look.shadow, look.base, 0.3),
                          (0.5, ground_y / h - 0.15), 0.75, 1.2)
    pool = Image.new("L", size, 0)
    ImageDraw.Draw(pool).ellipse([w * 0.3, ground_y - h * 0.05, w * 0.7, ground_y + h * 0.08], fill=120)
    img.paste(Image.new("RGB", size, look.light), (0, 0), pool.filter(ImageFilter.GaussianBlur(w * 0.03)))
    return Backdrop(img, ground_y)


PAINTERS: dict[str, Callable[[tuple[int, int], int, Look, str, random.Random], Backdrop]] = {
    "stage": _stage, "city": _city, "interior": _interior, "beach": _beach, "nature": _nature, "studio": _studio,
}


def paint_backdrop(place: str, size: tuple[int, int], ground_y: int, look: Look, time: str, seed: int) -> Backdrop:
    painter = PAINTERS.get(place, _studio)
    return painter(size, ground_y, look, time, random.Random(f"backdrop:{place}:{time}:{seed}"))


def rain_tile(width: int, height: int, rng: random.Random, color: RGB = (220, 225, 235)) -> Image.Image:
    """Slanted rain streaks; the tile is twice the frame height so it can scroll and wrap."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    for _ in range(int(width * height / 5000)):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        ln = height * rng.uniform(0.02, 0.05)
        d.line([(x, y), (x - ln * 0.15, y + ln)], fill=(*color, rng.randint(60, 140)), width=1)
    return img
