"""Shared fixtures: one real stack (redis-server, dagster-webserver, dagster-daemon, the API) per test
session, started exactly as `badapple up` starts it, on free loopback ports and a throwaway data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from badapple_dagster.stack import Stack, StackConfig, free_port
from badapple_dagster.store.jobs import JobStore
from badapple_dagster.testing_services import production_services
from tests.providers.fakes import openai_fake


def distinct_free_ports(count: int) -> list[int]:
    # free_port() releases the port it found, so two calls in a row may return the same one.
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


TEST_MODE = os.environ.get("BADAPPLE_TEST_MODE", "embedded")  # "production": PostgreSQL + S3 (moto)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    data_dir: Path = tmp_path_factory.mktemp("stack")
    api_port, dagster_port, redis_port = distinct_free_ports(3)
    with ExitStack() as services:
        database_url, extra_env = None, {}
        if TEST_MODE == "production":
            database_url, extra_env = services.enter_context(production_services(data_dir / "services"))
        # A wire-compatible OpenAI on loopback (paid third party: faked, never called for real), so jobs that
        # choose an OpenAI provider through the API run end to end. Replicate and ElevenLabs stay unconfigured:
        # a job choosing them shows the keyless fallback.
        openai = openai_fake(tmp=data_dir)
        services.callback(openai.stop)
        extra_env = {**extra_env, "OPENAI_API_KEY": "sk-stack-fake-0123456789", "OPENAI_BASE_URL": f"{openai.url}/v1",
                     # a developer's real keys in the shell must never reach a test run
                     "REPLICATE_API_TOKEN": "", "ELEVENLABS_API_KEY": "", "OPENROUTER_API_KEY": ""}
        cfg = StackConfig(data_dir=data_dir, api_port=api_port, dagster_port=dagster_port, redis_port=redis_port,
                          database_url=database_url, extra_env=extra_env)
        with Stack(cfg):
            yield cfg


@pytest.fixture(scope="session")
def database_url(stack: StackConfig) -> str:
    return stack.database_url or f"sqlite:///{stack.data_dir}/badapple.db"


@pytest.fixture(scope="session")
def job_store(database_url: str) -> JobStore:
    # migrate=False: the stack initialised the schema before any server started.
    return JobStore(database_url, migrate=False)
