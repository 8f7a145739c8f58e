"""OpenAI speech and ElevenLabs with-timestamps against fakes: real audio decoded, windows laid out."""

import pytest

from badapple_dagster.media.ffmpeg import probe
from badapple_dagster.media.models import Brief
from badapple_dagster.media.palette import palette_for
from badapple_dagster.media.script_writer import LocalScriptWriter
from badapple_dagster.media.styles import resolve_style
from badapple_dagster.providers.ledger import Ledger
from badapple_dagster.providers.tts import ElevenLabsSpeech, OpenAISpeech

from .conftest import FAST_RETRY
from .fakes import Resp


@pytest.fixture
def script():
    return LocalScriptWriter().write(Brief("Volt Energy Drink", "energetic", "Grab yours today"), seed=5,
                                     palette=palette_for(resolve_style("energetic"), None))


def check_track(track, script, wav):
    assert len(track.windows) == len(script.scenes) == 4
    assert all(b.start == a.end for a, b in zip(track.windows, track.windows[1:], strict=False))
    assert 12.0 <= track.duration <= 27.0
    n_words = sum(len(s.voiceover.split()) for s in script.scenes)
    assert abs(len(track.words) - n_words) <= 2
    assert all(w.start < w.end for w in track.words)
    assert abs(probe(wav).duration - track.duration) < 0.05


def test_openai_speech(openai_server, script, tmp_path, meter_for, store):
    wav = str(tmp_path / "voice.wav")
    tts = OpenAISpeech(api_key="sk-test-123456789012", base_url=f"{openai_server.url}/v1", meter=meter_for("voice_gen"),
                       retry=FAST_RETRY)
    track = tts.synthesize(script, wav)
    check_track(track, script, wav)
    assert track.provider == "openai" and track.voice == "alloy"
    assert openai_server.hits("/audio/speech") == 4
    body = openai_server.requests[0].json()
    assert body["model"] == "tts-1" and body["response_format"] == "wav"
    calls = Ledger(store.engine).calls("job-1", "voice_gen")
    assert len(calls) == 4 and all(c.status == "succeeded" for c in calls)
    chars = sum(len(" ".join(s.voiceover.split())) for s in script.scenes)
    assert Ledger(store.engine).cost("job-1", "voice_gen") == pytest.approx(chars * 0.000015, abs=1e-5)
    # Re-synthesising (a retried step) reuses the stored audio: no new requests, nothing paid twice.
    OpenAISpeech(api_key="sk-test-123456789012", base_url=f"{openai_server.url}/v1",
                 meter=meter_for("voice_gen")).synthesize(script, str(tmp_path / "again.wav"))
    assert openai_server.hits("/audio/speech") == 4


def test_elevenlabs_with_timestamps(eleven_server, script, tmp_path):
    wav = str(tmp_path / "voice.wav")
    tts = ElevenLabsSpeech(api_key="el-key-0123456789", base_url=eleven_server.url, retry=FAST_RETRY)
    track = tts.synthesize(script, wav)
    check_track(track, script, wav)
    req = eleven_server.requests[0]
    assert req.path == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/with-timestamps"
    assert req.headers["xi-api-key"] == "el-key-0123456789" and req.json()["model_id"] == "eleven_multilingual_v2"
    # Aligned timings: the fake spreads characters evenly, so the first word of scene 1 starts near its lead-in.
    assert track.words[0].start == pytest.approx(0.15, abs=0.1)


def test_elevenlabs_auth_error_is_not_retried(eleven_server, script, tmp_path):
    eleven_server.queue("with-timestamps", Resp(401, {"detail": {"status": "invalid_api_key",
                                                                 "message": "Invalid API key"}}))
    with pytest.raises(Exception) as info:
        ElevenLabsSpeech(api_key="bad-key-000000", base_url=eleven_server.url, retry=FAST_RETRY).synthesize(
            script, str(tmp_path / "v.wav"))
    assert info.value.code == "AUTHENTICATION_ERROR" and eleven_server.hits("with-timestamps") == 1
    assert "bad-key-000000" not in str(info.value)
