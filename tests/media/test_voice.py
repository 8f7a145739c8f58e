"""EspeakVoice against the real espeak-ng engine: audio, word timings, windows and the duration policy."""

from __future__ import annotations

import re
import wave

import numpy as np
import pytest

from badapple_dagster.media.models import (
    END_CARD_SECONDS,
    MAX_AD_SECONDS,
    MIN_AD_SECONDS,
    Palette,
    Scene,
    Script,
    VoiceTrack,
)
from badapple_dagster.media.styles import STYLES
from badapple_dagster.media.voice import (
    LEAD_IN,
    MIN_WINDOW,
    TAIL,
    EspeakVoice,
    VoiceoverTooLongError,
    list_voices,
)

MIN_TOTAL = MIN_AD_SECONDS - END_CARD_SECONDS
MAX_TOTAL = MAX_AD_SECONDS - END_CARD_SECONDS
FOUR_SCENES = [
    "Tired of lukewarm coffee by nine a.m.?",
    "Meet the GlowBottle: it keeps drinks hot for 24 hours, e-mail ready.",
    "Over 10,000 five-star reviews can't be wrong.",
    "Order yours today and save 20%!",
]
ROLES = ["hook", "benefit", "proof", "cta"]
SENTENCE = "Our bottle keeps your coffee hot for twelve hours and your water cold for a full day."


def make_script(texts: list[str], style: str = "energetic") -> Script:
    palette = Palette((0, 0, 0), (20, 20, 20), (255, 255, 255), (255, 200, 0), (128, 128, 128))
    scenes = [Scene(i, ROLES[i % 4], t, t[:30], 4.0) for i, t in enumerate(texts)]
    return Script("GlowBottle", style, "Order now", 7, palette, scenes)


def read_wav(path: str) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as wf:
        assert wf.getnchannels() == 1 and wf.getsampwidth() == 2
        data = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").astype(np.float64) / 32768
        return data, wf.getframerate()


def spoken_words(text: str) -> list[str]:
    return [t for t in text.split() if re.search(r"\w", t)]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


def segment(audio: np.ndarray, sr: int, start: float, end: float) -> np.ndarray:
    return audio[int(round(start * sr)): int(round(end * sr))]


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> tuple[VoiceTrack, np.ndarray, int]:
    out = str(tmp_path_factory.mktemp("voice") / "four.wav")
    track = EspeakVoice().synthesize(make_script(FOUR_SCENES), out)
    audio, sr = read_wav(out)
    return track, audio, sr


def test_library_backend_runs_on_this_machine(four: tuple[VoiceTrack, np.ndarray, int]) -> None:
    track, _, sr = four
    assert track.provider == "espeak-ng"  # ctypes path, not the CLI fallback
    assert sr == track.sample_rate == 22050
    assert track.voice == STYLES["energetic"].voice and track.rate == STYLES["energetic"].rate


def test_real_speech_with_plausible_duration(four: tuple[VoiceTrack, np.ndarray, int]) -> None:
    track, audio, sr = four
    assert len(audio) == pytest.approx(track.duration * sr, abs=1)
    assert MIN_TOTAL <= track.duration <= MAX_TOTAL
    # 31 words at 185 wpm is ~10 s of talking; the windows add lead-ins and tails.
    for window in track.windows:
        speech = segment(audio, sr, window.start + LEAD_IN, window.end - TAIL)
        assert rms(speech) > 0.03, "speech should be well above silence"
        assert np.abs(speech).max() < 1.0
    # Lead-ins are true silence, so scene cuts never clip a syllable.
    for window in track.windows:
        assert np.abs(segment(audio, sr, window.start, window.start + LEAD_IN * 0.9)).max() < 0.01


def test_windows_tile_the_timeline(four: tuple[VoiceTrack, np.ndarray, int]) -> None:
    track, _, _ = four
    assert [w.index for w in track.windows] == [0, 1, 2, 3]
    assert track.windows[0].start == 0.0
    for prev, nxt in zip(track.windows, track.windows[1:], strict=False):
        assert nxt.start == prev.end
    assert all(w.duration >= MIN_WINDOW - 1e-6 for w in track.windows)
    assert track.windows[-1].end == track.duration
    # Cuts land on whole video frames (22050 / 30 = 735 samples per frame).
    assert all(abs(w.end * 30 - round(w.end * 30)) < 1e-3 for w in track.windows)


def test_word_timings_follow_the_script(four: tuple[VoiceTrack, np.ndarray, int]) -> None:
    track, _, _ = four
    expected = [w for text in FOUR_SCENES for w in spoken_words(text)]
    assert len(track.words) == len(expected)
    assert [w.word for w in track.words] == [
        "Tired", "of", "lukewarm", "coffee", "by", "nine", "a.m.",
        "Meet", "the", "GlowBottle", "it", "keeps", "drinks", "hot", "for", "24", "hours", "e-mail", "ready",
        "Over", "10,000", "five-star", "reviews", "can't", "be", "wrong",
        "Order", "yours", "today", "and", "save", "20%",
    ]
    starts = [w.start for w in track.words]
    assert starts == sorted(starts)
    assert all(w.end > w.start for w in track.words)


def test_words_sit_inside_their_scene_window(four: tuple[VoiceTrack, np.ndarray, int]) -> None:
    track, audio, sr = four
    cursor = 0
    for text, window in zip(FOUR_SCENES, track.windows, strict=True):
        words = track.words[cursor: cursor + len(spoken_words(text))]
        cursor += len(words)
        assert all(window.start + LEAD_IN - 1e-3 <= w.start and w.end <= window.end - TAIL + 1e-3 for w in words)
        # The first word starts right after the lead-in; the last ends where the speech audio ends.
        assert words[0].start == pytest.approx(window.start + LEAD_IN, abs=0.03)
        assert np.abs(segment(audio, sr, words[-1].end - 0.05, words[-1].end)).max() > 0.003
        assert np.abs(segment(audio, sr, words[-1].end + 0.002, window.end)).max() < 0.004


def test_each_word_start_has_speech_right_after_it(four: tuple[VoiceTrack, np.ndarray, int]) -> None:
    # Catches a wrong event struct layout or a ms/samples mix-up: timings would drift off the audio.
    track, audio, sr = four
    for w in track.words:
        assert rms(segment(audio, sr, w.start, min(w.end, w.start + 0.15))) > 0.01, w


def test_utf8_text_positions_map_to_the_right_words(tmp_path) -> None:
    text = "Crème brûlée — naïve café, 🚀 rocket délicieux!"
    track = EspeakVoice().synthesize(make_script([text, "Yes."]), str(tmp_path / "utf8.wav"))
    # text_position is 1-based and counts code points, so multi-byte characters must not shift later words.
    # The em dash is silent (no word); espeak reads the emoji aloud, so it is a word of its own.
    assert [w.word for w in track.words] == ["Crème", "brûlée", "naïve", "café", "🚀", "rocket", "délicieux", "Yes"]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_voice_speaks(style: str, tmp_path) -> None:
    spec = STYLES[style]
    out = str(tmp_path / f"{style}.wav")
    track = EspeakVoice().synthesize(make_script(["Meet the new GlowBottle.", "Order yours today."], style), out)
    audio, sr = read_wav(out)
    assert track.voice == spec.voice and track.rate == spec.rate
    assert rms(segment(audio, sr, track.words[0].start, track.words[-1].end)) > 0.03
    assert len(track.words) == 7


def test_override_voice_and_rate(tmp_path) -> None:
    script = make_script([SENTENCE])
    voice = EspeakVoice()
    slow = voice.synthesize(script, str(tmp_path / "slow.wav"), voice="en-gb+m3", rate=120)
    fast = voice.synthesize(script, str(tmp_path / "fast.wav"), voice="EN-US+annie", rate=240)
    assert (slow.voice, slow.rate) == ("en-gb+m3", 120)
    assert (fast.voice, fast.rate) == ("en-us+Annie", 240)  # canonical spelling
    speaking = [t.words[-1].end - t.words[0].start for t in (slow, fast)]
    assert speaking[1] < speaking[0] * 0.65


@pytest.mark.parametrize("name", ["xx-nope", "en-us+NoSuchVariant", "English"])
def test_unknown_voice_is_a_clear_error(name: str, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"Unknown espeak-ng voice.*espeak-ng --voices"):
        EspeakVoice().synthesize(make_script(["Hello."]), str(tmp_path / "x.wav"), voice=name)


def test_list_voices_has_languages_and_variants() -> None:
    voices = list_voices()
    assert {"en-us", "en-gb", "en-gb-x-rp"} <= set(voices)
    assert {"+Annie", "+edward", "+f3", "+m3"} <= set(voices)
    for style in STYLES.values():
        lang, variant = style.voice.split("+")
        assert lang in voices and f"+{variant}" in voices


def test_short_script_is_padded_to_the_minimum(tmp_path) -> None:
    track = EspeakVoice().synthesize(make_script(["Hi.", "Wow.", "Yes.", "Buy."]), str(tmp_path / "s.wav"))
    assert MIN_TOTAL <= track.duration < MIN_TOTAL + 4 / 30 + 1e-6  # at most one frame per scene over
    durations = [w.duration for w in track.windows]
    assert max(durations) - min(durations) <= 1 / 30 + 1e-3  # padding spread evenly
    assert track.rate == STYLES["energetic"].rate


def test_long_script_is_sped_up_to_fit(tmp_path) -> None:
    words = SENTENCE.split()
    texts = [" ".join((words * 2)[:20]) + "." for _ in range(4)]  # 80 words: ~32 s at 150 wpm
    track = EspeakVoice().synthesize(make_script(texts, "luxury"), str(tmp_path / "l.wav"))
    base = STYLES["luxury"].rate
    assert base < track.rate <= base * 1.4
    assert track.duration <= MAX_TOTAL
    assert len(track.words) == 80


def test_overlong_script_is_refused_clearly(tmp_path) -> None:
    texts = [" ".join([SENTENCE] * 3) for _ in range(4)]  # 204 words: no sane speaking rate fits
    with pytest.raises(VoiceoverTooLongError, match=r"\+40%.*Shorten the script"):
        EspeakVoice().synthesize(make_script(texts, "luxury"), str(tmp_path / "x.wav"))


def test_cli_fallback_produces_estimated_timings(tmp_path) -> None:
    out = str(tmp_path / "cli.wav")
    track = EspeakVoice(backend="cli").synthesize(make_script(FOUR_SCENES[:2]), out)
    audio, sr = read_wav(out)
    assert track.provider == "espeak-ng-cli"
    assert len(track.words) == sum(len(spoken_words(t)) for t in FOUR_SCENES[:2])
    starts = [w.start for w in track.words]
    assert starts == sorted(starts)
    assert rms(segment(audio, sr, track.words[0].start, track.words[-1].end)) > 0.03


def test_script_without_scenes_is_rejected(tmp_path) -> None:
    with pytest.raises(ValueError, match="no scenes"):
        EspeakVoice().synthesize(make_script([]), str(tmp_path / "x.wav"))
