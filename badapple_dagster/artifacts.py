"""Artifact stores: where every stage's media lives, under deterministic keys (``ads/{job_id}/{stage}/...``).

Two implementations with one interface: a local folder (the embedded default) and S3 (any S3-compatible
endpoint). Nothing here imports Dagster; the Dagster resources in ``resources.py`` wrap these classes, and the
API uses them directly to store uploads and serve videos.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


class ArtifactKeyError(ValueError):
    pass


def validate_key(key: str) -> str:
    """Keys are relative, normalised, and cannot climb out of their namespace."""
    if not key or len(key) > 512 or not _KEY_RE.match(key):
        raise ArtifactKeyError(f"invalid artifact key {key!r}")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ArtifactKeyError(f"invalid artifact key {key!r}")
    return key


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ArtifactStore(Protocol):
    def put_file(self, key: str, local_path: str, content_type: str | None = None) -> str: ...
    def put_file_if_absent(self, key: str, local_path: str, content_type: str | None = None) -> bool: ...
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str: ...
    def get_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def fetch(self, key: str, dest: str) -> str: ...
    def local_path(self, key: str) -> str | None: ...
    def uri(self, key: str) -> str: ...
    def presigned_url(self, key: str, expires: int = 3600) -> str | None: ...
    def size(self, key: str) -> int: ...
    def delete_prefix(self, prefix: str) -> int: ...


class _JsonMixin:
    def put_json(self, key: str, obj: Any) -> str:
        return self.put_bytes(key, json.dumps(obj, indent=2, sort_keys=True).encode(), "application/json")  # type: ignore[attr-defined]

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))  # type: ignore[attr-defined]

    def materialize_local(self, key: str, work_dir: str) -> str:
        """A local path holding the object: the file itself for a local store, a download otherwise."""
        direct = self.local_path(key)  # type: ignore[attr-defined]
        if direct:
            return direct
        dest = os.path.join(work_dir, key.replace("/", "__"))
        return self.fetch(key, dest)  # type: ignore[attr-defined]


class LocalArtifactStore(_JsonMixin):
    backend = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        p = (self.root / validate_key(key)).resolve()
        if self.root not in p.parents:
            raise ArtifactKeyError(f"artifact key escapes the store: {key!r}")
        return p

    def _atomic_write(self, dest: Path, writer: Any) -> None:
        # Write-then-rename so a reader (the API serving a video) never sees a half-written file.
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, local_path: str, content_type: str | None = None) -> str:
        dest = self._path(key)
        if Path(local_path).resolve() != dest:
            with open(local_path, "rb") as src:
                self._atomic_write(dest, lambda f: shutil.copyfileobj(src, f, 1 << 20))
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        self._atomic_write(self._path(key), lambda f: f.write(data))
        return self.uri(key)

    def put_file_if_absent(self, key: str, local_path: str, content_type: str | None = None) -> bool:
        """Store only if nothing is there yet; False if something is. Atomic across processes sharing the
        folder: the complete file is hard-linked into place, and link() refuses an existing name."""
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f, open(local_path, "rb") as src:
                shutil.copyfileobj(src, f, 1 << 20)
            os.link(tmp, dest)
            return True
        except FileExistsError:
            return False
        finally:
            Path(tmp).unlink(missing_ok=True)

    def get_bytes(self, key: str) -> bytes:
        p = self._path(key)
        if not p.is_file():
            raise FileNotFoundError(f"artifact not found: {key}")
        return p.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def fetch(self, key: str, dest: str) -> str:
        src = self._path(key)
        if not src.is_file():
            raise FileNotFoundError(f"artifact not found: {key}")
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        return dest

    def local_path(self, key: str) -> str | None:
        p = self._path(key)
        return str(p) if p.is_file() else None

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def presigned_url(self, key: str, expires: int = 3600) -> str | None:
        return None  # the API serves local artifacts itself (with range requests)

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def delete_prefix(self, prefix: str) -> int:
        base = self._path(prefix.rstrip("/"))
        if base.is_file():
            base.unlink()
            return 1
        if not base.is_dir():
            return 0
        n = sum(1 for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base)
        return n


class S3ArtifactStore(_JsonMixin):
    backend = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _k(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, local_path: str, content_type: str | None = None) -> str:
        ctype = content_type or mimetypes.guess_type(local_path)[0] or "application/octet-stream"
        self.client.upload_file(local_path, self.bucket, self._k(key), ExtraArgs={"ContentType": ctype})
        return self.uri(key)

    def put_file_if_absent(self, key: str, local_path: str, content_type: str | None = None) -> bool:
        """Store only if the key is free (S3 conditional write, ``If-None-Match: *``); False if taken."""
        from botocore.exceptions import ClientError

        ctype = content_type or mimetypes.guess_type(local_path)[0] or "application/octet-stream"
        try:
            with open(local_path, "rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=self._k(key), Body=body, ContentType=ctype,
                                       IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        self.client.put_object(
            Bucket=self.bucket, Key=self._k(key), Body=data, ContentType=content_type or "application/octet-stream"
        )
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._k(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"artifact not found: {key}") from None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._k(key))
            return True
        except Exception as exc:  # botocore ClientError 404
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def fetch(self, key: str, dest: str) -> str:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        self.client.download_file(self.bucket, self._k(key), dest)
        return dest

    def local_path(self, key: str) -> str | None:
        return None

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._k(key)}"

    def presigned_url(self, key: str, expires: int = 3600) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._k(key)}, ExpiresIn=expires
        )

    def size(self, key: str) -> int:
        return int(self.client.head_object(Bucket=self.bucket, Key=self._k(key))["ContentLength"])

    def delete_prefix(self, prefix: str) -> int:
        n = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._k(prefix.rstrip("/")) + "/"):
            objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objs:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objs})
                n += len(objs)
        return n


def ad_key(job_id: str, stage: str, name: str) -> str:
    """The deterministic key layout of ad artifacts: ``ads/{job_id}/{stage}/{name}``."""
    return validate_key(f"ads/{job_id}/{stage}/{name}")


def artifact_store_from_settings(settings: Any = None) -> ArtifactStore:
    """The store the pipeline uses, for code outside Dagster (the API, the CLI)."""
    from .settings import get_settings

    s = settings or get_settings()
    if s.artifact_backend == "s3":
        import boto3
        from botocore.config import Config

        if not s.s3_bucket:
            raise ValueError("BADAPPLE_ARTIFACTS=s3 needs BADAPPLE_S3_BUCKET")
        client = boto3.client(
            "s3",
            endpoint_url=s.s3_endpoint_url,
            region_name=s.s3_region,
            # Path-style works with every S3-compatible server (MinIO, moto, Ceph) and with AWS.
            config=Config(s3={"addressing_style": "path"}),
        )
        return S3ArtifactStore(client, s.s3_bucket, s.s3_prefix)
    return LocalArtifactStore(s.artifacts_dir)
