"""Start and stop the whole local stack: redis-server, dagster-webserver, dagster-daemon and the API.

Used by `badapple up` and by the test suite's session fixture, so the tests run exactly what users run.
Order matters: the Dagster instance and the job store are initialised before any server starts (starting
webserver and daemon at the same instant on a fresh SQLite home has corrupted the schema), then Redis, then
the webserver and daemon, then the API.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class StackConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    api_port: int = 8000
    dagster_port: int = 3000
    redis_port: int = 6379
    redis_url: str | None = None  # an external Redis; otherwise we start redis-server
    database_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def dagster_url(self) -> str:
        return f"http://{self.host}:{self.dagster_port}"

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or f"redis://{self.host}:{self.redis_port}/0"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"


class StackError(RuntimeError):
    pass


class Stack:
    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.log_dir = cfg.data_dir / "logs"

    # ---- environment -------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            BADAPPLE_DATA_DIR=str(self.cfg.data_dir),
            DAGSTER_HOME=str(self.cfg.dagster_home),
            REDIS_URL=self.cfg.effective_redis_url,
            BADAPPLE_DAGSTER_URL=self.cfg.dagster_url,
            BADAPPLE_PUBLIC_URL=self.cfg.api_url,
            PYTHONUNBUFFERED="1",
        )
        if self.cfg.database_url:
            env["DATABASE_URL"] = self.cfg.database_url
        db = env.get("DATABASE_URL", "")
        if db.startswith("postgres") and not env.get("DAGSTER_POSTGRES_URL"):
            env["DAGSTER_POSTGRES_URL"] = db  # Dagster's tables and the job store share the server
        env.update(self.cfg.extra_env)
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        # A new session per child so Ctrl-C in the terminal reaches us once and we stop children in order.
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((name, proc))
        return proc

    # ---- lifecycle ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Initialise the Dagster instance and the job store before any server touches them."""
        code = (
            "import os, pathlib;"
            "from badapple_dagster.settings import check_production_secrets, get_settings;"
            "check_production_secrets();"
            "from badapple_dagster.instance_config import write_instance_yaml;"
            "write_instance_yaml(pathlib.Path(os.environ['DAGSTER_HOME']));"
            "from dagster import DagsterInstance; DagsterInstance.get().upgrade();"
            "from badapple_dagster.store.jobs import JobStore; JobStore(get_settings().database_url)"
        )
        proc = subprocess.run([sys.executable, "-c", code], env=self.env(), cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=180)
        if proc.returncode != 0:
            raise StackError(f"could not initialise the Dagster instance / job store:\n{proc.stderr[-2000:]}")

    def start(self, timeout: float = 120) -> None:
        cfg = self.cfg
        self.prepare()
        if not cfg.redis_url:
            redis_dir = cfg.data_dir / "redis"
            redis_dir.mkdir(parents=True, exist_ok=True)
            server = shutil.which("redis-server")
            if not server:
                raise StackError("redis-server is not installed; run scripts/bootstrap.sh")
            self._spawn("redis", [server, "--bind", cfg.host, "--port", str(cfg.redis_port),
                                  "--dir", str(redis_dir), "--appendonly", "yes", "--save", "",
                                  "--protected-mode", "no"])
        self._wait_redis(timeout)
        workspace = str(REPO_ROOT / "workspace.yaml")
        bindir = Path(sys.executable).parent
        self._spawn("dagster-webserver", [str(bindir / "dagster-webserver"), "-w", workspace, "-h", cfg.host,
                                          "-p", str(cfg.dagster_port)])
        self._wait_http(f"{cfg.dagster_url}/server_info", timeout, "dagster-webserver")
        self._spawn("dagster-daemon", [str(bindir / "dagster-daemon"), "run", "-w", workspace])
        self._spawn("api", [sys.executable, "-m", "uvicorn", "api.main:app", "--host", cfg.host,
                            "--port", str(cfg.api_port), "--no-access-log"])
        self._wait_http(f"{cfg.api_url}/health", timeout, "api")
        self._wait_daemon(timeout)

    def _check_alive(self) -> None:
        for name, p in self.procs:
            if p.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise StackError(f"{name} exited with {p.returncode}; log tail:\n{tail}")

    def _wait_redis(self, timeout: float) -> None:
        import redis

        client = redis.Redis.from_url(self.cfg.effective_redis_url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if client.ping():
                    return
            except Exception:
                time.sleep(0.1)
        raise StackError("redis did not become ready")

    def _wait_http(self, url: str, timeout: float, name: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise StackError(f"{name} did not become healthy at {url}")

    def _wait_daemon(self, timeout: float) -> None:
        """The daemon is healthy when every daemon it runs has sent a heartbeat (queued runs need it)."""
        query = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                r = httpx.post(f"{self.cfg.dagster_url}/graphql", json={"query": query}, timeout=5)
                statuses = r.json()["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
                if statuses and all(s["healthy"] for s in statuses if s["required"]):
                    return
            except (httpx.HTTPError, KeyError, TypeError, ValueError):
                pass
            time.sleep(0.5)
        raise StackError("dagster-daemon did not report healthy")

    def stop(self, timeout: float = 20) -> None:
        # Reverse order: API first (no new submissions), then the daemon, webserver and Redis last.
        for _name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for _name, p in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        self.procs.clear()

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
