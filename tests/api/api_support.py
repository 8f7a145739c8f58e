"""Plain helpers for the API tests: test images (good, hostile and broken), a small MP4, job set-up through
the store, and a WebSocket reader."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

from PIL import Image

from badapple_dagster.store.jobs import AD_STAGES, JobRecord, JobStore, StageEvent

# ---- images ----------------------------------------------------------------------------------------------


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buf, format=fmt)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side: int = 20000) -> bytes:
    """A 1-bit side x side PNG of zeros: tiny on the wire, ``side``² pixels once decoded."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def corrupt_png() -> bytes:
    """A real PNG with its pixel data damaged (the CRC no longer matches, decoding fails)."""
    data = bytearray(image_bytes("PNG", (64, 64)))
    idat = data.find(b"IDAT")
    for i in range(idat + 8, idat + 24):
        data[i] ^= 0xFF
    return bytes(data)


def gif_bytes() -> bytes:
    return image_bytes("GIF")


# ---- video -----------------------------------------------------------------------------------------------


def make_mp4(path: Path, seconds: float = 1.0) -> bytes:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=15:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


# ---- jobs through the store ------------------------------------------------------------------------------


def new_job(store: JobStore, job_id: str, **brief: Any) -> JobRecord:
    values = {"product_name": "Test Bottle", "style": "modern", "cta_text": "Buy now"} | brief
    return store.create_job(job_id, **values)


def complete_job(store: JobStore, job_id: str, video_key: str) -> JobRecord:
    """Walk a job through every stage to completed, as the pipeline reports it."""
    job: JobRecord | None = None
    for stage in AD_STAGES:
        store.apply_event(StageEvent(job_id, stage, "started"))
        last = stage == AD_STAGES[-1]
        job = store.apply_event(StageEvent(job_id, stage, "completed", video_key=video_key if last else None))
    assert job is not None and job.status == "completed", job
    return job


# ---- WebSocket -------------------------------------------------------------------------------------------


async def read_until_closed(ws: Any, timeout: float = 30.0) -> tuple[list[dict[str, Any]], int | None]:
    """Every JSON message until the server closes; returns (messages, close code)."""
    import asyncio

    from websockets.exceptions import ConnectionClosed

    messages: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            async for raw in ws:
                messages.append(json.loads(raw))
    except ConnectionClosed:
        pass
    return messages, ws.close_code


class RawWebSocket:
    """A deliberately minimal client that reads only when told to (websockets' own client keeps reading into
    memory), for testing what the server does with a client that stops reading."""

    def __init__(self, host: str, port: int, path: str, rcvbuf: int = 16384) -> None:
        import base64
        import os
        import socket

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # no autotuning to tens of MB
        self.sock.settimeout(30)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"handshake refused: {head[:100]!r}")

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _need(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.buffer += self._recv()
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next server frame (server frames are never masked)."""
        b0, b1 = self._need(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._need(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._need(8))[0]
        return b0 & 0x0F, self._need(length)

    def read_until_close(self) -> tuple[list[dict[str, Any]], int | None]:
        """Every text message, then the close code (None if the connection ended without a close frame)."""
        messages: list[dict[str, Any]] = []
        try:
            while True:
                opcode, payload = self.read_frame()
                if opcode == 0x1:
                    messages.append(json.loads(payload))
                elif opcode == 0x8:
                    return messages, struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
        except (EOFError, OSError):
            return messages, None

    def close(self) -> None:
        self.sock.close()


class ClosedPort:
    """A loopback port where nothing accepts connections (bound, never listening), reserved for as long as
    this object lives, so "Dagster is down" cannot turn into some other server answering on the port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        import socket

        self.host = host
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.port: int = self.sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self.sock.close()


class TcpProxy:
    """A TCP forwarder that can be switched on and off: "Dagster is down" (connections refused) until
    ``open()``, then every connection is piped to the real webserver. The port is reserved from the start."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        import socket

        self.target_port = target_port
        self.host = host
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((host, 0))  # bound but not listening: connections are refused
        self.listen_port: int = self._server.getsockname()[1]
        self._conns: list[Any] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.listen_port}"

    def open(self) -> None:
        import threading

        self._server.listen(64)
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.host, self.target_port))
            self._conns += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: Any, dst: Any) -> None:
        import socket

        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._server.close()
        for conn in self._conns:
            conn.close()
        self._conns.clear()
