"""Find font files on disk. The project's install scripts put the fonts there (Debian packages)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.local/share/fonts"))
FALLBACK_REGULAR = "DejaVuSans.ttf"
FALLBACK_BOLD = "DejaVuSans-Bold.ttf"


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        if not os.path.isdir(root):
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.lower().endswith((".ttf", ".otf")):
                    found.setdefault(name, os.path.join(dirpath, name))
    return found


def resolve_font(candidates: tuple[str, ...] | list[str]) -> str:
    """Return the path of the first candidate file installed; DejaVu as the last resort."""
    idx = _index()
    for name in (*candidates, FALLBACK_BOLD, FALLBACK_REGULAR):
        if name in idx:
            return idx[name]
    raise FileNotFoundError(
        f"None of the fonts {list(candidates)} nor DejaVu is installed; run scripts/bootstrap.sh"
    )


def font_dir_of(path: str) -> str:
    return str(Path(path).parent)
