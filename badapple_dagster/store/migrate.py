"""Run the job store's Alembic migrations programmatically (no alembic.ini needed at run time)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_done: set[str] = set()
_lock = threading.Lock()


def alembic_config(engine: Engine):  # noqa: ANN201 - alembic types are imported lazily
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; once per engine per process, since every store shares it."""
    key = f"{engine.url}:{revision}"
    with _lock:
        if key in _done:
            return
        from alembic import command

        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        _done.add(key)
