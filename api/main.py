"""The badapple HTTP/WebSocket API: ``uvicorn api.main:app``.

Routes live in ``api/routes``; this module wires them with the error envelope and the lifespan that opens
the job store (running migrations), Redis clients and the Dagster launcher, and closes them on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .config import ApiConfig, load_config, package_version
from .errors import install_error_handlers
from .routes import generate, health, jobs, mv, websocket
from .state import AppState

log = logging.getLogger("badapple.api")


def _configure_logging() -> None:
    # uvicorn configures only its own loggers; without this the launcher's and the WebSocket hub's INFO
    # lines (launches, take-overs, Redis fallbacks) would be dropped. Leave any existing setup alone.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def create_app(config: ApiConfig | None = None) -> FastAPI:
    """Build an app. Without ``config`` the settings are read from the environment at startup, so importing
    this module has no side effects."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _configure_logging()
        cfg = config or load_config()
        state = await AppState.open(cfg)
        app.state.badapple = state
        await state.start()
        log.info("badapple API %s up (dagster %s)", cfg.version, cfg.settings.dagster_graphql_url)
        try:
            yield
        finally:
            await state.close()

    app = FastAPI(
        title="badapple API",
        description="Turn a product brief into a finished ad video. Jobs are rendered by Dagster; progress "
        "streams over WebSocket. All errors use the envelope {error, message, details}.",
        version=config.version if config else package_version(),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (generate, jobs, mv, websocket, health):
        app.include_router(module.router)
    return app


app = create_app()
