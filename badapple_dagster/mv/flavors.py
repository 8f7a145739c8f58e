"""MV config flavors: named presets of generation settings, prompt templates and offline-render knobs.

A flavor is a folder under the configs root (``mv_configs/`` in the repo, or ``$BADAPPLE_MV_CONFIGS``) holding
up to four YAML files: image_params, image_prompts, scene_prompts and parameters. ``default`` must be
complete; any other flavor may hold only some files, or only some keys of a file: whatever it does not set
is inherited from ``default`` (mappings merge key by key, recursively; lists and scalars replace).

Nothing is cached: every call re-reads the folder, so a flavor added or edited on disk is picked up by the
next request without a restart (the files are tiny; a full load is well under 10 ms).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .flavor_schema import FILES, SCHEMA, Issue, check_file, check_mapping

DEFAULT_FLAVOR = "default"
ENV_VAR = "BADAPPLE_MV_CONFIGS"
# Names the original system used, kept working for old clients: mv1 was its stadium-concert flavor.
ALIASES = {"mv1": "concert"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_REPO_CONFIGS = Path(__file__).resolve().parents[2] / "mv_configs"


class FlavorError(ValueError):
    """A flavor that cannot be used. ``file``/``key`` name the first problem; ``issues`` lists them all."""

    def __init__(self, message: str, *, flavor: str | None = None, issues: list[Issue] | None = None,
                 file: str | None = None, key: str | None = None) -> None:
        self.flavor = flavor
        self.issues = issues or []
        self.file = file if file is not None else (self.issues[0].file if self.issues else None)
        self.key = key if key is not None else (self.issues[0].key if self.issues else None)
        super().__init__(message)


def configs_root() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else _REPO_CONFIGS


def list_flavors(root: str | Path | None = None) -> list[str]:
    """Flavor names on disk, ``default`` first and the rest sorted. Re-scans the folder on every call."""
    base = Path(root) if root is not None else configs_root()
    if not base.is_dir():
        return []
    names = sorted(p.name for p in base.iterdir() if p.is_dir() and _NAME.match(p.name))
    if DEFAULT_FLAVOR in names:
        names.remove(DEFAULT_FLAVOR)
        names.insert(0, DEFAULT_FLAVOR)
    return names


@dataclass(frozen=True)
class ResolvedFlavor:
    """A flavor merged over ``default`` and validated. ``origins`` maps "file.key" → the flavor it came from."""

    name: str
    image_params: dict[str, Any]
    image_prompts: dict[str, Any]
    scene_prompts: dict[str, Any]
    parameters: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    root: str = ""

    def file(self, name: str) -> dict[str, Any]:
        if name not in FILES:
            raise KeyError(f"unknown flavor file {name!r}; valid: {', '.join(FILES)}")
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the resolved config recorded with every generation for reproducibility."""
        return {
            "name": self.name,
            **{f: copy.deepcopy(self.file(f)) for f in FILES},
            "origins": dict(self.origins),
            "digest": self.digest,
        }

    @property
    def digest(self) -> str:
        """Content hash of the resolved settings (not the name): equal digests render identically, so it
        is a good Dagster data version / cache key."""
        body = json.dumps({f: self.file(f) for f in FILES}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def diff_against(self, other: ResolvedFlavor) -> dict[str, tuple[Any, Any]]:
        """Every leaf that differs, as "file.key.child" → (this value, other value); absent → None."""
        out: dict[str, tuple[Any, Any]] = {}
        for f in FILES:
            mine, theirs = _flatten(self.file(f), f), _flatten(other.file(f), f)
            for k in sorted(set(mine) | set(theirs)):
                if mine.get(k) != theirs.get(k):
                    out[k] = (mine.get(k), theirs.get(k))
        return out

    # Convenience accessors for the providers --------------------------------------------------------------

    @property
    def video_duration(self) -> int:
        return int(self.image_params["video_duration"])

    @property
    def video_aspect_ratio(self) -> str:
        return str(self.image_params["video_aspect_ratio"])

    @property
    def number_of_scenes(self) -> int:
        return int(self.parameters["number_of_scenes"])

    @property
    def local_render(self) -> dict[str, Any]:
        return self.parameters.get("local_render", {})

    @property
    def local_writer(self) -> dict[str, Any]:
        return self.scene_prompts.get("local_writer", {})

    def character_prompt(self, character_description: str) -> str:
        return self.image_prompts["character_reference_prompt"].format(character_description=character_description)

    def video_rules(self, aspect_ratio: str | None = None) -> str:
        return self.image_params["video_rules_template"].format(aspect_ratio=aspect_ratio or self.video_aspect_ratio)

    def scene_request(self, idea: str, character_description: str, number_of_scenes: int | None = None) -> str:
        """The filled scene_generation_prompt: what a remote LLM writer is sent (and what gets recorded)."""
        p = self.parameters
        return self.scene_prompts["scene_generation_prompt"].format(
            video_type=p["video_type"],
            idea=idea,
            character_description=character_description,
            character_characteristics=p["character_characteristics"],
            number_of_scenes=number_of_scenes or p["number_of_scenes"],
            camera_angle=p["camera_angle"],
            video_characteristics=p["video_characteristics"],
        )


def _flatten(d: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}.{k}"))
        else:
            out[f"{prefix}.{k}"] = v
    return out


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML would silently keep the last one)."""


def _mapping_no_dupes(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_no_dupes)


def _read_yaml(path: Path, flavor: str) -> dict[str, Any]:
    rel = f"{flavor}/{path.name}"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise FlavorError(f"{rel}: not valid YAML: {exc}", flavor=flavor, file=path.name, key="") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlavorError(f"{rel}: cannot read: {exc}", flavor=flavor, file=path.name, key="") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FlavorError(f"{rel}: the file must be a mapping of keys, got {type(data).__name__}",
                          flavor=flavor, file=path.name, key="")
    return data


def _read_folder(folder: Path, flavor: str) -> dict[str, dict[str, Any]]:
    """Raw files of one flavor, each checked on its own (types, values, unknown keys; not completeness)."""
    files: dict[str, dict[str, Any]] = {}
    issues: list[Issue] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml"):
            continue  # READMEs and notes may live beside the configs
        stem = path.stem
        if stem not in FILES:
            issues.append(Issue(path.name, "", f"unknown flavor file (valid: {', '.join(f + '.yaml' for f in FILES)})"))
            continue
        if stem in files:
            issues.append(Issue(path.name, "", f"{stem} is defined twice (.yaml and .yml)"))
            continue
        files[stem] = _read_yaml(path, flavor)
        issues += check_file(stem, files[stem], partial=True)
    if issues:
        raise _issues_error(flavor, issues)
    return files


def _issues_error(flavor: str, issues: list[Issue]) -> FlavorError:
    lines = "\n  ".join(f"{flavor}/{i}" for i in issues)
    return FlavorError(f"flavor {flavor!r} is invalid:\n  {lines}", flavor=flavor, issues=issues)


def _merge(
    base: dict[str, Any], over: dict[str, Any], origin: str, origins: dict[str, str], prefix: str
) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v, origin, origins, f"{prefix}.{k}")
        else:
            out[k] = copy.deepcopy(v)
            for leaf in (_flatten(v, f"{prefix}.{k}") if isinstance(v, dict) else {f"{prefix}.{k}": v}):
                origins[leaf] = origin
    return out


def load_flavor(name: str | None = None, root: str | Path | None = None) -> ResolvedFlavor:
    """Load ``name`` (None → default) merged over ``default`` and validated; raises FlavorError."""
    base = Path(root) if root is not None else configs_root()
    requested = (name or DEFAULT_FLAVOR).strip()
    flavor = ALIASES.get(requested, requested)
    available = list_flavors(base)
    if flavor not in available:
        valid = ", ".join(available) or "(none)"
        raise FlavorError(f"unknown flavor {requested!r}; valid flavors: {valid} (configs root {base})",
                          flavor=requested, key="config_flavor")
    default_files = _read_folder(base / DEFAULT_FLAVOR, DEFAULT_FLAVOR)
    own = default_files if flavor == DEFAULT_FLAVOR else _read_folder(base / flavor, flavor)

    merged: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    issues: list[Issue] = []
    for f in FILES:
        data = _merge({}, default_files.get(f, {}), DEFAULT_FLAVOR, origins, f)
        if flavor != DEFAULT_FLAVOR:
            data = _merge(data, own.get(f, {}), flavor, origins, f)
        check_mapping(SCHEMA[f], data, f"{f}.yaml", issues, partial=False)
        merged[f] = data
    if issues:
        # A required key missing after the merge is default's fault unless the flavor broke a mapping.
        raise _issues_error(flavor, issues)
    return ResolvedFlavor(name=flavor, origins=origins, root=str(base), **merged)


def validate_all(root: str | Path | None = None) -> dict[str, str | None]:
    """Each flavor on disk → None if it loads, else the error text (for a health/debug endpoint or CI)."""
    out: dict[str, str | None] = {}
    for name in list_flavors(root):
        try:
            load_flavor(name, root)
            out[name] = None
        except FlavorError as exc:
            out[name] = str(exc)
    return out


# Sweepable knobs: where each lives in a flavor and which provider argument it drives.
SWEEPABLE = {"number_of_scenes": "parameters", "video_duration": "image_params",
             "video_aspect_ratio": "image_params", "camera_angle": "parameters",
             "video_characteristics": "parameters", "character_characteristics": "parameters"}


def apply_overrides(flavor: Any, overrides: dict[str, Any]) -> Any:
    """A ResolvedFlavor with a sweep grid point applied (only the SWEEPABLE keys)."""
    files: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        if key not in SWEEPABLE:
            raise ValueError(f"cannot sweep {key!r}; sweepable keys: {', '.join(sorted(SWEEPABLE))}")
        fname = SWEEPABLE[key]
        files.setdefault(fname, dict(getattr(flavor, fname)))[key] = value
    return replace(flavor, **files) if files else flavor
