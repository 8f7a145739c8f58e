"""Per-provider pools on a real (SQLite-backed) Dagster instance: the limit holds across threads and runs,
a missing pool is created with the configured limit, and every slot is given back."""

import threading
import time

import dagster as dg
import pytest

from badapple_dagster.providers.pools import ProviderSlots, configured_limits, default_limit, pool_name


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _busy(slots: list[ProviderSlots], provider: str, hold_s: float) -> int:
    """Run one call per ``slots`` entry at once; return the most calls that were inside their slot together."""
    lock = threading.Lock()
    inside = peak = 0

    def call(s: ProviderSlots, i: int) -> None:
        nonlocal inside, peak
        with s.hold(provider, str(i)):
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(hold_s)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=call, args=(s, i)) for i, s in enumerate(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    return peak


def test_limit_spans_runs_and_threads(instance):
    instance.event_log_storage.set_concurrency_slots(pool_name("fakeprov"), 2)
    waits: list[str] = []
    run_a = ProviderSlots(instance, "run-a", "video_gen", on_wait=waits.append)
    run_b = ProviderSlots(instance, "run-b", "video_gen", on_wait=waits.append)
    peak = _busy([run_a, run_a, run_b, run_b, run_b], "fakeprov", 0.3)
    assert peak == 2
    assert waits and set(waits) == {"provider/fakeprov"}
    info = instance.event_log_storage.get_concurrency_info("provider/fakeprov")
    assert info.slot_count == 2 and not info.claimed_slots and not info.pending_steps


def test_missing_pool_is_created_with_the_configured_limit(instance, monkeypatch):
    monkeypatch.setenv("BADAPPLE_PROVIDER_POOLS", "replicate=1, openai=8")
    slots = ProviderSlots(instance, "run-1", "video_gen")
    assert _busy([slots, slots, slots], "replicate", 0.15) == 1
    limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
    assert limits["provider/replicate"] == 1


def test_an_operator_limit_is_kept(instance, monkeypatch):
    monkeypatch.setenv("BADAPPLE_PROVIDER_POOLS", "replicate=1")
    instance.event_log_storage.set_concurrency_slots("provider/replicate", 3)  # e.g. set in the UI
    slots = ProviderSlots(instance, "run-1", "video_gen")
    assert _busy([slots] * 5, "replicate", 0.2) == 3


def test_slot_is_freed_when_the_call_fails(instance):
    instance.event_log_storage.set_concurrency_slots("provider/flaky", 1)
    slots = ProviderSlots(instance, "run-1", "voice_gen")
    with pytest.raises(RuntimeError):
        with slots.hold("flaky", "0"):
            raise RuntimeError("provider exploded")
    with slots.hold("flaky", "1"):  # would block forever if the first slot leaked
        info = instance.event_log_storage.get_concurrency_info("provider/flaky")
        assert len(info.claimed_slots) == 1
    assert not instance.event_log_storage.get_concurrency_info("provider/flaky").claimed_slots


def test_limits_parse_and_refuse_nonsense():
    assert configured_limits({"BADAPPLE_PROVIDER_POOLS": " replicate=4,OpenAI=8 ,"}) == {"replicate": 4,
                                                                                           "openai": 8}
    assert default_limit("elevenlabs", {"BADAPPLE_PROVIDER_POOLS": "replicate=4"}) == 4
    assert default_limit("elevenlabs", {"BADAPPLE_PROVIDER_POOL_LIMIT": "2"}) == 2
    for bad in ("replicate", "replicate=0", "replicate=x"):
        with pytest.raises(ValueError, match="BADAPPLE_PROVIDER_POOLS"):
            configured_limits({"BADAPPLE_PROVIDER_POOLS": bad})


def test_a_call_never_waits_for_a_slot_forever(instance):
    from badapple_dagster.providers.errors import TIMEOUT, ProviderError

    instance.event_log_storage.set_concurrency_slots("provider/stuck", 1)
    holder = ProviderSlots(instance, "run-a", "video_gen")
    waiter = ProviderSlots(instance, "run-b", "video_gen", max_wait=0.6)
    with holder.hold("stuck", "0"):  # e.g. a wedged run keeps the only slot
        started = time.monotonic()
        with pytest.raises(ProviderError) as err:
            with waiter.hold("stuck", "0"):
                pass
        assert err.value.code == TIMEOUT and "provider/stuck" in err.value.message
        assert 0.5 <= time.monotonic() - started < 10
    info = instance.event_log_storage.get_concurrency_info("provider/stuck")
    assert not info.claimed_slots and not info.pending_steps, "the timed-out claim left nothing behind"
