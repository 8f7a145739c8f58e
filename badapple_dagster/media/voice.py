"""Offline text-to-speech with espeak-ng, with word timings taken from the engine itself.

The primary path drives ``libespeak-ng`` through ctypes in synchronous mode: the synth callback hands us the
int16 samples together with WORD events, so every caption word is timed by the engine rather than
estimated. Only when the shared library cannot be loaded do we shell out to the ``espeak-ng`` CLI and
estimate word timings from character counts (recorded as provider ``espeak-ng-cli``).

Each scene is synthesised separately, so scene cuts always fall between sentences, and is laid out as
``lead-in + speech + tail`` (at least ``MIN_WINDOW`` long) on one mono timeline.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import difflib
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .models import (
    END_CARD_SECONDS,
    FPS,
    MAX_AD_SECONDS,
    MIN_AD_SECONDS,
    SceneWindow,
    Script,
    VoiceTrack,
    WordTiming,
)
from .styles import resolve_style

LEAD_IN = 0.15  # seconds of silence before each scene's speech
TAIL = 0.35  # seconds of silence after it, so a cut never clips the last syllable
MIN_WINDOW = 2.5  # a scene shorter than this flashes by too quickly to read its on-screen text
MAX_SPEEDUP = 1.40  # beyond +40 % espeak becomes hard to follow; refuse instead
MIN_RATE, MAX_RATE = 80, 450  # words per minute espeak-ng accepts
# |sample| above this (int16) counts as speech; espeak's silence is digital zero plus tiny filter tails.
SILENCE_THRESHOLD = 100

HOW_TO_LIST = (
    "voices are LANGUAGE or LANGUAGE+VARIANT (e.g. 'en-us+Annie'); see "
    "badapple_dagster.media.voice.list_voices() or run `espeak-ng --voices` and `espeak-ng --voices=variant`"
)

# --- speak_lib.h constants (espeak-ng 1.51) ---------------------------------------------------------------
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # never let the library call exit() inside our worker process
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_EE_OK = 0

_LIB_CANDIDATES = ("libespeak-ng.so.1", "/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1", "libespeak-ng.so")


class VoiceoverTooLongError(ValueError):
    """The voiceover cannot fit the ad even at the fastest acceptable speaking rate."""


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    # espeak_EVENT. On x86-64 this is 40 bytes: six 4-byte fields, the user_data pointer at offset 24 and
    # the id union at 32. Verified by synthesising text and checking that text_position/audio_position
    # of WORD events point at the right words and increase within the audio length.
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, counted in characters (code points) of the UTF-8 input
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of this espeak_Synth call
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _VoiceInfo(ctypes.Structure):
    # espeak_VOICE. ``languages`` is a packed list of (priority byte, NUL-terminated name), ended by a 0 byte,
    # so it is read by address rather than as a c_char_p.
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.POINTER(_Event))


@dataclass
class _Utterance:
    """Raw engine output for one text: int16 samples and (0-based character index, seconds) word marks."""

    samples: np.ndarray
    sample_rate: int
    marks: list[tuple[int, float]]


class _LibEngine:
    """libespeak-ng via ctypes. The library keeps global state (one voice, one callback), so exactly one
    instance exists per process and every call into it holds ``_LOCK``."""

    provider = "espeak-ng"

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        self._declare_prototypes()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise OSError(f"espeak_Initialize failed ({rate}); is espeak-ng-data installed?")
        self.sample_rate = int(rate)
        self._chunks: list[np.ndarray] = []
        self._marks: list[tuple[int, int]] = []
        # Keep a reference: ctypes would free the trampoline otherwise and the library would call garbage.
        self._callback = _SYNTH_CALLBACK(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)
        self.voice_files, self.variants = self._list_voices()
        self.languages = sorted(self.voice_files)

    def _declare_prototypes(self) -> None:
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_VoiceInfo)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceInfo))
        lib.espeak_GetCurrentVoice.argtypes = []
        lib.espeak_GetCurrentVoice.restype = ctypes.POINTER(_VoiceInfo)

    def _on_synth(self, wav: ctypes._Pointer, count: int, events: ctypes._Pointer) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            # Sentence breaks also emit a WORD event at position 0 (no word); skip it.
            if ev.type == _EVENT_WORD and ev.text_position > 0:
                self._marks.append((ev.text_position - 1, ev.audio_position))
            i += 1
        return 0  # 0 = keep synthesising

    def _list_voices(self) -> tuple[dict[str, str], list[str]]:
        entries = [(lang, prio, info.identifier.decode())
                   for info in self._voice_infos(None) for prio, lang in _packed_languages(info.languages)]
        # The library lists variants only when asked for the pseudo-language "variant".
        spec = _VoiceInfo()
        spec.languages = ctypes.cast(ctypes.c_char_p(b"variant"), ctypes.c_void_p)
        variants = {info.identifier.decode().split("/")[-1] for info in self._voice_infos(spec)}
        return _best_voice_files(entries), sorted(variants, key=str.lower)

    def _voice_infos(self, spec: _VoiceInfo | None) -> list[_VoiceInfo]:
        arr = self._lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        out: list[_VoiceInfo] = []
        i = 0
        while arr[i]:
            out.append(arr[i].contents)
            i += 1
        return out

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> _Utterance:
        # Select by voice file ("gmw/en+m3"), not by language: espeak_SetVoiceByName resolves file and voice
        # names only, so "en-gb" (file gmw/en) is "not found", and selecting by properties silently drops
        # the variant and picks the wrong accent for e.g. "en-gb-scotland".
        target = _voice_file(voice, self.voice_files)
        with _LOCK:
            err = self._lib.espeak_SetVoiceByName(target.encode())
            current = self._lib.espeak_GetCurrentVoice()
            loaded = current.contents.identifier.decode() if current and current.contents.identifier else ""
            if err != _EE_OK or loaded.lower() != target.lower():
                raise ValueError(f"espeak-ng could not load voice {voice!r} ({target}, error {err}, "
                                 f"got {loaded!r}); {HOW_TO_LIST}")
            # Parameters are set after the voice because selecting a voice resets them.
            self._lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
            self._lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
            self._chunks, self._marks = [], []
            data = text.encode("utf-8") + b"\0"
            err = self._lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            if err != _EE_OK:
                raise RuntimeError(f"espeak_Synth failed with error {err}")
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            marks = [(pos, ms / 1000.0) for pos, ms in self._marks]
        return _Utterance(samples.astype(np.int16, copy=False), self.sample_rate, marks)


class _CliEngine:
    """Fallback through the ``espeak-ng`` binary: real audio, but word timings are only estimated."""

    provider = "espeak-ng-cli"

    def __init__(self, binary: str) -> None:
        self._binary = binary
        self.voice_files, self.variants = self._list_voices()
        self.languages = sorted(self.voice_files)
        probe_voice = "en" if "en" in self.languages else self.languages[0]
        self.sample_rate = self.synth("a", probe_voice, 175, 50).sample_rate

    def _run(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run([self._binary, *args], input=stdin, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"espeak-ng {' '.join(args)} failed: {proc.stderr.strip()[-300:]}")
        return proc.stdout

    def _list_voices(self) -> tuple[dict[str, str], list[str]]:
        # Columns: Pty Language Age/Gender VoiceName File Other-Languages, e.g. "(en 2)(en-gb 3)".
        entries = []
        for line in self._run("--voices").splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 5:
                entries.append((cols[1], int(cols[0]), cols[4]))
                entries += [(lang, int(prio), cols[4])
                            for lang, prio in re.findall(r"\((\S+) (\d+)\)", " ".join(cols[5:]))]
        variants = set()
        for line in self._run("--voices=variant").splitlines()[1:]:
            # File names may contain spaces ("!v/Mr serious"); an "(en-us 5)" column may follow.
            match = re.search(r"!v/(.+?)\s*(?:\(.*)?$", line)
            if match:
                variants.add(match.group(1))
        return _best_voice_files(entries), sorted(variants, key=str.lower)

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> _Utterance:
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            path = os.path.join(tmp, "out.wav")
            # Text goes through stdin so a voiceover starting with "-" is never parsed as an option.
            self._run("-b", "1", "-v", _voice_file(voice, self.voice_files), "-s", str(rate), "-p", str(pitch),
                      "-w", path, "--stdin", stdin=text)
            samples, sample_rate = _read_mono_wav(path)
        return _Utterance(samples, sample_rate, _estimate_marks(text, samples, sample_rate))


_LOCK = threading.RLock()
_LIB_ENGINE: _LibEngine | None = None
_LIB_ERROR: str | None = None
_CLI_ENGINE: _CliEngine | None = None


def _load_lib_engine() -> _LibEngine | None:
    """Initialise libespeak-ng once per process; remember a failure so we do not retry on every call."""
    global _LIB_ENGINE, _LIB_ERROR
    with _LOCK:
        if _LIB_ENGINE is None and _LIB_ERROR is None:
            found = ctypes.util.find_library("espeak-ng")
            errors = []
            for candidate in ([found] if found else []) + list(_LIB_CANDIDATES):
                try:
                    _LIB_ENGINE = _LibEngine(ctypes.CDLL(candidate))
                    break
                except (OSError, AttributeError) as exc:
                    errors.append(f"{candidate}: {exc}")
            else:
                _LIB_ERROR = "; ".join(errors)
        return _LIB_ENGINE


def _engine(backend: str) -> _LibEngine | _CliEngine:
    if backend not in ("auto", "lib", "cli"):
        raise ValueError(f"Unknown espeak backend {backend!r}; use 'auto', 'lib' or 'cli'")
    if backend in ("auto", "lib"):
        engine = _load_lib_engine()
        if engine is not None:
            return engine
        if backend == "lib":
            raise RuntimeError(f"libespeak-ng could not be loaded: {_LIB_ERROR}")
    return _load_cli_engine()


def _load_cli_engine() -> _CliEngine:
    global _CLI_ENGINE
    with _LOCK:
        if _CLI_ENGINE is None:
            binary = shutil.which("espeak-ng")
            if binary is None:
                raise RuntimeError(f"Neither libespeak-ng ({_LIB_ERROR}) nor the espeak-ng CLI is available; "
                                   "install the espeak-ng package")
            _CLI_ENGINE = _CliEngine(binary)
        return _CLI_ENGINE


def list_voices() -> list[str]:
    """Language voices (e.g. ``en-us``) followed by variants as ``+Name``; combine them as ``en-us+Annie``."""
    engine = _engine("auto")
    return [*engine.languages, *(f"+{v}" for v in engine.variants)]


def _resolve_voice(name: str, languages: list[str], variants: list[str]) -> str:
    """Canonical spelling of ``LANGUAGE[+VARIANT]``. The library silently ignores an unknown variant, so we
    check both parts ourselves rather than trusting espeak_SetVoiceByName."""
    lang, _, variant = (name or "").strip().partition("+")
    by_lower = {x.lower(): x for x in languages}
    var_lower = {x.lower(): x for x in variants}
    problems = []
    if lang.lower() not in by_lower:
        close = difflib.get_close_matches(lang.lower(), list(by_lower), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        problems.append(f"no language voice {lang!r}{hint}")
    if variant and variant.lower() not in var_lower:
        close = difflib.get_close_matches(variant.lower(), list(var_lower), n=3)
        hint = f" (did you mean {', '.join(var_lower[c] for c in close)}?)" if close else ""
        problems.append(f"no variant {variant!r}{hint}")
    if problems:
        raise ValueError(f"Unknown espeak-ng voice {name!r}: {'; '.join(problems)}. Valid {HOW_TO_LIST}.")
    canonical = by_lower[lang.lower()]
    return f"{canonical}+{var_lower[variant.lower()]}" if variant else canonical


# --- text and timing helpers ------------------------------------------------------------------------------

_LEADING_PUNCT = "\"'“‘«([{¿¡"
_TRAILING_PUNCT = "\"'”’»)]},;:!?…"


@dataclass
class _Token:
    start: int  # character span in the synthesised text
    end: int
    text: str


def _packed_languages(address: int | None) -> list[tuple[int, str]]:
    """Decode espeak_VOICE.languages: repeated (priority byte, NUL-terminated name), ended by priority 0."""
    out: list[tuple[int, str]] = []
    while address and (priority := ctypes.c_ubyte.from_address(address).value) != 0:
        raw = ctypes.string_at(address + 1)
        out.append((priority, raw.decode("utf-8", "replace")))
        address += len(raw) + 2
    return out


def _best_voice_files(entries: list[tuple[str, int, str]]) -> dict[str, str]:
    """language -> voice file that serves it best (lowest priority number, as espeak ranks them). MBROLA
    voices are skipped: they need the separate mbrola binary and its voice databases."""
    best: dict[str, tuple[int, str]] = {}
    for lang, priority, ident in entries:
        if ident.startswith("mb/") or lang == "variant":
            continue
        if lang not in best or priority < best[lang][0]:
            best[lang] = (priority, ident)
    return {lang: ident for lang, (_, ident) in best.items()}


def _voice_file(voice: str, voice_files: dict[str, str]) -> str:
    """Canonical "lang[+Variant]" -> "file[+Variant]" for espeak_SetVoiceByName / ``espeak-ng -v``."""
    lang, _, variant = voice.partition("+")
    ident = voice_files[lang]
    return f"{ident}+{variant}" if variant else ident


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", text)]


def _caption_word(token: str) -> str:
    """A token as a caption shows it: surrounding quotes and clause punctuation removed, but '$49.99',
    '100%' and 'U.S.' kept whole. espeak's own event length is not used for the text because it covers
    only a piece of numbers, abbreviations and hyphenated words ('e' of 'e-mail')."""
    word = token.lstrip(_LEADING_PUNCT).rstrip(_TRAILING_PUNCT)
    if word.endswith(".") and "." not in word[:-1]:
        word = word[:-1]
    return word or token


def _is_spoken(token: _Token, has_mark: bool) -> bool:
    # A token without letters or digits ('—') is silent unless espeak voiced it anyway ('&' -> "and").
    return has_mark or any(ch.isalnum() for ch in token.text)


def _fill_missing(starts: list[float | None], end: float) -> list[float]:
    """Spread unmarked words evenly between their marked neighbours, keeping the list non-decreasing."""
    out: list[float] = []
    i = 0
    while i < len(starts):
        if starts[i] is not None:
            out.append(max(float(starts[i]), out[-1] if out else 0.0))
            i += 1
            continue
        j = i
        while j < len(starts) and starts[j] is None:
            j += 1
        lo = out[-1] if out else 0.0
        hi = float(starts[j]) if j < len(starts) else end
        step = (max(hi, lo) - lo) / (j - i + 1)
        out.extend(lo + step * (k + 1) for k in range(j - i))
        i = j
    return out


def _nonsilent_bounds(samples: np.ndarray) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return 0, 0
    return int(loud[0]), int(loud[-1]) + 1


def _estimate_marks(text: str, samples: np.ndarray, sample_rate: int) -> list[tuple[int, float]]:
    """CLI fallback: place each word proportionally to its character count across the non-silent audio."""
    first, last = _nonsilent_bounds(samples)
    tokens = [t for t in _tokens(text) if _is_spoken(t, False)]
    weights = np.array([max(1, sum(ch.isalnum() for ch in t.text)) for t in tokens], dtype=float)
    if not tokens:
        return []
    offsets = np.concatenate([[0.0], np.cumsum(weights)[:-1]]) / weights.sum()
    span = (last - first) / sample_rate
    return [(t.start, first / sample_rate + span * o) for t, o in zip(tokens, offsets, strict=True)]


@dataclass
class _SceneSpeech:
    samples: np.ndarray  # trimmed to the non-silent part
    words: list[WordTiming]  # seconds relative to the first non-silent sample


def _scene_speech(utt: _Utterance, text: str) -> _SceneSpeech:
    """Trim the engine's leading/trailing silence and turn word marks into caption words.

    Marks are mapped onto whitespace tokens: espeak can emit several WORD events for one token ("24/7",
    "$49.99") and the token's first event is when the word starts."""
    first, last = _nonsilent_bounds(utt.samples)
    speech = utt.samples[first:last]
    duration = len(speech) / utt.sample_rate
    offset = first / utt.sample_rate
    tokens = _tokens(text)
    token_starts: dict[int, float] = {}
    for pos, seconds in utt.marks:
        idx = next((k for k, t in enumerate(tokens) if t.start <= pos < t.end), None)
        if idx is not None and idx not in token_starts:
            token_starts[idx] = min(max(seconds - offset, 0.0), duration)
    spoken = [k for k, t in enumerate(tokens) if _is_spoken(t, k in token_starts)]
    starts = _fill_missing([token_starts.get(k) for k in spoken], duration)
    ends = [*starts[1:], duration]
    words = [WordTiming(_caption_word(tokens[k].text), s, e)
             for k, s, e in zip(spoken, starts, ends, strict=True)]
    return _SceneSpeech(speech, words)


# --- timeline layout --------------------------------------------------------------------------------------

def _frame_quantum(sample_rate: int) -> int:
    """Window lengths are rounded up to whole video frames when the rates divide evenly (22050 / 30 = 735),
    so every scene cut lands exactly on a frame boundary."""
    return sample_rate // FPS if sample_rate % FPS == 0 else 1


def _window_lengths(speeches: list[_SceneSpeech], sample_rate: int) -> list[int]:
    quantum = _frame_quantum(sample_rate)
    lead, tail = round(LEAD_IN * sample_rate), round(TAIL * sample_rate)
    minimum = round(MIN_WINDOW * sample_rate)
    lengths = [max(minimum, lead + len(s.samples) + tail) for s in speeches]
    return [math.ceil(n / quantum) * quantum for n in lengths]


def _pad_to_minimum(lengths: list[int], sample_rate: int, min_total: float) -> list[int]:
    """Too-short ads get extra tail silence, spread evenly so no single scene drags."""
    quantum = _frame_quantum(sample_rate)
    missing = math.ceil(min_total * sample_rate) - sum(lengths)
    if missing <= 0 or not lengths:
        return lengths
    units = math.ceil(missing / quantum)
    share, extra = divmod(units, len(lengths))
    return [n + (share + (1 if i < extra else 0)) * quantum for i, n in enumerate(lengths)]


def _assemble(
    speeches: list[_SceneSpeech], indices: list[int], lengths: list[int], sample_rate: int
) -> tuple[np.ndarray, list[SceneWindow], list[WordTiming]]:
    audio = np.zeros(sum(lengths), dtype=np.int16)
    lead = round(LEAD_IN * sample_rate)
    windows: list[SceneWindow] = []
    words: list[WordTiming] = []
    cursor = 0
    for speech, index, length in zip(speeches, indices, lengths, strict=True):
        audio[cursor + lead: cursor + lead + len(speech.samples)] = speech.samples
        start, end = cursor / sample_rate, (cursor + length) / sample_rate
        windows.append(SceneWindow(index=index, start=round(start, 6), end=round(end, 6)))
        speech_start = start + lead / sample_rate
        words.extend(WordTiming(w.word, round(speech_start + w.start, 3), round(speech_start + w.end, 3))
                     for w in speech.words)
        cursor += length
    return audio, windows, words


def _read_mono_wav(path: str) -> tuple[np.ndarray, int]:
    with wave.open(path, "rb") as wf:
        if wf.getsampwidth() != 2:
            raise RuntimeError(f"{path}: expected 16-bit PCM")
        data = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2")
        channels, rate = wf.getnchannels(), wf.getframerate()
    return data.reshape(-1, channels)[:, 0].copy(), rate


def _write_mono_wav(path: str, samples: np.ndarray, sample_rate: int) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with wave.open(path, "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(sample_rate)
        wf.writeframes(samples.astype("<i2").tobytes())


# --- provider ---------------------------------------------------------------------------------------------

class EspeakVoice:
    """VoiceProvider backed by espeak-ng. ``backend`` is "auto" (library, else CLI), "lib" or "cli"."""

    name = "espeak-ng"

    def __init__(self, backend: str = "auto") -> None:
        self.backend = backend

    def synthesize(
        self, script: Script, out_wav: str, *, voice: str | None = None, rate: int | None = None
    ) -> VoiceTrack:
        style = resolve_style(script.style)
        engine = _engine(self.backend)
        voice_name = _resolve_voice(voice or style.voice, engine.languages, engine.variants)
        base_rate = int(rate if rate is not None else style.rate)
        if not MIN_RATE <= base_rate <= MAX_RATE:
            raise ValueError(f"Speaking rate {base_rate} wpm is outside espeak-ng's {MIN_RATE}-{MAX_RATE}")
        scenes = list(script.scenes)
        if not scenes:
            raise ValueError("Script has no scenes to voice")
        texts = [" ".join(s.voiceover.split()) for s in scenes]

        def speak(wpm: int) -> list[_SceneSpeech]:
            return [_scene_speech(engine.synth(t, voice_name, wpm, style.pitch), t) if t else
                    _SceneSpeech(np.zeros(0, np.int16), []) for t in texts]

        used_rate, speeches = _fit_rate(speak, base_rate, engine.sample_rate, len(scenes))
        lengths = _pad_to_minimum(_window_lengths(speeches, engine.sample_rate), engine.sample_rate,
                                  MIN_AD_SECONDS - END_CARD_SECONDS)
        audio, windows, words = _assemble(speeches, [s.index for s in scenes], lengths, engine.sample_rate)
        _write_mono_wav(out_wav, audio, engine.sample_rate)
        return VoiceTrack(
            wav_path=out_wav,
            duration=windows[-1].end,
            sample_rate=engine.sample_rate,
            voice=voice_name,
            rate=used_rate,
            words=words,
            windows=windows,
            provider=engine.provider,
        )


def _fit_rate(
    speak: Callable[[int], list[_SceneSpeech]], base_rate: int, sample_rate: int, n_scenes: int
) -> tuple[int, list[_SceneSpeech]]:
    """Speak at ``base_rate``; if the scenes overflow the ad, re-speak faster (at most +40 %) or refuse.

    The next rate is predicted from how much speech must shrink (speech time scales ~1/rate), with a small
    margin so one retry usually suffices; the loop then creeps up in case pauses scale less than words."""
    max_total = MAX_AD_SECONDS - END_CARD_SECONDS
    max_rate = min(MAX_RATE, math.floor(base_rate * MAX_SPEEDUP))
    wpm = base_rate
    while True:
        speeches = speak(wpm)
        total = sum(_window_lengths(speeches, sample_rate)) / sample_rate
        if total <= max_total:
            return wpm, speeches
        if wpm >= max_rate:
            words = sum(len(s.words) for s in speeches)
            speedup = round((wpm / base_rate - 1) * 100)
            raise VoiceoverTooLongError(
                f"Voiceover needs {total:.1f}s even at {wpm} wpm (+{speedup}% over {base_rate}), but only "
                f"{max_total:.0f}s fit before the {END_CARD_SECONDS:.0f}s end card "
                f"(ads are {MIN_AD_SECONDS:.0f}-{MAX_AD_SECONDS:.0f}s). Shorten the script: it has {words} "
                f"words in {n_scenes} scenes."
            )
        speech = sum(len(s.samples) for s in speeches) / sample_rate
        fixed = total - speech  # lead-ins, tails and minimum-window padding do not shrink with rate
        wanted = speech * wpm / max(max_total - fixed, 1e-3) * 1.03
        wpm = min(max_rate, max(math.ceil(wanted), wpm + math.ceil(base_rate * 0.05)))
