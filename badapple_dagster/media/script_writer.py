"""Offline ad copy: a four-beat script (hook, benefit, proof, CTA) in the voice of the brief's style.

Copy comes from hand-written banks per style. Each variant is a voiceover template plus headlines that go
with it; a seeded RNG picks one variant per beat among the combinations whose spoken length fits the ad's
time budget, so every seed gives a different but always well-timed script.

Template slots:
  {name}  the product. First mention: the spoken name; any later mention: the short name.
  {ref}   the product in benefit/proof copy: the spoken name if not yet introduced, else "it" - so a long
          product name is said once or twice, never four times.
  {cta}   the brief's CTA text, as its own sentence (always last in the CTA beat).
  {short} the short name (headlines and taglines only).
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .models import END_CARD_SECONDS, MAX_AD_SECONDS, MIN_AD_SECONDS, SCENE_ROLES, Brief, Palette, Scene, Script
from .styles import StyleSpec, resolve_style

SCENE_PAUSE_SECONDS = 0.6  # breath + transition allowance added to each scene's spoken time
# Planned voiceover budget: the finished ad adds the end card, and voice_gen's real timing drifts from this
# estimate, so aim inside the 15-30 s window with a margin on both sides.
MIN_PLANNED_SECONDS = MIN_AD_SECONDS - END_CARD_SECONDS + 1.5  # 13.5
MAX_PLANNED_SECONDS = MAX_AD_SECONDS - END_CARD_SECONDS - 3.5  # 23.5
# The outer bounds: with the end card these still give a 16-27 s ad.
HARD_MIN_PLANNED_SECONDS = 13.0
HARD_MAX_PLANNED_SECONDS = 24.0
MAX_HEADLINE_WORDS = 5
SPOKEN_NAME_MAX_WORDS = 8
SHORT_NAME_MAX_WORDS = 3
SHORT_NAME_MAX_CHARS = 22


@dataclass(frozen=True)
class Variant:
    voiceover: str  # template, see the module docstring for slots
    headlines: tuple[str, ...]  # <= 5 words once filled; {short} counts as up to 3


def _v(voiceover: str, *headlines: str) -> Variant:
    return Variant(voiceover, headlines)


# One bank per canonical style: role -> variants. Rules the templates follow: at most two sentences per
# voiceover (the CTA sentence included); hook and CTA may use {name}; benefit always introduces the product
# via {ref} (so proof copy may say "it"); {ref} only where "it" reads naturally.
COPY: dict[str, dict[str, tuple[Variant, ...]]] = {
    "luxury": {
        "hook": (
            _v("Some things are not simply made. They are composed.", "Composed, not made", "Quietly remarkable"),
            _v(
                "Introducing {name}, crafted slowly for those who notice every detail.",
                "Crafted slowly",
                "For those who notice",
            ),
            _v(
                "There is a rare kind of beauty that never needs to raise its voice.",
                "Beauty, softly spoken",
                "Rare by nature",
            ),
            _v(
                "Meet {name}, where quiet craftsmanship becomes something unforgettable.",
                "Quiet craftsmanship",
                "Simply unforgettable",
            ),
            _v(
                "Close your eyes, and imagine the finest thing you have ever touched.",
                "The finest touch",
                "Imagine more",
            ),
        ),
        "benefit": (
            _v(
                "With {ref}, every curve and every finish is considered, then considered again.",
                "Every detail, considered",
                "Considered, twice over",
            ),
            _v(
                "{ref} is made with uncompromising care, so it feels as exceptional as it looks.",
                "Uncompromising care",
                "Exceptional, inside and out",
            ),
            _v(
                "Rich, refined and quietly indulgent, {ref} turns an everyday moment into a ritual.",
                "Your daily ritual",
                "Quietly indulgent",
            ),
            _v(
                "Beneath the elegance lies real precision. {ref} is made to be treasured for years, not seasons.",
                "Made to last",
                "Years, not seasons",
            ),
        ),
        "proof": (
            _v(
                "Cherished by connoisseurs who accept nothing less than exceptional.",
                "Loved by connoisseurs",
                "Nothing less",
            ),
            _v("Those who own it rarely look anywhere else again.", "Once yours, always yours", "Devotion, earned"),
            _v(
                "Admired in the finest homes, and whispered about by those in the know.",
                "Those in the know",
                "Quietly admired",
            ),
            _v(
                "Glowing reviews and devoted owners have made {ref} a quiet legend.",
                "A quiet legend",
                "Glowing reviews",
            ),
        ),
        "cta": (
            _v("Discover {name}, yours to treasure. {cta}", "Yours to treasure", "Discover yours"),
            _v("Indulge in {name} today. {cta}", "Indulge yourself", "You deserve this"),
            _v("Treat yourself to the beauty of {name}. {cta}", "Treat yourself", "Pure indulgence"),
            _v("Experience {name} for yourself. {cta}", "Experience it", "Made for you"),
        ),
    },
    "energetic": {
        "hook": (
            _v(
                "Stop scrolling! This is the upgrade you didn't know you needed.",
                "Stop scrolling!",
                "Upgrade unlocked",
            ),
            _v(
                "Ready for something seriously exciting? Say hello to {name}!",
                "Say hello!",
                "Seriously exciting",
            ),
            _v("Three, two, one, go! {name} is here and it's turning heads!", "It's here!", "Turning heads"),
            _v(
                "Big news, everyone! {name} just dropped and people are going wild!",
                "Just dropped!",
                "Big news!",
            ),
            _v("Okay, this changes everything. Meet {name}!", "Game changer!", "Meet {short}!"),
        ),
        "benefit": (
            _v(
                "{ref} is packed with energy and ready for anything your day throws at you!",
                "Ready for anything",
                "Packed with energy",
            ),
            _v(
                "More power, more fun, zero compromises! {ref} keeps up with you all day long.",
                "Zero compromises!",
                "All day long",
            ),
            _v(
                "Bright, bold and crazy easy to love, {ref} brings the good vibes everywhere you go!",
                "Good vibes only",
                "Crazy easy to love",
            ),
            _v(
                "Why settle for ordinary? {ref} takes everything you love and turns it up to eleven!",
                "Turned up to eleven",
                "Never settle!",
            ),
        ),
        "proof": (
            _v(
                "Fans can't stop raving, and the five-star reviews just keep rolling in!",
                "Five stars!",
                "Fans can't stop raving",
            ),
            _v(
                "People are obsessed! It's the one everybody is adding to their cart right now.",
                "Everyone's obsessed",
                "Cart-worthy!",
            ),
            _v(
                "Don't just take our word for it! Thousands of people have already made the switch.",
                "Join the crowd!",
                "They made the switch",
            ),
            _v(
                "Five stars, again and again! Once you try {ref}, there's no going back.",
                "No going back!",
                "Five stars, again!",
            ),
        ),
        "cta": (
            _v("Don't miss out, grab {name} today! {cta}", "Don't miss out!", "Grab yours!"),
            _v("{name} is just one tap away! {cta}", "One tap away", "Let's do this!"),
            _v("Go get {name} before everyone else does! {cta}", "Don't wait!", "Get yours first"),
            _v("Let's go, {name} is waiting for you! {cta}", "Let's go!", "Your move!"),
        ),
    },
    "minimal": {
        "hook": (
            _v("Less, but better. This is {name}.", "Less, but better", "Nothing extra"),
            _v("Some things simply work, quietly and beautifully.", "Simply works", "Quietly beautiful"),
            _v("Start with what matters, and leave out the rest.", "Only what matters", "Leave the rest"),
            _v("Meet {name}. Simple, honest, and made with care.", "Simple. Honest.", "Made with care"),
            _v("Clear the noise, and make room for something simple.", "Make room", "Clear the noise"),
        ),
        "benefit": (
            _v("{ref} does one thing, and does it beautifully.", "One thing, done well", "Beautifully focused"),
            _v("No clutter and no fuss. {ref} simply fits into your day.", "No clutter. No fuss.", "Fits your day"),
            _v(
                "Thoughtfully designed, {ref} feels natural from the very first moment.",
                "Effortless by design",
                "Naturally intuitive",
            ),
            _v(
                "Every detail of {ref} has a purpose, and nothing is there for show.",
                "Nothing for show",
                "Every detail, purposeful",
            ),
        ),
        "proof": (
            _v("Trusted by people who value calm, and things that last.", "Made to last", "Quietly trusted"),
            _v("Loved for its simplicity, and kept for its quality.", "Simply loved", "Kept for quality"),
            _v("Many have already made the switch to something simpler.", "The simple switch", "Simpler, together"),
            _v(
                "Honest reviews from happy people. There's nothing more to add.",
                "Nothing more to add",
                "Honestly good",
            ),
        ),
        "cta": (
            _v("{name}, simply better. {cta}", "Simply better", "Yours, simply"),
            _v("Try {name} today. {cta}", "Begin simply", "Try it today"),
            _v("Make a little space for {name}. {cta}", "Make space", "A little space"),
            _v("{name}, because less is more. {cta}", "Less is more", "Choose less"),
        ),
    },
    "bold": {
        "hook": (
            _v("No compromises, no excuses. Just {name}.", "No compromises", "No excuses"),
            _v("This isn't another product. This is {name}.", "Not another product", "This is {short}"),
            _v("You asked for the best. Here it is.", "Demand the best", "Here it is"),
            _v("Forget what you know. {name} changes the game.", "Forget what you know", "Game changed"),
            _v("Built different, and built to win.", "Built different", "Built to win"),
        ),
        "benefit": (
            _v(
                "{ref} is stronger, sharper and made to perform, every single time.",
                "Made to perform",
                "Stronger. Sharper.",
            ),
            _v("One job, done right. {ref} delivers where others fall short.", "Done right", "Others fall short"),
            _v("{ref} brings power you can feel and quality you can see.", "Feel the power", "Quality you can see"),
            _v(
                "No shortcuts and no filler. {ref} is pure performance from start to finish.",
                "Pure performance",
                "No shortcuts",
            ),
        ),
        "proof": (
            _v("The verdict is in. Five stars from thousands of fans.", "Five stars", "The verdict is in"),
            _v(
                "Tested hard and trusted by thousands, it proves itself every day.",
                "Proven every day",
                "Tested hard",
            ),
            _v("People don't just like it. They swear by it.", "They swear by it", "Beyond like"),
            _v("Thousands made the switch, and nobody looked back.", "Nobody looked back", "Thousands switched"),
        ),
        "cta": (
            _v("Step up and get {name}. {cta}", "Step up", "Own it"),
            _v("Accept nothing less than {name}. {cta}", "Accept nothing less", "Settle for nothing"),
            _v("Your move, {name} is ready when you are. {cta}", "Your move", "Ready when you are"),
            _v("Stop waiting and start winning with {name}. {cta}", "Start winning", "Stop waiting"),
        ),
    },
    "modern": {
        "hook": (
            _v(
                "What if your everyday could be a little smarter? Meet {name}.",
                "A little smarter",
                "Meet {short}",
            ),
            _v(
                "Life is busy enough, so here's something that simply makes sense.",
                "It just makes sense",
                "Busy? We get it",
            ),
            _v(
                "Say hello to {name}, designed around the way you actually live.",
                "Designed around you",
                "Say hello",
            ),
            _v(
                "Good design should make life easier. That's the whole idea behind {name}.",
                "Life, made easier",
                "The whole idea",
            ),
            _v(
                "We asked a simple question: why should great things be complicated?",
                "Why so complicated?",
                "Simple, actually",
            ),
        ),
        "benefit": (
            _v(
                "{ref} brings thoughtful design and clever details together, so everything just flows.",
                "Clever by design",
                "Everything just flows",
            ),
            _v(
                "Smart where it counts and simple everywhere else, {ref} fits right into your routine.",
                "Smart where it counts",
                "Fits your routine",
            ),
            _v(
                "With {ref}, the little things take care of themselves, so you get time back for what matters.",
                "Time back for you",
                "Little things, handled",
            ),
            _v(
                "{ref} feels intuitive from day one, with no learning curve and no fuss.",
                "No learning curve",
                "Intuitive from day one",
            ),
        ),
        "proof": (
            _v(
                "People who try it tend to keep it, and the reviews say it all.",
                "The reviews say it all",
                "Hard to put down",
            ),
            _v(
                "Turns out, good design is hard to give up. Just ask the people who use it every day.",
                "Hard to give up",
                "Ask around",
            ),
            _v(
                "Don't just take our word for it. Customers call it the upgrade they didn't know they needed.",
                "Customers agree",
                "The upgrade you needed",
            ),
            _v(
                "From busy mornings to late nights, {ref} has quickly become a favorite.",
                "A new favorite",
                "Morning to midnight",
            ),
        ),
        "cta": (
            _v("Ready to try {name}? {cta}", "Ready when you are", "Your turn"),
            _v("Upgrade your everyday with {name}. {cta}", "Upgrade your everyday", "Start today"),
            _v("{name} is ready when you are. {cta}", "Your turn", "Ready when you are"),
            _v("See what {name} can do for you. {cta}", "See the difference", "Made for you"),
        ),
    },
}

TAGLINES: dict[str, tuple[str, ...]] = {
    "luxury": (
        "Quietly extraordinary.",
        "{short}. Nothing less.",
        "Crafted to be cherished.",
        "Elegance, effortlessly.",
    ),
    "energetic": ("Turn it up!", "{short}. Let's go!", "Made for more.", "All energy, all day."),
    "minimal": ("Less, but better.", "Simply {short}.", "Only what matters.", "Quiet by design."),
    "bold": ("Accept nothing less.", "{short}. No compromises.", "Built to win.", "Go big or go home."),
    "modern": ("Smarter, every day.", "{short}, made simple.", "Designed around you.", "Life, upgraded."),
}

# Sentence-ending punctuation of the CTA sentence per style: energetic shouts, everyone else states.
_CTA_END = {"energetic": "!"}
# Probability that the hook is a "hero" (product up front) rather than a "statement" (headline up front).
_HOOK_HERO_BIAS = {"luxury": 0.75, "energetic": 0.5, "minimal": 0.65, "bold": 0.3, "modern": 0.55}

_SLOT = re.compile(r"\{(name|ref|cta|short)\}")
_WORD = re.compile(r"\w+(?:['’]\w+)*")
# Descriptive tails a voice artist would not read out: "Glow Serum - 50 ml", "Glow Serum (Refill)",
# "Glow Serum, Unscented", "Glow Serum | Limited Edition".
_NAME_TAIL = re.compile(r"\s+[-–—|/]\s+|[,;:(\[{|]")
_WEAK_TAIL_WORDS = frozenset("a an and & + - – — of or the to for with by in on at from".split())


# ------------------------------------------------------------------------------------------- name forms


def _trim_weak_tail(words: list[str]) -> list[str]:
    while len(words) > 1 and words[-1].lower() in _WEAK_TAIL_WORDS:
        words = words[:-1]
    return words


def spoken_name(name: str) -> str:
    """The product name as a voice artist would say it: descriptive tails dropped, at most 8 words."""
    words = name.split()
    head = _NAME_TAIL.split(name, maxsplit=1)[0].strip()
    # A head without a single letter or digit ("(RED) Edition", "'; DROP ...") is no name: keep it all.
    if _WORD.search(head) and len(head) < len(name.strip()):
        words = head.split()
    words = _trim_weak_tail(words[:SPOKEN_NAME_MAX_WORDS])
    spoken = " ".join(words).strip(" -–—,;:")
    return spoken or name.strip()


def short_name(name: str) -> str:
    """Headline-sized product name: at most 3 words / 22 characters (a single longer word is kept whole)."""
    words = spoken_name(name).split()
    kept: list[str] = []
    for word in words[:SHORT_NAME_MAX_WORDS]:
        if kept and len(" ".join([*kept, word])) > SHORT_NAME_MAX_CHARS:
            break
        kept.append(word)
    kept = _trim_weak_tail(kept)
    return " ".join(kept) if kept else spoken_name(name)


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def planned_seconds(text: str, rate_wpm: int) -> float:
    """Estimated spoken length at ``rate_wpm`` plus the per-scene pause."""
    return round(count_words(text) / (rate_wpm / 60.0) + SCENE_PAUSE_SECONDS, 2)


# ---------------------------------------------------------------------------------------- template filling


@dataclass
class _Names:
    spoken: str
    short: str
    cta_sentence: str
    mentioned: bool = False


def _cta_sentence(cta: str, style_key: str) -> str:
    """The CTA text as a complete sentence: the brief's own end punctuation wins, otherwise the style's
    ("Shop now" -> "Shop now!" when energetic, "Shop now." elsewhere)."""
    text = cta.strip()
    if text.endswith((".", "!", "?", "…")):
        return text
    return text + _CTA_END.get(style_key, ".")


def _at_sentence_start(out: list[str]) -> bool:
    before = "".join(out).rstrip()
    return not before or before.endswith((".", "!", "?", ":"))


def _fill(template: str, names: _Names) -> str:
    """Fill slots left to right (a single pass, so text inside a product name is never re-read as a slot)."""
    out: list[str] = []
    pos = 0
    for match in _SLOT.finditer(template):
        out.append(template[pos : match.start()])
        slot = match.group(1)
        if slot == "cta":
            value = names.cta_sentence
        elif slot == "short":
            value = names.short
        elif names.mentioned and slot == "ref":
            value = "It" if _at_sentence_start(out) else "it"
        else:
            value = names.short if names.mentioned else names.spoken
            names.mentioned = True
        out.append(value)
        pos = match.end()
        # "Meet Yahoo!." -> "Meet Yahoo!": the value already ends the sentence.
        if value.endswith((".", "!", "?", "…")) and template[pos : pos + 1] in (".", "!", "?"):
            pos += 1
    out.append(template[pos:])
    return "".join(out)


def _fill_headline(template: str, names: _Names) -> str:
    # Headlines only use {short}; filling on a copy keeps the mention state of the voiceover untouched.
    probe = _Names(names.spoken, names.short, names.cta_sentence, mentioned=True)
    return _fill(template, probe)


# ---------------------------------------------------------------------------------------------- writer


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _pick_headline(variant: Variant, voiceover: str, names: _Names, rng: random.Random) -> str:
    options = [_fill_headline(h, names) for h in variant.headlines]
    usable = [h for h in options if count_words(h) <= MAX_HEADLINE_WORDS and _normalised(h) != _normalised(voiceover)]
    if usable:
        return rng.choice(usable)
    # Only reachable with an unusual name; the short name alone is always a valid headline.
    return names.short


def _pick_layouts(style_key: str, hook_names_product: bool, rng: random.Random) -> list[str]:
    hero_bias = _HOOK_HERO_BIAS.get(style_key, 0.5)
    # A hook that names the product wants the product on screen; a teaser line wants the headline big.
    hero_bias += 0.15 if hook_names_product else -0.15
    hook = "hero" if rng.random() < hero_bias else "statement"
    # After a hero shot, lead the benefit with words; after a statement, show the product.
    statement_bias = 0.7 if hook == "hero" else 0.35
    benefit = "statement" if rng.random() < statement_bias else "showcase"
    return [hook, benefit, "showcase", "cta"]


def _voiceovers(combo: Sequence[Variant], spoken: str, short: str, cta_sentence: str) -> list[str]:
    names = _Names(spoken, short, cta_sentence)
    return [_fill(v.voiceover, names) for v in combo]


class LocalScriptWriter:
    """Template-based, offline :class:`~badapple_dagster.media.providers.ScriptWriter`."""

    name = "local"
    model = "template-v1"

    def write(self, brief: Brief, *, seed: int, palette: Palette) -> Script:
        style = resolve_style(brief.style)
        rng = random.Random(seed)
        spoken, short = spoken_name(brief.product_name), short_name(brief.product_name)
        cta_sentence = _cta_sentence(brief.cta_text, style.key)

        combo, voiceovers = self._choose_copy(style, spoken, short, cta_sentence, rng)
        names = _Names(spoken, short, cta_sentence, mentioned=True)
        layouts = _pick_layouts(style.key, "{name}" in combo[0].voiceover, rng)
        scenes = [
            Scene(
                index=i,
                role=role,
                voiceover=voiceover,
                on_screen_text=_pick_headline(variant, voiceover, names, rng),
                duration=planned_seconds(voiceover, style.rate),
                layout=layout,
            )
            for i, (role, variant, voiceover, layout) in enumerate(
                zip(SCENE_ROLES, combo, voiceovers, layouts, strict=True)
            )
        ]
        tagline = _fill_headline(rng.choice(TAGLINES[style.key]), names)
        return Script(
            product_name=brief.product_name,
            style=style.key,
            cta_text=brief.cta_text,
            seed=seed,
            palette=palette,
            scenes=scenes,
            tagline=tagline,
            provider=self.name,
            model=self.model,
        )

    @staticmethod
    def _choose_copy(
        style: StyleSpec, spoken: str, short: str, cta_sentence: str, rng: random.Random
    ) -> tuple[tuple[Variant, ...], list[str]]:
        """Pick one variant per beat, uniformly among the combinations whose planned length fits the budget.

        Enumerating every combination (a few hundred) is cheap and, unlike re-rolling, guarantees a fit
        whenever one exists: long product names and CTAs just leave fewer, shorter combinations to choose
        from. Fallbacks, in order: the hard 13-24 s bounds instead of the margined budget; the short name
        for the first mention too; and for a pathological brief the combination closest to the budget.
        """
        windows = ((MIN_PLANNED_SECONDS, MAX_PLANNED_SECONDS), (HARD_MIN_PLANNED_SECONDS, HARD_MAX_PLANNED_SECONDS))
        closest: tuple[float, tuple[Variant, ...], list[str]] | None = None
        for first_mention in dict.fromkeys((spoken, short)):
            scored = _score_combos(style.key, style.rate, first_mention, short, cta_sentence)
            for low, high in windows:
                fitting = [(combo, vos) for total, combo, vos in scored if low <= total <= high]
                if fitting:
                    combo, voiceovers = rng.choice(fitting)
                    return combo, list(voiceovers)
            for total, combo, vos in scored:
                miss = max(MIN_PLANNED_SECONDS - total, total - MAX_PLANNED_SECONDS)
                if closest is None or miss < closest[0]:
                    closest = (miss, combo, list(vos))
        assert closest is not None  # the banks are never empty
        return closest[1], closest[2]


@functools.lru_cache(maxsize=64)
def _score_combos(
    style_key: str, rate: int, spoken: str, short: str, cta_sentence: str
) -> tuple[tuple[float, tuple[Variant, ...], tuple[str, ...]], ...]:
    """Every variant combination of the style's bank with its filled voiceovers and planned total.
    Cached: the same brief is typically written with several seeds (previews, retries)."""
    bank = {**COPY[style_key], "cta": _cta_variants(COPY[style_key]["cta"], cta_sentence)}
    scored = []
    for combo in itertools.product(*(bank[role] for role in SCENE_ROLES)):
        voiceovers = tuple(_voiceovers(combo, spoken, short, cta_sentence))
        total = sum(planned_seconds(v, rate) for v in voiceovers)
        scored.append((total, combo, voiceovers))
    return tuple(scored)


_TIME_WORDS = frozenset({"now", "today", "tonight"})


def _cta_variants(variants: tuple[Variant, ...], cta_sentence: str) -> tuple[Variant, ...]:
    """Drop CTA lines that would echo the CTA's urgency word ("...today. Order today.")."""
    cta_words = {w.lower() for w in _WORD.findall(cta_sentence)} & _TIME_WORDS
    if not cta_words:
        return variants
    kept = tuple(
        v for v in variants if not cta_words & {w.lower() for w in _WORD.findall(v.voiceover.replace("{cta}", ""))}
    )
    return kept or variants
