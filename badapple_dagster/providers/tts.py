"""Voiceovers from OpenAI speech (``/v1/audio/speech``) and ElevenLabs
(``/v1/text-to-speech/{voice_id}/with-timestamps``).

Like the espeak provider, each scene is voiced separately so scene cuts fall between sentences, and the
scenes are laid out with the same lead-in/tail/minimum-window rules (``media.voice`` helpers), giving the
same ``VoiceTrack`` shape. Word timings: ElevenLabs returns per-character times, which we turn into exact
word starts; OpenAI returns audio only, so its word timings are *estimated* proportionally to character
counts across the spoken part of each scene (recorded as ``timing: estimated`` in the call output).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from typing import Any

from ..media.models import END_CARD_SECONDS, MAX_AD_SECONDS, MIN_AD_SECONDS, Script, VoiceTrack
from .errors import PROVIDER_ERROR, VALIDATION_ERROR, ProviderError
from .http import JsonHttpClient, RetrySettings
from .ledger import CallMeter, CallResult
from .pricing import Usage, cost_usd

SAMPLE_RATE = 24000  # both services speak at 24 kHz or more; 24000/30 fps = 800 samples per video frame


def decode_to_mono(data: bytes, work_dir: str, name: str, provider: str) -> str:
    """Any container/codec the service returns (mp3, wav, opus) -> mono 16-bit WAV at SAMPLE_RATE."""
    src = os.path.join(work_dir, f"{name}.bin")
    dst = os.path.join(work_dir, f"{name}.wav")
    with open(src, "wb") as f:
        f.write(data)
    from ..media.ffmpeg import FFmpegError, run_ffmpeg

    try:
        run_ffmpeg(["-i", src, "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", dst], timeout=120)
    except FFmpegError as exc:
        raise ProviderError(PROVIDER_ERROR, provider, f"returned audio ffmpeg cannot decode: {exc}") from exc
    if not os.path.exists(dst) or os.path.getsize(dst) <= 44:
        raise ProviderError(PROVIDER_ERROR, provider, "returned audio ffmpeg cannot decode: no samples")
    return dst


class _RemoteVoice:
    """Shared layout; subclasses fetch one scene's audio (+ optional character alignment)."""

    name = "remote-tts"
    timing = "estimated"

    def __init__(self, *, model: str, voice: str, meter: CallMeter | None) -> None:
        self.model = model
        self.voice = voice
        self.meter = meter

    def _speak(self, text: str) -> tuple[bytes, list[tuple[int, float]] | None, str | None]:
        raise NotImplementedError

    def _scene_audio(self, index: int, text: str, work: str) -> tuple[str, list[tuple[int, float]] | None]:
        meter = self.meter or CallMeter(None, "", "voice_gen")
        payload = {"text": text, "voice": self.voice}
        digest = hashlib.sha256(repr((self.name, self.model, payload)).encode()).hexdigest()[:16]

        def call() -> CallResult:
            audio, marks, rid = self._speak(text)
            wav = decode_to_mono(audio, work, f"scene_{index}", self.name)
            key = meter.keep_file(f"scene_{index:02d}_{digest}.wav", wav, "audio/wav")
            cost = cost_usd(self.name, self.model, Usage(characters=len(text)))
            out = {"audio_key": key, "marks": marks, "timing": self.timing, "request_id": rid, "local": wav}
            return CallResult(out, cost, rid)

        res = meter.call(provider=self.name, model=self.model, scene=index, payload=payload, fn=call,
                         reusable=lambda o: meter.has_file(o.get("audio_key")))
        if res.reused:
            wav = meter.restore_file(res.output["audio_key"], os.path.join(work, f"scene_{index}.wav"))
        else:
            wav = res.output["local"]
        marks = res.output.get("marks")
        return wav, [tuple(m) for m in marks] if marks is not None else None

    def synthesize(self, script: Script, out_wav: str, *, voice: str | None = None,
                   rate: int | None = None) -> VoiceTrack:
        from ..media.voice import (
            _assemble,
            _estimate_marks,
            _pad_to_minimum,
            _read_mono_wav,
            _scene_speech,
            _Utterance,
            _window_lengths,
            _write_mono_wav,
        )

        if voice:
            self.voice = voice
        speeches = []
        with tempfile.TemporaryDirectory(prefix="tts-") as work:
            for scene in script.scenes:
                text = " ".join(scene.voiceover.split())
                wav, marks = self._scene_audio(scene.index, text, work)
                samples, sr = _read_mono_wav(wav)
                if marks is None:
                    marks = _estimate_marks(text, samples, sr)
                speeches.append(_scene_speech(_Utterance(samples, sr, marks), text))
        lengths = _window_lengths(speeches, SAMPLE_RATE)
        total = sum(lengths) / SAMPLE_RATE
        max_total = MAX_AD_SECONDS - END_CARD_SECONDS
        if total > max_total:
            # A remote voice cannot be re-paced for free; let the fallback chain (or the operator) decide.
            raise ProviderError(VALIDATION_ERROR, self.name, f"voiceover is {total:.1f}s, over the {max_total:.0f}s "
                                "that fit before the end card; shorten the script")
        lengths = _pad_to_minimum(lengths, SAMPLE_RATE, MIN_AD_SECONDS - END_CARD_SECONDS)
        audio, windows, words = _assemble(speeches, [s.index for s in script.scenes], lengths, SAMPLE_RATE)
        _write_mono_wav(out_wav, audio, SAMPLE_RATE)
        return VoiceTrack(out_wav, windows[-1].end, SAMPLE_RATE, self.voice, rate or 0, words, windows,
                          provider=self.name)


class OpenAISpeech(_RemoteVoice):
    name = "openai"
    timing = "estimated"

    def __init__(self, *, api_key: str | None, base_url: str = "https://api.openai.com/v1", model: str = "tts-1",
                 voice: str = "alloy", meter: CallMeter | None = None, retry: RetrySettings | None = None,
                 timeout: float = 120.0) -> None:
        super().__init__(model=model, voice=voice or "alloy", meter=meter)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = JsonHttpClient(self.name, base_url, headers=headers, secret=api_key, retry=retry,
                                     timeout=timeout)

    def _speak(self, text: str) -> tuple[bytes, None, str | None]:
        res = self.client.post_json("audio/speech", {"model": self.model, "input": text, "voice": self.voice,
                                                     "response_format": "wav"})
        return res.content, None, res.request_id


class ElevenLabsSpeech(_RemoteVoice):
    name = "elevenlabs"
    timing = "aligned"
    DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"  # ElevenLabs' stock "Rachel" voice

    def __init__(self, *, api_key: str | None, base_url: str = "https://api.elevenlabs.io",
                 model: str = "eleven_multilingual_v2", voice: str = "", meter: CallMeter | None = None,
                 retry: RetrySettings | None = None, timeout: float = 120.0) -> None:
        super().__init__(model=model, voice=voice or self.DEFAULT_VOICE, meter=meter)
        headers = {"xi-api-key": api_key} if api_key else {}
        self.client = JsonHttpClient(self.name, base_url, headers=headers, secret=api_key, retry=retry,
                                     timeout=timeout)

    def _speak(self, text: str) -> tuple[bytes, list[tuple[int, float]], str | None]:
        res = self.client.post_json(f"v1/text-to-speech/{self.voice}/with-timestamps",
                                    {"text": text, "model_id": self.model})
        try:
            data: dict[str, Any] = res.json()
            audio = base64.b64decode(data["audio_base64"])
            align = data.get("alignment") or {}
            starts = [float(t) for t in align.get("character_start_times_seconds") or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(PROVIDER_ERROR, self.name, f"unexpected with-timestamps response ({exc})",
                                request_id=res.request_id) from exc
        # One start time per input character; a word's mark is the start of its first character.
        marks = [(i, starts[i]) for i in range(min(len(text), len(starts)))
                 if not text[i].isspace() and (i == 0 or text[i - 1].isspace())]
        return audio, marks, res.request_id
