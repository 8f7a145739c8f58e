"""The MV scene writer over a fake OpenAI-compatible server: the flavor's own request, JSON in, MVScenes out."""

import dataclasses
import json

import pytest

from badapple_dagster.mv.flavors import load_flavor
from badapple_dagster.providers.ledger import Ledger
from badapple_dagster.providers.mv_llm import ChatSceneWriter
from badapple_dagster.providers.pricing import Usage, cost_usd

from .conftest import FAST_RETRY
from .fakes import openai_fake

CONCEPT = "Robot exploring Austin, Texas"
CHARACTER = "Silver metallic humanoid robot with a red scarf"
SCENES = {"scenes": [
    {"description": "Wide shot at dawn, slow crane up: the silver robot with the red scarf walks down Congress "
                    "Avenue as food trucks open their hatches.",
     "negative_description": "text, watermark, other robots"},
    {"description": "Close-up, handheld: the same silver robot tastes brisket at a smoky food truck, eyes "
                    "flickering with delight.",
     "negative_description": "blurry, extra limbs"},
]}


@pytest.fixture
def flavor():
    return load_flavor("default")


def writer(url, meter=None):
    return ChatSceneWriter(provider="openai", model="gpt-4o-mini", base_url=f"{url}/v1",
                           api_key="sk-test-mv-0123456789", retry=FAST_RETRY, meter=meter)


def serve(tmp_path, text):
    return openai_fake(lambda: text, tmp=tmp_path)


def test_sends_the_flavor_request_and_returns_scenes(tmp_path, flavor, meter_for, store):
    srv = serve(tmp_path, json.dumps(SCENES))
    try:
        scenes = writer(srv.url, meter_for("mv_scenes")).write(CONCEPT, CHARACTER, flavor, num_scenes=2, seed=11)
        body = srv.requests[0].json()
    finally:
        srv.stop()
    assert [s.sequence for s in scenes] == [1, 2]
    assert scenes[0].prompt == SCENES["scenes"][0]["description"]
    assert scenes[1].negative_prompt == "blurry, extra limbs"
    assert all(s.duration == 8.0 for s in scenes)  # the flavor's video_duration
    assert (scenes[0].shot, scenes[1].shot) == ("wide", "close_up")  # read back from the text
    assert [s.beat for s in scenes] == ["open", "close"]
    assert body["messages"][1]["content"] == flavor.scene_request(CONCEPT, CHARACTER, 2)
    assert body["response_format"] == {"type": "json_object"} and body["seed"] == 11
    (call,) = Ledger(store.engine).calls("job-1", "mv_scenes")
    assert call.status == "succeeded" and call.cost_usd == cost_usd("openai", "gpt-4o-mini", Usage(310, 190))


def test_fenced_json_and_the_flavor_scene_count(tmp_path, flavor):
    four = {"scenes": SCENES["scenes"] * 2}
    srv = serve(tmp_path, "Here you go:\n```json\n" + json.dumps(four) + "\n```")
    short = dataclasses.replace(flavor, image_params={**flavor.image_params, "video_duration": 3})
    try:
        scenes = writer(srv.url).write(CONCEPT, CHARACTER, short, num_scenes=None, seed=1)  # flavor: 4 scenes
    finally:
        srv.stop()
    assert len(scenes) == 4 and all(s.duration == 3.0 for s in scenes)


@pytest.mark.parametrize("content", [
    json.dumps({"scenes": SCENES["scenes"][:1]}),  # one scene where two were asked for
    json.dumps({"scenes": SCENES["scenes"] * 2}),
    json.dumps({"scenes": [{"description": "", "negative_description": "x"}] * 2}),
    json.dumps({"shots": SCENES["scenes"]}),
    "I'd rather not.",
])
def test_malformed_answer_is_a_provider_error_with_its_cost(tmp_path, flavor, content, meter_for, store):
    srv = serve(tmp_path, content)
    try:
        with pytest.raises(Exception) as info:
            writer(srv.url, meter_for("mv_scenes")).write(CONCEPT, CHARACTER, flavor, num_scenes=2, seed=1)
        assert srv.hits("/chat/completions") == 1  # never re-sampled: a second answer is paid for again
    finally:
        srv.stop()
    assert info.value.code == "PROVIDER_ERROR" and not info.value.retryable
    (call,) = Ledger(store.engine).calls("job-1")
    assert call.status == "failed" and call.error_code == "PROVIDER_ERROR" and call.cost_usd > 0  # tokens billed


def test_a_second_write_reuses_the_paid_answer(tmp_path, flavor, meter_for, store):
    srv = serve(tmp_path, json.dumps(SCENES))
    try:
        a = writer(srv.url, meter_for("mv_scenes")).write(CONCEPT, CHARACTER, flavor, num_scenes=2, seed=4)
        b = writer(srv.url, meter_for("mv_scenes")).write(CONCEPT, CHARACTER, flavor, num_scenes=2, seed=4)
        assert srv.hits("/chat/completions") == 1
    finally:
        srv.stop()
    assert a == b
    ledger = Ledger(store.engine)
    assert [c.status for c in ledger.calls("job-1")] == ["succeeded", "reused"]
    assert ledger.cost("job-1") == ledger.calls("job-1")[0].cost_usd
