"""Fixtures for the API tests. The session ``stack`` (tests/conftest.py) is the deployment under test;
``api_instance`` starts extra API processes' worth of app in-process (uvicorn in a thread) with their own
settings, for what the shared stack cannot show: Dagster being unreachable, a second replica, short timers."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from api.config import ApiConfig
from api.main import create_app
from badapple_dagster.settings import get_settings
from badapple_dagster.stack import Stack, StackConfig, free_port
from badapple_dagster.store.jobs import JobStore
from tests.api.api_support import ClosedPort


@pytest.fixture(scope="session")
def api_url(stack: StackConfig) -> str:
    return stack.api_url


@pytest.fixture(scope="session")
def ws_url(stack: StackConfig) -> str:
    return stack.api_url.replace("http://", "ws://", 1)


@pytest.fixture(scope="session")
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=60) as c:
        yield c


class InProcessApi:
    """The real app served by uvicorn on a free port, in a background thread of the test process."""

    def __init__(self, config: ApiConfig, port: int | None = None) -> None:
        self.config = config
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(create_app(config), host="127.0.0.1", port=self.port, log_level="warning",
                           lifespan="on", access_log=False)
        )
        self._thread = threading.Thread(target=self._server.run, name=f"api-{self.port}", daemon=True)

    def start(self) -> InProcessApi:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("in-process API did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(30)


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """Exactly ``env`` as os.environ for the block, then the original back."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def stack_settings(stack: StackConfig, **changes: Any) -> Any:
    """The settings the stack's own API runs with (same database, Redis, artifact store and Dagster, in
    either test mode), with ``changes`` applied."""
    with environment(Stack(stack).env()):
        base = get_settings()
    return dataclasses.replace(base, **changes)


@pytest.fixture
def api_instance(stack: StackConfig,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AbstractContextManager[InProcessApi]]]:
    """``with api_instance(settings, launch_deadline_seconds=2) as api:`` -> a running in-process API."""
    # Object-store credentials come from the environment (boto3), not from Settings: give the in-process
    # app the ones the stack's services run with (production test mode).
    for name, value in stack.extra_env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)

    @contextmanager
    def factory(settings: Any, **overrides: Any) -> Iterator[InProcessApi]:
        api = InProcessApi(ApiConfig(settings=settings, **overrides)).start()
        try:
            yield api
        finally:
            api.stop()

    yield factory


@pytest.fixture(scope="session")
def quiet_api(stack: StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApi]:
    """An API whose jobs are accepted and stored but never launched (its Dagster URL points at a closed
    port), with its own database and artifact store: tests that need many 202s use it so that every
    accepted brief does not turn into a real render on the shared machine."""
    data_dir = tmp_path_factory.mktemp("quiet-api")
    port = free_port()
    dagster_down = ClosedPort()
    settings = stack_settings(
        stack,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir}/badapple.db",
        artifact_backend="local",
        artifacts_dir=data_dir / "artifacts",
        dagster_graphql_url=dagster_down.url,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    api = InProcessApi(ApiConfig(settings=settings, launch_deadline_seconds=3600, launch_backoff_max_seconds=60), port)
    api.start()
    try:
        yield api
    finally:
        api.stop()
        dagster_down.close()


@pytest.fixture(scope="module")
def quiet(quiet_api: InProcessApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=quiet_api.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def quiet_store(quiet_api: InProcessApi) -> JobStore:
    return JobStore(quiet_api.config.settings.database_url, migrate=False)
