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


def _race_for_names(store, tmp_path, writers: int = 4, each: int = 5) -> list[int]:
    """``writers`` threads (stand-ins for API replicas: no shared lock) each claim ``each`` numbered keys the
    way /api/mv/video numbers scene clips: first free number, create-if-absent."""
    import threading

    claimed: list[int] = []
    guard = threading.Lock()

    def writer(w: int) -> None:
        src = tmp_path / f"w{w}.bin"
        src.write_bytes(bytes([w]) * 2048)
        for _ in range(each):
            for n in range(1, writers * each + 2):
                key = f"mv/projects/p/scenes/scene_{n:03d}.mp4"
                if not store.exists(key) and store.put_file_if_absent(key, str(src), "video/mp4"):
                    with guard:
                        claimed.append(n)
                    break

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return claimed


def _first_write_wins(store, tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    assert store.put_file_if_absent("x/k.bin", str(a)) is True
    assert store.put_file_if_absent("x/k.bin", str(b)) is False
    assert store.get_bytes("x/k.bin") == b"first"


def test_put_if_absent_never_overwrites_locally(tmp_path):
    store = LocalArtifactStore(tmp_path / "art")
    _first_write_wins(store, tmp_path)
    assert not [p for p in (tmp_path / "art" / "x").iterdir() if p.name.startswith(".tmp-")]
    claimed = _race_for_names(store, tmp_path)
    assert sorted(claimed) == list(range(1, 21)), "every writer got its own numbers, none lost or shared"


def test_put_if_absent_is_a_conditional_write_on_s3(moto_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from badapple_dagster.resources import S3ArtifactStoreResource

    store = S3ArtifactStoreResource(bucket="badapple-cond", endpoint_url=moto_endpoint, region_name="us-east-1").get()
    store.client.create_bucket(Bucket="badapple-cond")
    _first_write_wins(store, tmp_path)
    claimed = _race_for_names(store, tmp_path)
    assert sorted(claimed) == list(range(1, 21))
