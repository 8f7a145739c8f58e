"""Throwaway real servers for tests and benchmarks: PostgreSQL (initdb in a temp dir) and moto's
S3-compatible server, both on loopback. Not mocks: the same wire protocols production uses."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found and "/usr/local/bin" not in found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} is not installed; run scripts/bootstrap.sh")
    return candidates[-1]


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: drop to the postgres user the Debian package creates.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def postgres_server(base_dir: Path) -> Iterator[str]:
    """Yield a SQLAlchemy URL (postgresql+psycopg2) of a fresh server with database ``badapple``."""
    import tempfile

    # Its own top-level temp dir: the postgres user must be able to reach it, and a test's tmp_path sits
    # below root-only (0700) directories.
    base_dir.mkdir(parents=True, exist_ok=True)
    own = Path(tempfile.mkdtemp(prefix="badapple-pg-"))
    os.chmod(own, 0o755)
    data, sock = own / "data", own / "sock"
    data.mkdir()
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (own, data, sock):
            shutil.chown(p, "postgres")
    subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
    port = free_port()
    log = open(base_dir / "postgres.log", "ab")  # noqa: SIM115 - owned by the server process
    proc = subprocess.Popen(
        _as_postgres([_pg_bin("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(sock),
                      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"]),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        import psycopg2

        deadline = time.monotonic() + 60
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
                break
            except psycopg2.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((base_dir / "postgres.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE badapple")
        conn.close()
        yield f"postgresql+psycopg2://postgres:pg-test-only@127.0.0.1:{port}/badapple"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(own, ignore_errors=True)


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """Yield the endpoint URL of moto's S3-compatible server (pip: moto[server])."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start (pip install 'moto[server]')") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def production_services(base_dir: Path, bucket: str = "badapple-test") -> Iterator[tuple[str, dict[str, str]]]:
    """PostgreSQL + an S3-compatible server with a bucket: yields (DATABASE_URL, extra environment) for a
    stack in production mode."""
    with postgres_server(base_dir / "pg") as db_url, moto_s3_server() as s3_url:
        env = {
            "BADAPPLE_ENV": "production",
            "BADAPPLE_ARTIFACTS": "s3",
            "BADAPPLE_S3_BUCKET": bucket,
            "BADAPPLE_S3_ENDPOINT_URL": s3_url,
            "AWS_ACCESS_KEY_ID": "moto-test-key",
            "AWS_SECRET_ACCESS_KEY": "moto-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "DAGSTER_POSTGRES_URL": db_url,
        }
        import boto3

        boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", aws_access_key_id="moto-test-key",
                     aws_secret_access_key="moto-test-secret").create_bucket(Bucket=bucket)
        yield db_url, env
