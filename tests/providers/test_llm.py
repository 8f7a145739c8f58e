"""The chat-completions script writer against a fake OpenAI-compatible server."""

import json

import pytest

from badapple_dagster.media.models import SCENE_ROLES, Brief
from badapple_dagster.media.palette import palette_for
from badapple_dagster.media.styles import resolve_style
from badapple_dagster.providers.llm import ChatScriptWriter, extract_json
from badapple_dagster.providers.pricing import Usage, cost_usd

from .conftest import FAST_RETRY
from .fakes import GOOD_SCRIPT, Resp, openai_fake

BRIEF = Brief("Volt Energy Drink", "energetic", "Grab yours today")
PALETTE = palette_for(resolve_style("energetic"), None)


def writer(url, meter=None, key="sk-test-key-123456789"):
    return ChatScriptWriter(provider="openai", model="gpt-4o-mini", base_url=f"{url}/v1", api_key=key,
                            retry=FAST_RETRY, meter=meter)


def test_writes_a_validated_four_scene_script(openai_server, meter_for, store):
    from badapple_dagster.providers.ledger import Ledger

    script = writer(openai_server.url, meter_for("script_gen")).write(BRIEF, seed=7, palette=PALETTE)
    assert [s.role for s in script.scenes] == list(SCENE_ROLES)
    assert script.provider == "openai" and script.model == "gpt-4o-mini"
    assert script.scenes[-1].voiceover.endswith("Grab yours today")
    assert 10 < script.planned_duration < 25
    req = openai_server.requests[0]
    body = req.json()
    assert body["response_format"] == {"type": "json_object"} and body["seed"] == 7
    assert req.headers["authorization"] == "Bearer sk-test-key-123456789"
    calls = Ledger(store.engine).calls("job-1", "script_gen")
    assert [(c.status, c.request_id) for c in calls] == [("succeeded", "req_1")]
    assert calls[0].cost_usd == cost_usd("openai", "gpt-4o-mini", Usage(310, 190)) > 0


def test_tolerates_markdown_fenced_json(tmp_path):
    srv = openai_fake(lambda: "```json\n" + json.dumps(GOOD_SCRIPT) + "\n```", tmp=tmp_path)
    try:
        assert len(writer(srv.url).write(BRIEF, seed=1, palette=PALETTE).scenes) == 4
    finally:
        srv.stop()
    assert extract_json('Sure! Here it is: {"a": 1} hope it helps')["a"] == 1


@pytest.mark.parametrize("content", [
    "I cannot write that.",
    json.dumps({"scenes": GOOD_SCRIPT["scenes"][:3]}),
    json.dumps({"scenes": [{"role": "hook", "voiceover": "", "on_screen_text": "x"}] * 4}),
    json.dumps({"scenes": [{**s, "voiceover": "word " * 40} for s in GOOD_SCRIPT["scenes"]]}),
])
def test_malformed_output_is_a_provider_error_not_retried(tmp_path, content, meter_for, store):
    from badapple_dagster.providers.ledger import Ledger

    srv = openai_fake(lambda: content, tmp=tmp_path)
    try:
        with pytest.raises(Exception) as info:
            writer(srv.url, meter_for("script_gen")).write(BRIEF, seed=1, palette=PALETTE)
        assert info.value.code == "PROVIDER_ERROR" and not info.value.retryable
        assert srv.hits("/chat/completions") == 1
    finally:
        srv.stop()
    (call,) = Ledger(store.engine).calls("job-1")
    assert call.status == "failed" and call.error_code == "PROVIDER_ERROR" and call.cost_usd > 0  # tokens billed


def test_rate_limit_then_success(openai_server):
    openai_server.queue("/chat/completions", Resp(429, {"error": {"message": "Rate limit", "type": "tokens"}},
                                                  {"retry-after": "0"}))
    assert len(writer(openai_server.url).write(BRIEF, seed=1, palette=PALETTE).scenes) == 4
    assert openai_server.hits("/chat/completions") == 2


def test_idempotent_reuse_does_not_call_again(openai_server, meter_for, store):
    from badapple_dagster.providers.ledger import Ledger

    a = writer(openai_server.url, meter_for("script_gen")).write(BRIEF, seed=3, palette=PALETTE)
    b = writer(openai_server.url, meter_for("script_gen")).write(BRIEF, seed=3, palette=PALETTE)
    assert a.to_dict() == b.to_dict()
    assert openai_server.hits("/chat/completions") == 1
    ledger = Ledger(store.engine)
    assert [c.status for c in ledger.calls("job-1")] == ["succeeded", "reused"]
    assert ledger.cost("job-1") == ledger.calls("job-1")[0].cost_usd  # paid once
