"""Artifact stores: the local folder, and S3 against moto's S3-compatible server on loopback."""

import shutil
import socket
import subprocess
import sys
import time

import pytest

from badapple_dagster.artifacts import ArtifactKeyError, LocalArtifactStore, S3ArtifactStore, ad_key, validate_key


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", "a/../b", "", "a b", "ads/\x00"])
def test_keys_cannot_escape_or_be_odd(key):
    with pytest.raises(ArtifactKeyError):
        validate_key(key)


def test_ad_key_layout():
    assert ad_key("j1", "voice_gen", "voice.wav") == "ads/j1/voice_gen/voice.wav"


def test_local_store_roundtrip(tmp_path):
    store = LocalArtifactStore(tmp_path / "art")
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 1000)
    uri = store.put_file("ads/j/s/f.bin", str(src))
    assert uri.startswith("file://") and store.exists("ads/j/s/f.bin") and store.size("ads/j/s/f.bin") == 1000
    store.put_json("ads/j/s/manifest.json", {"a": 1})
    assert store.get_json("ads/j/s/manifest.json") == {"a": 1}
    assert store.local_path("ads/j/s/f.bin").endswith("ads/j/s/f.bin")
    assert store.delete_prefix("ads/j") == 2 and not store.exists("ads/j/s/f.bin")
    with pytest.raises(FileNotFoundError):
        store.get_bytes("ads/j/s/missing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    if shutil.which("moto_server") is None:
        pytest.skip("moto[server] is not installed (pip install -e .[dev])")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(100):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


def test_s3_store_through_dagster_aws_resource(moto_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from badapple_dagster.resources import S3ArtifactStoreResource

    resource = S3ArtifactStoreResource(bucket="badapple-test", endpoint_url=moto_endpoint, region_name="us-east-1")
    store = resource.get()
    assert isinstance(store, S3ArtifactStore)
    store.client.create_bucket(Bucket="badapple-test")
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"\x00" * 4096)
    assert store.put_file("ads/j/video_gen/scene_01.mp4", str(src)) == "s3://badapple-test/ads/j/video_gen/scene_01.mp4"
    assert store.exists("ads/j/video_gen/scene_01.mp4") and not store.exists("ads/j/nothing")
    assert store.size("ads/j/video_gen/scene_01.mp4") == 4096
    store.put_json("ads/j/video_gen/manifest.json", {"clips": 1})
    assert store.get_json("ads/j/video_gen/manifest.json") == {"clips": 1}
    local = store.materialize_local("ads/j/video_gen/scene_01.mp4", str(tmp_path / "work"))
    assert open(local, "rb").read() == b"\x00" * 4096
    url = store.presigned_url("ads/j/video_gen/scene_01.mp4", expires=60)
    import httpx

    assert httpx.get(url).content == b"\x00" * 4096
    assert store.delete_prefix("ads/j") == 2
