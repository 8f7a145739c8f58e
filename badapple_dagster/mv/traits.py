"""Read a free-text character description into drawable traits.

"a silver robot with a red scarf and a guitar" → kind robot, body silver, scarf red, guitar. Colour words
attach to the garment, hair or body word that follows them within a few words; whatever the description does
not say is chosen from the seed, so one (description, seed) pair always gives the same character. The spec
is plain data (``to_dict``/``from_dict``) because the character card embeds it and the clip renderer redraws
the same figure from it in motion.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

RGB = tuple[int, int, int]

COLORS: dict[str, RGB] = {
    "red": (200, 38, 44), "crimson": (170, 20, 50), "scarlet": (220, 40, 30), "maroon": (110, 24, 36),
    "orange": (238, 126, 36), "amber": (240, 160, 40), "yellow": (244, 206, 52), "mustard": (212, 166, 40),
    "gold": (218, 172, 62), "golden": (218, 172, 62), "green": (52, 150, 82), "emerald": (20, 140, 96),
    "olive": (110, 118, 52), "lime": (150, 210, 60), "teal": (24, 138, 140), "turquoise": (48, 196, 190),
    "cyan": (40, 200, 230), "blue": (42, 96, 200), "navy": (28, 38, 84), "denim": (62, 92, 140),
    "purple": (118, 56, 170), "violet": (140, 80, 200), "lavender": (178, 156, 220), "magenta": (214, 40, 150),
    "pink": (238, 120, 170), "rose": (220, 110, 130), "brown": (110, 70, 42), "tan": (190, 150, 104),
    "beige": (214, 196, 164), "cream": (238, 228, 204), "white": (240, 240, 236), "black": (30, 30, 34),
    "grey": (128, 130, 136), "gray": (128, 130, 136), "charcoal": (56, 58, 64), "silver": (192, 198, 206),
    "chrome": (210, 216, 224), "metallic": (176, 182, 192), "bronze": (176, 116, 60), "copper": (190, 110, 70),
    "neon": (120, 255, 80), "blonde": (230, 200, 120), "blond": (230, 200, 120), "brunette": (90, 56, 34),
    "ginger": (196, 92, 40), "redhead": (196, 92, 40), "platinum": (232, 228, 214),
}
# Hair words that are colours only when they qualify hair ("blonde woman" → blonde hair).
HAIR_ONLY = {"blonde", "blond", "brunette", "ginger", "redhead", "platinum"}

TOPS = {"jacket": "jacket", "blazer": "jacket", "bomber": "jacket", "hoodie": "hoodie", "sweatshirt": "hoodie",
        "shirt": "tee", "t-shirt": "tee", "tee": "tee", "top": "tee", "tank": "tee", "blouse": "tee",
        "sweater": "sweater", "jumper": "sweater", "cardigan": "sweater", "dress": "dress", "gown": "dress",
        "suit": "suit", "tuxedo": "suit", "coat": "coat", "trench": "coat", "trenchcoat": "coat",
        "overcoat": "coat", "raincoat": "coat", "robe": "robe", "kimono": "robe", "jumpsuit": "jumpsuit",
        "overalls": "jumpsuit", "vest": "vest", "waistcoat": "vest", "uniform": "jacket", "armor": "jacket",
        "armour": "jacket", "leather": "jacket"}
BOTTOMS = {"jeans": "jeans", "pants": "pants", "trousers": "pants", "skirt": "skirt", "shorts": "shorts",
           "leggings": "pants", "slacks": "pants"}
SHOES = {"boots": "boots", "boot": "boots", "sneakers": "sneakers", "trainers": "sneakers", "shoes": "shoes",
         "heels": "shoes", "loafers": "shoes"}
HAIR_STYLES = {"long": "long", "short": "short", "curly": "curly", "afro": "afro", "ponytail": "ponytail",
               "bun": "bun", "mohawk": "mohawk", "bald": "bald", "shaved": "bald", "braids": "braids",
               "braided": "braids", "bob": "bob", "pixie": "short", "dreadlocks": "braids", "locs": "braids",
               "spiky": "mohawk", "wavy": "long", "buzz": "short", "quiff": "short", "pompadour": "short"}
ACCESSORIES = {"guitar": "guitar", "bass": "guitar", "ukulele": "guitar", "microphone": "microphone",
               "mic": "microphone", "headphones": "headphones", "headset": "headphones",
               "sunglasses": "sunglasses", "shades": "sunglasses", "glasses": "glasses", "spectacles": "glasses",
               "hat": "hat", "fedora": "fedora", "trilby": "fedora", "cap": "cap", "beanie": "beanie",
               "crown": "crown", "tiara": "crown", "scarf": "scarf", "tie": "tie", "necktie": "tie",
               "chain": "chain", "necklace": "chain", "backpack": "backpack", "cape": "cape", "cloak": "cape",
               "umbrella": "umbrella", "keytar": "keytar", "drumsticks": "drumsticks", "cowboy": "cowboy_hat",
               "antenna": "antenna", "visor": "visor", "bowtie": "tie", "bandana": "scarf", "gloves": "gloves"}
KINDS = {"robot": "robot", "android": "robot", "cyborg": "robot", "droid": "robot", "mech": "robot",
         "automaton": "robot", "alien": "alien", "martian": "alien"}
# Words that name the character (the first one found becomes "the <noun>" in scene prompts).
NOUNS = ("robot", "android", "cyborg", "droid", "alien", "astronaut", "detective", "singer", "rapper",
         "guitarist", "drummer", "bassist", "dancer", "drummer", "chef", "knight", "pirate", "wizard",
         "cowboy", "cowgirl", "ghost", "vampire", "clown", "skater", "surfer", "woman", "man", "girl", "boy",
         "lady", "guy", "kid", "teenager", "grandmother", "grandfather", "grandma", "grandpa", "musician",
         "artist", "diva", "popstar", "star", "frontman", "frontwoman", "hero", "heroine", "band", "person")
SKIN_WORDS = {"pale": (244, 214, 190), "fair": (240, 206, 180), "freckled": (236, 196, 164),
              "olive-skinned": (200, 158, 112), "tan": (206, 156, 112), "tanned": (206, 156, 112),
              "brown-skinned": (150, 98, 62), "dark-skinned": (104, 66, 42), "black": (96, 62, 40)}
SKIN_TONES: tuple[RGB, ...] = ((246, 212, 186), (232, 186, 150), (206, 150, 108), (170, 112, 74),
                               (128, 82, 52), (96, 62, 40))
NATURAL_HAIR: tuple[RGB, ...] = ((30, 24, 22), (70, 44, 28), (110, 70, 40), (196, 150, 84), (150, 60, 30))
# When several tops are named, the outermost one is what the silhouette shows ("a jacket over a shirt").
TOP_LAYER = {"robe": 6, "coat": 5, "suit": 5, "jacket": 4, "dress": 4, "jumpsuit": 4, "hoodie": 3,
             "sweater": 3, "vest": 2, "tee": 1}
_TOKEN = re.compile(r"[a-z][a-z'-]*")
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]{1,16})[\"”'’]")


@dataclass
class CharacterSpec:
    description: str
    kind: str = "human"  # human | robot | alien
    noun: str = "character"
    skin: RGB = (232, 186, 150)
    hair: RGB = (40, 30, 26)
    hair_style: str = "short"
    top: RGB = (60, 90, 150)
    top_kind: str = "tee"
    bottom: RGB = (40, 44, 56)
    bottom_kind: str = "pants"
    shoes: RGB = (30, 30, 34)
    shoe_kind: str = "sneakers"
    trim: RGB = (230, 230, 230)
    accessories: tuple[str, ...] = ()
    accessory_colors: dict[str, RGB] = field(default_factory=dict)
    shirt_text: str | None = None
    build: float = 1.0  # shoulder/hip width factor
    feminine: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["accessories"] = list(self.accessories)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CharacterSpec:
        kw = dict(d)
        for k in ("skin", "hair", "top", "bottom", "shoes", "trim"):
            kw[k] = tuple(kw[k])
        kw["accessories"] = tuple(kw.get("accessories", ()))
        kw["accessory_colors"] = {k: tuple(v) for k, v in kw.get("accessory_colors", {}).items()}
        return cls(**kw)

    def has(self, accessory: str) -> bool:
        return accessory in self.accessories


def subject_noun(description: str | None) -> str:
    """The word scene prompts use for the character after the first mention ("the robot")."""
    words = _TOKEN.findall((description or "").lower())
    for noun in NOUNS:
        if noun in words or f"{noun}s" in words:
            return noun
    return "performer" if description else "lead performer"


def _nearest_target(words: list[str], i: int) -> tuple[str, str] | None:
    """The thing a colour at ``words[i]`` qualifies: the first garment/hair/body/accessory word in the next
    four words (stopping at "and"/"with", which start a new item)."""
    for w in words[i + 1:i + 5]:
        if w in ("and", "with", "holding", "wearing", "in", "on"):
            return None
        if w in ("hair", "haired", "locks", "beard"):
            return ("hair", w)
        for table, slot in ((TOPS, "top"), (BOTTOMS, "bottom"), (SHOES, "shoes"), (ACCESSORIES, "acc"),
                            (KINDS, "body"), (SKIN_WORDS, "skin")):
            if w in table:
                return (slot, w)
        if w in ("skin", "skinned"):
            return ("skin", w)
    return None


def parse_character(description: str, seed: int = 0) -> CharacterSpec:
    text = description.strip()
    low = text.lower()
    words = _TOKEN.findall(low)
    rng = random.Random(f"character:{low}:{seed}")
    spec = CharacterSpec(description=text, noun=subject_noun(text))
    spec.kind = next((KINDS[w] for w in words if w in KINDS), "human")
    spec.feminine = any(w in words for w in ("woman", "girl", "lady", "she", "her", "diva", "grandma", "grandmother",
                                               "heroine", "frontwoman", "cowgirl", "queen", "princess", "dress"))
    # Seeded defaults first; explicit words override them below.
    spec.skin = rng.choice(SKIN_TONES)
    spec.hair = rng.choice(NATURAL_HAIR)
    styles = ("long", "bob", "ponytail", "curly") if spec.feminine else ("short", "short", "curly", "afro")
    spec.hair_style = rng.choice(styles)
    spec.top = rng.choice(((60, 90, 150), (170, 50, 60), (40, 120, 100), (230, 180, 60), (90, 60, 140),
                           (30, 30, 36)))
    spec.bottom = rng.choice(((36, 40, 52), (58, 82, 120), (30, 30, 32), (110, 96, 80)))
    spec.top_kind = rng.choice(("tee", "jacket", "hoodie"))
    spec.build = 0.92 if spec.feminine else 1.05
    if spec.kind == "robot":
        spec.skin = (190, 196, 206)
        spec.hair_style = "bald"
        spec.top_kind = "robot"
        spec.bottom_kind = "robot"
        spec.shoe_kind = "boots"
        spec.shoes = (70, 74, 82)
    elif spec.kind == "alien":
        spec.skin = (120, 200, 120)

    acc: list[str] = []
    named_top = ""
    for w in words:
        if w in ACCESSORIES and ACCESSORIES[w] not in acc:
            if w == "cowboy" and "hat" not in words:
                continue
            acc.append(ACCESSORIES[w])
        if w in TOPS and spec.kind != "robot" and TOP_LAYER[TOPS[w]] > TOP_LAYER.get(named_top, 0):
            named_top = spec.top_kind = TOPS[w]
        if w in BOTTOMS and spec.kind != "robot":
            spec.bottom_kind = BOTTOMS[w]
        if w in SHOES:
            spec.shoe_kind = SHOES[w]
        if w in HAIR_STYLES and spec.kind == "human":
            spec.hair_style = HAIR_STYLES[w]
        if w in SKIN_WORDS and spec.kind == "human" and w != "black":
            spec.skin = SKIN_WORDS[w]
    if "cowboy_hat" in acc and "hat" in acc:
        acc.remove("hat")
    if spec.kind == "robot" and "antenna" not in acc:
        acc.append("antenna")
    spec.accessories = tuple(acc)

    claimed: set[tuple[str, str]] = set()
    shirt_color: RGB | None = None
    for i, w in enumerate(words):
        if w not in COLORS:
            continue
        color = COLORS[w]
        if w in HAIR_ONLY:
            spec.hair = color
            continue
        target = _nearest_target(words, i)
        # "silver metallic robot": the first colour word names the colour, later ones are texture.
        if target is None or target in claimed:
            continue
        claimed.add(target)
        slot, word = target
        if slot == "hair":
            spec.hair = color
        elif slot == "top":
            if TOPS[word] == spec.top_kind or spec.kind == "robot":
                spec.top = color
            else:
                shirt_color = color  # an inner layer shows at the neckline
        elif slot == "bottom":
            spec.bottom = color
        elif slot == "shoes":
            spec.shoes = color
        elif slot == "acc":
            spec.accessory_colors[ACCESSORIES[word]] = color
        elif slot == "body" and spec.kind in ("robot", "alien"):
            spec.skin = color
        elif slot == "skin":
            spec.skin = SKIN_WORDS.get(word, color)
    if spec.kind == "robot":
        # A robot's "outfit" is its plating: body colour for the shell, a darker tone for the joints.
        spec.top = spec.top if _said_color_for(words, TOPS) else spec.skin
        spec.bottom = tuple(max(0, int(c * 0.62)) for c in spec.skin)  # type: ignore[assignment]
    if spec.top_kind == "dress":
        spec.bottom_kind = "dress"
        spec.bottom = spec.top
    if "leather" in words and not _said_color_for(words, TOPS):
        spec.top = (34, 30, 30)
    m = _QUOTED.search(text)
    if m and any(w in words for w in ("says", "saying", "reads", "printed", "lettering", "slogan", "word")):
        spec.shirt_text = m.group(1).strip().upper()[:12]
    spec.trim = shirt_color or ((240, 240, 236) if sum(spec.top) < 300 else (30, 30, 34))
    return spec


def _said_color_for(words: list[str], table: dict[str, str]) -> bool:
    return any(w in COLORS and (t := _nearest_target(words, i)) is not None and t[1] in table
               for i, w in enumerate(words))
