"""Ad scripts from any OpenAI-compatible chat-completions endpoint (OpenAI, OpenRouter, vLLM, Ollama...).

The model returns JSON (``response_format: json_object``); we validate it into the same four-scene ``Script``
the local writer produces, so every later stage is unchanged. Output we cannot trust is a PROVIDER_ERROR and
is not retried (the fallback chain decides what happens next): a second sampling would be paid for again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..media.models import SCENE_ROLES, Brief, Palette, Scene, Script
from ..media.script_writer import SCENE_PAUSE_SECONDS
from .errors import PROVIDER_ERROR, ProviderError
from .http import JsonHttpClient, RetrySettings
from .ledger import CallMeter, CallResult
from .pricing import Usage, cost_usd

ROLE_LAYOUTS = {"hook": "hero", "benefit": "statement", "proof": "showcase", "cta": "cta"}
MAX_HEADLINE_WORDS = 5
# Spoken budget of the four voiceovers (the end card adds 3 s; voice_gen fits 12-27 s of speech).
MIN_TOTAL_WORDS, MAX_TOTAL_WORDS = 22, 62
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S | re.I)

SYSTEM_PROMPT = """You write short video ad scripts. Reply with one JSON object only, no prose, shaped:
{"tagline": str, "scenes": [{"role": "hook"|"benefit"|"proof"|"cta", "voiceover": str, "on_screen_text": str}]}
Exactly four scenes in the order hook, benefit, proof, cta. Each voiceover is one or two spoken sentences;
all four together are 35 to 55 words. on_screen_text is a headline of at most 5 words. The cta voiceover ends
with the exact call to action given. No emojis, hashtags, stage directions or quotation marks."""


def user_prompt(brief: Brief, style_hint: str) -> str:
    return (f"Product: {brief.product_name}\nStyle: {brief.style} ({style_hint})\n"
            f"Call to action (say it verbatim at the end): {brief.cta_text}")


def extract_json(text: str) -> Any:
    """Parse the model's JSON, tolerating a markdown fence or prose around one object."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        if start >= 0 and end > start:
            return json.loads(body[start:end + 1])
        raise


def _malformed(provider: str, why: str, request_id: str | None) -> ProviderError:
    return ProviderError(PROVIDER_ERROR, provider, f"malformed script from the model: {why}", request_id=request_id)


def script_from_json(data: Any, brief: Brief, *, seed: int, palette: Palette, words_per_minute: int,
                     provider: str, model: str, request_id: str | None = None) -> Script:
    if not isinstance(data, dict) or not isinstance(data.get("scenes"), list):
        raise _malformed(provider, "no 'scenes' list", request_id)
    raw = data["scenes"]
    if len(raw) != len(SCENE_ROLES):
        raise _malformed(provider, f"{len(raw)} scenes, expected {len(SCENE_ROLES)}", request_id)
    scenes: list[Scene] = []
    for i, (item, role) in enumerate(zip(raw, SCENE_ROLES, strict=True)):
        if not isinstance(item, dict):
            raise _malformed(provider, f"scene {i + 1} is not an object", request_id)
        voice = " ".join(str(item.get("voiceover") or "").split())
        headline = " ".join(str(item.get("on_screen_text") or "").split())
        if not voice or not headline:
            raise _malformed(provider, f"scene {i + 1} lacks voiceover or on_screen_text", request_id)
        if role == "cta" and brief.cta_text.lower().rstrip(".!") not in voice.lower():
            voice = f"{voice.rstrip()} {brief.cta_text}"  # the brief's CTA is non-negotiable: say it
        headline = " ".join(headline.split()[:MAX_HEADLINE_WORDS])
        seconds = len(voice.split()) / (words_per_minute / 60) + SCENE_PAUSE_SECONDS
        scenes.append(Scene(i, role, voice, headline, round(seconds, 2), ROLE_LAYOUTS[role]))
    words = sum(len(s.voiceover.split()) for s in scenes)
    if not MIN_TOTAL_WORDS <= words <= MAX_TOTAL_WORDS:
        raise _malformed(provider, f"{words} spoken words, outside {MIN_TOTAL_WORDS}-{MAX_TOTAL_WORDS}", request_id)
    return Script(brief.product_name, brief.style, brief.cta_text, seed, palette, scenes,
                  tagline=" ".join(str(data.get("tagline") or "").split())[:80], provider=provider, model=model)


class ChatJson:
    """One chat completion that must answer with a JSON object, metered through the ledger. The ad script writer
    and the MV scene writer differ only in their prompts and in how they read the answer (``parse``)."""

    default_temperature = 0.7
    default_timeout = 60.0

    def __init__(self, *, provider: str, model: str, base_url: str, api_key: str | None,
                 temperature: float | None = None, timeout: float | None = None,
                 retry: RetrySettings | None = None, meter: CallMeter | None = None) -> None:
        self.name = provider
        self.model = model
        self.temperature = self.default_temperature if temperature is None else temperature
        self.meter = meter
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = JsonHttpClient(provider, base_url, headers=headers, secret=api_key,
                                     timeout=self.default_timeout if timeout is None else timeout, retry=retry)

    def ask(self, system: str, user: str, *, seed: int, stage: str,
            parse: Callable[[Any, str | None], dict[str, Any]]) -> dict[str, Any]:
        """The stored output of the call: ``parse(answer, request id)`` turns the model's JSON into it and raises
        PROVIDER_ERROR on anything unusable; the tokens billed for such an answer stay on the error's cost."""
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "response_format": {"type": "json_object"},
            "temperature": self.temperature,
            "seed": seed,
        }

        def call() -> CallResult:
            res = self.client.post_json("chat/completions", body)
            try:
                data = res.json()
                content = data["choices"][0]["message"]["content"]
                usage = data.get("usage") or {}
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise _malformed(self.name, f"unexpected response shape ({exc})", res.request_id) from exc
            rid = res.request_id or data.get("id")
            cost = cost_usd(self.name, self.model, Usage(input_tokens=int(usage.get("prompt_tokens", 0)),
                                                         output_tokens=int(usage.get("completion_tokens", 0))))
            try:
                try:
                    parsed = extract_json(str(content))
                except (json.JSONDecodeError, TypeError) as exc:
                    raise _malformed(self.name, f"not JSON ({exc})", rid) from exc
                output = parse(parsed, rid)
            except ProviderError as exc:
                exc.cost_usd = cost  # the tokens were billed even though the answer is unusable
                raise
            return CallResult({**output, "request_id": rid}, cost, rid)

        meter = self.meter or CallMeter(None, "", stage)
        return meter.call(provider=self.name, model=self.model, scene=None, payload=body, fn=call).output


class ChatScriptWriter(ChatJson):
    """``ScriptWriter`` over ``POST {base_url}/chat/completions``."""

    def write(self, brief: Brief, *, seed: int, palette: Palette) -> Script:
        from ..media.styles import resolve_style

        style = resolve_style(brief.style)

        def parse(answer: Any, rid: str | None) -> dict[str, Any]:
            script = script_from_json(answer, brief, seed=seed, palette=palette, words_per_minute=style.rate,
                                      provider=self.name, model=self.model, request_id=rid)
            return {"script": script.to_dict()}

        out = self.ask(SYSTEM_PROMPT, user_prompt(brief, style.key), seed=seed, stage="script_gen", parse=parse)
        return Script.from_dict(out["script"])
