"""Wire-compatible fake provider servers on loopback, started by the tests (no real network, no mocks).

Each fake is a real HTTP server in a thread: OpenAI (chat completions, speech), ElevenLabs (with-timestamps)
and Replicate (async predictions with polling and a downloadable MP4 made with ffmpeg). A test can queue
scripted responses (429 with Retry-After, 500s, refusals, slow answers) that are served before the normal
behaviour, and inspects ``requests`` to count what the server received.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Resp:
    status: int = 200
    body: Any = b""  # bytes, or anything JSON-serialisable
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeServer:
    def __init__(self, route: Callable[[Req], Resp]) -> None:
        self.route = route
        self.requests: list[Req] = []
        self.queued: list[tuple[str, Resp]] = []  # (path regex, response) served once, before ``route``
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                req = Req(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                          self.rfile.read(n) if n else b"")
                with fake._lock:
                    fake.requests.append(req)
                    resp = next((r for pat, r in fake.queued if re.search(pat, req.path)), None)
                    if resp is not None:
                        fake.queued = [q for q in fake.queued if q[1] is not resp]
                resp = resp or fake.route(req)
                if resp.delay:
                    time.sleep(resp.delay)
                body = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
                try:
                    self.send_response(resp.status)
                    ctype = "application/json" if not isinstance(resp.body, bytes) else "application/octet-stream"
                    self.send_header("content-type", resp.headers.get("content-type", ctype))
                    for k, v in resp.headers.items():
                        if k != "content-type":
                            self.send_header(k, v)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and went away
                    pass

            do_GET = do_POST = _serve

            def log_message(self, *_a: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def queue(self, path_regex: str, *responses: Resp) -> None:
        with self._lock:
            self.queued.extend((path_regex, r) for r in responses)

    def hits(self, path_regex: str, method: str | None = None) -> int:
        return sum(1 for r in self.requests if re.search(path_regex, r.path) and (method in (None, r.method)))

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- media made on the spot with ffmpeg ------------------------------------------------------------------

def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


def make_mp4(path: Path, seconds: float = 2.0, size: str = "360x640") -> bytes:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=24:duration={seconds}", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    return path.read_bytes()


def make_speech(path: Path, seconds: float, fmt: str) -> bytes:
    """A tone with silence around it (so speech bounds are found), as wav or mp3."""
    src = f"sine=frequency=220:sample_rate=24000:duration={seconds}"
    args = ["-f", "lavfi", "-i", src, "-af", "adelay=150,apad=pad_dur=0.2,volume=0.5", "-ac", "1"]
    if fmt == "mp3":
        args += ["-c:a", "libmp3lame", "-b:a", "64k"]
    _ffmpeg(*args, str(path))
    return path.read_bytes()


# --- the fakes -------------------------------------------------------------------------------------------

GOOD_SCRIPT = {
    "tagline": "Energy that keeps up",
    "scenes": [
        {"role": "hook", "voiceover": "Stop scrolling, your afternoon slump just met its match.",
         "on_screen_text": "Slump, meet match"},
        {"role": "benefit", "voiceover": "Volt Energy Drink gives you clean focus without the crash later.",
         "on_screen_text": "Clean focus"},
        {"role": "proof", "voiceover": "Thousands of students and coders swear by it every single day.",
         "on_screen_text": "Loved by thousands"},
        {"role": "cta", "voiceover": "Power up with Volt. Grab yours today", "on_screen_text": "Grab yours"},
    ],
}


def openai_fake(content: Callable[[], str] | None = None, speech_seconds: float = 2.2,
                tmp: Path | None = None) -> FakeServer:
    wav = make_speech((tmp or Path("/tmp")) / f"speech-{time.monotonic_ns()}.wav", speech_seconds, "wav")
    counter = {"n": 0}

    def route(req: Req) -> Resp:
        if req.path.endswith("/chat/completions") and req.method == "POST":
            counter["n"] += 1
            text = content() if content else json.dumps(GOOD_SCRIPT)
            return Resp(200, {
                "id": f"chatcmpl-{counter['n']}", "object": "chat.completion", "created": 1764000000,
                "model": req.json()["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 310, "completion_tokens": 190, "total_tokens": 500},
            }, {"x-request-id": f"req_{counter['n']}"})
        if req.path.endswith("/audio/speech") and req.method == "POST":
            return Resp(200, wav, {"content-type": "audio/wav", "x-request-id": "req_tts"})
        return Resp(404, {"error": {"message": f"Unknown path {req.path}", "type": "invalid_request_error"}})

    return FakeServer(route)


def elevenlabs_fake(tmp: Path, speech_seconds: float = 2.4) -> FakeServer:
    mp3 = make_speech(tmp / "eleven.mp3", speech_seconds, "mp3")

    def route(req: Req) -> Resp:
        m = re.match(r"^/v1/text-to-speech/([^/]+)/with-timestamps$", req.path)
        if m and req.method == "POST":
            text = req.json()["text"]
            # Characters spread evenly across the tone (which starts 0.15 s in), as the service would align them.
            step = speech_seconds / max(1, len(text))
            starts = [round(0.15 + i * step, 3) for i in range(len(text))]
            return Resp(200, {"audio_base64": base64.b64encode(mp3).decode(),
                              "alignment": {"characters": list(text), "character_start_times_seconds": starts,
                                            "character_end_times_seconds": [s + step for s in starts]},
                              "normalized_alignment": None}, {"request-id": "el_req_1"})
        return Resp(404, {"detail": {"status": "not_found", "message": "not found"}})

    return FakeServer(route)


def make_png(size: tuple[int, int] = (512, 512)) -> bytes:
    """A character reference as an image model would return it: one figure on a plain studio backdrop."""
    import io

    from PIL import Image, ImageDraw

    w, h = size
    img = Image.new("RGB", size, (228, 226, 220))
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.42, h * 0.1, w * 0.58, h * 0.26], fill=(190, 150, 120))  # head
    d.rounded_rectangle([w * 0.36, h * 0.27, w * 0.64, h * 0.62], radius=w // 20, fill=(200, 30, 40))  # jacket
    d.rectangle([w * 0.39, h * 0.62, w * 0.48, h * 0.92], fill=(40, 40, 60))  # legs
    d.rectangle([w * 0.52, h * 0.62, w * 0.61, h * 0.92], fill=(40, 40, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# Image models answer with a PNG; flux-schnell's output is a list of URLs, Imagen's a single URL.
IMAGE_MODELS = {"google/imagen-4": False, "black-forest-labs/flux-schnell": True}


class ReplicateFake:
    """Predictions go starting -> processing -> succeeded over ``polls`` GETs; outputs are served by the same
    server (an MP4 made with ffmpeg; a PNG for image models). ``fail_with`` makes predictions fail with that
    error text (e.g. a safety refusal); ``fail_models`` does it for one model only ({model: error text})."""

    def __init__(self, tmp: Path, polls: int = 2, clip_seconds: float = 2.0) -> None:
        self.mp4 = make_mp4(tmp / "fake_clip.mp4", clip_seconds)
        self.png = make_png()
        self.polls = polls
        self.fail_with: str | None = None
        self.fail_models: dict[str, str] = {}
        self.serve_html = False
        self.predictions: dict[str, dict[str, Any]] = {}
        self._n = 0
        self._ids = threading.Lock()
        self.server = FakeServer(self.route)

    @property
    def url(self) -> str:
        return self.server.url

    def route(self, req: Req) -> Resp:
        m = re.match(r"^/v1/models/([^/]+)/([^/]+)/predictions$", req.path)
        if m and req.method == "POST":
            with self._ids:  # the server is threaded and renderers create predictions concurrently
                self._n += 1
                pid = f"pred{self._n:04d}xyz"
            body = req.json()
            if "prompt" not in body.get("input", {}):
                return Resp(422, {"title": "Input validation failed", "detail": "input: prompt is required",
                                  "status": 422})
            self.predictions[pid] = {"polls": 0, "model": f"{m.group(1)}/{m.group(2)}", "input": body["input"]}
            return Resp(201, self._view(pid, "starting"))
        m = re.match(r"^/v1/predictions/([^/]+)$", req.path)
        if m and req.method == "GET" and m.group(1) in self.predictions:
            p = self.predictions[m.group(1)]
            p["polls"] += 1
            if p["polls"] < self.polls:
                return Resp(200, self._view(m.group(1), "processing"))
            error = self.fail_models.get(p["model"]) or self.fail_with
            if error:
                return Resp(200, self._view(m.group(1), "failed", error=error))
            if p["model"] in IMAGE_MODELS:
                url = f"{self.url}/files/{m.group(1)}/output.png"
                return Resp(200, self._view(m.group(1), "succeeded",
                                            output=[url] if IMAGE_MODELS[p["model"]] else url))
            return Resp(200, self._view(m.group(1), "succeeded",
                                        output=f"{self.url}/files/{m.group(1)}/output.mp4"))
        m = re.match(r"^/files/([^/]+)/output.(mp4|png)$", req.path)
        if m and req.method == "GET":
            if self.serve_html:
                return Resp(200, b"<html>Access denied</html>", {"content-type": "text/html"})
            if m.group(2) == "png":
                return Resp(200, self.png, {"content-type": "image/png"})
            return Resp(200, self.mp4, {"content-type": "video/mp4"})
        return Resp(404, {"detail": "Not found.", "status": 404})

    def _view(self, pid: str, status: str, output: Any = None, error: str | None = None) -> dict[str, Any]:
        p = self.predictions[pid]
        return {"id": pid, "model": p["model"], "version": "hash123", "input": p["input"], "status": status,
                "output": output, "error": error, "logs": "", "created_at": "2026-11-26T07:00:00Z",
                "metrics": {"predict_time": 1.2} if status == "succeeded" else {},
                "urls": {"get": f"{self.url}/v1/predictions/{pid}",
                         "cancel": f"{self.url}/v1/predictions/{pid}/cancel"}}

    def creates(self, model: str | None = None) -> int:
        if model is not None:
            return sum(1 for p in self.predictions.values() if p["model"] == model)
        return self.server.hits(r"/predictions$", "POST")

    def inputs(self, model: str) -> list[dict[str, Any]]:
        """The ``input`` of every prediction created for ``model``, in creation order."""
        return [p["input"] for p in self.predictions.values() if p["model"] == model]

    def stop(self) -> None:
        self.server.stop()
