"""The schema every MV config flavor file is checked against.

One declarative table per file (``SCHEMA``) says which keys exist, their types, allowed values, ranges and the
placeholders a template must contain. ``check_file`` walks a parsed YAML mapping against it and returns every
problem with its dotted key, so a broken flavor is reported once, completely, naming the file and the key.
docs/FLAVORS.md documents the same keys; tests/mv/test_flavors.py checks that the two agree.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

FILES = ("image_params", "image_prompts", "scene_prompts", "parameters")

IMAGE_ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4")
VIDEO_ASPECTS = ("16:9", "9:16", "1:1")
SHOT_KINDS = (
    "wide", "medium_wide", "medium", "close_up", "extreme_close_up",
    "low_angle", "high_angle", "tracking", "over_shoulder", "aerial",
)
SCENE_PLACEHOLDERS = frozenset({
    "video_type", "idea", "character_description", "character_characteristics",
    "number_of_scenes", "camera_angle", "video_characteristics",
})
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Field:
    kind: str  # str | int | float | bool | enum | template | color | list | mapping
    required: bool = True
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    placeholders: frozenset[str] = frozenset()  # must all appear (templates); also the only ones allowed
    item: Field | None = None  # element schema of a list
    min_items: int = 0
    children: dict[str, Field] = field(default_factory=dict)  # keys of a mapping


def _enum(*choices: str, required: bool = True) -> Field:
    return Field("enum", required, choices)


_PALETTE = {k: Field("color") for k in ("shadow", "base", "light", "accent", "accent_alt")}

LOCAL_RENDER = Field("mapping", required=False, children={
    "palette": Field("mapping", children=_PALETTE),
    "lighting": _enum("soft", "stage", "noir"),
    "monochrome": Field("bool"),
    "grain": Field("float", lo=0, hi=1),
    "vignette": Field("float", lo=0, hi=1),
    "motion": Field("float", lo=0, hi=1),
    "groove_bpm": Field("int", lo=40, hi=220),
    "transition": _enum("cut", "crossfade"),
    "crossfade_seconds": Field("float", lo=0.05, hi=1.5),
    "title_strip": Field("bool"),
})

LOCAL_WRITER = Field("mapping", required=False, children={
    "shot_mix": Field("list", item=_enum(*SHOT_KINDS), min_items=1),
    "settings": Field("list", item=Field("str"), min_items=1),
    "lighting_cues": Field("list", item=Field("str"), min_items=1),
    "actions": Field("list", item=Field("template", placeholders=frozenset({"subject"})), min_items=1),
    "audience_ratio": Field("float", lo=0, hi=1),
    "closeup_required": Field("bool"),
    "negative_prompt": Field("str"),
})

SCHEMA: dict[str, dict[str, Field]] = {
    "image_params": {
        "model": Field("str"),
        "aspect_ratio": _enum(*IMAGE_ASPECTS),
        "safety_filter_level": _enum(
            "block_low_and_above", "block_medium_and_above", "block_high_and_above", "block_none"
        ),
        "person_generation": _enum("allow_adult", "dont_allow"),
        "output_format": _enum("png", "jpg", "webp"),
        "video_model": Field("str"),
        "video_aspect_ratio": _enum(*VIDEO_ASPECTS),
        "video_duration": Field("int", lo=1, hi=30),
        "video_generate_audio": Field("bool"),
        "video_person_generation": _enum("allow_all", "allow_adult", "dont_allow"),
        "video_rules_template": Field("template", placeholders=frozenset({"aspect_ratio"})),
    },
    "image_prompts": {
        "character_reference_prompt": Field("template", placeholders=frozenset({"character_description"})),
    },
    "scene_prompts": {
        "scene_generation_prompt": Field("template", placeholders=SCENE_PLACEHOLDERS),
        "local_writer": LOCAL_WRITER,
    },
    "parameters": {
        "character_characteristics": Field("str"),
        "video_type": Field("str"),
        "video_characteristics": Field("str"),
        "camera_angle": Field("str"),
        "number_of_scenes": Field("int", lo=1, hi=12),
        "local_render": LOCAL_RENDER,
    },
}


@dataclass(frozen=True)
class Issue:
    file: str  # e.g. "parameters.yaml"
    key: str  # dotted path, e.g. "local_render.grain"; "" for the file itself
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '(file)'}: {self.message}"


def template_fields(text: str) -> set[str]:
    """Placeholder names in a str.format template (``{{``/``}}`` are literal braces, not fields)."""
    names: set[str] = set()
    for _lit, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            names.add(name)
    return names


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, str) else repr(value)


def _check_value(spec: Field, value: Any, file: str, key: str, *, partial: bool, out: list[Issue]) -> None:
    def bad(msg: str) -> None:
        out.append(Issue(file, key, msg))

    k = spec.kind
    if k in ("str", "template", "color"):
        if not isinstance(value, str):
            bad(f"expected text, got {_describe(value)}")
            return
        if not value.strip():
            bad("must not be empty")
            return
        if k == "color" and not _HEX.match(value):
            bad(f"expected a colour like \"#1a2b3c\", got {value!r}")
        if k == "template":
            _check_template(spec, value, bad)
    elif k == "enum":
        if isinstance(value, int) and not isinstance(value, bool) and any(":" in c for c in spec.choices):
            # YAML 1.1 turns an unquoted 16:9 into the base-60 integer 969: say so instead of "got 969".
            bad(f"got the number {value} - quote ratios in YAML, e.g. \"{spec.choices[0]}\"")
        elif not isinstance(value, str) or value not in spec.choices:
            bad(f"expected one of {', '.join(spec.choices)}; got {_describe(value)}")
    elif k == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            bad(f"expected a whole number, got {_describe(value)}")
        else:
            _check_range(spec, value, bad)
    elif k == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            bad(f"expected a number, got {_describe(value)}")
        else:
            _check_range(spec, float(value), bad)
    elif k == "bool":
        if not isinstance(value, bool):
            bad(f"expected true or false, got {_describe(value)}")
    elif k == "list":
        if not isinstance(value, list):
            bad(f"expected a list, got {_describe(value)}")
            return
        if len(value) < spec.min_items:
            bad(f"needs at least {spec.min_items} item(s)")
        assert spec.item is not None
        for i, item in enumerate(value):
            _check_value(spec.item, item, file, f"{key}[{i}]", partial=partial, out=out)
    elif k == "mapping":
        if not isinstance(value, dict):
            bad(f"expected a mapping of keys, got {_describe(value)}")
            return
        check_mapping(spec.children, value, file, out, prefix=f"{key}.", partial=partial)


def _check_range(spec: Field, value: float, bad: Any) -> None:
    if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
        lo = int(spec.lo) if spec.lo is not None and float(spec.lo).is_integer() else spec.lo
        hi = int(spec.hi) if spec.hi is not None and float(spec.hi).is_integer() else spec.hi
        bad(f"must be between {lo} and {hi}, got {value:g}")


def _check_template(spec: Field, text: str, bad: Any) -> None:
    try:
        found = template_fields(text)
    except ValueError as exc:  # a lone "{" or "}": literal braces must be doubled
        bad(f"malformed template ({exc}); write literal braces as {{{{ and }}}}")
        return
    odd = sorted(f for f in found if not f.isidentifier())
    if odd:  # e.g. a JSON example {"a": 1} read as a field named '"a"'
        bad(f"text in braces {odd[0]!r} is not a placeholder; write literal braces as {{{{ and }}}}")
        found -= set(odd)
    missing = sorted(spec.placeholders - found)
    unknown = sorted(found - spec.placeholders)
    if missing:
        bad("missing placeholder(s) " + ", ".join("{" + m + "}" for m in missing))
    if unknown:
        bad("unknown placeholder(s) " + ", ".join("{" + u + "}" for u in unknown)
            + "; allowed: " + ", ".join("{" + p + "}" for p in sorted(spec.placeholders)))


def check_mapping(
    schema: dict[str, Field], data: dict[str, Any], file: str, out: list[Issue], *, prefix: str = "", partial: bool
) -> None:
    """Check ``data`` against ``schema``. ``partial`` (a flavor's own file before merging) skips the
    required-key check, which is applied to the merged result instead."""
    for key, value in data.items():
        spec = schema.get(key) if isinstance(key, str) else None
        if spec is None:
            hint = ", ".join(schema)
            out.append(Issue(file, f"{prefix}{key}", f"unknown key (valid keys here: {hint})"))
            continue
        _check_value(spec, value, file, f"{prefix}{key}", partial=partial, out=out)
    if not partial:
        for key, spec in schema.items():
            if spec.required and key not in data:
                out.append(Issue(file, f"{prefix}{key}", "required key is missing"))


def check_file(name: str, data: dict[str, Any], *, partial: bool) -> list[Issue]:
    """All problems of one flavor file (``name`` without extension, e.g. "parameters")."""
    out: list[Issue] = []
    check_mapping(SCHEMA[name], data, f"{name}.yaml", out, partial=partial)
    return out


def all_keys() -> list[str]:
    """Every documented key as "file.key[.child]" (used to check docs/FLAVORS.md covers the schema)."""
    keys: list[str] = []

    def walk(schema: dict[str, Field], prefix: str) -> None:
        for key, spec in schema.items():
            keys.append(prefix + key)
            if spec.kind == "mapping":
                walk(spec.children, f"{prefix}{key}.")

    for name, schema in SCHEMA.items():
        walk(schema, f"{name}.")
    return keys
